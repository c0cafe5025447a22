#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth {

// A 128-bit identifier, written in the canonical lower-case 8-4-4-4-12 form.
class Uuid {
 public:
  Uuid() = default;  // the nil UUID
  static Uuid random_v4();
  static std::optional<Uuid> parse(std::string_view text);

  std::string to_string() const;
  bool is_nil() const;
  auto operator<=>(const Uuid&) const = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

}  // namespace berth
