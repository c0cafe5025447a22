#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "sdk/client.hpp"

namespace berth::cli {

// Options every command shares; empty means "from the environment, then the config dir".
struct GlobalOptions {
  std::string url;
  std::string token;
  std::string config_dir;
};

// --global-config, else CODER_CONFIG_DIR / BERTH_CONFIG_DIR, else $HOME/.config/berth.
std::filesystem::path config_dir(const GlobalOptions& options);

// The server URL: --url, CODER_URL / BERTH_URL, else the `url` file; nullopt if none.
std::optional<std::string> server_url(const GlobalOptions& options);
// The session token: --token, CODER_SESSION_TOKEN / BERTH_SESSION_TOKEN, else the `session` file.
std::optional<std::string> session_token(const GlobalOptions& options);

// Adds http:// when no scheme is given and drops trailing slashes.
std::string normalize_url(std::string url);

// Stores `url` and `token` (the session file readable by the user only).
void save_session(const GlobalOptions& options, const std::string& url, const std::string& token);
// Removes the stored session token; true if there was one.
bool forget_session(const GlobalOptions& options);

// A client for the configured server, signed in; throws Error{unauthenticated} telling the
// user to run `berth login` when there is no URL or token.
sdk::Client connect(const GlobalOptions& options);

}  // namespace berth::cli
