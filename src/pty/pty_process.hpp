#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::pty {

// Where the program starts and what it sees.
struct PtyOptions {
  std::string directory;  // empty: the caller's working directory
  // "NAME=value" entries replacing the environment; nullopt inherits the caller's.
  std::optional<std::vector<std::string>> environment;
};

// A program running on the slave side of a pseudo-terminal; this side holds the master.
// The destructor terminates the program if it still runs and reaps it.
class PtyProcess {
 public:
  // Starts `argv` (looked up on PATH) on a cols x rows terminal, in `options.directory` with
  // `options.environment`. Throws Error{invalid} when the PTY cannot be made.
  PtyProcess(const std::vector<std::string>& argv, unsigned short cols, unsigned short rows,
             const PtyOptions& options = {});
  ~PtyProcess();
  PtyProcess(const PtyProcess&) = delete;
  PtyProcess& operator=(const PtyProcess&) = delete;

  // The most one read_some() appends.
  static constexpr std::size_t kReadBytes = 8192;
  // Appends what the program wrote within `timeout`: the byte count, 0 on timeout, or -1 once
  // the terminal has closed (every process holding it exited).
  long read_some(std::string& out, std::chrono::milliseconds timeout);
  // Types `bytes` into the terminal; thread-safe. Throws Error{unavailable} when the program
  // does not take input within `timeout` or has gone.
  void write_all(std::string_view bytes, std::chrono::milliseconds timeout);
  // Writes what the terminal takes within `timeout`: the byte count (0 on timeout), or -1
  // once the terminal has closed. Thread-safe.
  long write_some(std::string_view bytes, std::chrono::milliseconds timeout);
  // The exit code (128 + signal when killed) once the program has exited; never blocks.
  std::optional<int> try_wait();
  // Waits for the exit; blocks.
  int wait();
  // `first_signal` (SIGTERM; SIGHUP for an interactive shell, which ignores SIGTERM) to the
  // program's process group, then SIGKILL after `grace`; returns the exit code.
  int terminate(std::chrono::milliseconds grace, int first_signal = SIGTERM);
  // Changes the terminal's size; the program gets SIGWINCH. Zero sizes are ignored.
  void resize(unsigned short cols, unsigned short rows);
  pid_t pid() const { return pid_; }

 private:
  int master_ = -1;
  pid_t pid_ = -1;
  std::mutex write_mutex_;
  std::mutex wait_mutex_;
  std::optional<int> exit_code_;
};

}  // namespace berth::pty
