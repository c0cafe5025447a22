#include "api/agent_binary.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "api/handlers.hpp"
#include "common/crypto.hpp"
#include "http/error_response.hpp"

namespace berth::api {

std::shared_ptr<const AgentBinary> AgentBinary::load(const std::string& path) {
  if (!std::ifstream(path, std::ios::binary)) {
    spdlog::warn("no workspace agent at {}: /bin/berth-linux-amd64 will answer 404", path);
    return nullptr;
  }
  return std::make_shared<AgentBinary>(path);
}

std::shared_ptr<const std::string> AgentBinary::contents() const {
  std::lock_guard lock(mutex_);
  if (contents_) return contents_;
  std::ifstream in(path_, std::ios::binary);
  if (!in)
    throw Error{ErrorCode::unavailable, "The workspace agent binary can no longer be read.", path_};
  std::ostringstream bytes;
  bytes << in.rdbuf();
  contents_ = std::make_shared<const std::string>(std::move(bytes).str());
  sha256_hex_ = to_hex(sha256(*contents_));
  return contents_;
}

std::string AgentBinary::sha256_hex() const {
  contents();
  std::lock_guard lock(mutex_);
  return sha256_hex_;
}

Response get_agent_binary(Deps& deps, Request& request) {
  if (!deps.agent_binary)
    throw Error{ErrorCode::not_found, "This server has no workspace agent binary to serve.",
                "Build the berth-agent target next to the berth binary."};
  const auto& binary = *deps.agent_binary;
  Response r;
  // The digest is the version: a client that has it revalidates with If-None-Match.
  std::string etag(1, '"');
  etag += binary.sha256_hex();
  etag += '"';
  r.set_header("ETag", etag);
  r.set_header("Cache-Control", "no-cache");
  if (auto match = request.header("if-none-match"); match && *match == etag) {
    r.status = 304;
    return r;
  }
  r.set_header("Content-Type", "application/octet-stream");
  r.set_header("X-Berth-Sha256", binary.sha256_hex());
  r.body = *binary.contents();
  return r;
}

}  // namespace berth::api
