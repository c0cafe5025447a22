// Reads the input as an uploaded template archive (tar, optionally gzip-compressed) with the
// limits uploads get.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "archive/tar_reader.hpp"
#include "common/error.hpp"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    auto files = archive::read_tar(bytes);
    archive::TarLimits limits;
    std::size_t total = 0;
    for (const auto& [path, contents] : files) {
      if (path.empty() || path.front() == '/' || path.size() > limits.max_path_length ||
          path == ".." || path.starts_with("../") || path.ends_with("/..") ||
          path.find("/../") != std::string::npos)
        __builtin_trap();
      total += contents.size();
    }
    if (total > limits.max_total_bytes) __builtin_trap();
  } catch (const Error&) {
  }
  return 0;
}
