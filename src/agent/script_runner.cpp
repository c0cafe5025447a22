#include "agent/script_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <vector>

extern char** environ;

namespace berth::agent {

namespace {

using namespace std::chrono;

// After the shell exits, output still buffered in the pipe is read for this long at most
// (a daemon it started may hold the pipe open forever).
constexpr auto kDrainGrace = milliseconds(500);
constexpr int kPollMs = 100;

TimePoint wall_now() {
  return floor<microseconds>(system_clock::now());
}

// Owns the pipe's read end.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Splits a byte stream into lines.
class LineSplitter {
 public:
  explicit LineSplitter(const std::function<void(std::string)>& on_line) : on_line_(on_line) {}
  void feed(const char* data, std::size_t n) {
    buffer_.append(data, n);
    std::size_t start = 0;
    for (auto nl = buffer_.find('\n'); nl != std::string::npos; nl = buffer_.find('\n', start)) {
      on_line_(buffer_.substr(start, nl - start));
      start = nl + 1;
    }
    buffer_.erase(0, start);
    constexpr std::size_t kMaxLine = 64 * 1024;  // a line without end is cut, not hoarded
    if (buffer_.size() > kMaxLine) flush();
  }
  void flush() {
    if (!buffer_.empty()) on_line_(std::move(buffer_));
    buffer_.clear();
  }

 private:
  const std::function<void(std::string)>& on_line_;
  std::string buffer_;
};

pid_t spawn_shell(const ScriptRun& run, int out_fd) {
  std::vector<std::string> env_text;
  for (const auto& [k, v] : run.env) env_text.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
  if (!run.dir.empty()) posix_spawn_file_actions_addchdir_np(&actions, run.dir.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The agent blocks SIGTERM to wait for it; scripts get default signals and an empty mask.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::string script = run.script;
  char sh[] = "sh", dash_c[] = "-c";
  char* argv[] = {sh, dash_c, script.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "sh", &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error(std::string("cannot start sh: ") + strerror(rc));
  return pid;
}

// Waits for the child (whose output has ended) until `timeout` from `start`; kills it then.
// Returns whether it was killed.
bool wait_exit(pid_t pid, int& status, seconds timeout, steady_clock::time_point start) {
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (timeout.count() > 0 && steady_clock::now() - start > timeout) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return true;
    }
    ::poll(nullptr, 0, kPollMs);
  }
  return false;
}

}  // namespace

std::map<std::string, std::string> current_environment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) out[std::string(kv.substr(0, eq))] = kv.substr(eq + 1);
  }
  return out;
}

ScriptResult run_script(const ScriptRun& run, const std::function<void(std::string)>& on_line) {
  ScriptResult result;
  result.started_at = wall_now();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  Fd reader{fds[0]};
  pid_t pid;
  try {
    pid = spawn_shell(run, fds[1]);
  } catch (...) {
    ::close(fds[1]);
    throw;
  }
  ::close(fds[1]);
  LineSplitter lines(on_line);
  auto start = steady_clock::now();
  std::optional<steady_clock::time_point> exited_at;
  bool timed_out = false;
  int status = 0;
  for (;;) {
    pollfd p{reader.fd, POLLIN, 0};
    int ready = ::poll(&p, 1, kPollMs);
    if (ready > 0) {
      char buf[8192];
      auto n = ::read(reader.fd, buf, sizeof buf);
      if (n > 0) {
        lines.feed(buf, std::size_t(n));
        continue;
      }
      if (n == 0 && exited_at) break;  // EOF after exit: all output read
      if (n == 0) {
        timed_out = wait_exit(pid, status, run.timeout, start);  // EOF before exit
        exited_at = steady_clock::now();
        break;
      }
    }
    if (!exited_at && ::waitpid(pid, &status, WNOHANG) == pid) exited_at = steady_clock::now();
    if (exited_at && steady_clock::now() - *exited_at > kDrainGrace) break;
    if (!exited_at && run.timeout.count() > 0 && steady_clock::now() - start > run.timeout) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      exited_at = steady_clock::now();
    }
  }
  lines.flush();
  result.ended_at = wall_now();
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  result.status = timed_out ? "timed_out" : result.exit_code == 0 ? "ok" : "exit_failure";
  return result;
}

}  // namespace berth::agent
