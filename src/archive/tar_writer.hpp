#pragma once

#include <filesystem>
#include <string>

namespace berth::archive {

// A ustar archive of the regular files under `dir` (paths relative to it, sorted), skipping
// `.git` and `.terraform`; throws Error{invalid} if `dir` is not a directory.
std::string tar_directory(const std::filesystem::path& dir);

}  // namespace berth::archive
