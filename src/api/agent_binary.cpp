#include "api/agent_binary.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "api/handlers.hpp"
#include "common/crypto.hpp"
#include "http/error_response.hpp"

namespace berth::api {

std::shared_ptr<const AgentBinary> load_agent_binary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    spdlog::warn("no workspace agent at {}: /bin/berth-linux-amd64 will answer 404", path);
    return nullptr;
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  auto binary = std::make_shared<AgentBinary>();
  binary->contents = std::move(contents).str();
  binary->sha256_hex = to_hex(sha256(binary->contents));
  return binary;
}

Response get_agent_binary(Deps& deps, Request& request) {
  if (!deps.agent_binary)
    throw Error{ErrorCode::not_found, "This server has no workspace agent binary to serve.",
                "Build the berth-agent target next to the berth binary."};
  const auto& binary = *deps.agent_binary;
  Response r;
  // The digest is the version: a client that has it revalidates with If-None-Match.
  auto etag = "\"" + binary.sha256_hex + "\"";
  r.set_header("ETag", etag);
  r.set_header("Cache-Control", "no-cache");
  if (auto match = request.header("if-none-match"); match && *match == etag) {
    r.status = 304;
    return r;
  }
  r.set_header("Content-Type", "application/octet-stream");
  r.set_header("X-Berth-Sha256", binary.sha256_hex);
  r.body = binary.contents;
  return r;
}

}  // namespace berth::api
