// berth ssh: an interactive terminal in a workspace through the agent's reconnecting PTY
// (GET /workspaceagents/{id}/pty), the same endpoint a browser terminal uses.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/api.hpp"
#include "cli/cli.hpp"
#include "cli/workspace_agent.hpp"
#include "common/error.hpp"
#include "common/uuid.hpp"
#include "sdk/websocket.hpp"

namespace berth::cli {

namespace {

struct SshArgs {
  std::string workspace;
  std::vector<std::string> command;
  bool no_wait = false;
};

// Puts the terminal on stdin into raw mode for the session and restores it afterwards.
class RawTerminal {
 public:
  RawTerminal() {
    if (!::isatty(STDIN_FILENO) || ::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

struct WindowSize {
  int rows = 24;
  int cols = 80;
};

WindowSize window_size() {
  winsize ws{};
  for (int fd : {STDOUT_FILENO, STDIN_FILENO})
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
      return {ws.ws_row, ws.ws_col};
  return {};
}

// The longest prefix of `buffer` made of whole UTF-8 sequences (the JSON the agent decodes
// must be valid UTF-8); a sequence cut by the read boundary waits for the next read.
std::string take_whole_utf8(std::string& buffer) {
  std::size_t end = buffer.size();
  for (std::size_t back = 1; back <= 3 && back <= buffer.size(); ++back) {
    auto c = static_cast<unsigned char>(buffer[buffer.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    std::size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (need > back) end = buffer.size() - back;
    break;
  }
  auto out = buffer.substr(0, end);
  buffer.erase(0, end);
  return out;
}

std::string pty_data(const std::string& bytes) {
  return json::serialize(json::object{{"data", bytes}});
}

std::string pty_resize(WindowSize size) {
  return json::serialize(json::object{{"height", size.rows}, {"width", size.cols}});
}

// Sends what is typed (and window size changes) until stdin ends or `stop` is written to.
// At the end of piped input it types Ctrl-D, so a shell or `cat` reading it finishes.
void pump_input(sdk::WebSocket& ws, int stop_fd, int winch_fd) {
  std::string partial;
  std::vector<char> buf(16 * 1024);
  bool stdin_open = true;
  for (;;) {
    pollfd fds[3] = {{stop_fd, POLLIN, 0}, {winch_fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    int n = ::poll(fds, stdin_open ? 3 : 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[0].revents) return;
    if (winch_fd >= 0 && fds[1].revents) {
      signalfd_siginfo info;
      if (::read(winch_fd, &info, sizeof info) > 0) ws.send(pty_resize(window_size()));
    }
    if (stdin_open && fds[2].revents) {
      auto got = ::read(STDIN_FILENO, buf.data(), buf.size());
      if (got <= 0) {
        stdin_open = false;
        if (!::isatty(STDIN_FILENO)) ws.send(pty_data("\x04"));
        continue;
      }
      partial.append(buf.data(), static_cast<std::size_t>(got));
      auto whole = take_whole_utf8(partial);
      if (!whole.empty() && !ws.send(pty_data(whole))) return;
    }
  }
}

// SIGWINCH as a file descriptor (blocked for the process, read by the input thread); -1 when
// stdout is not a terminal.
int window_change_fd() {
  if (!::isatty(STDOUT_FILENO)) return -1;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGWINCH);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return ::signalfd(-1, &set, SFD_CLOEXEC);
}

// Runs until the remote program exits (the agent then closes the stream). The PTY protocol
// carries no exit status, so a session that ends normally exits 0.
void run_ssh(const GlobalOptions& options, const SshArgs& args) {
  auto client = connect(options);
  auto agent = resolve_running_agent(client, args.workspace);
  auto agent_id = agent.id.to_string();
  wait_for_agent(client, agent_id, !args.no_wait, std::chrono::minutes(5));
  std::string command;
  for (const auto& part : args.command) command += (command.empty() ? "" : " ") + part;
  auto size = window_size();
  auto ws = client.open_websocket(
      "/api/v2/workspaceagents/" + agent_id + "/pty?reconnect=" + Uuid::random_v4().to_string() +
      "&width=" + std::to_string(size.cols) + "&height=" + std::to_string(size.rows) +
      "&command=" + url_escape(command));
  int stop[2];
  if (::pipe(stop) != 0) throw Error{ErrorCode::internal, "Cannot create a pipe."};
  int winch = window_change_fd();
  {
    RawTerminal raw;
    std::thread input([&] { pump_input(*ws, stop[0], winch); });
    while (!ws->closed()) {
      auto chunk = ws->read(std::chrono::milliseconds(500));
      if (!chunk) continue;
      for (std::size_t at = 0; at < chunk->size();) {
        auto n = ::write(STDOUT_FILENO, chunk->data() + at, chunk->size() - at);
        if (n <= 0) break;
        at += static_cast<std::size_t>(n);
      }
    }
    (void)::write(stop[1], "x", 1);
    input.join();
  }
  ::close(stop[0]);
  ::close(stop[1]);
  if (winch >= 0) ::close(winch);
  ws->close();
}

}  // namespace

void add_ssh_command(CLI::App& app, GlobalOptions& options) {
  auto args = std::make_shared<SshArgs>();
  auto* cmd = app.add_subcommand(
      "ssh", "Open a terminal in a workspace (its agent's reconnecting PTY); -- runs a command.");
  cmd->add_option("workspace", args->workspace, "Workspace as name, owner/name, or name.agent")
      ->required();
  cmd->add_option("command", args->command, "Command to run instead of the login shell");
  cmd->add_flag("--no-wait", args->no_wait,
                "Connect as soon as the agent is connected, before its startup scripts finish");
  cmd->callback([&options, args] { run_ssh(options, *args); });
}

}  // namespace berth::cli
