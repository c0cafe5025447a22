#pragma once

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace berth::testing {

// One raw ustar entry, written exactly as given (no normalization), so that tests can build
// archives a well-behaved writer would refuse to produce: absolute paths, "..", devices.
struct UstarEntry {
  std::string path;  // up to 100 bytes, or up to 255 split at a '/' into prefix and name
  std::string contents;
  char type = '0';        // '0' file, '1' hardlink, '2' symlink, '3'/'4' device, '5' dir, '6' fifo
  std::string link_name;  // for '1' and '2'
};

namespace detail {

inline void put_octal(char* field, std::size_t width, unsigned long long value) {
  std::snprintf(field, width, "%0*llo", int(width - 1), value);
}

inline std::string ustar_header(const UstarEntry& e) {
  std::string h(512, '\0');
  std::string name = e.path;
  std::string prefix;
  if (name.size() > 100) {
    auto cut = name.rfind('/', 155);
    if (cut == std::string::npos) cut = 0;
    prefix = name.substr(0, cut);
    name = name.substr(cut + 1);
  }
  std::memcpy(&h[0], name.data(), std::min<std::size_t>(name.size(), 100));
  put_octal(&h[100], 8, e.type == '5' ? 0755 : 0644);
  put_octal(&h[108], 8, 1000);
  put_octal(&h[116], 8, 1000);
  put_octal(&h[124], 12, e.type == '0' ? e.contents.size() : 0);
  put_octal(&h[136], 12, 1'700'000'000);
  h[156] = e.type;
  std::memcpy(&h[157], e.link_name.data(), std::min<std::size_t>(e.link_name.size(), 100));
  std::memcpy(&h[257], "ustar", 6);
  std::memcpy(&h[263], "00", 2);
  std::memcpy(&h[265], "berth", 5);
  std::memcpy(&h[297], "berth", 5);
  std::memcpy(&h[345], prefix.data(), std::min<std::size_t>(prefix.size(), 155));
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(&h[148], 8, "%06o", sum);  // six digits, NUL, and the space left in place
  return h;
}

}  // namespace detail

// A ustar archive of `entries`, ending with the two zero blocks.
inline std::string make_ustar(const std::vector<UstarEntry>& entries) {
  std::string out;
  for (const auto& e : entries) {
    out += detail::ustar_header(e);
    if (e.type == '0') {
      out += e.contents;
      out.append((512 - e.contents.size() % 512) % 512, '\0');
    }
  }
  out.append(1024, '\0');
  return out;
}

}  // namespace berth::testing
