#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace berth {

// Fills `out` from the operating system's cryptographic random source.
void fill_random(std::uint8_t* out, std::size_t size);

// A random string of letters and digits, for token ids and secrets.
std::string random_alphanumeric(std::size_t length);

// SHA-256 of `data`, as 32 raw bytes.
std::string sha256(std::string_view data);

// Lower-case hexadecimal of raw bytes.
std::string to_hex(std::string_view bytes);

// Compares in time independent of where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace berth
