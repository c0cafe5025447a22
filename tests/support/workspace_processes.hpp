#pragma once

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace berth::testing {

// The processes that belong to workspaces under `dir` (a test's data dir, or one workspace's
// dir), found through /proc as the server finds them: the BERTH_WORKSPACE_DIR entry every
// workspace process carries and passes on, or a working directory under `dir`.
inline std::vector<int> workspace_processes_under(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<int> out;
  if (dir.empty()) return out;
  const std::string under = dir.back() == '/' ? dir : dir + "/";
  const std::string mark = "BERTH_WORKSPACE_DIR=";
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::stoi(name);
    if (pid == ::getpid()) continue;
    std::ifstream stat(it->path() / "stat");
    std::string stat_text((std::istreambuf_iterator<char>(stat)), {});
    auto close = stat_text.rfind(')');
    // Zombies have done all they will do; a container's init may never reap them.
    if (close == std::string::npos || close + 2 >= stat_text.size() ||
        stat_text[close + 2] == 'Z' || stat_text[close + 2] == 'X')
      continue;
    std::error_code cwd_ec;
    std::string cwd = fs::read_symlink(it->path() / "cwd", cwd_ec).string() + "/";
    bool belongs = !cwd_ec && cwd.starts_with(under);
    std::ifstream environ(it->path() / "environ", std::ios::binary);
    std::string env((std::istreambuf_iterator<char>(environ)), {});
    for (std::size_t start = 0; !belongs && start < env.size();) {
      std::size_t stop = env.find('\0', start);
      if (stop == std::string::npos) stop = env.size();
      std::string_view entry(env.data() + start, stop - start);
      if (entry.starts_with(mark)) {
        std::string value(entry.substr(mark.size()));
        belongs = value + "/" == under || value.starts_with(under);
      }
      start = stop + 1;
    }
    if (belongs) out.push_back(pid);
  }
  return out;
}

// SIGKILLs what workspace_processes_under finds, and the groups they lead, until nothing is
// left (a dying shell may still start a child); returns how many it killed. For teardown:
// whatever a test started must not outlive it.
inline std::size_t kill_workspace_processes_under(const std::string& dir) {
  std::set<int> killed;
  for (int round = 0; round < 50; ++round) {
    auto pids = workspace_processes_under(dir);
    if (pids.empty()) break;
    for (int pid : pids) {
      killed.insert(pid);
      if (::getpgid(pid) == pid && pid != ::getpgrp()) ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return killed.size();
}

}  // namespace berth::testing
