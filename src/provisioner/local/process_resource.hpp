#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"

namespace berth::provisioner::local {

// The `berth_process` resource: a workspace hosted as a local process, detached from the
// provisioner daemon so that it outlives the job that started it.

// What to run.
struct ProcessSpec {
  // argv; command[0] is looked up in the PATH of the process's environment.
  std::vector<std::string> command;
  // "K=V" entries added to (and overriding) a minimal inherited environment: PATH, HOME,
  // USER, LANG and TERM.
  std::vector<std::string> env;
  // The working directory: absolute, without "..", created if missing.
  std::string dir;
  // Run inside bubblewrap: the host's system directories read-only, `dir` writable, private
  // /tmp, /proc and /dev, the network shared.
  bool sandbox = false;
  // stdout and stderr are appended here (absolute; empty means /dev/null).
  std::string log_path;
};

// What the build's provisioner state keeps of a started process. The process is the leader of
// its own session and process group, so `pid` is also its process group id.
struct ProcessState {
  int pid = 0;
  // Field 22 of /proc/<pid>/stat (clock ticks since boot): tells our process from a later one
  // that reused the pid.
  std::int64_t start_ticks = 0;
  std::string dir;
  std::string log_path;
  bool sandbox = false;
};

json::value to_json(const ProcessState& state);
// Throws Error{invalid} when `v` is not an object with the fields `to_json` writes.
ProcessState process_state_from(const json::value& v);

// Starts the process in a new session (double fork: it is reparented to init or the nearest
// subreaper and never becomes a zombie of the caller), stdin from /dev/null, no other inherited
// file descriptors, default signal dispositions. Throws Error{invalid} for a bad spec, a
// command that is not found or cannot be executed, or a sandbox without bwrap installed.
ProcessState start_process(const ProcessSpec& spec);

// Whether the process exists, is not a zombie, and is the one `state` started.
bool process_alive(const ProcessState& state);

// Sends TERM (then CONT, so that stopped members can act on it) to the process group, waits up
// to `grace` for every member to exit, then KILLs the group. Members left behind by a leader
// that has already exited are stopped too. A no-op when the group is gone or the pid was
// reused. Returns true if it had to KILL.
bool stop_process(const ProcessState& state, std::chrono::milliseconds grace);

// Live processes (never this one) whose environment, as they were started with it, holds
// `entry` ("KEY=VALUE") exactly; what a workspace process starts inherits its marks, even
// after it leaves the process group (`setsid`, `nohup ... &`).
std::vector<ProcessState> find_processes_with_env(std::string_view entry);

// Stops every live process whose environment holds `entry`, and the process groups they
// lead: TERM and CONT, up to `grace` for them to exit, then KILL; then looks again, since a
// dying process may start another. Returns how many processes it found.
std::size_t stop_processes_with_env(std::string_view entry, std::chrono::milliseconds grace);

// Removes the process's directory and everything under it (a workspace delete); a missing
// directory is fine. Refuses an empty, relative or root directory (Error{invalid}) and a
// process that is still running (Error{conflict}). The caller decides whether the directory
// is the workspace's own (the default) or a user's directory that must survive.
void remove_process_dir(const ProcessState& state);

}  // namespace berth::provisioner::local
