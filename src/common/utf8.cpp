#include "common/utf8.hpp"

namespace berth {

namespace {

// The length of the valid UTF-8 sequence at the start of `s`, or 0 if none starts there.
std::size_t sequence_length(std::string_view s) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  auto c0 = byte(0);
  if (c0 < 0x80) return 1;
  std::size_t n = c0 >= 0xC2 && c0 <= 0xDF   ? 2
                  : c0 >= 0xE0 && c0 <= 0xEF ? 3
                  : c0 >= 0xF0 && c0 <= 0xF4 ? 4
                                             : 0;
  if (n == 0 || s.size() < n) return 0;
  // The second byte's range excludes overlong forms, surrogates and code points past U+10FFFF.
  unsigned char low = 0x80, high = 0xBF;
  if (c0 == 0xE0) low = 0xA0;
  if (c0 == 0xED) high = 0x9F;
  if (c0 == 0xF0) low = 0x90;
  if (c0 == 0xF4) high = 0x8F;
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  return n;
}

}  // namespace

std::optional<std::size_t> invalid_utf8_offset(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    auto n = sequence_length(text.substr(i));
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

std::string valid_utf8(std::string text) {
  auto first = invalid_utf8_offset(text);
  if (!first) return text;
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out = text.substr(0, *first);
  out.reserve(text.size() + 16);
  std::string_view rest = std::string_view(text).substr(*first);
  while (!rest.empty()) {
    auto n = sequence_length(rest);
    if (n == 0) {
      out += kReplacement;
      n = 1;
    } else {
      out.append(rest.substr(0, n));
    }
    rest.remove_prefix(n);
  }
  return out;
}

}  // namespace berth
