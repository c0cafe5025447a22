#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace berth::archive {

// Bounds on what one archive may unpack to.
struct TarLimits {
  std::size_t max_entries = 1000;  // files and directories, a repeated path each time
  std::size_t max_total_bytes = 64 * 1024 * 1024;
  std::size_t max_path_length = 1024;
};

// Reads a tar archive (optionally gzip-compressed) into path → contents, regular files only.
// Paths are normalized (leading "./" dropped). Throws Error{invalid} naming the entry for an
// absolute path, a `..` component, a link, a device, or any limit exceeded: directories count
// toward max_entries as files do, so that no archive is unbounded in entries.
std::map<std::string, std::string> read_tar(std::string_view bytes, const TarLimits& limits = {});

}  // namespace berth::archive
