// Two `berth server` replicas on one PostgreSQL database behind a load balancer (a TcpSwitch
// standing in for it): the workspace's agent connects through it to replica B, while the
// person works through replica A. Terminals, apps and task calls made through A are relayed
// to B; when B dies (SIGKILL) or drains (SIGTERM), the agent reconnects through the balancer
// to A and the workspace keeps working. Only the suite's PostgreSQL variant runs these.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/uuid.hpp"
#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
#include "sdk/websocket.hpp"
#include "support/ports.hpp"
#include "support/tar_builder.hpp"
#include "support/tcp_switch.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace berth::testing {
namespace {

using namespace std::chrono;

// A workspace whose agent serves tests/support/app_server.py on @APP@ as app "web", and runs
// `berth agentapi` around a shell on @TASK@ as the AI task's app.
constexpr const char* kTemplate = R"(
data "coder_workspace" "me" {}
data "coder_task" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  dir  = "/tmp"
  env = {
    TASK_PROMPT = data.coder_task.me.prompt
  }
  startup_script = "python3 @APP_SERVER@ @APP@ 300 >/dev/null 2>&1 &"
}
resource "coder_script" "agentapi" {
  agent_id     = coder_agent.main.id
  display_name = "AgentAPI"
  run_on_start = true
  script       = <<-EOT
    nohup berth agentapi --port @TASK@ --status-slug ai --initial-prompt "$TASK_PROMPT" \
      -- sh > /dev/null 2>&1 &
  EOT
}
resource "coder_app" "web" {
  agent_id = coder_agent.main.id
  slug     = "web"
  url      = "http://127.0.0.1:@APP@/base"
}
resource "coder_app" "ai" {
  agent_id = coder_agent.main.id
  slug     = "ai"
  url      = "http://localhost:@TASK@/"
}
resource "coder_ai_task" "task" {
  count  = data.coder_workspace.me.start_count
  app_id = coder_app.ai.id
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
}
)";

json::object obj(const sdk::HttpResponse& r) {
  return r.json().as_object();
}
std::string str(const json::value& v) {
  return std::string(v.as_string());
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// Polls `probe` until it holds, for at most `limit` (processes start in the background).
bool eventually(const std::function<bool()>& probe, seconds limit = seconds(60)) {
  auto deadline = steady_clock::now() + limit;
  while (steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(milliseconds(200));
  }
  return false;
}

std::string pty_input(const std::string& data) {
  return json::serialize(json::object{{"data", data}});
}

// Reads from `ws` until what arrived contains `needle`; true if it did.
bool read_until(sdk::WebSocket& ws, const std::string& needle, seconds limit = seconds(20)) {
  std::string seen;
  auto deadline = steady_clock::now() + limit;
  while (seen.find(needle) == std::string::npos && steady_clock::now() < deadline) {
    if (auto m = ws.read(milliseconds(200))) seen += *m;
    if (ws.closed()) break;
  }
  return seen.find(needle) != std::string::npos;
}

class ReplicaRelay : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!on_postgres()) GTEST_SKIP() << "needs PostgreSQL";
    auto url = postgres_database_for(dir_a_.path().string());
    balancer_ = std::make_unique<TcpSwitch>(0);
    // Both replicas tell agents to come through the balancer; each registers the address it
    // listens on for the other's relays. Short heartbeats: a killed replica counts as gone
    // within seconds.
    std::vector<std::string> common = {
        "--postgres-url", url, "--access-url", balancer_->url(), "--replica-heartbeat-interval",
        "500ms"};
    auto b_args = common;
    b_args.insert(b_args.end(), {"--provisioner-daemons", "0"});
    b_ = std::make_unique<ServerProcess>(dir_b_.path().string(), b_args);
    balancer_->set_target(port_of(b_->url()));
    a_ = std::make_unique<ServerProcess>(dir_a_.path().string(), common);
    on_a_ = std::make_unique<sdk::Client>(sign_in_owner(a_->url()));

    app_port_ = free_loopback_port();
    task_port_ = free_loopback_port();
    std::string source = kTemplate;
    replace_all(source, "@APP_SERVER@",
                (std::filesystem::path(BERTH_SOURCE_DIR) / "tests/support/app_server.py").string());
    replace_all(source, "@APP@", std::to_string(app_port_));
    replace_all(source, "@TASK@", std::to_string(task_port_));
    version_id_ = import_version(source);

    // Built by A's daemon; its agent connects through the balancer, to B.
    auto created = on_a_->request_json(
        "POST", "/api/v2/tasks/me",
        json::object{{"template_version_id", version_id_}, {"input", "echo task-says-$((40+2))"}});
    ASSERT_EQ(created.status, 201) << created.body;
    task_id_ = str(obj(created).at("id"));
    ASSERT_TRUE(eventually([&] { return !workspace_id().empty(); }));
    ASSERT_TRUE(eventually([&] { return !agent_id().empty(); })) << task();
    ASSERT_TRUE(eventually([&] {
      return b_->log().find(agent_id_ + ") connected") != std::string::npos;
    })) << "the agent never connected to B\n"
        << b_->log();
  }

  void TearDown() override {
    if (!on_a_) return;
    if (HasFailure()) {
      std::fprintf(stderr, "--- replica A ---\n%s\n", a_->log().c_str());
      if (b_) std::fprintf(stderr, "--- replica B ---\n%s\n", b_->log().c_str());
    }
    // The delete build stops the workspace's processes; A runs it.
    if (!task_id_.empty() &&
        on_a_->request("DELETE", "/api/v2/tasks/me/" + task_id_).status == 202 &&
        !workspace_id_.empty())
      eventually([&] {
        return on_a_->request("GET", "/api/v2/workspaces/" + workspace_id_).status == 410;
      });
  }

  std::string import_version(const std::string& source) {
    auto upload = on_a_->request("POST", "/api/v2/files", make_tar({{"main.tf", source, ""}}),
                                 {{"Content-Type", "application/x-tar"}});
    EXPECT_EQ(upload.status, 201) << upload.body;
    auto version = obj(on_a_->request_json("POST", "/api/v2/organizations/default/templateversions",
                                           json::object{{"storage_method", "file"},
                                                        {"provisioner", "terraform"},
                                                        {"file_id", obj(upload).at("hash")}}));
    auto vid = str(version.at("id"));
    on_a_->follow_websocket("/api/v2/templateversions/" + vid + "/logs?follow",
                            [](const std::string&) { return true; });
    auto created =
        on_a_->request_json("POST", "/api/v2/organizations/default/templates",
                            json::object{{"name", "relayed"}, {"template_version_id", vid}});
    EXPECT_EQ(created.status, 201) << created.body;
    return vid;
  }

  std::string task() { return on_a_->request("GET", "/api/v2/tasks/me/" + task_id_).body; }

  const std::string& workspace_id() {
    auto t = obj(on_a_->request("GET", "/api/v2/tasks/me/" + task_id_));
    if (t.at("workspace_id").is_string()) workspace_id_ = str(t.at("workspace_id"));
    return workspace_id_;
  }

  const std::string& agent_id() {
    auto ws = obj(on_a_->request("GET", "/api/v2/workspaces/" + workspace_id_));
    for (const auto& r : ws.at("latest_build").as_object().at("resources").as_array())
      for (const auto& a : r.as_object().at("agents").as_array())
        agent_id_ = str(a.as_object().at("id"));
    return agent_id_;
  }

  // The app answers through `client` (its server relaying or not).
  bool app_answers(sdk::Client& client) {
    auto r = client.request("GET", "/@owner/" + workspace_name() + "/apps/web/hello?x=1");
    return r.status == 200 && r.body.find("/base/hello") != std::string::npos;
  }

  std::string workspace_name() {
    return str(obj(on_a_->request("GET", "/api/v2/workspaces/" + workspace_id_)).at("name"));
  }

  // A terminal opened through `client` runs a command in the workspace.
  bool terminal_works(sdk::Client& client, const std::string& word) {
    try {
      auto pty = client.open_websocket("/api/v2/workspaceagents/" + agent_id_ + "/pty?reconnect=" +
                                       Uuid::random_v4().to_string() + "&width=80&height=24");
      return pty->send(pty_input("echo " + word + "-$((1+1))\r")) && read_until(*pty, word + "-2");
    } catch (const std::exception&) {
      return false;  // refused: the agent is not reachable yet
    }
  }

  std::string task_logs(sdk::Client& client) {
    return client.request("GET", "/api/v2/tasks/me/" + task_id_ + "/logs").body;
  }

  TempDir dir_a_;
  TempDir dir_b_;
  std::unique_ptr<TcpSwitch> balancer_;
  std::unique_ptr<ServerProcess> a_;
  std::unique_ptr<ServerProcess> b_;
  std::unique_ptr<sdk::Client> on_a_;
  int app_port_ = 0;
  int task_port_ = 0;
  std::string version_id_;
  std::string task_id_;
  std::string workspace_id_;
  std::string agent_id_;
};

TEST_F(ReplicaRelay, AppTerminalAndTaskThroughOneReplicaReachTheAgentOnTheOther) {
  // A holds no connection of the agent: everything below crosses to B.
  EXPECT_EQ(a_->log().find(agent_id_ + ") connected"), std::string::npos);
  ASSERT_TRUE(eventually([&] { return app_answers(*on_a_); }))
      << on_a_->request("GET", "/@owner/" + workspace_name() + "/apps/web/").body;
  EXPECT_TRUE(terminal_works(*on_a_, "through-a"));
  // A port stream (what `berth port-forward` opens) through A.
  auto stream = on_a_->open_websocket("/api/v2/workspaceagents/" + agent_id_ +
                                      "/stream?port=" + std::to_string(app_port_));
  ASSERT_TRUE(stream->send("GET /streamed HTTP/1.0\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(read_until(*stream, "\"path\": \"/streamed\""));

  // The prompt was typed by agentapi; its output and a second message are read and sent
  // through A.
  ASSERT_TRUE(eventually([&] {
    return task_logs(*on_a_).find("task-says-42") != std::string::npos;
  })) << task_logs(*on_a_);
  ASSERT_TRUE(eventually([&] {
    return on_a_
               ->request_json("POST", "/api/v2/tasks/me/" + task_id_ + "/send",
                              json::object{{"input", "echo more-$((1+1))"}})
               .status == 204;
  }));
  EXPECT_TRUE(eventually([&] { return task_logs(*on_a_).find("more-2") != std::string::npos; }))
      << task_logs(*on_a_);

  // A request carrying a relay mark that is not the deployment's secret is not trusted: A
  // still relays it (a forged mark cannot make A answer for an agent it does not hold).
  auto forged = on_a_->request("GET", "/@owner/" + workspace_name() + "/apps/web/x", "",
                               {{"Berth-Relay", "not-the-secret"}});
  EXPECT_EQ(forged.status, 200) << forged.body;
}

TEST_F(ReplicaRelay, WhenTheAgentsReplicaDiesTheAgentReconnectsToTheOtherAndKeepsWorking) {
  ASSERT_TRUE(eventually([&] { return app_answers(*on_a_); }));
  // B's machine dies: the balancer sends new connections to A and the old ones break.
  b_->kill_now();
  balancer_->set_target(port_of(a_->url()));
  balancer_->drop_all();
  EXPECT_TRUE(eventually([&] {
    return a_->log().find(agent_id_ + ") connected") != std::string::npos;
  })) << "the agent never reconnected to A";
  EXPECT_TRUE(eventually([&] { return app_answers(*on_a_); }));
  EXPECT_TRUE(eventually([&] { return terminal_works(*on_a_, "after-b"); }, seconds(30)));
  EXPECT_TRUE(eventually([&] {
    return on_a_
               ->request_json("POST", "/api/v2/tasks/me/" + task_id_ + "/send",
                              json::object{{"input", "echo still-$((2+1))"}})
               .status == 204;
  }));
  EXPECT_TRUE(eventually([&] { return task_logs(*on_a_).find("still-3") != std::string::npos; }));
  auto agent = obj(on_a_->request("GET", "/api/v2/workspaceagents/" + agent_id_));
  EXPECT_EQ(str(agent.at("status")), "connected");
}

TEST_F(ReplicaRelay, ADrainingReplicaLeavesTheListAndItsAgentsMoveToTheOther) {
  ASSERT_TRUE(eventually([&] { return app_answers(*on_a_); }));
  // The balancer takes B out first (as a health check would once B stops accepting); SIGTERM
  // then closes B's agent connections and B leaves the replica list at once.
  balancer_->set_target(port_of(a_->url()));
  EXPECT_EQ(b_->stop(), 0);
  auto replicas = on_a_->request("GET", "/api/v2/replicas");
  ASSERT_EQ(replicas.status, 200) << replicas.body;
  EXPECT_EQ(replicas.json().as_array().size(), 1u) << replicas.body;
  EXPECT_TRUE(eventually([&] {
    return a_->log().find(agent_id_ + ") connected") != std::string::npos;
  })) << "the agent never reconnected to A";
  EXPECT_TRUE(eventually([&] { return terminal_works(*on_a_, "drained"); }, seconds(30)));
  EXPECT_TRUE(app_answers(*on_a_));
}

}  // namespace
}  // namespace berth::testing
