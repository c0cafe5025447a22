#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace berth::testing {

// A real container engine for the tests: Podman's Docker-compatible API on a Unix socket in a
// temporary directory, with its own storage, run directory and configuration (runc, and
// open-files limits this machine allows), so that nothing of the machine's own setup is used
// or changed. Everything it ran is removed when it goes away.
class PodmanService {
 public:
  PodmanService();
  ~PodmanService();
  PodmanService(const PodmanService&) = delete;
  PodmanService& operator=(const PodmanService&) = delete;

  // unix:///tmp/.../podman.sock
  std::string host() const { return "unix://" + socket_; }
  const std::string& socket_path() const { return socket_; }

  // Runs `podman ARGS...` against this service's storage; returns exit status and output.
  std::pair<int, std::string> podman(const std::vector<std::string>& args) const;

  // Imports a root file system holding only static busybox and its applet links (plus
  // /etc/passwd, whose root lives in /home/coder) as `name`; nothing is pulled.
  void import_busybox_image(const std::string& name) const;

  // Names of the containers (running or not) and volumes that exist now.
  std::vector<std::string> containers() const;
  std::vector<std::string> volumes() const;
  std::vector<std::string> networks() const;

 private:
  TempDir dir_;
  std::string socket_;
  pid_t pid_ = -1;
  std::vector<std::string> environment() const;
};

}  // namespace berth::testing
