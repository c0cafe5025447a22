// Workspace processes are never lost (issue #16): a kill -9 of the server in the middle of a
// start build, or a script that leaves its process group, leaves nothing running that no
// build will stop.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "integration/workspace_fixture.hpp"
#include "support/workspace_processes.hpp"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A container engine that accepts connections and never answers: a build that reaches its
// docker resources waits there, its processes already started, until the server dies.
class SilentEngine {
 public:
  explicit SilentEngine(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 8) != 0)
      ADD_FAILURE() << "cannot listen on " << path_ << ": " << std::strerror(errno);
  }
  ~SilentEngine() {
    for (int c : callers_) ::close(c);
    if (fd_ >= 0) ::close(fd_);
  }
  SilentEngine(const SilentEngine&) = delete;
  SilentEngine& operator=(const SilentEngine&) = delete;

  const std::string& host() const { return path_; }
  // Waits for the first caller; the bound only matters when none ever comes.
  bool wait_for_caller(std::chrono::milliseconds limit) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, int(limit.count())) <= 0) return false;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return false;
    callers_.push_back(c);
    return true;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<int> callers_;
};

// Polls a condition that real processes make true; the bound only matters when they never do.
bool eventually(const std::function<bool()>& condition, std::chrono::seconds limit = 30s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// The process starts a child that leaves its process group and session, as a script started
// with `nohup ... &` and setsid does.
constexpr const char* kEscapingCommand =
    R"(["sh", "-c", "nohup setsid tail -f /dev/null >/dev/null 2>&1 & exec tail -f /dev/null"])";

// The process, then a container on an engine that never answers.
std::string held_template(const std::string& engine) {
  return R"(
provider "docker" { host = "unix://)" +
         engine + R"(" }
data "coder_workspace" "me" {}
resource "berth_process" "main" {
  count   = data.coder_workspace.me.start_count
  command = )" +
         kEscapingCommand +
         R"(
}
resource "docker_container" "held" {
  count = data.coder_workspace.me.start_count
  name  = "held"
  image = "busybox"
}
)";
}

class CrashRecovery : public WorkspaceFixture {
 protected:
  std::string workspace_dir(const std::string& workspace_id) const {
    return (dir_.path() / "workspaces" / workspace_id).string();
  }
  std::string latest_status(const std::string& workspace_id) {
    auto ws = obj(owner().request("GET", "/api/v2/workspaces/" + workspace_id));
    return str(ws.at("latest_build").as_object().at("status"));
  }
};

TEST_F(CrashRecovery, AProcessAnInterruptedStartLeftIsStoppedAtRestart) {
  SilentEngine engine(dir_.file("engine.sock"));
  auto template_id = push_template(held_template(engine.host()), "held");
  auto created = owner().request_json("POST", "/api/v2/users/me/workspaces",
                                      json::object{{"name", "held"}, {"template_id", template_id}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto id = str(obj(created).at("id"));
  auto dir = workspace_dir(id);

  // The build asks the engine only once its process runs; it then waits for an answer.
  ASSERT_TRUE(engine.wait_for_caller(60s)) << server_->log();
  EXPECT_FALSE(workspace_processes_under(dir).empty());
  EXPECT_FALSE(fs::is_empty(dir + "/.berth-processes"));
  server_->kill_and_restart();
  owner_ = std::make_unique<sdk::Client>(sign_in_owner_again(server_->url()));

  // The restarted server stopped it before it took any request.
  EXPECT_EQ(latest_status(id), "failed");
  EXPECT_EQ(workspace_processes_under(dir), std::vector<int>{}) << server_->log();
  EXPECT_NE(server_->log().find("left by an interrupted build"), std::string::npos)
      << server_->log();
  transition(id, "stop");
  EXPECT_EQ(latest_status(id), "stopped");
  EXPECT_EQ(workspace_processes_under(dir), std::vector<int>{});
}

TEST_F(CrashRecovery, StopEndsWhatAScriptStartedWithNohupAndSetsid) {
  auto ws = create_workspace(R"(
data "coder_workspace" "me" {}
resource "berth_process" "main" {
  count   = data.coder_workspace.me.start_count
  command = )" + std::string(kEscapingCommand) +
                                 R"(
}
)",
                             "escaping");
  auto id = str(ws.at("id"));
  auto dir = workspace_dir(id);
  ASSERT_TRUE(eventually([&] { return workspace_processes_under(dir).size() == 2; }))
      << "the process and its escaped child never both ran";
  transition(id, "stop");
  EXPECT_EQ(latest_status(id), "stopped");
  EXPECT_EQ(workspace_processes_under(dir), std::vector<int>{});
}

// Teardown: a workspace nobody stopped (its server simply went away) does not outlive the test.
TEST_F(CrashRecovery, TheServerFixtureKillsWhatItsWorkspacesLeftRunning) {
  auto ws = create_workspace(R"(
data "coder_workspace" "me" {}
resource "berth_process" "main" {
  count   = data.coder_workspace.me.start_count
  command = )" + std::string(kEscapingCommand) +
                                 R"(
}
)",
                             "abandoned");
  auto dir = workspace_dir(str(ws.at("id")));
  ASSERT_TRUE(eventually([&] { return workspace_processes_under(dir).size() == 2; }));
  running_.clear();
  server_.reset();
  EXPECT_EQ(workspace_processes_under(dir_.path().string()), std::vector<int>{});
}

}  // namespace
}  // namespace berth::testing
