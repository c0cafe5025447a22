#include "api/agent_binary.hpp"

#include <spdlog/spdlog.h>

#include <openssl/evp.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "api/handlers.hpp"
#include "common/crypto.hpp"
#include "http/error_response.hpp"

namespace berth::api {

std::shared_ptr<const AgentBinary> AgentBinary::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    spdlog::warn("no workspace agent at {}: /bin/berth-linux-amd64 will answer 404", path);
    return nullptr;
  }
  // Hashed in chunks: the bytes themselves are read only when a workspace asks for them.
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 16);
  while (in.read(buffer.data(), std::streamsize(buffer.size())) || in.gcount() > 0)
    EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(in.gcount()));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  return std::make_shared<AgentBinary>(
      path, to_hex(std::string_view(reinterpret_cast<const char*>(digest), length)));
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
  return contents_;
}

Response get_agent_binary(Deps& deps, Request& request) {
  if (!deps.agent_binary)
    throw Error{ErrorCode::not_found, "This server has no workspace agent binary to serve.",
                "Build the berth-agent target next to the berth binary."};
  const auto& binary = *deps.agent_binary;
  Response r;
  // The digest is the version: a client that has it revalidates with If-None-Match.
  auto etag = "\"" + binary.sha256_hex() + "\"";
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
