#include "integration/provisionerd_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "support/polling.hpp"
#include "support/workspace_processes.hpp"

namespace berth::testing {

namespace {

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ProvisionerdProcess::ProvisionerdProcess(std::string url, std::string key, std::string name,
                                         std::string data_dir, std::vector<std::string> extra_args)
    : name_(std::move(name)),
      data_dir_(std::move(data_dir)),
      log_path_(data_dir_ + "/provisionerd.log") {
  std::filesystem::create_directories(data_dir_);
  std::vector<std::string> args = {BERTH_BINARY, "provisionerd", "start",  "--url",
                                   url,          "--key",        key,      "--name",
                                   name_,        "--data-dir",   data_dir_};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = open("/dev/null", O_RDWR);
    int err = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

ProvisionerdProcess::~ProvisionerdProcess() {
  stop();
  kill_workspace_processes_under(data_dir_);
}

bool ProvisionerdProcess::wait_started() {
  return wait_until(
             [&] {
               if (pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == pid_) {
                 pid_ = -1;
                 return true;
               }
               return log().find("provisioner daemon " + name_) != std::string::npos;
             },
             std::chrono::seconds(30)) &&
         pid_ > 0;
}

int ProvisionerdProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int code = wait_exit(pid_);
  pid_ = -1;
  return code;
}

void ProvisionerdProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_exit(pid_);
  pid_ = -1;
}

std::string ProvisionerdProcess::log() const {
  return read_file(log_path_);
}

}  // namespace berth::testing
