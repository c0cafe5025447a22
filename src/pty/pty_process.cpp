#include "pty/pty_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "common/error.hpp"

namespace berth::pty {

namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// Runs in the forked child, so only async-signal-safe calls until exec.
[[noreturn]] void exec_child(const std::vector<char*>& argv, const char* directory,
                             char* const* envp) {
  // The parent's server blocks or catches signals; the program must start with defaults.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) signal(s, SIG_DFL);
  // The parent's descriptors (its server connection, other terminals) are not the program's.
  close_range(STDERR_FILENO + 1, ~0U, 0);
  if (directory && chdir(directory) != 0) {
    static constexpr char kNoDir[] = "berth: cannot enter the working directory\r\n";
    auto ignored = write(STDERR_FILENO, kNoDir, sizeof kNoDir - 1);
    (void)ignored;
  }
  if (envp)
    execvpe(argv[0], argv.data(), envp);
  else
    execvp(argv[0], argv.data());
  static constexpr char kMessage[] = "berth: cannot run the program\r\n";
  auto ignored = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)ignored;
  _exit(127);
}

int millis(std::chrono::milliseconds d) {
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(d.count(), 0));
}

}  // namespace

PtyProcess::PtyProcess(const std::vector<std::string>& argv, unsigned short cols,
                       unsigned short rows, const PtyOptions& options) {
  if (argv.empty()) throw Error{ErrorCode::invalid, "No program to run was given."};
  // exec needs mutable char* arrays, all prepared before fork.
  std::vector<std::string> args = argv;
  std::vector<char*> c_argv;
  for (auto& a : args) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  std::vector<std::string> env = options.environment.value_or(std::vector<std::string>{});
  std::vector<char*> c_env;
  for (auto& e : env) c_env.push_back(e.data());
  c_env.push_back(nullptr);
  const char* directory = options.directory.empty() ? nullptr : options.directory.c_str();
  char* const* envp = options.environment ? c_env.data() : nullptr;
  winsize size{};
  size.ws_col = cols;
  size.ws_row = rows;
  pid_ = forkpty(&master_, nullptr, nullptr, &size);
  if (pid_ < 0)
    throw Error{ErrorCode::invalid, "Cannot create a pseudo-terminal.", std::strerror(errno)};
  if (pid_ == 0) exec_child(c_argv, directory, envp);
  fcntl(master_, F_SETFD, FD_CLOEXEC);
  fcntl(master_, F_SETFL, fcntl(master_, F_GETFL) | O_NONBLOCK);
}

PtyProcess::~PtyProcess() {
  if (pid_ > 0) terminate(std::chrono::seconds(3));
  if (master_ >= 0) close(master_);
}

long PtyProcess::read_some(std::string& out, std::chrono::milliseconds timeout) {
  pollfd p{master_, POLLIN, 0};
  int ready = poll(&p, 1, millis(timeout));
  if (ready < 0) return errno == EINTR ? 0 : -1;
  if (ready == 0) return 0;
  char buf[kReadBytes];
  auto n = read(master_, buf, sizeof buf);
  if (n > 0) {
    out.append(buf, static_cast<std::size_t>(n));
    return n;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  return -1;  // EIO: the slave side has no process left
}

void PtyProcess::write_all(std::string_view bytes, std::chrono::milliseconds timeout) {
  std::lock_guard lock(write_mutex_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!bytes.empty()) {
    auto n = write(master_, bytes.data(), bytes.size());
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      throw Error{ErrorCode::unavailable, "The program's terminal is closed.",
                  std::strerror(errno)};
    // The terminal's input buffer is full: the program is not reading; wait, but not forever.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{master_, POLLOUT, 0};
    if (left.count() <= 0 || poll(&p, 1, millis(left)) == 0)
      throw Error{ErrorCode::unavailable, "The program is not reading its input."};
  }
}

void PtyProcess::resize(unsigned short cols, unsigned short rows) {
  if (cols == 0 || rows == 0) return;
  winsize size{};
  size.ws_col = cols;
  size.ws_row = rows;
  ioctl(master_, TIOCSWINSZ, &size);  // the kernel signals the foreground group
}

long PtyProcess::write_some(std::string_view bytes, std::chrono::milliseconds timeout) {
  std::lock_guard lock(write_mutex_);
  pollfd p{master_, POLLOUT, 0};
  int ready = poll(&p, 1, millis(timeout));
  if (ready < 0) return errno == EINTR ? 0 : -1;
  if (ready == 0) return 0;
  if (bytes.empty()) return 0;
  auto n = write(master_, bytes.data(), bytes.size());
  if (n >= 0) return n;
  if (errno == EAGAIN || errno == EINTR) return 0;
  return -1;
}

std::optional<int> PtyProcess::try_wait() {
  std::lock_guard lock(wait_mutex_);
  if (exit_code_) return exit_code_;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) exit_code_ = decode_status(status);
  return exit_code_;
}

int PtyProcess::wait() {
  std::lock_guard lock(wait_mutex_);
  if (exit_code_) return *exit_code_;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_code_ = decode_status(status);
  return *exit_code_;
}

int PtyProcess::terminate(std::chrono::milliseconds grace, int first_signal) {
  if (auto code = try_wait()) return *code;
  // The program leads its own session (forkpty), so its process group holds whatever it
  // started in the terminal too; all of it goes.
  if (kill(-pid_, first_signal) != 0) kill(pid_, first_signal);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto code = try_wait()) return *code;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (kill(-pid_, SIGKILL) != 0) kill(pid_, SIGKILL);
  return wait();
}

}  // namespace berth::pty
