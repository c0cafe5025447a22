#include "coderd/names.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>

#include "common/crypto.hpp"

namespace berth::coderd {

namespace {

bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// ^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$ without a regex engine.
bool alphanumeric_with_hyphens(std::string_view name) {
  if (name.empty() || name.front() == '-' || name.back() == '-') return false;
  char prev = 0;
  for (char c : name) {
    if (c == '-') {
      if (prev == '-') return false;
    } else if (!is_alnum(c)) {
      return false;
    }
    prev = c;
  }
  return true;
}

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

}  // namespace

std::optional<std::string> name_problem(std::string_view name) {
  if (name.size() > 32) return "must be <= 32 characters";
  if (name.empty()) return "must be >= 1 character";
  if (name == "new" || name == "create")
    return "cannot use \"" + std::string(name) + "\" as a name";
  if (!alphanumeric_with_hyphens(name)) return "must be alphanumeric with hyphens";
  return std::nullopt;
}

std::optional<std::string> version_name_problem(std::string_view name) {
  if (name.size() > 64) return "must be <= 64 characters";
  if (name.empty()) return "must be >= 1 character";
  for (char c : name)
    if (!is_alnum(c) && c != '_' && c != '-' && c != '.')
      return "must be alphanumeric with underscores, hyphens and dots";
  return std::nullopt;
}

std::optional<std::string> real_name_problem(std::string_view name) {
  if (name.size() > 128) return "must be <= 128 characters";
  if (!name.empty() && (is_space(name.front()) || is_space(name.back())))
    return "must not have leading or trailing whitespace";
  return std::nullopt;
}

bool email_valid(std::string_view email) {
  if (email.size() > 254) return false;
  auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= email.size()) return false;
  if (email.find('@', at + 1) != std::string_view::npos) return false;
  for (char c : email)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  auto domain = email.substr(at + 1);
  return domain.front() != '.' && domain.back() != '.' &&
         domain.find("..") == std::string_view::npos;
}

std::string random_name() {
  static constexpr std::array<const char*, 16> kAdjectives = {
      "brave", "calm",   "eager", "gentle", "happy", "keen",  "quiet", "swift",
      "bold",  "clever", "fancy", "jolly",  "lucid", "merry", "proud", "sunny"};
  static constexpr std::array<const char*, 16> kNames = {
      "hopper", "lovelace", "turing", "knuth", "ritchie", "thompson", "liskov", "hamilton",
      "curie",  "noether",  "euler",  "gauss", "kepler",  "shannon",  "backus", "wirth"};
  std::uint8_t pick[3];
  fill_random(pick, sizeof pick);
  return fmt::format("{}_{}{}", kAdjectives[pick[0] % kAdjectives.size()],
                     kNames[pick[1] % kNames.size()], pick[2] % 100);
}

}  // namespace berth::coderd
