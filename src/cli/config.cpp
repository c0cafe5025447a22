#include "cli/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/error.hpp"

namespace berth::cli {

namespace {

constexpr const char* kUrlFile = "url";
constexpr const char* kSessionFile = "session";

std::optional<std::string> env(const char* coder_name, const char* berth_name) {
  for (const char* name : {coder_name, berth_name})
    if (const char* v = std::getenv(name); v && *v) return std::string(v);
  return std::nullopt;
}

std::optional<std::string> read_config_file(const GlobalOptions& options, const char* name) {
  std::ifstream in(config_dir(options) / name);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  auto text = s.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  if (text.empty()) return std::nullopt;
  return text;
}

// Creates the file with `mode` and re-applies it, so an older, wider file is narrowed too.
void write_config_file(const std::filesystem::path& path, const std::string& content, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    throw Error{ErrorCode::internal, "Cannot write " + path.string() + ".", std::strerror(errno)};
  bool ok = ::fchmod(fd, mode) == 0 &&
            ::write(fd, content.data(), content.size()) == ssize_t(content.size());
  int saved = errno;
  ::close(fd);
  if (!ok)
    throw Error{ErrorCode::internal, "Cannot write " + path.string() + ".", std::strerror(saved)};
}

}  // namespace

std::filesystem::path config_dir(const GlobalOptions& options) {
  if (!options.config_dir.empty()) return options.config_dir;
  if (auto dir = env("CODER_CONFIG_DIR", "BERTH_CONFIG_DIR")) return *dir;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".config" / "berth";
}

std::optional<std::string> server_url(const GlobalOptions& options) {
  if (!options.url.empty()) return normalize_url(options.url);
  if (auto url = env("CODER_URL", "BERTH_URL")) return normalize_url(*url);
  return read_config_file(options, kUrlFile);
}

std::optional<std::string> session_token(const GlobalOptions& options) {
  if (!options.token.empty()) return options.token;
  if (auto token = env("CODER_SESSION_TOKEN", "BERTH_SESSION_TOKEN")) return token;
  return read_config_file(options, kSessionFile);
}

std::string normalize_url(std::string url) {
  if (url.find("://") == std::string::npos) url = "http://" + url;
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  return url;
}

void save_session(const GlobalOptions& options, const std::string& url, const std::string& token) {
  auto dir = config_dir(options);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error{ErrorCode::internal, "Cannot create " + dir.string() + ".", ec.message()};
  // The directory holds a credential: only its owner may list it.
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  write_config_file(dir / kUrlFile, url + "\n", 0600);
  write_config_file(dir / kSessionFile, token + "\n", 0600);
}

bool forget_session(const GlobalOptions& options) {
  std::error_code ec;
  return std::filesystem::remove(config_dir(options) / kSessionFile, ec);
}

sdk::Client connect(const GlobalOptions& options) {
  auto url = server_url(options);
  auto token = session_token(options);
  if (!url || !token)
    throw Error{ErrorCode::unauthenticated, "You are not logged in.",
                "Try logging in using 'berth login <url>'."};
  sdk::Client client(*url);
  client.set_session_token(*token);
  return client;
}

}  // namespace berth::cli
