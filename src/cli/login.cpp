// login, logout, whoami: the session lives in the config dir (config.cpp).
#include <cstdio>
#include <memory>

#include "cli/api.hpp"
#include "cli/cli.hpp"
#include "cli/prompt.hpp"
#include "common/error.hpp"

namespace berth::cli {

namespace {

struct LoginOptions {
  std::string url;
  std::string email;
  std::string password;
  std::string first_email;
  std::string first_username;
  std::string first_password;
  std::string first_full_name;
  bool first_trial = false;
};

bool has_first_user(sdk::Client& client) {
  auto r = client.request("GET", "/api/v2/users/first");
  if (r.status == 404) return false;
  expect_status(r, 200);
  return true;
}

// Coder's first-user setup; the full name is optional, so it is asked for only on a terminal.
void create_first_user(sdk::Client& client, LoginOptions& o) {
  std::fprintf(stderr, "This server has no users yet: creating the first one (the owner).\n");
  o.first_username =
      value_or_prompt(o.first_username, "--first-user-username", "What username would you like?");
  o.first_email = value_or_prompt(o.first_email, "--first-user-email", "What's your email?");
  o.first_password = value_or_prompt(o.first_password, "--first-user-password", "Enter a password",
                                     /*secret=*/true);
  if (o.first_full_name.empty() && stdin_is_terminal())
    o.first_full_name = prompt("What's your full name? (optional)");
  send_json(client, "POST", "/api/v2/users/first",
            json::object{{"email", o.first_email},
                         {"username", o.first_username},
                         {"password", o.first_password},
                         {"name", o.first_full_name},
                         {"trial", o.first_trial}},
            201);
  o.email = o.first_email;
  o.password = o.first_password;
}

std::string sign_in(sdk::Client& client, LoginOptions& o) {
  o.email = value_or_prompt(o.email, "--email", "Email");
  o.password = value_or_prompt(o.password, "--password", "Password", /*secret=*/true);
  auto r = send_json(client, "POST", "/api/v2/users/login",
                     json::object{{"email", o.email}, {"password", o.password}}, 201);
  return str(r.as_object(), "session_token");
}

void run_login(const GlobalOptions& g, LoginOptions& o) {
  auto url = o.url.empty() ? server_url(g) : std::optional<std::string>(normalize_url(o.url));
  if (!url) throw Error{ErrorCode::invalid, "Missing the server URL.", "Run 'berth login <url>'."};
  sdk::Client client(*url);
  if (!has_first_user(client)) create_first_user(client, o);
  // A token given explicitly (and no first user just made) is checked and stored as is.
  auto token = g.token.empty() || !o.first_password.empty() ? sign_in(client, o) : g.token;
  client.set_session_token(token);
  auto me = current_user(client);
  save_session(g, *url, token);
  std::printf("Welcome to Berth, %s! You're authenticated.\n", str(me, "username").c_str());
}

void run_logout(const GlobalOptions& g) {
  if (auto url = server_url(g); url && session_token(g)) {
    // The local session goes even if the server cannot be told (it may be gone for good).
    try {
      auto client = connect(g);
      client.request("POST", "/api/v2/users/logout");
    } catch (const Error& e) {
      std::fprintf(stderr, "warning: %s\n", e.message().c_str());
    }
  }
  if (!forget_session(g))
    throw Error{ErrorCode::invalid, "You are not logged in.", "There is no session to remove."};
  std::printf("You are no longer logged in.\n");
}

void run_whoami(const GlobalOptions& g) {
  auto client = connect(g);
  auto me = current_user(client);
  std::printf("Berth is running at %s, you're authenticated as %s (%s)!\n",
              server_url(g).value_or("").c_str(), str(me, "username").c_str(),
              str(me, "email").c_str());
}

}  // namespace

void add_global_options(CLI::App& app, GlobalOptions& options) {
  // Options given after a subcommand still reach these (`berth list --url …`).
  app.fallthrough();
  app.add_option("--url", options.url, "Server URL (env CODER_URL, BERTH_URL)");
  app.add_option("--token", options.token,
                 "Session token (env CODER_SESSION_TOKEN, BERTH_SESSION_TOKEN)");
  app.add_option("--global-config", options.config_dir,
                 "Config directory (env CODER_CONFIG_DIR, BERTH_CONFIG_DIR; default "
                 "~/.config/berth)");
}

void add_login_commands(CLI::App& app, GlobalOptions& options) {
  auto o = std::make_shared<LoginOptions>();
  auto* login = app.add_subcommand("login", "Authenticate with a Berth (or Coder) server");
  login->add_option("url", o->url, "Server URL (default: --url or the stored one)");
  login->add_option("--email", o->email, "Email to sign in with");
  login->add_option("--password", o->password, "Password to sign in with");
  login->add_option("--first-user-email", o->first_email, "First user's email (new servers)");
  login->add_option("--first-user-username", o->first_username, "First user's username");
  login->add_option("--first-user-password", o->first_password, "First user's password");
  login->add_option("--first-user-full-name", o->first_full_name, "First user's full name");
  login->add_flag("--first-user-trial", o->first_trial, "Start a trial (accepted, unused)");
  login->callback([&options, o] { run_login(options, *o); });

  auto* logout = app.add_subcommand("logout", "Remove the stored session and end it on the server");
  // Coder asks before logging out; nothing is lost here, so -y is accepted and not needed.
  logout->add_flag("-y,--yes")
      ->description("Skip the confirmation (accepted for Coder compatibility)");
  logout->callback([&options] { run_logout(options); });
  app.add_subcommand("whoami", "Show the server and the user you are signed in as")
      ->callback([&options] { run_whoami(options); });
}

}  // namespace berth::cli
