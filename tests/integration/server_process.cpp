#include "integration/server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/test_store.hpp"
#include "support/workspace_processes.hpp"

namespace berth::testing {

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(30);

std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> out;
  for (auto& a : args) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

// Forks and execs berth with stdout to `out_fd` and stderr to `err_path`.
pid_t spawn(std::vector<std::string> args, int out_fd, const std::string& err_path) {
  args.insert(args.begin(), BERTH_BINARY);
  auto argv = argv_of(args);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

ServerProcess::ServerProcess(std::string data_dir, std::vector<std::string> extra_args)
    : data_dir_(std::move(data_dir)),
      log_path_(data_dir_ + "/server.log"),
      extra_args_(std::move(extra_args)) {
  // The suite's PostgreSQL variant: the data directory's own database, kept across restarts.
  if (std::none_of(extra_args_.begin(), extra_args_.end(),
                   [](const auto& a) { return a.rfind("--postgres-url", 0) == 0; })) {
    auto flags = store_flags(data_dir_);
    extra_args_.insert(extra_args_.end(), flags.begin(), flags.end());
  }
  start("127.0.0.1:0");
}

void ServerProcess::kill_now() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  wait_exit(pid_);
  pid_ = -1;
}

void ServerProcess::kill_and_restart() {
  auto address = url_.substr(url_.find("://") + 3);
  kill(pid_, SIGKILL);
  wait_exit(pid_);
  pid_ = -1;
  url_.clear();
  start(address);
}

void ServerProcess::start(const std::string& http_address) {
  auto& extra_args = extra_args_;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = {"server", "--http-address", http_address, "--data-dir",
                                   data_dir_};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  // Tests poll one path far more often than people do; those about the limits set them.
  if (std::none_of(extra_args.begin(), extra_args.end(), [](const std::string& a) {
        return a.rfind("--api-rate-limit", 0) == 0 || a.rfind("--login-rate-limit", 0) == 0;
      }))
    args.push_back("--dangerous-disable-rate-limits");
  pid_ = spawn(args, fds[1], log_path_);
  close(fds[1]);
  // Wait for the line that names the bound address; the deadline only guards a broken build.
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  const std::string marker = "Started HTTP listener at ";
  while (url_.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fds[0], POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, int(left.count())) <= 0) break;
    char buf[512];
    auto n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    output.append(buf, n);
    auto at = output.find(marker);
    auto end = output.find('\n', at);
    if (at != std::string::npos && end != std::string::npos)
      url_ = output.substr(at + marker.size(), end - at - marker.size());
  }
  close(fds[0]);
  if (url_.empty()) {
    stop();
    throw std::runtime_error("berth server did not start: " + output + "\n" + log());
  }
}

ServerProcess::~ServerProcess() {
  stop();
  // What the test's workspaces started (agents, `nohup ... &` scripts) dies with the test.
  kill_workspace_processes_under(data_dir_);
}

int ServerProcess::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int code = wait_exit(pid_);
  pid_ = -1;
  return code;
}

std::string ServerProcess::log() const {
  return read_file(log_path_);
}

std::pair<int, std::string> run_berth(const std::vector<std::string>& args) {
  char path[] = "/tmp/berth-run-XXXXXX";
  int fd = mkstemp(path);
  int devnull = open("/dev/null", O_WRONLY);
  pid_t pid = spawn(args, devnull, path);
  close(devnull);
  int code = wait_exit(pid);
  std::string err = read_file(path);
  close(fd);
  unlink(path);
  return {code, err};
}

}  // namespace berth::testing
