#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/request.hpp"

namespace berth::web {

// The built web dashboard (web/build.sh's output), read into memory once at startup and served
// from there: hashed assets cached for good, index.html for every other path (the single-page
// app routes itself), precompressed variants chosen by Accept-Encoding, and a strict CSP.
class Dashboard {
 public:
  // Bounds on what load() reads: the whole dashboard is a few MiB, so more means a wrong
  // directory, not a bigger dashboard.
  static constexpr std::uintmax_t kMaxTotalBytes = 64 * 1024 * 1024;
  static constexpr std::size_t kMaxFiles = 4096;

  // Reads every regular file under `dir`. Returns nullptr when `dir` or its index.html does not
  // exist; throws Error when the tree holds a symbolic link or anything but regular files and
  // directories (Error{invalid}), is over the bounds (Error{too_large}), or cannot be read.
  static std::shared_ptr<const Dashboard> load(const std::filesystem::path& dir);

  // Answers GET and HEAD (HEAD without a body); other methods get 405.
  http::Response serve(const http::Request& request) const;

  // One encoding of a file, with the strong ETag of its bytes.
  struct Representation {
    std::string bytes;
    std::string etag;
  };

  // A servable file and its precompressed variants (`<file>.br`, `<file>.gz`) when built.
  struct File {
    std::string content_type;
    bool immutable = false;  // under assets/: the name carries a content hash
    Representation identity;
    std::optional<Representation> br;
    std::optional<Representation> gzip;
  };

 private:
  Dashboard() = default;
  const File* find(std::string_view path) const;

  File index_;
  std::map<std::string, File, std::less<>> assets_;  // by path under assets/, '/'-separated
};

}  // namespace berth::web
