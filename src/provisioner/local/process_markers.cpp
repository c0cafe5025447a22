#include "provisioner/local/process_markers.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/json.hpp"
#include "common/uuid.hpp"

namespace berth::provisioner::local {

namespace {

namespace fs = std::filesystem;

constexpr const char* kMarkersDir = ".berth-processes";
// Markers are tiny; anything larger is not one of ours.
constexpr std::uintmax_t kMaxMarkerBytes = 64 * 1024;

fs::path marker_path(const ProcessMarker& marker) {
  return fs::path(marker.workspace_dir) / kMarkersDir / (marker.id + ".json");
}

// Write, then rename: a reader sees the old marker or the new one, never half of one.
void write_marker(const ProcessMarker& marker) {
  json::object doc{{"address", marker.address}};
  if (marker.state) doc["state"] = to_json(*marker.state);
  auto path = marker_path(marker);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec)
    throw Error{ErrorCode::internal,
                "berth_process: cannot create " + path.parent_path().string() + ": " + ec.message(),
                ec.message()};
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << json::serialize(doc);
    if (!out.flush())
      throw Error{ErrorCode::internal, "berth_process: cannot write " + tmp.string(), ""};
  }
  fs::rename(tmp, path, ec);
  if (ec)
    throw Error{ErrorCode::internal,
                "berth_process: cannot write " + path.string() + ": " + ec.message(), ec.message()};
}

// What a marker file says; a malformed one keeps only its id, which its processes still carry.
ProcessMarker read_marker(const std::string& workspace_dir, const fs::path& path) {
  ProcessMarker marker{workspace_dir, path.stem().string(), "", std::nullopt};
  std::error_code ec;
  if (fs::file_size(path, ec) > kMaxMarkerBytes || ec) return marker;
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  try {
    auto doc = json::parse(text.str());
    const auto& o = doc.as_object();
    marker.address = json::string_at(o, "address");
    if (auto* state = o.if_contains("state")) marker.state = process_state_from(*state);
  } catch (const std::exception&) {
    marker.state.reset();
  }
  return marker;
}

bool is_known(const ProcessState& state, const std::vector<ProcessState>& known) {
  for (const auto& k : known)
    if (k.pid == state.pid && k.start_ticks == state.start_ticks) return true;
  return false;
}

}  // namespace

ProcessMarker write_process_intent(const std::string& workspace_dir, const std::string& address) {
  ProcessMarker marker{workspace_dir, Uuid::random_v4().to_string(), address, std::nullopt};
  write_marker(marker);
  return marker;
}

void record_process_started(ProcessMarker& marker, const ProcessState& state) {
  marker.state = state;
  write_marker(marker);
}

std::vector<ProcessMarker> list_process_markers(const std::string& workspace_dir) {
  std::vector<ProcessMarker> out;
  if (workspace_dir.empty()) return out;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(workspace_dir) / kMarkersDir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const auto& path = it->path();
    // A temporary file is a write that never finished: the intent it held was never acted on,
    // and a started process's record still has its intent beside it.
    if (path.extension() == ".tmp") {
      std::error_code ignored;
      fs::remove(path, ignored);
      continue;
    }
    if (path.extension() != ".json") continue;
    out.push_back(read_marker(workspace_dir, path));
  }
  return out;
}

void remove_process_marker(const ProcessMarker& marker) {
  std::error_code ec;
  fs::remove(marker_path(marker), ec);
}

std::vector<std::string> marker_env(const ProcessMarker& marker) {
  return {workspace_env_entry(marker.workspace_dir),
          std::string(kProcessMarkerEnv) + "=" + marker.id};
}

std::string workspace_env_entry(const std::string& workspace_dir) {
  return std::string(kWorkspaceDirEnv) + "=" + workspace_dir;
}

std::size_t stop_leftover_processes(const std::string& workspace_dir,
                                    const std::vector<ProcessState>& known,
                                    std::chrono::milliseconds grace,
                                    const std::function<void(const std::string&)>& log) {
  std::size_t stopped = 0;
  for (const auto& marker : list_process_markers(workspace_dir)) {
    // A recorded process that still runs stays. One that died (a stop interrupted between
    // ending its group and what escaped it) is a leftover like any other: what carries its
    // mark outside the group must go too.
    if (marker.state && is_known(*marker.state, known) && process_alive(*marker.state)) continue;
    std::string name = marker.address.empty() ? "an unreadable marker" : marker.address;
    if (marker.state && process_alive(*marker.state)) {
      log(fmt::format("{}: stopping pid {}, left by an interrupted build", name,
                      marker.state->pid));
      ++stopped;
    }
    if (marker.state) stop_process(*marker.state, grace);
    // What it started outside its group, or all of it when the pid was never recorded.
    auto entry = std::string(kProcessMarkerEnv) + "=" + marker.id;
    if (auto n = stop_processes_with_env(entry, grace)) {
      log(fmt::format("{}: stopped {} process(es) left by an interrupted build", name, n));
      stopped += n;
    }
    remove_process_marker(marker);
  }
  return stopped;
}

}  // namespace berth::provisioner::local
