// The built-in provisioner's bookkeeping of the processes it starts (issue #16): each process
// is recorded in the workspace's directory before it starts, so that a build interrupted
// before it recorded the process in its state, or a process that left its group, is stopped.
#include "provisioner/local/local_provisioner.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "provisioner/local/process_markers.hpp"
#include "provisioner/local/process_resource.hpp"
#include "support/polling.hpp"

namespace berth::provisioner::local {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testing::read_file;
using testing::wait_until;

// Field 6 of /proc/<pid>/stat: the session the process belongs to.
long session_of(int pid) {
  std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream in(text.substr(text.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 6; ++i) in >> field;
  return std::stol(field);
}

// One process per start, which lives until it is stopped.
constexpr const char* kTemplate = R"(
data "coder_workspace" "me" {}
resource "berth_process" "main" {
  count   = data.coder_workspace.me.start_count
  command = ["tail", "-f", "/dev/null"]
}
)";

// The process starts a child that leaves its process group and session, as `nohup ... &`
// with setsid does, and writes the child's pid.
constexpr const char* kEscapingTemplate = R"(
data "coder_workspace" "me" {}
resource "berth_process" "main" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", "setsid tail -f /dev/null & echo $! > escaped.tmp && mv escaped.tmp escaped.pid; exec tail -f /dev/null"]
}
)";

// Two processes, the second of which cannot start.
constexpr const char* kHalfBrokenTemplate = R"(
data "coder_workspace" "me" {}
resource "berth_process" "first" {
  count   = data.coder_workspace.me.start_count
  command = ["tail", "-f", "/dev/null"]
}
resource "berth_process" "second" {
  count   = data.coder_workspace.me.start_count
  command = ["no-such-command-berth-test"]
  depends_on = [berth_process.first]
}
)";

class LocalProvisionerProcesses : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-local-provisioner-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    workspace_dir_ = (root_ / "workspaces" / "ws").string();
    fs::create_directories(root_ / "jobs");
  }
  void TearDown() override {
    stop_processes_with_env(workspace_env_entry(workspace_dir_), 1s);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  BuildResponse build(const std::string& main_tf, const std::string& transition,
                      const std::string& state, bool previous_failed = false) {
    BuildRequest request;
    request.files = {{"main.tf", main_tf}};
    request.transition = *sdk::parse<sdk::WorkspaceTransition>(transition);
    request.state = state;
    request.previous_build_failed = previous_failed;
    request.workspace_id = "7f0f4f1e-1111-4c8e-9f59-000000000001";
    request.workspace_name = "ws";
    request.workspace_dir = workspace_dir_;
    request.owner_name = "owner";
    return provisioner_.build_workspace(request, context_);
  }

  // The processes a build's state records.
  static std::vector<ProcessState> processes_of(const BuildResponse& response) {
    std::vector<ProcessState> out;
    auto doc = json::parse(response.state);
    for (const auto& p : doc.as_object().at("processes").as_array())
      out.push_back(process_state_from(p.as_object().at("state")));
    return out;
  }

  std::vector<ProcessMarker> markers() const { return list_process_markers(workspace_dir_); }

  // The child kEscapingTemplate's process starts in a session of its own, once it is there;
  // its pid is 0 when it never showed up with the workspace's mark.
  ProcessState escaped_child() const {
    auto pid_file = fs::path(workspace_dir_) / "escaped.pid";
    EXPECT_TRUE(wait_until([&] { return fs::exists(pid_file); }));
    int pid = std::stoi(read_file(pid_file));
    EXPECT_TRUE(wait_until([&] { return session_of(pid) == pid; }))
        << "the child did not leave the session";
    for (const auto& p : find_processes_with_env(workspace_env_entry(workspace_dir_)))
      if (p.pid == pid) return p;
    return {};
  }

  bool logged(const std::string& needle) const {
    for (const auto& line : logs_)
      if (line.find(needle) != std::string::npos) return true;
    return false;
  }

  fs::path root_;
  std::string workspace_dir_;
  std::vector<std::string> logs_;
  JobContext context_{[this](coderd::JobLogLine line) { logs_.push_back(line.output); },
                      [] { return false; }};
  LocalProvisioner provisioner_{"http://127.0.0.1:1", "berth", (root_ / "jobs").string()};
};

TEST_F(LocalProvisionerProcesses, RecordsEachProcessBeforeTheStateDoes) {
  auto started = build(kTemplate, "start", "");
  auto processes = processes_of(started);
  ASSERT_EQ(processes.size(), 1U);
  EXPECT_TRUE(process_alive(processes[0]));
  auto recorded = markers();
  ASSERT_EQ(recorded.size(), 1U);
  EXPECT_EQ(recorded[0].address, "berth_process.main[0]");
  ASSERT_TRUE(recorded[0].state.has_value());
  EXPECT_EQ(recorded[0].state->pid, processes[0].pid);
  EXPECT_EQ(recorded[0].state->start_ticks, processes[0].start_ticks);
  // The process carries the marks that find it again.
  auto marked = find_processes_with_env(workspace_env_entry(workspace_dir_));
  ASSERT_EQ(marked.size(), 1U);
  EXPECT_EQ(marked[0].pid, processes[0].pid);

  auto stopped = build(kTemplate, "stop", started.state);
  EXPECT_FALSE(process_alive(processes[0]));
  EXPECT_TRUE(processes_of(stopped).empty());
  EXPECT_TRUE(markers().empty());
}

// An interrupted start: its process runs, but the state the next build gets is the one
// before it.
TEST_F(LocalProvisionerProcesses, StopBuildStopsAProcessTheLastStateLacks) {
  auto first = build(kTemplate, "start", "");
  auto second = build(kTemplate, "start", first.state);  // never recorded
  auto lost = processes_of(second);
  ASSERT_EQ(lost.size(), 1U);
  ASSERT_TRUE(process_alive(lost[0]));
  EXPECT_FALSE(process_alive(processes_of(first)[0]));

  build(kTemplate, "stop", first.state, /*previous_failed=*/true);
  EXPECT_FALSE(process_alive(lost[0]));
  EXPECT_TRUE(markers().empty());
  EXPECT_TRUE(find_processes_with_env(workspace_env_entry(workspace_dir_)).empty());
  EXPECT_TRUE(logged("left by an interrupted build"));
}

// Killed between starting the process and writing its pid down: only the intent is on disk,
// and the process is found by the marker id it carries.
TEST_F(LocalProvisionerProcesses, StopBuildStopsAProcessWhosePidWasNeverWritten) {
  auto marker = write_process_intent(workspace_dir_, "berth_process.main[0]");
  ProcessSpec spec;
  spec.command = {"tail", "-f", "/dev/null"};
  spec.dir = workspace_dir_;
  spec.env = marker_env(marker);
  auto orphan = start_process(spec);
  ASSERT_TRUE(process_alive(orphan));

  build(kTemplate, "stop", "", /*previous_failed=*/true);
  EXPECT_FALSE(process_alive(orphan));
  EXPECT_TRUE(markers().empty());
}

TEST_F(LocalProvisionerProcesses, AStartRetriedAfterAnInterruptionLeavesOneProcess) {
  auto first = build(kTemplate, "start", "");
  build(kTemplate, "start", first.state);  // interrupted: never recorded
  auto retried = build(kTemplate, "start", first.state, /*previous_failed=*/true);
  auto marked = find_processes_with_env(workspace_env_entry(workspace_dir_));
  ASSERT_EQ(marked.size(), 1U);
  EXPECT_EQ(marked[0].pid, processes_of(retried)[0].pid);
  EXPECT_EQ(markers().size(), 1U);
}

TEST_F(LocalProvisionerProcesses, StopReachesWhatLeftTheProcessGroup) {
  auto started = build(kEscapingTemplate, "start", "");
  auto main = processes_of(started).at(0);
  auto escaped = escaped_child();
  ASSERT_TRUE(process_alive(escaped)) << "the child does not carry the workspace's mark";

  build(kEscapingTemplate, "stop", started.state);
  EXPECT_FALSE(process_alive(main));
  EXPECT_FALSE(process_alive(escaped)) << "pid " << escaped.pid << " survived the stop";
  EXPECT_TRUE(find_processes_with_env(workspace_env_entry(workspace_dir_)).empty());
}

TEST_F(LocalProvisionerProcesses, AFailedBuildStopsWhatItStarted) {
  EXPECT_THROW(build(kHalfBrokenTemplate, "start", ""), JobFailure);
  EXPECT_TRUE(find_processes_with_env(workspace_env_entry(workspace_dir_)).empty());
  EXPECT_TRUE(markers().empty());
}

// At start-up: what the latest build records stays, what an interrupted build left goes.
TEST_F(LocalProvisionerProcesses, ReconcileKeepsRecordedProcessesAndStopsTheRest) {
  auto recorded = build(kTemplate, "start", "");
  auto kept = processes_of(recorded).at(0);
  auto marker = write_process_intent(workspace_dir_, "berth_process.main[0]");
  ProcessSpec spec;
  spec.command = {"tail", "-f", "/dev/null"};
  spec.dir = workspace_dir_;
  spec.env = marker_env(marker);
  auto orphan = start_process(spec);
  record_process_started(marker, orphan);

  std::vector<std::string> lines;
  provisioner_.reconcile_workspace(workspace_dir_, recorded.state,
                                   [&](const std::string& line) { lines.push_back(line); });
  EXPECT_TRUE(process_alive(kept));
  EXPECT_FALSE(process_alive(orphan));
  ASSERT_EQ(markers().size(), 1U);
  EXPECT_EQ(markers()[0].state->pid, kept.pid);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find(std::to_string(orphan.pid)), std::string::npos) << lines[0];
}

// A stop interrupted after it ended the recorded group, before what escaped the group: the
// failed build keeps the old state, so the dead pid is still "recorded", and the escaped child
// must still go at start-up (found by the crash soak in bench/).
TEST_F(LocalProvisionerProcesses, ReconcileStopsWhatEscapedARecordedProcessThatDied) {
  auto started = build(kEscapingTemplate, "start", "");
  auto main = processes_of(started).at(0);
  auto escaped = escaped_child();
  ASSERT_TRUE(process_alive(escaped));

  stop_process(main, std::chrono::seconds(1));  // the interrupted stop's first step
  ASSERT_FALSE(process_alive(main));
  provisioner_.reconcile_workspace(workspace_dir_, started.state, [](const std::string&) {});
  EXPECT_FALSE(process_alive(escaped)) << "pid " << escaped.pid << " survived start-up";
  EXPECT_TRUE(find_processes_with_env(workspace_env_entry(workspace_dir_)).empty());
  EXPECT_TRUE(markers().empty());
}

}  // namespace
}  // namespace berth::provisioner::local
