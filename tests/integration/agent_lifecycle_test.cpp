// The agent's lifecycle at its edges, against the real binary with a real agent process:
// failing and hung start scripts, stop scripts (and a hung one), an app that stops answering
// its healthcheck, refused agent tokens, and logs past the per-agent limit.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "integration/workspace_fixture.hpp"
#include "support/ports.hpp"

namespace berth::testing {
namespace {

using namespace std::chrono;

// One coder_script of the agent.
struct Script {
  std::string name;
  std::string body;
  bool on_stop = false;
  int timeout = 0;  // seconds; 0 = none
};

std::string script_hcl(const Script& s) {
  std::string out = "resource \"coder_script\" \"" + s.name + "\" {\n";
  out += "  agent_id     = coder_agent.main.id\n";
  out += "  display_name = \"" + s.name + "\"\n";
  out += s.on_stop ? "  run_on_stop  = true\n" : "  run_on_start = true\n";
  if (s.timeout > 0) out += "  timeout      = " + std::to_string(s.timeout) + "\n";
  out += "  script       = <<-EOT\n" + s.body + "\n  EOT\n}\n";
  return out;
}

// A workspace whose process writes its agent token to `token_file` and then runs the agent;
// `extra` is appended (apps).
std::string lifecycle_template(const std::vector<Script>& scripts, const std::string& token_file,
                               const std::string& extra = "") {
  std::string tf = R"(
data "coder_workspace" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  dir  = "/tmp"
  env  = { GREETING = "hello from the env" }
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", "printf %s \"$CODER_AGENT_TOKEN\" > ')";
  tf += token_file;
  tf += R"('\n${coder_agent.main.init_script}"]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
}
)";
  for (const auto& s : scripts) tf += script_hcl(s);
  tf += extra;
  return tf;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class AgentLifecycle : public WorkspaceFixture {
 protected:
  std::string token_file(const std::string& name) {
    return (dir_.path() / (name + ".token")).string();
  }

  static std::function<bool(const json::object&)> lifecycle_is(std::string state) {
    return [state](const json::object& a) { return str(a.at("lifecycle_state")) == state; };
  }

  static bool has(const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  }

  // Script timings by display name, of the workspace (its latest build) or of one build.
  std::map<std::string, json::object> timings(const std::string& workspace_id,
                                              const std::string& build_id = "") {
    auto t = obj(owner().request("GET", build_id.empty()
                                            ? "/api/v2/workspaces/" + workspace_id + "/timings"
                                            : "/api/v2/workspacebuilds/" + build_id + "/timings"));
    std::map<std::string, json::object> out;
    for (const auto& s : t.at("agent_script_timings").as_array())
      out[str(s.as_object().at("display_name"))] = s.as_object();
    return out;
  }

  // The token the workspace's process was started with, once it has written it.
  std::string agent_token(const std::string& name) {
    auto deadline = steady_clock::now() + seconds(30);
    std::string token;
    while (token.empty() && steady_clock::now() < deadline) {
      token = read_file(token_file(name));
      if (token.empty()) std::this_thread::sleep_for(milliseconds(20));
    }
    EXPECT_FALSE(token.empty()) << "the workspace never wrote its agent token";
    return token;
  }
};

TEST_F(AgentLifecycle, AFailingStartScriptGivesStartErrorAndTheOthersStillRun) {
  auto ws = create_workspace(
      lifecycle_template({{"good", "echo good-script-ran"}, {"bad", "echo bad-script\nexit 3"}},
                         token_file("starterr")),
      "starterr");
  auto wid = str(ws.at("id"));
  auto aid = agent_id_of(ws);
  auto a = wait_agent(wid, aid, lifecycle_is("start_error"));
  EXPECT_EQ(str(a.at("status")), "connected");
  EXPECT_FALSE(a.at("ready_at").is_null());
  const auto& health = a.at("health").as_object();
  EXPECT_FALSE(health.at("healthy").as_bool());
  EXPECT_EQ(str(health.at("reason")), "agent startup script exited with an error");
  auto lines = log_lines(aid);
  EXPECT_TRUE(has(lines, "good-script-ran"));
  EXPECT_TRUE(has(lines, "bad-script"));
  auto t = timings(wid);
  ASSERT_TRUE(t.contains("bad") && t.contains("good"));
  EXPECT_EQ(str(t["bad"].at("status")), "exit_failure");
  EXPECT_EQ(t["bad"].at("exit_code").as_int64(), 3);
  EXPECT_EQ(str(t["good"].at("status")), "ok");
  // The workspace reports the failing agent.
  auto w = obj(owner().request("GET", "/api/v2/workspaces/" + wid));
  EXPECT_FALSE(w.at("health").as_object().at("healthy").as_bool());
  EXPECT_EQ(w.at("health").as_object().at("failing_agents").as_array().size(), 1u);
}

TEST_F(AgentLifecycle, AStartScriptPastItsTimeoutGivesStartTimeout) {
  auto ws = create_workspace(
      lifecycle_template(
          {{"hang", "echo before-the-hang\nsleep 600\necho after-the-hang", false, 1}},
          token_file("hung")),
      "hung");
  auto wid = str(ws.at("id"));
  auto aid = agent_id_of(ws);
  auto a = wait_agent(wid, aid, lifecycle_is("start_timeout"), seconds(30));
  // Coder counts start_timeout as healthy: the workspace is usable, only slow to start.
  EXPECT_TRUE(a.at("health").as_object().at("healthy").as_bool()) << json::serialize(a);
  EXPECT_EQ(str(a.at("status")), "connected");
  auto started = parse_rfc3339(str(a.at("started_at")));
  auto ready = parse_rfc3339(str(a.at("ready_at")));
  ASSERT_TRUE(started && ready);
  EXPECT_LT(*ready - *started, seconds(20)) << "the script was not stopped at its timeout";
  auto lines = log_lines(aid);
  EXPECT_TRUE(has(lines, "before-the-hang"));
  EXPECT_FALSE(has(lines, "after-the-hang"));
  auto t = timings(wid);
  ASSERT_TRUE(t.contains("hang"));
  EXPECT_EQ(str(t["hang"].at("status")), "timed_out");
  EXPECT_EQ(str(t["hang"].at("stage")), "start");
}

TEST_F(AgentLifecycle, StoppingRunsStopScriptsWithTheAgentsEnvAndEndsOff) {
  auto ws = create_workspace(
      lifecycle_template({{"up", "echo up"}, {"down", "echo \"stopping: $GREETING\"", true}},
                         token_file("stopper")),
      "stopper");
  auto wid = str(ws.at("id"));
  auto aid = agent_id_of(ws);
  wait_agent(wid, aid, lifecycle_is("ready"));
  EXPECT_FALSE(has(log_lines(aid), "stopping: hello from the env"));  // not before the stop
  transition(wid, "stop");
  auto a = agent(aid);
  EXPECT_EQ(str(a.at("lifecycle_state")), "off");
  EXPECT_EQ(str(a.at("status")), "disconnected");
  EXPECT_EQ(str(a.at("health").as_object().at("reason")), "agent is not running");
  EXPECT_TRUE(has(log_lines(aid), "stopping: hello from the env"));
  // The stop script's timing belongs to the build whose agent ran it (the start build).
  auto t = timings(wid, str(ws.at("latest_build").as_object().at("id")));
  ASSERT_TRUE(t.contains("down"));
  EXPECT_EQ(str(t["down"].at("stage")), "stop");
  EXPECT_EQ(str(t["down"].at("status")), "ok");
}

TEST_F(AgentLifecycle, AStopScriptPastItsTimeoutGivesShutdownTimeout) {
  auto ws = create_workspace(
      lifecycle_template(
          {{"up", "echo up"}, {"slowdown", "echo stop-begins\nsleep 600\necho stop-ends", true, 1}},
          token_file("slowstop")),
      "slowstop");
  auto wid = str(ws.at("id"));
  auto aid = agent_id_of(ws);
  wait_agent(wid, aid, lifecycle_is("ready"));
  auto before = steady_clock::now();
  transition(wid, "stop");
  // The build waits for the agent (10 s grace); a 1 s script timeout ends it well before.
  EXPECT_LT(steady_clock::now() - before, seconds(9));
  auto a = agent(aid);
  EXPECT_EQ(str(a.at("lifecycle_state")), "shutdown_timeout");
  auto lines = log_lines(aid);
  EXPECT_TRUE(has(lines, "stop-begins"));
  EXPECT_FALSE(has(lines, "stop-ends"));
  auto t = timings(wid, str(ws.at("latest_build").as_object().at("id")));
  ASSERT_TRUE(t.contains("slowdown"));
  EXPECT_EQ(str(t["slowdown"].at("status")), "timed_out");
}

TEST_F(AgentLifecycle, AFailingStopScriptGivesShutdownError) {
  auto ws = create_workspace(
      lifecycle_template({{"up", "echo up"}, {"baddown", "echo stop-fails\nexit 4", true}},
                         token_file("baddown")),
      "baddown");
  auto wid = str(ws.at("id"));
  auto aid = agent_id_of(ws);
  wait_agent(wid, aid, lifecycle_is("ready"));
  transition(wid, "stop");
  EXPECT_EQ(str(agent(aid).at("lifecycle_state")), "shutdown_error");
  EXPECT_TRUE(has(log_lines(aid), "stop-fails"));
}

TEST_F(AgentLifecycle, AnAppThatStopsAnsweringTurnsUnhealthyWhileTheAgentStaysHealthy) {
  auto port = std::to_string(free_loopback_port());
  auto pid_file = (dir_.path() / "app.pid").string();
  // The interpreter itself (not a wrapper such as a pyenv shim), so that $! is the server.
  std::string serve =
      "py=$(python3 -c 'import sys; print(sys.executable)')\n\"$py\" -m http.server " + port +
      " --bind 127.0.0.1 --directory /tmp >/dev/null 2>&1 &\necho $! > '" + pid_file + "'";
  auto app = R"(
resource "coder_app" "web" {
  agent_id = coder_agent.main.id
  slug     = "web"
  url      = "http://127.0.0.1:)" +
             port + R"("
  healthcheck {
    url       = "http://127.0.0.1:)" +
             port + R"(/"
    interval  = 1
    threshold = 2
  }
}
)";
  auto ws = create_workspace(lifecycle_template({{"serve", serve}}, token_file("web"), app), "web");
  auto wid = str(ws.at("id"));
  auto aid = agent_id_of(ws);
  auto app_health = [](const json::object& a) {
    return str(a.at("apps").as_array().at(0).as_object().at("health"));
  };
  EXPECT_EQ(app_health(agent(aid)), "initializing");
  wait_agent(wid, aid, [&](const json::object& a) { return app_health(a) == "healthy"; });
  // The app goes away: after `threshold` failed probes it is unhealthy.
  auto pid = std::stoi(read_file(pid_file));
  ASSERT_GT(pid, 1);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  auto a =
      wait_agent(wid, aid, [&](const json::object& a) { return app_health(a) == "unhealthy"; });
  // An app's health is not the agent's: Coder keeps the agent (and workspace) healthy.
  EXPECT_TRUE(a.at("health").as_object().at("healthy").as_bool());
  auto w = obj(owner().request("GET", "/api/v2/workspaces/" + wid));
  EXPECT_TRUE(w.at("health").as_object().at("healthy").as_bool());
  const auto& apps = w.at("latest_build")
                         .as_object()
                         .at("resources")
                         .as_array()
                         .at(0)
                         .as_object()
                         .at("agents")
                         .as_array()
                         .at(0)
                         .as_object()
                         .at("apps")
                         .as_array();
  EXPECT_EQ(str(apps.at(0).as_object().at("health")), "unhealthy");
}

// What an unauthenticated upgrade to the agent's RPC gets.
sdk::HttpResponse rpc_upgrade(const std::string& url, const std::string& token) {
  sdk::Client c(url);
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Connection", "Upgrade"},
      {"Upgrade", "websocket"},
      {"Sec-WebSocket-Version", "13"},
      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  if (!token.empty()) headers.emplace_back("Coder-Session-Token", token);
  return c.request("GET", "/api/v2/workspaceagents/me/rpc", {}, headers);
}

TEST_F(AgentLifecycle, RefusesWrongTokensAndKeepsEachTokenToItsOwnWorkspace) {
  auto tf_a = lifecycle_template({{"up", "echo up"}}, token_file("alpha"));
  auto tf_b = lifecycle_template({{"up", "echo up"}}, token_file("beta"));
  auto ws_a = create_workspace(tf_a, "alpha");
  auto ws_b = create_workspace(tf_b, "beta");
  auto token_a = agent_token("alpha");
  auto token_b = agent_token("beta");
  ASSERT_NE(token_a, token_b);
  auto aid_a = agent_id_of(ws_a), aid_b = agent_id_of(ws_b);
  wait_agent(str(ws_a.at("id")), aid_a, lifecycle_is("ready"));
  wait_agent(str(ws_b.at("id")), aid_b, lifecycle_is("ready"));

  const std::string unknown = "5f4b7a3e-8f0e-4c8e-9f59-000000000000";
  // The RPC WebSocket: refused before the upgrade.
  EXPECT_EQ(rpc_upgrade(server_->url(), "").status, 401);
  auto garbage = rpc_upgrade(server_->url(), "not-a-token");
  EXPECT_EQ(garbage.status, 401);
  EXPECT_EQ(message_of(garbage), "Workspace agent token invalid.");
  auto stranger = rpc_upgrade(server_->url(), unknown);
  EXPECT_EQ(stranger.status, 401);
  EXPECT_EQ(message_of(stranger), "Workspace agent not authorized.");
  // The user's session token is not an agent token.
  EXPECT_EQ(rpc_upgrade(server_->url(), owner().session_token()).status, 401);

  // The HTTP agent endpoints.
  sdk::Client anon(server_->url());
  auto as = [&](const std::string& token, const std::string& method, const std::string& path,
                const std::string& body) {
    return anon.request(method, path, body,
                        {{"Coder-Session-Token", token}, {"Content-Type", "application/json"}});
  };
  const std::string log_body =
      R"({"logs":[{"created_at":"2026-01-01T00:00:00Z","output":"from-alpha-over-http","level":"info"}]})";
  for (const auto& token : {std::string(), std::string("nope"), unknown}) {
    EXPECT_EQ(as(token, "GET", "/api/v2/workspaceagents/me/manifest", "").status, 401) << token;
    EXPECT_EQ(as(token, "PATCH", "/api/v2/workspaceagents/me/logs", log_body).status, 401);
    EXPECT_EQ(as(token, "POST", "/api/v2/workspaceagents/me/log-source",
                 R"({"id":")" + unknown + R"(","display_name":"x"})")
                  .status,
              401);
    EXPECT_EQ(as(token, "PATCH", "/api/v2/workspaceagents/me/app-status",
                 R"({"app_slug":"web","state":"working","message":"m"})")
                  .status,
              401);
  }

  // A's token is A's agent and nothing else: its manifest, its logs.
  auto manifest = as(token_a, "GET", "/api/v2/workspaceagents/me/manifest", "");
  ASSERT_EQ(manifest.status, 200) << manifest.body;
  EXPECT_EQ(str(obj(manifest).at("agent_id")), aid_a);
  EXPECT_EQ(str(obj(manifest).at("workspace_id")), str(ws_a.at("id")));
  EXPECT_EQ(as(token_a, "PATCH", "/api/v2/workspaceagents/me/logs", log_body).status, 200);
  EXPECT_TRUE(has(log_lines(aid_a), "from-alpha-over-http"));
  EXPECT_FALSE(has(log_lines(aid_b), "from-alpha-over-http"));
  // An agent token opens no user endpoint, not even for its own agent.
  EXPECT_EQ(as(token_a, "GET", "/api/v2/workspaceagents/" + aid_b, "").status, 401);
  EXPECT_EQ(as(token_a, "GET", "/api/v2/workspaceagents/" + aid_a, "").status, 401);
  EXPECT_EQ(as(token_a, "GET", "/api/v2/workspaces/" + str(ws_b.at("id")), "").status, 401);

  // Once A is deleted, its token is refused everywhere while B's still works.
  auto del = owner().request_json("POST", "/api/v2/workspaces/" + str(ws_a.at("id")) + "/builds",
                                  json::object{{"transition", "delete"}});
  ASSERT_EQ(del.status, 201) << del.body;
  follow_build(str(obj(del).at("id")));
  std::erase(running_, str(ws_a.at("id")));
  auto gone = as(token_a, "GET", "/api/v2/workspaceagents/me/manifest", "");
  EXPECT_EQ(gone.status, 401) << gone.body;
  EXPECT_EQ(message_of(gone), "Workspace agent not authorized.");
  EXPECT_EQ(rpc_upgrade(server_->url(), token_a).status, 401);
  EXPECT_EQ(as(token_a, "PATCH", "/api/v2/workspaceagents/me/logs", log_body).status, 401);
  EXPECT_EQ(as(token_b, "GET", "/api/v2/workspaceagents/me/manifest", "").status, 200);
}

TEST_F(AgentLifecycle, LogsPastTheLimitSetOverflowedAndTheAgentCarriesOn) {
  // ~1.2 MB of output in 1 000-byte lines, then a line that no longer fits, then the script
  // ends normally: the agent must still report ready.
  auto flood =
      "i=0\nwhile [ $i -lt 1200 ]; do printf '%01000d\\n' $i; i=$((i+1)); done\necho "
      "after-the-flood";
  auto ws = create_workspace(lifecycle_template({{"flood", flood}}, token_file("flood")), "flood");
  auto wid = str(ws.at("id"));
  auto aid = agent_id_of(ws);
  auto a = wait_agent(wid, aid, [](const json::object& a) {
    return a.at("logs_overflowed").as_bool() && str(a.at("lifecycle_state")) == "ready";
  });
  EXPECT_EQ(str(a.at("status")), "connected");
  auto length = a.at("logs_length").as_int64();
  EXPECT_LE(length, 1048576);
  EXPECT_GT(length, 900000);
  auto lines = log_lines(aid);
  std::int64_t stored = 0;
  for (const auto& l : lines) stored += std::int64_t(l.size());
  EXPECT_EQ(stored, length);
  EXPECT_FALSE(has(lines, "after-the-flood"));
  // More logs are refused as Coder does (413), and the agent is still there and reporting.
  auto token = agent_token("flood");
  sdk::Client anon(server_->url());
  auto more = anon.request(
      "PATCH", "/api/v2/workspaceagents/me/logs",
      R"({"logs":[{"created_at":"2026-01-01T00:00:00Z","output":"one more","level":"info"}]})",
      {{"Coder-Session-Token", token}, {"Content-Type", "application/json"}});
  EXPECT_EQ(more.status, 413) << more.body;
  EXPECT_EQ(message_of(more), "Logs limit exceeded");
  auto seen = parse_rfc3339(str(a.at("last_connected_at")));
  ASSERT_TRUE(seen);
  // Heartbeats still arrive (every ~15 s; last_connected_at is rewritten at most every 10 s).
  auto later = wait_agent(
      wid, aid,
      [&](const json::object& x) {
        auto t = parse_rfc3339(str(x.at("last_connected_at")));
        return t && *t > *seen;
      },
      seconds(40));
  EXPECT_EQ(str(later.at("status")), "connected");
}

}  // namespace
}  // namespace berth::testing
