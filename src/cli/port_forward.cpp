// berth port-forward: local TCP ports relayed to ports inside a workspace through the agent
// (Berth's GET /workspaceagents/{id}/stream?port=N), one WebSocket per connection.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/api.hpp"
#include "cli/cli.hpp"
#include "cli/workspace_agent.hpp"
#include "common/error.hpp"
#include "sdk/websocket.hpp"

namespace berth::cli {

namespace {

struct ForwardArgs {
  std::string workspace;
  std::vector<std::string> tcp;
};

// One --tcp: where to listen and which workspace port to reach.
struct Forward {
  std::string bind_ip = "127.0.0.1";
  int local = 0;
  int remote = 0;
};

int port_of(const std::string& text, const std::string& spec) {
  std::size_t used = 0;
  int port = -1;
  try {
    port = std::stoi(text, &used);
  } catch (const std::exception&) {
  }
  if (used != text.size() || port < 1 || port > 65535)
    throw Error{ErrorCode::invalid, "Invalid --tcp \"" + spec + "\".",
                "\"" + text + "\" is not a port from 1 to 65535; use [ip:]local[:remote]."};
  return port;
}

// `port`, `local:remote` or `ip:local:remote` (Coder's forms without ranges).
Forward parse_forward(const std::string& spec) {
  std::vector<std::string> parts;
  std::size_t at = 0;
  for (auto colon = spec.find(':'); colon != std::string::npos; colon = spec.find(':', at)) {
    parts.push_back(spec.substr(at, colon - at));
    at = colon + 1;
  }
  parts.push_back(spec.substr(at));
  Forward f;
  if (parts.size() == 1) {
    f.local = f.remote = port_of(parts[0], spec);
  } else if (parts.size() == 2) {
    f.local = port_of(parts[0], spec);
    f.remote = port_of(parts[1], spec);
  } else if (parts.size() == 3) {
    in_addr ignored{};
    if (::inet_pton(AF_INET, parts[0].c_str(), &ignored) != 1)
      throw Error{ErrorCode::invalid, "Invalid --tcp \"" + spec + "\".",
                  "\"" + parts[0] + "\" is not an IPv4 address."};
    f.bind_ip = parts[0];
    f.local = port_of(parts[1], spec);
    f.remote = port_of(parts[2], spec);
  } else {
    throw Error{ErrorCode::invalid, "Invalid --tcp \"" + spec + "\".",
                "Use [ip:]local[:remote], e.g. 8080:3000."};
  }
  return f;
}

int listen_on(const Forward& f) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(f.local));
  ::inet_pton(AF_INET, f.bind_ip.c_str(), &addr.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    throw Error{ErrorCode::unavailable,
                "Cannot listen on " + f.bind_ip + ":" + std::to_string(f.local) + ".",
                std::strerror(errno)};
  }
  return fd;
}

// Copies one accepted connection to and from the workspace port until either side ends.
void relay(int fd, std::shared_ptr<sdk::Client> client, std::string target) {
  std::unique_ptr<sdk::WebSocket> ws;
  try {
    ws = client->open_websocket(target);
  } catch (const Error& e) {
    std::fprintf(stderr, "berth: %s %s\n", e.message().c_str(), e.detail().c_str());
    ::close(fd);
    return;
  }
  std::thread upstream([&] {
    std::vector<char> buf(64 * 1024);
    for (;;) {
      auto n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n <= 0 || !ws->send(std::string(buf.data(), static_cast<std::size_t>(n)))) break;
    }
    ws->close();
  });
  while (!ws->closed()) {
    auto chunk = ws->read(std::chrono::milliseconds(500));
    if (!chunk) continue;
    if (::send(fd, chunk->data(), chunk->size(), MSG_NOSIGNAL) < 0) break;
  }
  ::shutdown(fd, SHUT_RDWR);
  upstream.join();
  ::close(fd);
}

void accept_loop(int listener, std::shared_ptr<sdk::Client> client, std::string target) {
  for (;;) {
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // the listener was shut down
    }
    std::thread(relay, fd, client, target).detach();
  }
}

// Serves every forward until SIGINT or SIGTERM.
void run_port_forward(const GlobalOptions& options, const ForwardArgs& args) {
  if (args.tcp.empty())
    throw Error{ErrorCode::invalid, "Nothing to forward.", "Give at least one --tcp local:remote."};
  std::vector<Forward> forwards;
  for (const auto& spec : args.tcp) forwards.push_back(parse_forward(spec));
  auto client = std::make_shared<sdk::Client>(connect(options));
  auto agent = resolve_running_agent(*client, args.workspace);
  auto agent_id = agent.id.to_string();
  wait_for_agent(*client, agent_id, false, std::chrono::minutes(5));
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before any thread starts: they inherit it
  std::vector<int> listeners;
  std::vector<std::thread> loops;
  for (const auto& f : forwards) {
    listeners.push_back(listen_on(f));
    auto target =
        "/api/v2/workspaceagents/" + agent_id + "/stream?port=" + std::to_string(f.remote);
    loops.emplace_back(accept_loop, listeners.back(), client, target);
    std::printf("Forwarding %s:%d to port %d in %s\n", f.bind_ip.c_str(), f.local, f.remote,
                args.workspace.c_str());
  }
  std::fflush(stdout);
  int signal = 0;
  ::sigwait(&stop, &signal);
  for (int fd : listeners) ::shutdown(fd, SHUT_RDWR);
  for (auto& t : loops) t.join();
  for (int fd : listeners) ::close(fd);
}

}  // namespace

void add_port_forward_command(CLI::App& app, GlobalOptions& options) {
  auto args = std::make_shared<ForwardArgs>();
  auto* cmd = app.add_subcommand(
      "port-forward", "Forward local TCP ports to ports inside a workspace, until interrupted.");
  cmd->add_option("workspace", args->workspace, "Workspace as name, owner/name, or name.agent")
      ->required();
  cmd->add_option("--tcp,-p", args->tcp, "[ip:]local[:remote], e.g. 8080:3000 (repeatable)");
  cmd->callback([&options, args] { run_port_forward(options, *args); });
}

}  // namespace berth::cli
