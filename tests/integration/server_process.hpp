#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace berth::testing {

// The real `berth server` binary, started on a free loopback port with its own data dir.
// It is told to stop (SIGTERM) when this object goes away, and dies with the test process;
// then every workspace process left under its data dir is killed.
class ServerProcess {
 public:
  explicit ServerProcess(std::string data_dir, std::vector<std::string> extra_args = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const std::string& url() const { return url_; }
  const std::string& data_dir() const { return data_dir_; }
  // Sends SIGTERM and waits; returns the exit status (or 128 + signal).
  int stop();
  // SIGKILLs the server (no clean shutdown) and waits for it, as when its machine dies.
  void kill_now();
  // SIGKILLs the server (no clean shutdown) and starts it again on the same address and data
  // directory, as after a crash.
  void kill_and_restart();
  // What the server logged to stderr so far.
  std::string log() const;

 private:
  std::string data_dir_;
  std::string log_path_;
  std::string url_;
  pid_t pid_ = -1;
  std::vector<std::string> extra_args_;

  void start(const std::string& http_address);
};

// Runs the binary to completion (for start-up failures); returns exit status and stderr.
std::pair<int, std::string> run_berth(const std::vector<std::string>& args);

}  // namespace berth::testing
