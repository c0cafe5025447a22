#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth::coderd {

// Coder's password rules (an entropy of at least 52 bits as go-password-validator v0.3.0
// computes it, at most 64 characters): nullopt when acceptable, else the reason.
std::optional<std::string> password_problem(std::string_view password);

// The password's entropy in bits, by the same algorithm.
double password_entropy(std::string_view password);

// An argon2id hash string (libsodium's encoded form, salt and parameters included).
std::string hash_password(std::string_view password);

// True if `password` matches `hash`; false for any malformed hash.
bool verify_password(std::string_view password, const std::string& hash);

}  // namespace berth::coderd
