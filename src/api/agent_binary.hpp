#pragma once

#include <memory>
#include <mutex>
#include <string>

namespace berth::api {

// The statically linked agent that workspaces download from /bin/berth-linux-amd64 (and
// Coder's /bin/coder-linux-amd64). Its bytes and digest are read on first use and kept, so
// that a server nobody downloads from starts fast and stays small.
class AgentBinary {
 public:
  // nullptr (and a warning) when there is no file at `path`, so that a server built without
  // the agent still serves everything else and answers 404 for the download.
  static std::shared_ptr<const AgentBinary> load(const std::string& path);

  // The file's SHA-256, hex; throws Error{unavailable} when it can no longer be read.
  std::string sha256_hex() const;
  // The file's bytes; throws Error{unavailable} when it can no longer be read.
  std::shared_ptr<const std::string> contents() const;

  explicit AgentBinary(std::string path) : path_(std::move(path)) {}

 private:
  std::string path_;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const std::string> contents_;  // guarded by mutex_
  mutable std::string sha256_hex_;                       // guarded by mutex_
};

}  // namespace berth::api
