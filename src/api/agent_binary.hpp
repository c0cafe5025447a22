#pragma once

#include <memory>
#include <mutex>
#include <string>

namespace berth::api {

// The statically linked agent that workspaces download from /bin/berth-linux-amd64 (and
// Coder's /bin/coder-linux-amd64). Its digest is taken at start; its bytes are read on the
// first download and kept, so that a server nobody downloads from stays small.
class AgentBinary {
 public:
  // nullptr (and a warning) when there is no file at `path`, so that a server built without
  // the agent still serves everything else and answers 404 for the download.
  static std::shared_ptr<const AgentBinary> load(const std::string& path);

  const std::string& sha256_hex() const { return sha256_hex_; }
  // The file's bytes; throws Error{unavailable} when it can no longer be read.
  std::shared_ptr<const std::string> contents() const;

  AgentBinary(std::string path, std::string sha256_hex)
      : path_(std::move(path)), sha256_hex_(std::move(sha256_hex)) {}

 private:
  std::string path_;
  std::string sha256_hex_;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const std::string> contents_;  // guarded by mutex_
};

}  // namespace berth::api
