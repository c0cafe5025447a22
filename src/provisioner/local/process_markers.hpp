#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "provisioner/local/process_resource.hpp"

namespace berth::provisioner::local {

// Write-ahead records of the `berth_process` resources a build starts, kept in the workspace's
// directory so that every process can be found again without the database: a build
// interrupted between starting a process and recording it in its state (a kill -9 of the
// server) leaves a marker, and the next build, or the next start-up, stops the process. The
// docker resources do the same with container labels (docker_resources.cpp).

// The environment every workspace process carries and passes on to what it starts: its
// workspace's directory, and the id of the marker that records it.
inline constexpr std::string_view kWorkspaceDirEnv = "BERTH_WORKSPACE_DIR";
inline constexpr std::string_view kProcessMarkerEnv = "BERTH_PROCESS_MARKER";

// One marker file, `<workspace_dir>/.berth-processes/<id>.json`.
struct ProcessMarker {
  std::string workspace_dir;
  std::string id;                     // a random UUID; also the value of BERTH_PROCESS_MARKER
  std::string address;                // the resource's address; empty when the file was unreadable
  std::optional<ProcessState> state;  // absent while only the intent is written
};

// Writes the intent before the process starts (atomically: a kill -9 leaves all or nothing).
ProcessMarker write_process_intent(const std::string& workspace_dir, const std::string& address);
// Records the started process, its pid and start ticks, in the marker.
void record_process_started(ProcessMarker& marker, const ProcessState& state);
// The markers in `workspace_dir`, in no particular order.
std::vector<ProcessMarker> list_process_markers(const std::string& workspace_dir);
void remove_process_marker(const ProcessMarker& marker);
// The "K=V" entries that mark a process started under `marker`.
std::vector<std::string> marker_env(const ProcessMarker& marker);
// The entry every process of the workspace in `workspace_dir` carries.
std::string workspace_env_entry(const std::string& workspace_dir);

// Stops what the markers in `workspace_dir` record but `known` (the processes of the state of
// the workspace's last recorded build) does not: the process and its group, and everything
// that carries its marker. Removes those markers, keeps the known ones. `log` hears a line per
// process stopped. Returns how many processes were found running.
std::size_t stop_leftover_processes(const std::string& workspace_dir,
                                    const std::vector<ProcessState>& known,
                                    std::chrono::milliseconds grace,
                                    const std::function<void(const std::string&)>& log);

}  // namespace berth::provisioner::local
