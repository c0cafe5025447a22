// Workspace agents against the real binary: the built-in provisioner starts `berth agent`
// inside the workspace process, and the agent reports back over its WebSocket.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>

#include "integration/workspace_fixture.hpp"

namespace berth::testing {
namespace {

using namespace std::chrono;

// A workspace whose process runs the agent; `startup` and `shutdown` are its scripts.
std::string agent_template(const std::string& startup, const std::string& shutdown) {
  return R"(
data "coder_workspace" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  dir  = "/tmp"
  env  = { GREETING = "hello from the env" }
  startup_script = <<-EOT
)" + startup +
         R"(
  EOT
  shutdown_script = <<-EOT
)" + shutdown +
         R"(
  EOT
  metadata {
    display_name = "Answer"
    key          = "answer"
    script       = "echo 42"
    interval     = 1
    timeout      = 5
  }
}
resource "coder_app" "dead" {
  agent_id = coder_agent.main.id
  slug     = "dead"
  url      = "http://127.0.0.1:1"
  healthcheck {
    url       = "http://127.0.0.1:1/"
    interval  = 1
    threshold = 1
  }
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
}
)";
}

// Reads the SSE stream at `path` on a raw socket until `needle` is in what came (response
// head included) or `limit` passed; returns what came.
std::string read_events_until(const std::string& url, const std::string& token,
                              const std::string& path, const std::string& needle,
                              seconds limit = seconds(30)) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1))));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string text;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    auto request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n" +
                   "Coder-Session-Token: " + token + "\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      auto deadline = steady_clock::now() + limit;
      while (text.find(needle) == std::string::npos && steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        char buf[4096];
        auto n = read(fd, buf, sizeof buf);
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  close(fd);
  return text;
}

// Every test here runs its workspaces' agents as real processes.
class AgentsApi : public WorkspaceFixture {};

TEST_F(AgentsApi, ConnectsRunsTheStartupScriptAndReportsEverything) {
  auto ws = create_workspace(agent_template("echo \"$GREETING\"\npwd", "echo bye"), "happy");
  auto wid = str(ws.at("id"));
  auto aid = agent_id_of(ws);
  auto a = wait_agent(wid, aid, ready);
  EXPECT_FALSE(a.at("first_connected_at").is_null());
  EXPECT_FALSE(a.at("started_at").is_null());
  EXPECT_FALSE(a.at("ready_at").is_null());
  EXPECT_EQ(str(a.at("api_version")), "1.0");
  EXPECT_FALSE(str(a.at("version")).empty());
  EXPECT_EQ(str(a.at("expanded_directory")), "/tmp");
  EXPECT_TRUE(a.at("health").as_object().at("healthy").as_bool());
  EXPECT_FALSE(a.at("log_sources").as_array().empty());
  // The startup script ran with the agent's env and dir; its output is the agent's logs.
  auto lines = log_lines(aid);
  EXPECT_NE(std::find(lines.begin(), lines.end(), "hello from the env"), lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "/tmp"), lines.end());
  // `after` pages by id.
  auto all_doc = owner().request("GET", "/api/v2/workspaceagents/" + aid + "/logs").json();
  const auto& all = all_doc.as_array();
  auto first_id = all.at(0).as_object().at("id").as_int64();
  auto rest = owner()
                  .request("GET", "/api/v2/workspaceagents/" + aid +
                                      "/logs?after=" + std::to_string(first_id))
                  .json();
  EXPECT_EQ(rest.as_array().size(), all.size() - 1);
  // Follow streams what is there as a JSON array per message.
  std::vector<std::string> followed;
  owner().follow_websocket("/api/v2/workspaceagents/" + aid + "/logs?follow",
                           [&](const std::string& m) {
                             auto batch = json::parse(m);
                             for (const auto& l : batch.as_array())
                               followed.push_back(str(l.as_object().at("output")));
                             return followed.size() < all.size();
                           });
  EXPECT_EQ(followed.size(), all.size());
  // The unreachable app turns unhealthy after its threshold.
  wait_agent(wid, aid, [](const json::object& agent) {
    return str(agent.at("apps").as_array().at(0).as_object().at("health")) == "unhealthy";
  });
  // The script's timing is in the workspace timings.
  auto timings = obj(owner().request("GET", "/api/v2/workspaces/" + wid + "/timings"));
  const auto& scripts = timings.at("agent_script_timings").as_array();
  ASSERT_FALSE(scripts.empty());
  EXPECT_EQ(str(scripts[0].as_object().at("status")), "ok");
  EXPECT_EQ(str(scripts[0].as_object().at("stage")), "start");
}

TEST_F(AgentsApi, AFailingStartupScriptGivesStartError) {
  auto ws = create_workspace(agent_template("echo failing\nexit 7", "true"), "failing");
  auto a = wait_agent(str(ws.at("id")), agent_id_of(ws), [](const json::object& agent) {
    return str(agent.at("lifecycle_state")) == "start_error";
  });
  EXPECT_FALSE(a.at("health").as_object().at("healthy").as_bool());
  EXPECT_EQ(str(a.at("health").as_object().at("reason")),
            "agent startup script exited with an error");
  auto timings = obj(owner().request("GET", "/api/v2/workspaces/" + str(ws.at("id")) + "/timings"));
  const auto& t = timings.at("agent_script_timings").as_array().at(0).as_object();
  EXPECT_EQ(t.at("exit_code").as_int64(), 7);
  EXPECT_EQ(str(t.at("status")), "exit_failure");
}

TEST_F(AgentsApi, StoppingRunsTheShutdownScriptAndTurnsTheAgentOff) {
  auto ws = create_workspace(agent_template("echo up", "echo shutting-down-now"), "stopper");
  auto wid = str(ws.at("id"));
  auto aid = agent_id_of(ws);
  wait_agent(wid, aid, ready);
  auto b = owner().request_json("POST", "/api/v2/workspaces/" + wid + "/builds",
                                json::object{{"transition", "stop"}});
  ASSERT_EQ(b.status, 201) << b.body;
  follow_build(str(obj(b).at("id")));  // ends once the workspace process (the agent) is gone
  running_.clear();
  auto a = agent(aid);
  EXPECT_EQ(str(a.at("lifecycle_state")), "off");
  EXPECT_EQ(str(a.at("status")), "disconnected");
  auto lines = log_lines(aid);
  EXPECT_NE(std::find(lines.begin(), lines.end(), "shutting-down-now"), lines.end());
}

TEST_F(AgentsApi, ReconnectsAfterAServerRestartWithoutLosingLogs) {
  // Lines keep coming while the server is down; the agent queues and sends them later.
  auto ws = create_workspace(
      agent_template("for i in $(seq 1 40); do echo line-$i; sleep 0.1; done", "true"), "restart");
  auto wid = str(ws.at("id"));
  auto aid = agent_id_of(ws);
  wait_agent(wid, aid, [&](const json::object&) { return !log_lines(aid).empty(); });
  server_->kill_and_restart();
  owner_ = std::make_unique<sdk::Client>(sign_in_owner_again(server_->url()));
  auto a = wait_agent(wid, aid, [&](const json::object& agent) {
    return ready(agent) && log_lines(aid).size() >= 40;
  });
  auto lines = log_lines(aid);
  for (int i = 1; i <= 40; ++i)
    EXPECT_NE(std::find(lines.begin(), lines.end(), "line-" + std::to_string(i)), lines.end())
        << "line-" << i << " was lost";
}

TEST_F(AgentsApi, TheEnvIsTheAgentsAloneAndMetadataResultsAreWatched) {
  auto ws = create_workspace(agent_template("echo \"$GREETING\"", "true"), "watched");
  auto wid = str(ws.at("id"));
  auto aid = agent_id_of(ws);
  wait_agent(wid, aid, ready);
  // The agent's manifest carried the env (its script printed it); readers of the workspace
  // do not see the values.
  auto lines = log_lines(aid);
  EXPECT_NE(std::find(lines.begin(), lines.end(), "hello from the env"), lines.end());
  for (const auto& path : {"/api/v2/workspaces/" + wid, "/api/v2/workspaceagents/" + aid}) {
    auto r = owner().request("GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body.find("hello from the env"), std::string::npos) << path << ": " << r.body;
  }
  EXPECT_TRUE(agent(aid).at("environment_variables").as_object().empty());
  EXPECT_FALSE(agent(aid).contains("metadata"));  // not a field of Coder's WorkspaceAgent

  // watch-metadata-ws: {"type":"data","data":[{description, result}]} until the agent's
  // first result is there.
  json::object item;
  owner().follow_websocket(
      "/api/v2/workspaceagents/" + aid + "/watch-metadata-ws",
      [&](const std::string& m) {
        auto e = json::parse(m).as_object();
        if (str(e.at("type")) != "data") return true;
        const auto& items = e.at("data").as_array();
        if (items.size() != 1) {
          ADD_FAILURE() << m;
          return false;
        }
        item = items[0].as_object();
        return str(item.at("result").as_object().at("value")) != "42";
      },
      seconds(30));
  ASSERT_FALSE(item.empty());
  const auto& description = item.at("description").as_object();
  EXPECT_EQ(str(description.at("display_name")), "Answer");
  EXPECT_EQ(str(description.at("key")), "answer");
  EXPECT_EQ(str(description.at("script")), "echo 42");
  EXPECT_EQ(description.at("interval").as_int64(), 1);
  EXPECT_EQ(description.at("timeout").as_int64(), 5);
  const auto& result = item.at("result").as_object();
  EXPECT_EQ(str(result.at("value")), "42");
  EXPECT_EQ(str(result.at("error")), "");
  EXPECT_TRUE(parse_rfc3339(str(result.at("collected_at"))));
  EXPECT_GE(result.at("age").as_int64(), 0);
  EXPECT_LT(result.at("age").as_int64(), 60);

  // watch-metadata: the same as server-sent events.
  auto text =
      read_events_until(server_->url(), owner().session_token(),
                        "/api/v2/workspaceagents/" + aid + "/watch-metadata", R"("value":"42")");
  EXPECT_NE(text.find("text/event-stream"), std::string::npos) << text;
  EXPECT_NE(text.find("event: data\ndata: [{"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("value":"42")"), std::string::npos) << text;

  auto member = sign_in_member(server_->url(), owner(), "eve");
  EXPECT_EQ(member.request("GET", "/api/v2/workspaceagents/" + aid + "/watch-metadata").status,
            404);
}

TEST_F(AgentsApi, RefusesBadAgentTokensAndHidesAgentsFromOtherUsers) {
  auto ws = create_workspace(agent_template("true", "true"), "private");
  auto aid = agent_id_of(ws);
  sdk::Client anonymous(server_->url());
  for (const char* token : {"", "not-a-uuid", "5f4b7a3e-8f0e-4c8e-9f59-000000000000"}) {
    auto r = anonymous.request("GET", "/api/v2/workspaceagents/me/manifest", {},
                               {{"Coder-Session-Token", token}});
    EXPECT_EQ(r.status, 401) << token << ": " << r.body;
  }
  auto patch = anonymous.request("PATCH", "/api/v2/workspaceagents/me/logs", R"({"logs":[]})",
                                 {{"Coder-Session-Token", "5f4b7a3e-8f0e-4c8e-9f59-000000000000"},
                                  {"Content-Type", "application/json"}});
  EXPECT_EQ(patch.status, 401);
  // A user's session token is not an agent token.
  auto as_user = owner().request("GET", "/api/v2/workspaceagents/me/manifest");
  EXPECT_EQ(as_user.status, 401);
  auto member = sign_in_member(server_->url(), owner(), "mallory");
  EXPECT_EQ(member.request("GET", "/api/v2/workspaceagents/" + aid).status, 404);
  EXPECT_EQ(member.request("GET", "/api/v2/workspaceagents/" + aid + "/logs").status, 404);
  EXPECT_EQ(owner().request("GET", "/api/v2/workspaceagents/not-a-uuid").status, 400);
}

}  // namespace
}  // namespace berth::testing
