#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace berth::testing {

// The real `berth provisionerd start`, taking jobs from the server at `url` with provisioner
// key `key`; its log goes to <data_dir>/provisionerd.log. It is told to stop (SIGTERM) when this
// object goes away, and dies with the test process; then every workspace process left under
// its data dir is killed.
class ProvisionerdProcess {
 public:
  ProvisionerdProcess(std::string url, std::string key, std::string name, std::string data_dir,
                      std::vector<std::string> extra_args = {});
  ~ProvisionerdProcess();
  ProvisionerdProcess(const ProvisionerdProcess&) = delete;
  ProvisionerdProcess& operator=(const ProvisionerdProcess&) = delete;

  const std::string& name() const { return name_; }
  // Waits until the daemon logged that it started (it has its key from the server); false when
  // it did not within the bound (a broken build), or exited.
  bool wait_started();
  // Sends SIGTERM and waits; returns the exit status (or 128 + signal).
  int stop();
  // SIGKILLs it: no clean shutdown, its running job left as it was.
  void kill();
  std::string log() const;

 private:
  std::string name_;
  std::string data_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
};

}  // namespace berth::testing
