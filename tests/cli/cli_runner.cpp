#include "cli/cli_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace berth::testing {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The test's environment minus anything that would point the CLI at another server or session.
std::vector<std::string> child_env(const std::string& config_dir) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    if (entry.starts_with("CODER_") || entry.starts_with("BERTH_")) continue;
    env.push_back(entry);
  }
  env.push_back("CODER_CONFIG_DIR=" + config_dir);
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (auto& s : items) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for the child, killing it once `deadline` passes (a hung CLI fails the test, not the run).
int wait_exit(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  int status = 0;
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return exit_code(status);
    if (done < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return exit_code(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int temp_file(char* path_template, const std::string& content) {
  int fd = mkstemp(path_template);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  if (!content.empty() && write(fd, content.data(), content.size()) != ssize_t(content.size()))
    throw std::runtime_error("write failed");
  lseek(fd, 0, SEEK_SET);
  return fd;
}

}  // namespace

CliResult run_cli(const std::vector<std::string>& args, const std::string& config_dir,
                  const CliInput& input) {
  auto deadline = std::chrono::steady_clock::now() + input.timeout;
  // Output goes to files, not pipes, so a chatty child never blocks on a full pipe.
  char in_path[] = "/tmp/berth-cli-in-XXXXXX";
  char out_path[] = "/tmp/berth-cli-out-XXXXXX";
  char err_path[] = "/tmp/berth-cli-err-XXXXXX";
  int in_fd = temp_file(in_path, input.stdin_text);
  int out_fd = temp_file(out_path, {});
  int err_fd = temp_file(err_path, {});
  std::vector<std::string> argv_strings{BERTH_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  auto argv = pointers(argv_strings);
  auto env_strings = child_env(config_dir);
  auto envp = pointers(env_strings);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(in_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  CliResult result;
  result.code = wait_exit(pid, deadline);
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  for (int fd : {in_fd, out_fd, err_fd}) close(fd);
  for (const char* path : {in_path, out_path, err_path}) unlink(path);
  return result;
}

CliResult run_cli_in_terminal(const std::vector<std::string>& args, const std::string& config_dir,
                              const std::string& typed, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> argv_strings{BERTH_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  auto argv = pointers(argv_strings);
  auto env_strings = child_env(config_dir);
  env_strings.push_back("TERM=xterm");
  auto envp = pointers(env_strings);
  winsize size{};
  size.ws_row = 24;
  size.ws_col = 80;
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  if (pid < 0) throw std::runtime_error("forkpty failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  // The line discipline holds what is typed until the program reads it.
  if (!typed.empty() && write(master, typed.data(), typed.size()) != ssize_t(typed.size()))
    throw std::runtime_error("write to the terminal failed");
  CliResult result;
  // Reads until the terminal closes (EIO once the child and its descendants are gone).
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) break;
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    char buffer[4096];
    auto n = read(master, buffer, sizeof buffer);
    if (n <= 0) break;
    result.out.append(buffer, std::size_t(n));
  }
  result.code = wait_exit(pid, deadline);
  close(master);
  return result;
}

}  // namespace berth::testing
