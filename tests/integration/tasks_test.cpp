// AI tasks against the real binary: a template with coder_ai_task, real processes, and the
// agent-token endpoints the workspace uses. The process records its agent token and prompt
// in its directory, which is how the test acts as the workspace.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
#include "support/polling.hpp"
#include "support/ports.hpp"
#include "support/swagger_validator.hpp"
#include "support/tar_builder.hpp"
#include "support/temp_dir.hpp"

namespace berth::testing {
namespace {

json::object obj(const sdk::HttpResponse& r) {
  return r.json().as_object();
}
std::string str(const json::value& v) {
  return std::string(v.as_string());
}

constexpr const char* kTaskTemplate = R"(
data "coder_workspace" "me" {}
data "coder_task" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}
resource "coder_app" "ai" {
  agent_id = coder_agent.main.id
  slug     = "ai"
  url      = "http://localhost:3284/"
}
resource "coder_ai_task" "task" {
  count  = data.coder_workspace.me.start_count
  app_id = coder_app.ai.id
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", "printf %s \"$CODER_AGENT_TOKEN\" > token; printf %s \"$PROMPT\" > prompt; trap 'exit 0' TERM; while :; do sleep 1; done"]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}", "PROMPT=${data.coder_task.me.prompt}"]
}
)";

constexpr const char* kPlainTemplate = R"(
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}
)";

void expect_schema(const sdk::HttpResponse& r, const std::string& method, const std::string& path) {
  static auto validator = SwaggerValidator::load_default();
  if (!validator) return;
  auto problems = validator->validate_response(method, path, r.status, r.json());
  EXPECT_TRUE(problems.empty()) << method << " " << path << ":\n" << describe(problems);
}

class TasksApi : public ::testing::Test {
 protected:
  void SetUp() override {
    owner_ = std::make_unique<sdk::Client>(sign_in_owner(server_.url()));
    task_version_ = import(kTaskTemplate, "tasks");
    plain_version_ = import(kPlainTemplate, "plain");
  }

  sdk::Client& owner() { return *owner_; }

  std::string import(const std::string& source, const std::string& name) {
    auto file =
        str(obj(owner().request("POST", "/api/v2/files", make_tar({{"main.tf", source, ""}}),
                                {{"Content-Type", "application/x-tar"}}))
                .at("hash"));
    auto version =
        str(obj(owner().request_json("POST", "/api/v2/organizations/default/templateversions",
                                     json::object{{"storage_method", "file"},
                                                  {"provisioner", "terraform"},
                                                  {"file_id", file}}))
                .at("id"));
    owner().follow_websocket("/api/v2/templateversions/" + version + "/logs?follow",
                             [](const std::string&) { return true; });
    auto created =
        owner().request_json("POST", "/api/v2/organizations/default/templates",
                             json::object{{"name", name}, {"template_version_id", version}});
    EXPECT_EQ(created.status, 201) << created.body;
    return version;
  }

  void wait_for_latest_build(const std::string& workspace_id) {
    auto w =
        obj(owner().request("GET", "/api/v2/workspaces/" + workspace_id + "?include_deleted=true"));
    auto build = str(w.at("latest_build").as_object().at("id"));
    owner().follow_websocket("/api/v2/workspacebuilds/" + build + "/logs?follow",
                             [](const std::string&) { return true; });
  }

  json::object get_task(const std::string& id) {
    auto r = owner().request("GET", "/api/v2/tasks/me/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    expect_schema(r, "GET", "/tasks/{user}/{task}");
    return obj(r);
  }

  std::string read_workspace_file(const std::string& workspace_id, const std::string& name) {
    std::ifstream in(std::filesystem::path(dir_.path()) / "workspaces" / workspace_id / name);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  // The workspace process writes its files just after it starts, so a finished build does not
  // mean they are there yet: wait (bounded) until the file holds what `ready` accepts.
  template <typename Ready>
  std::string await_workspace_file(const std::string& workspace_id, const std::string& name,
                                   Ready ready) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string text;
    while (std::chrono::steady_clock::now() < deadline) {
      text = read_workspace_file(workspace_id, name);
      if (ready(text)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return text;
  }

  TempDir dir_;
  ServerProcess server_{dir_.path().string()};
  std::unique_ptr<sdk::Client> owner_;
  std::string task_version_;
  std::string plain_version_;
};

TEST_F(TasksApi, LivesFromCreateThroughPauseResumeToDelete) {
  auto created = owner().request_json("POST", "/api/v2/tasks/me",
                                      json::object{{"template_version_id", task_version_},
                                                   {"input", "Fix the flaky login test, please"}});
  ASSERT_EQ(created.status, 201) << created.body;
  expect_schema(created, "POST", "/tasks/{user}");
  auto task = obj(created);
  auto id = str(task.at("id"));
  auto name = str(task.at("name"));
  EXPECT_EQ(name.rfind("fix-the-flaky-login-test-", 0), 0u) << name;
  EXPECT_EQ(str(task.at("display_name")), "Fix the flaky login test, please");
  EXPECT_EQ(str(task.at("initial_prompt")), "Fix the flaky login test, please");
  auto workspace_id = str(task.at("workspace_id"));
  wait_for_latest_build(workspace_id);
  // The prompt reached the template as data.coder_task.me.prompt.
  EXPECT_EQ(
      await_workspace_file(workspace_id, "prompt", [](const std::string& t) { return !t.empty(); }),
      "Fix the flaky login test, please");
  auto running = get_task(id);
  EXPECT_EQ(str(running.at("status")), "initializing");  // no agent has connected
  EXPECT_EQ(str(running.at("workspace_status")), "running");
  EXPECT_EQ(str(running.at("current_state").as_object().at("state")), "working");
  EXPECT_EQ(str(get_task(name).at("id")), id);  // by name too

  // The workspace reports its app's state with its agent token.
  sdk::Client agent(server_.url());
  agent.set_session_token(await_workspace_file(
      workspace_id, "token", [](const std::string& t) { return t.size() == 36; }));
  auto status = agent.request_json(
      "PATCH", "/api/v2/workspaceagents/me/app-status",
      json::object{{"app_slug", "ai"}, {"state", "working"}, {"message", "Reading the test"}});
  EXPECT_EQ(status.status, 200) << status.body;
  auto state = get_task(id).at("current_state").as_object();
  EXPECT_EQ(str(state.at("state")), "working");
  EXPECT_EQ(str(state.at("message")), "Reading the test");
  auto bad_state =
      agent.request_json("PATCH", "/api/v2/workspaceagents/me/app-status",
                         json::object{{"app_slug", "ai"}, {"state", "sleeping"}, {"message", ""}});
  EXPECT_EQ(bad_state.status, 400);
  EXPECT_EQ(message_of(bad_state), "Invalid state provided.");
  auto long_message = agent.request_json(
      "PATCH", "/api/v2/workspaceagents/me/app-status",
      json::object{{"app_slug", "ai"}, {"state", "idle"}, {"message", std::string(200, 'x')}});
  EXPECT_EQ(long_message.status, 400);
  auto unknown_app =
      agent.request_json("PATCH", "/api/v2/workspaceagents/me/app-status",
                         json::object{{"app_slug", "nope"}, {"state", "idle"}, {"message", ""}});
  EXPECT_EQ(unknown_app.status, 400);
  // Sending needs an active task (the agent never became ready here).
  auto send = owner().request_json("POST", "/api/v2/tasks/me/" + id + "/send",
                                   json::object{{"input", "hello"}});
  EXPECT_EQ(send.status, 409);
  EXPECT_EQ(message_of(send), "Task is initializing.");
  EXPECT_EQ(
      owner()
          .request_json("POST", "/api/v2/tasks/me/" + id + "/send", json::object{{"input", ""}})
          .status,
      400);
  // The workspace uploads a snapshot of the conversation (as agentapi's shutdown script does).
  auto snapshot = agent.request(
      "POST", "/api/v2/workspaceagents/me/tasks/" + id + "/log-snapshot?format=agentapi",
      json::serialize(json::object{
          {"messages", json::array{json::object{{"id", 0},
                                                {"role", "user"},
                                                {"content", "Fix the flaky login test"},
                                                {"time", "2026-01-01T00:00:00Z"}},
                                   json::object{{"id", 1},
                                                {"role", "agent"},
                                                {"content", "Done."},
                                                {"time", "2026-01-01T00:00:05Z"}}}}}),
      {{"Content-Type", "application/json"}});
  EXPECT_EQ(snapshot.status, 204) << snapshot.body;
  EXPECT_EQ(
      agent
          .request("POST", "/api/v2/workspaceagents/me/tasks/" + id + "/log-snapshot?format=text",
                   "{}")
          .status,
      400);
  EXPECT_EQ(
      agent
          .request("POST",
                   "/api/v2/workspaceagents/me/tasks/" + id + "/log-snapshot?format=agentapi", "{}")
          .status,
      400);

  auto pause = owner().request("POST", "/api/v2/tasks/me/" + id + "/pause");
  ASSERT_EQ(pause.status, 202) << pause.body;
  EXPECT_EQ(str(obj(pause).at("workspace_build").as_object().at("reason")), "task_manual_pause");
  wait_for_latest_build(workspace_id);
  EXPECT_EQ(str(get_task(id).at("status")), "paused");
  auto logs = owner().request("GET", "/api/v2/tasks/me/" + id + "/logs");
  ASSERT_EQ(logs.status, 200) << logs.body;
  auto log_body = obj(logs);
  EXPECT_TRUE(log_body.at("snapshot").as_bool());
  ASSERT_EQ(log_body.at("logs").as_array().size(), 2u);
  EXPECT_EQ(str(log_body.at("logs").as_array()[0].as_object().at("type")), "input");
  EXPECT_EQ(str(log_body.at("logs").as_array()[1].as_object().at("content")), "Done.");
  EXPECT_EQ(
      owner()
          .request_json("POST", "/api/v2/tasks/me/" + id + "/send", json::object{{"input", "x"}})
          .status,
      409);
  // Input can change only while paused; the next start passes the new prompt.
  EXPECT_EQ(owner()
                .request_json("PATCH", "/api/v2/tasks/me/" + id + "/input",
                              json::object{{"input", "Also fix logout"}})
                .status,
            204);
  auto resume = owner().request("POST", "/api/v2/tasks/me/" + id + "/resume");
  ASSERT_EQ(resume.status, 202) << resume.body;
  EXPECT_EQ(str(obj(resume).at("workspace_build").as_object().at("reason")), "task_resume");
  wait_for_latest_build(workspace_id);
  EXPECT_EQ(await_workspace_file(workspace_id, "prompt",
                                 [](const std::string& t) { return t == "Also fix logout"; }),
            "Also fix logout");
  EXPECT_EQ(str(get_task(id).at("initial_prompt")), "Also fix logout");
  EXPECT_EQ(
      owner()
          .request_json("PATCH", "/api/v2/tasks/me/" + id + "/input", json::object{{"input", "y"}})
          .status,
      409);
  EXPECT_EQ(owner().request("POST", "/api/v2/tasks/me/" + id + "/resume").status, 409);

  auto list = owner().request("GET", "/api/v2/tasks");
  expect_schema(list, "GET", "/tasks");
  EXPECT_EQ(obj(list).at("count").as_int64(), 1);
  EXPECT_EQ(obj(owner().request("GET", "/api/v2/tasks?q=status:paused")).at("count").as_int64(), 0);
  EXPECT_EQ(obj(owner().request("GET", "/api/v2/tasks?q=owner:owner")).at("count").as_int64(), 1);
  EXPECT_EQ(owner().request("GET", "/api/v2/tasks?q=owner:ghost").status, 400);

  EXPECT_EQ(owner().request("DELETE", "/api/v2/tasks/me/" + id).status, 202);
  EXPECT_EQ(owner().request("GET", "/api/v2/tasks/me/" + id).status, 404);
  wait_for_latest_build(workspace_id);
  EXPECT_EQ(owner().request("GET", "/api/v2/workspaces/" + workspace_id).status, 410);
  EXPECT_EQ(obj(owner().request("GET", "/api/v2/tasks")).at("count").as_int64(), 0);
}

TEST_F(TasksApi, RefusesBadCreationsAndHidesOthersTasks) {
  auto plain =
      owner().request_json("POST", "/api/v2/tasks/me",
                           json::object{{"template_version_id", plain_version_}, {"input", "x"}});
  EXPECT_EQ(plain.status, 400);
  EXPECT_EQ(message_of(plain), "Template does not have a valid \"coder_ai_task\" resource.");
  auto missing = owner().request_json(
      "POST", "/api/v2/tasks/me",
      json::object{{"template_version_id", Uuid::random_v4().to_string()}, {"input", "x"}});
  EXPECT_EQ(missing.status, 400);
  auto bad_name = owner().request_json(
      "POST", "/api/v2/tasks/me",
      json::object{{"template_version_id", task_version_}, {"input", "x"}, {"name", "no spaces"}});
  EXPECT_EQ(bad_name.status, 400);
  EXPECT_EQ(message_of(bad_name), "Unable to create a Task with the provided name.");
  auto long_display = owner().request_json("POST", "/api/v2/tasks/me",
                                           json::object{{"template_version_id", task_version_},
                                                        {"input", "x"},
                                                        {"display_name", std::string(65, 'd')}});
  EXPECT_EQ(long_display.status, 400);
  auto named = owner().request_json(
      "POST", "/api/v2/tasks/me",
      json::object{{"template_version_id", task_version_}, {"input", "x"}, {"name", "mine"}});
  ASSERT_EQ(named.status, 201) << named.body;
  wait_for_latest_build(str(obj(named).at("workspace_id")));
  auto member = sign_in_member(server_.url(), owner(), "dev");
  EXPECT_EQ(member.request("GET", "/api/v2/tasks/owner/mine").status, 404);
  EXPECT_EQ(member.request("GET", "/api/v2/tasks/me/" + str(obj(named).at("id"))).status, 404);
  EXPECT_EQ(obj(member.request("GET", "/api/v2/tasks")).at("count").as_int64(), 0);
  sdk::Client stranger(server_.url());
  stranger.set_session_token("abcdefghij-abcdefghijabcdefghijab");
  EXPECT_EQ(stranger.request_json("PATCH", "/api/v2/workspaceagents/me/app-status", json::object{})
                .status,
            401);
}

}  // namespace
}  // namespace berth::testing

namespace berth::testing {
namespace {

// The whole path with real processes: the tasks-local example runs `berth agent`, whose startup
// script runs `berth agentapi` around a shell standing in for an AI CLI.
class TasksEndToEnd : public ::testing::Test {
 protected:
  TempDir dir_;
  ServerProcess server_{dir_.path().string()};
};

// Polls `probe` until it returns true, for at most `limit` (the task's processes start in the
// background; nothing here sleeps for a fixed time).
template <typename Probe>
bool eventually(Probe probe, std::chrono::seconds limit = std::chrono::seconds(60)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

TEST_F(TasksEndToEnd, TypesThePromptSendsInputPausesWithASnapshotAndResumes) {
  auto owner = sign_in_owner(server_.url());
  auto tar =
      tar_directory(std::filesystem::path(BERTH_SOURCE_DIR) / "examples/templates/tasks-local");
  auto file =
      str(obj(owner.request("POST", "/api/v2/files", tar, {{"Content-Type", "application/x-tar"}}))
              .at("hash"));
  auto version =
      str(obj(owner.request_json(
                  "POST", "/api/v2/organizations/default/templateversions",
                  json::object{
                      {"storage_method", "file"}, {"provisioner", "terraform"}, {"file_id", file}}))
              .at("id"));
  owner.follow_websocket("/api/v2/templateversions/" + version + "/logs?follow",
                         [](const std::string&) { return true; });
  ASSERT_EQ(owner
                .request_json("POST", "/api/v2/organizations/default/templates",
                              json::object{{"name", "tasks"}, {"template_version_id", version}})
                .status,
            201);
  auto created = owner.request_json(
      "POST", "/api/v2/tasks/me",
      json::object{{"template_version_id", version}, {"input", "echo hello-from-task"}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto id = str(obj(created).at("id"));
  auto status = [&] {
    return str(obj(owner.request("GET", "/api/v2/tasks/me/" + id)).at("status"));
  };
  auto logs_text = [&] { return owner.request("GET", "/api/v2/tasks/me/" + id + "/logs").body; };
  ASSERT_TRUE(eventually([&] { return status() == "active"; })) << "status " << status();
  // The initial prompt was typed into the program once it was first stable.
  ASSERT_TRUE(eventually([&] {
    return logs_text().find("hello-from-task\\n") != std::string::npos;
  })) << logs_text();
  ASSERT_TRUE(eventually([&] {
    auto r = owner.request_json("POST", "/api/v2/tasks/me/" + id + "/send",
                                json::object{{"input", "echo second-message"}});
    return r.status == 204;
  }));
  ASSERT_TRUE(eventually([&] {
    return logs_text().find("second-message\\n") != std::string::npos;
  })) << logs_text();
  auto live = obj(owner.request("GET", "/api/v2/tasks/me/" + id + "/logs"));
  EXPECT_FALSE(live.at("snapshot").as_bool());

  ASSERT_EQ(owner.request("POST", "/api/v2/tasks/me/" + id + "/pause").status, 202);
  ASSERT_TRUE(eventually([&] { return status() == "paused"; }));
  auto snapshot = obj(owner.request("GET", "/api/v2/tasks/me/" + id + "/logs"));
  EXPECT_TRUE(snapshot.at("snapshot").as_bool());
  EXPECT_NE(json::serialize(snapshot.at("logs")).find("second-message"), std::string::npos);

  ASSERT_EQ(owner.request("POST", "/api/v2/tasks/me/" + id + "/resume").status, 202);
  ASSERT_TRUE(eventually([&] { return status() == "active"; }));
  auto workspace_id = str(obj(owner.request("GET", "/api/v2/tasks/me/" + id)).at("workspace_id"));
  EXPECT_EQ(owner.request("DELETE", "/api/v2/tasks/me/" + id).status, 202);
  // The delete build stops the workspace's processes; wait for it so none outlive the test.
  EXPECT_TRUE(eventually(
      [&] { return owner.request("GET", "/api/v2/workspaces/" + workspace_id).status == 410; }));
}

}  // namespace
}  // namespace berth::testing

namespace berth::testing {
namespace {

// The issue's end-to-end path with a stand-in for an AI CLI: tests/support/scripted_ai.py
// answers each line after a delay (its screen changing while it works) and asks a question back
// when asked one. The template runs it under `berth agentapi` from the agent's startup script,
// on its own loopback port so that tasks (and concurrent test runs) do not collide.
constexpr const char* kScriptedTemplate = R"(
data "coder_workspace" "me" {}
data "coder_task" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  env = {
    TASK_ID           = data.coder_task.me.id
    TASK_PROMPT       = data.coder_task.me.prompt
    SCRIPTED_AI_DELAY = "@DELAY@"
  }
}
resource "coder_script" "agentapi" {
  agent_id     = coder_agent.main.id
  display_name = "AgentAPI"
  run_on_start = true
  script       = <<-EOT
    nohup berth agentapi --port @PORT@ --status-slug ai --initial-prompt "$TASK_PROMPT" \
      -- python3 @SCRIPT@ > agentapi.log 2>&1 &
  EOT
}
resource "coder_script" "snapshot" {
  agent_id     = coder_agent.main.id
  display_name = "Save conversation"
  run_on_stop  = true
  script       = <<-EOT
    python3 - <<'PY' || true
    import os, urllib.request
    messages = urllib.request.urlopen("http://localhost:@PORT@/messages", timeout=5).read()
    url = os.environ["CODER_AGENT_URL"] + "/api/v2/workspaceagents/me/tasks/" + os.environ["TASK_ID"] + "/log-snapshot?format=agentapi"
    request = urllib.request.Request(url, data=messages, method="POST", headers={
        "Coder-Session-Token": os.environ["CODER_AGENT_TOKEN"], "Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10)
    PY
  EOT
}
resource "coder_app" "ai" {
  agent_id = coder_agent.main.id
  slug     = "ai"
  url      = "http://localhost:@PORT@/"
  healthcheck {
    url       = "http://localhost:@PORT@/status"
    interval  = 1
    threshold = 30
  }
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

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

bool port_accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// The scripted template with its agentapi on `port`.
std::string scripted_template(int port) {
  std::string source = kScriptedTemplate;
  replace_all(source, "@PORT@", std::to_string(port));
  replace_all(source, "@DELAY@", "1.5");
  replace_all(source, "@SCRIPT@",
              (std::filesystem::path(BERTH_SOURCE_DIR) / "tests/support/scripted_ai.py").string());
  return source;
}

// What one poll of a task showed: its status and its current_state's state ("" when null).
struct Seen {
  std::string status;
  std::string state;
  bool operator==(const Seen&) const = default;
};

std::string describe(const std::vector<Seen>& seen) {
  std::string out;
  for (const auto& s : seen) out.append(s.status).append("/").append(s.state).append(" ");
  return out;
}

class ScriptedAiTask : public ::testing::Test {
 protected:
  explicit ScriptedAiTask(std::vector<std::string> server_args = {})
      : server_(dir_.path().string(), std::move(server_args)) {}
  void SetUp() override { owner_ = std::make_unique<sdk::Client>(sign_in_owner(server_.url())); }
  // Workspaces outlive the server by design: a test that failed half-way still deletes its
  // tasks, so that no agent, agentapi or program is left running.
  void TearDown() override {
    auto list = owner().request("GET", "/api/v2/tasks");
    if (list.status != 200) return;
    auto body = obj(list);
    for (const auto& t : body.at("tasks").as_array()) {
      auto id = str(t.as_object().at("id"));
      auto workspace = str(t.as_object().at("workspace_id"));
      owner().request("DELETE", "/api/v2/tasks/me/" + id);
      eventually(
          [&] { return owner().request("GET", "/api/v2/workspaces/" + workspace).status == 410; });
    }
  }
  sdk::Client& owner() { return *owner_; }

  // Imports the scripted template listening on `port`; returns the version id.
  std::string import_scripted(const std::string& template_name, int port) {
    return import_template(template_name, scripted_template(port));
  }

  // Imports `source` as a template named `template_name`; returns the version id.
  std::string import_template(const std::string& template_name, const std::string& source) {
    auto file =
        str(obj(owner().request("POST", "/api/v2/files", make_tar({{"main.tf", source, ""}}),
                                {{"Content-Type", "application/x-tar"}}))
                .at("hash"));
    auto version =
        str(obj(owner().request_json("POST", "/api/v2/organizations/default/templateversions",
                                     json::object{{"storage_method", "file"},
                                                  {"provisioner", "terraform"},
                                                  {"file_id", file}}))
                .at("id"));
    owner().follow_websocket("/api/v2/templateversions/" + version + "/logs?follow",
                             [](const std::string&) { return true; });
    auto created = owner().request_json(
        "POST", "/api/v2/organizations/default/templates",
        json::object{{"name", template_name}, {"template_version_id", version}});
    EXPECT_EQ(created.status, 201) << created.body;
    return version;
  }

  static json::object task(sdk::Client& c, const std::string& id) {
    auto r = c.request("GET", "/api/v2/tasks/me/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? obj(r) : json::object{};
  }

  static Seen seen_of(const json::object& t) {
    Seen s;
    if (auto* status = t.if_contains("status"); status && status->is_string())
      s.status = std::string(status->get_string());
    if (auto* state = t.if_contains("current_state"); state && state->is_object())
      s.state = std::string(state->as_object().at("state").as_string());
    return s;
  }

  // Polls the task (every 25 ms, for at most `limit`) until `done` holds, appending every
  // distinct status/state pair it passes through to `trace`.
  template <typename Done>
  bool follow(sdk::Client& c, const std::string& id, std::vector<Seen>& trace, Done done,
              std::chrono::seconds limit = std::chrono::seconds(90)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto t = task(c, id);
      auto s = seen_of(t);
      if (trace.empty() || !(trace.back() == s)) trace.push_back(s);
      if (done(t, s)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  static json::object logs(sdk::Client& c, const std::string& id) {
    auto r = c.request("GET", "/api/v2/tasks/me/" + id + "/logs");
    EXPECT_EQ(r.status, 200) << r.body;
    expect_schema(r, "GET", "/tasks/{user}/{task}/logs");
    return r.status == 200 ? obj(r) : json::object{};
  }

  // The first log entry of `type` whose content contains `text`, or null.
  static json::value entry(const json::object& logs, const std::string& type,
                           const std::string& text) {
    auto* list = logs.if_contains("logs");
    if (!list || !list->is_array()) return nullptr;
    for (const auto& e : list->get_array()) {
      const auto& o = e.as_object();
      if (str(o.at("type")) == type && str(o.at("content")).find(text) != std::string::npos)
        return o;
    }
    return nullptr;
  }

  // Waits until the live logs hold an output containing `text` and the agent reported idle.
  bool await_reply(sdk::Client& c, const std::string& id, const std::string& text) {
    std::vector<Seen> trace;
    return follow(c, id, trace, [&](const json::object&, const Seen& s) {
      return s.status == "active" && s.state == "idle" &&
             !entry(logs(c, id), "output", text).is_null();
    });
  }

  sdk::HttpResponse send(sdk::Client& c, const std::string& id, const std::string& input) {
    return c.request_json("POST", "/api/v2/tasks/me/" + id + "/send",
                          json::object{{"input", input}});
  }

  TempDir dir_;
  ServerProcess server_;
  std::unique_ptr<sdk::Client> owner_;
};

TEST_F(ScriptedAiTask, WorksThroughStatesConversationPauseResumeAndDelete) {
  int port = free_loopback_port();
  auto version = import_scripted("scripted", port);
  auto created = owner().request_json(
      "POST", "/api/v2/tasks/me",
      json::object{
          {"template_version_id", version}, {"input", "Write the README"}, {"name", "readme"}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto id = str(obj(created).at("id"));
  auto workspace_id = str(obj(created).at("workspace_id"));
  // The build's job may already have been picked up when the response was made, so the task
  // is pending or already initializing (WaitsPendingForAProvisioner pins pending down).
  std::vector<Seen> trace{seen_of(obj(created))};

  // pending → initializing → active while the program works on the prompt → idle once it
  // answered. Every poll is recorded, so the order is checked, not just the end.
  ASSERT_TRUE(follow(owner(), id, trace, [&](const json::object&, const Seen& s) {
    return s.status == "active" && s.state == "idle" &&
           !entry(logs(owner(), id), "output", "Done (turn 1): Write the README").is_null();
  })) << describe(trace);
  std::vector<std::string> statuses;
  for (const auto& s : trace)
    if (statuses.empty() || statuses.back() != s.status) statuses.push_back(s.status);
  if (statuses.front() == "pending") statuses.erase(statuses.begin());
  EXPECT_EQ(statuses, (std::vector<std::string>{"initializing", "active"})) << describe(trace);
  auto working = std::find(trace.begin(), trace.end(), Seen{"active", "working"});
  EXPECT_NE(working, trace.end()) << describe(trace);
  EXPECT_NE(std::find(working, trace.end(), Seen{"active", "idle"}), trace.end())
      << describe(trace);
  auto current = task(owner(), id);
  EXPECT_EQ(str(current.at("workspace_agent_lifecycle")), "ready");
  EXPECT_EQ(str(current.at("current_state").as_object().at("message")), "Waiting for input");

  // The prompt is the conversation's first input; the program's answer follows as output.
  auto live = logs(owner(), id);
  EXPECT_FALSE(live.at("snapshot").as_bool());
  EXPECT_FALSE(live.contains("snapshot_at"));
  EXPECT_EQ(str(entry(live, "input", "Write the README").at("content")), "Write the README");
  EXPECT_FALSE(entry(live, "output", "Scripted AI").is_null()) << json::serialize(live);

  // Reading the logs reaches agentapi through the agent; several readers at once must not
  // tie up every server thread waiting for frames that only those threads could read.
  std::vector<int> reader_statuses(8, 0);
  {
    std::vector<std::thread> readers;
    for (auto& status : reader_statuses)
      readers.emplace_back([&, token = owner().session_token()] {
        sdk::Client reader(server_.url());
        reader.set_session_token(token);
        status = reader.request("GET", "/api/v2/tasks/me/" + id + "/logs").status;
      });
    for (auto& t : readers) t.join();
  }
  EXPECT_EQ(reader_statuses, std::vector<int>(8, 200));

  // Send; while the program works on it, a second send is refused with Coder's 502.
  auto first = send(owner(), id, "Add a changelog");
  ASSERT_EQ(first.status, 204) << first.body;
  auto busy = send(owner(), id, "And a licence");
  EXPECT_EQ(busy.status, 502) << busy.body;
  EXPECT_EQ(message_of(busy), "Task app is not ready to accept input.");
  EXPECT_EQ(str(obj(busy).at("detail")), "Status: running");
  std::vector<Seen> busy_trace;
  EXPECT_TRUE(follow(
      owner(), id, busy_trace,
      [](const json::object&, const Seen& s) { return s.state == "working"; },
      std::chrono::seconds(10)))
      << describe(busy_trace);
  ASSERT_TRUE(await_reply(owner(), id, "Done (turn 2): Add a changelog"));
  auto after_send = logs(owner(), id);
  EXPECT_FALSE(entry(after_send, "input", "Add a changelog").is_null());
  EXPECT_TRUE(entry(after_send, "input", "And a licence").is_null());

  // A question back: the program waits for the answer, which is sent like any input.
  ASSERT_EQ(send(owner(), id, "Any question for me?").status, 204);
  ASSERT_TRUE(await_reply(owner(), id, "Question: should I also update the tests? (yes/no)"));
  ASSERT_EQ(send(owner(), id, "yes").status, 204);
  ASSERT_TRUE(await_reply(owner(), id, "(you said: yes)"));

  // Pause: the stop script uploads the conversation; logs come from that snapshot.
  ASSERT_EQ(owner().request("POST", "/api/v2/tasks/me/" + id + "/pause").status, 202);
  std::vector<Seen> paused_trace;
  ASSERT_TRUE(follow(owner(), id, paused_trace, [](const json::object&, const Seen& s) {
    return s.status == "paused";
  })) << describe(paused_trace);
  auto snapshot = logs(owner(), id);
  EXPECT_TRUE(snapshot.at("snapshot").as_bool());
  ASSERT_TRUE(snapshot.contains("snapshot_at")) << json::serialize(snapshot);
  EXPECT_TRUE(parse_rfc3339(str(snapshot.at("snapshot_at"))).has_value());
  EXPECT_FALSE(entry(snapshot, "input", "Write the README").is_null());
  EXPECT_FALSE(entry(snapshot, "output", "(you said: yes)").is_null()) << json::serialize(snapshot);
  EXPECT_FALSE(port_accepts(port));  // the program and its agentapi are gone
  auto paused_send = send(owner(), id, "hello?");
  EXPECT_EQ(paused_send.status, 409);
  EXPECT_EQ(message_of(paused_send), "Task is paused.");

  // Resume: a new start build runs the program again; the task answers as before, and until
  // it is active its logs are still the snapshot's history.
  auto resume = owner().request("POST", "/api/v2/tasks/me/" + id + "/resume");
  ASSERT_EQ(resume.status, 202) << resume.body;
  std::vector<Seen> resume_trace;
  int snapshot_reads = 0;
  ASSERT_TRUE(follow(owner(), id, resume_trace, [&](const json::object&, const Seen& s) {
    if (s.status != "active") {
      auto l = logs(owner(), id);
      if (l.contains("snapshot") && l.at("snapshot").as_bool()) {
        ++snapshot_reads;
        EXPECT_FALSE(entry(l, "output", "(you said: yes)").is_null());
      }
    }
    return s.status == "active" && s.state == "idle" &&
           !entry(logs(owner(), id), "output", "Done (turn 1): Write the README").is_null();
  })) << describe(resume_trace);
  EXPECT_GT(snapshot_reads, 0) << describe(resume_trace);
  ASSERT_EQ(send(owner(), id, "Carry on").status, 204);
  ASSERT_TRUE(await_reply(owner(), id, "Done (turn 2): Carry on"));

  // Delete: a delete build; the task and its workspace go away, and so do its processes.
  EXPECT_EQ(owner().request("DELETE", "/api/v2/tasks/me/" + id).status, 202);
  EXPECT_EQ(owner().request("GET", "/api/v2/tasks/me/" + id).status, 404);
  EXPECT_TRUE(eventually(
      [&] { return owner().request("GET", "/api/v2/workspaces/" + workspace_id).status == 410; }));
  EXPECT_TRUE(eventually([&] { return !port_accepts(port); }));
  EXPECT_EQ(obj(owner().request("GET", "/api/v2/tasks")).at("count").as_int64(), 0);
}

// Live logs reach agentapi through the agent without holding a handler thread while they
// wait: many more readers at once than the server has threads (32 here) all get the logs.
TEST_F(ScriptedAiTask, ServesManyMoreConcurrentLiveLogReadsThanHandlerThreads) {
  constexpr int kReaders = 100;
  auto version = import_scripted("scripted", free_loopback_port());
  auto created = owner().request_json(
      "POST", "/api/v2/tasks/me",
      json::object{{"template_version_id", version}, {"input", "Write the README"}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto id = str(obj(created).at("id"));
  ASSERT_TRUE(await_reply(owner(), id, "Done (turn 1): Write the README"));

  std::vector<sdk::HttpResponse> replies(kReaders);
  {
    std::vector<std::thread> readers;
    for (auto& reply : replies)
      readers.emplace_back([&, token = owner().session_token()] {
        sdk::Client reader(server_.url());
        reader.set_session_token(token);
        reply = reader.request("GET", "/api/v2/tasks/me/" + id + "/logs");
      });
    for (auto& t : readers) t.join();
  }
  for (const auto& reply : replies) {
    ASSERT_EQ(reply.status, 200) << reply.body;
    auto body = obj(reply);
    EXPECT_FALSE(body.at("snapshot").as_bool());
    EXPECT_FALSE(entry(body, "output", "Done (turn 1): Write the README").is_null()) << reply.body;
  }
}

// A task whose app stands in for a slow agentapi: tests/support/app_server.py holds every
// request under /gate/ until the gate file exists, then answers as agentapi would (an empty
// conversation, a stable status), and tells how many requests wait at GET /gate-waiting.
constexpr const char* kGatedAppTemplate = R"(
data "coder_workspace" "me" {}
data "coder_task" "me" {}
resource "coder_agent" "main" {
  os             = "linux"
  arch           = "amd64"
  dir            = "/tmp"
  startup_script = "APP_GATE_FILE=@GATE@ python3 @SCRIPT@ @PORT@ 120 >/dev/null 2>&1 &"
}
resource "coder_app" "ai" {
  agent_id = coder_agent.main.id
  slug     = "ai"
  url      = "http://localhost:@PORT@/gate"
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

// A server with only four handler threads and an active task whose app answers only when the
// test opens the gate.
class SlowTaskApp : public ScriptedAiTask {
 protected:
  SlowTaskApp() : ScriptedAiTask({"--http-threads", "4"}) {}

  void SetUp() override {
    ScriptedAiTask::SetUp();
    port_ = free_loopback_port();
    gate_ = dir_.path() / "gate-open";
    std::string source = kGatedAppTemplate;
    replace_all(source, "@PORT@", std::to_string(port_));
    replace_all(source, "@GATE@", gate_.string());
    replace_all(source, "@SCRIPT@",
                (std::filesystem::path(BERTH_SOURCE_DIR) / "tests/support/app_server.py").string());
    auto created =
        owner().request_json("POST", "/api/v2/tasks/me",
                             json::object{{"template_version_id", import_template("gated", source)},
                                          {"input", "Wait for the gate"}});
    ASSERT_EQ(created.status, 201) << created.body;
    id_ = str(obj(created).at("id"));
    ASSERT_TRUE(eventually([&] { return str(task(owner(), id_).at("status")) == "active"; }))
        << json::serialize(task(owner(), id_));
    ASSERT_TRUE(eventually([&] { return app_waiting() == 0; }));  // the app listens
  }

  // How many requests wait at the app's gate; -1 while the app does not answer.
  int app_waiting() {
    try {
      sdk::Client app("http://127.0.0.1:" + std::to_string(port_));
      auto r = app.request("GET", "/gate-waiting");
      return r.status == 200 ? int(obj(r).at("waiting").as_int64()) : -1;
    } catch (const Error&) {
      return -1;
    }
  }

  void open_gate() { std::ofstream(gate_) << "open"; }

  int port_ = 0;
  std::filesystem::path gate_;
  std::string id_;
};

TEST_F(SlowTaskApp, AnswersOtherRequestsWhileManyTaskCallsWaitOnTheApp) {
  constexpr int kReads = 40;
  constexpr int kSends = 10;  // 50 calls waiting on a server with 4 handler threads
  std::vector<sdk::HttpResponse> replies(kReads + kSends);
  std::vector<std::thread> callers;
  for (int i = 0; i < kReads + kSends; ++i)
    callers.emplace_back([&, i, token = owner().session_token()] {
      sdk::Client c(server_.url());
      c.set_session_token(token);
      replies[i] = i < kReads ? c.request("GET", "/api/v2/tasks/me/" + id_ + "/logs")
                              : send(c, id_, "message " + std::to_string(i));
    });
  // Every call waits at the app (each gives up after 10 s: open the gate well before).
  bool all_waiting =
      wait_until([&] { return app_waiting() == kReads + kSends; }, std::chrono::seconds(8));
  // Meanwhile the server answers whatever else it is asked.
  sdk::Client anonymous(server_.url());
  auto buildinfo = anonymous.request("GET", "/api/v2/buildinfo");
  auto me = owner().request("GET", "/api/v2/users/me");
  auto listed = owner().request("GET", "/api/v2/tasks");
  auto waiting = app_waiting();
  open_gate();
  for (auto& t : callers) t.join();
  EXPECT_TRUE(all_waiting) << app_waiting() << " waiting";
  EXPECT_EQ(buildinfo.status, 200) << buildinfo.body;
  EXPECT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(waiting, kReads + kSends);  // still waiting while those were answered
  for (int i = 0; i < kReads + kSends; ++i) {
    if (i < kReads) {
      ASSERT_EQ(replies[i].status, 200) << replies[i].body;
      auto body = obj(replies[i]);
      EXPECT_TRUE(body.at("logs").as_array().empty()) << replies[i].body;
      EXPECT_FALSE(body.at("snapshot").as_bool());
    } else {
      EXPECT_EQ(replies[i].status, 204) << replies[i].body;
    }
  }
}

// An app that never answers: after 10 s the call gives up with Coder's 502, and the app's
// request is let go.
TEST_F(SlowTaskApp, GivesUpOnAnAppThatDoesNotAnswerWithCodersBadGateway) {
  auto r = owner().request("GET", "/api/v2/tasks/me/" + id_ + "/logs");
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_EQ(message_of(r), "Failed to reach task app endpoint.");
  EXPECT_EQ(str(obj(r).at("detail")), "the app did not answer in time");
  EXPECT_TRUE(r.header("x-coder-build-version").has_value());
}

// With no provisioner daemon the task's first build stays queued: the task is pending, has no
// logs yet and refuses input; once a server with a daemon runs the build, it moves on through
// initializing to active.
TEST(ScriptedAiTaskQueue, WaitsPendingForAProvisionerThenStarts) {
  TempDir dir;
  std::string version;
  {
    ServerProcess importer(dir.path().string());
    auto owner = sign_in_owner(importer.url());
    auto file =
        str(obj(owner.request("POST", "/api/v2/files",
                              make_tar({{"main.tf", scripted_template(free_loopback_port()), ""}}),
                              {{"Content-Type", "application/x-tar"}}))
                .at("hash"));
    version = str(obj(owner.request_json("POST", "/api/v2/organizations/default/templateversions",
                                         json::object{{"storage_method", "file"},
                                                      {"provisioner", "terraform"},
                                                      {"file_id", file}}))
                      .at("id"));
    owner.follow_websocket("/api/v2/templateversions/" + version + "/logs?follow",
                           [](const std::string&) { return true; });
    ASSERT_EQ(
        owner
            .request_json("POST", "/api/v2/organizations/default/templates",
                          json::object{{"name", "scripted"}, {"template_version_id", version}})
            .status,
        201);
  }
  std::string id;
  {
    ServerProcess idle(dir.path().string(), {"--provisioner-daemons", "0"});
    auto owner = sign_in_owner_again(idle.url());
    auto created = owner.request_json(
        "POST", "/api/v2/tasks/me",
        json::object{{"template_version_id", version}, {"input", "Queued work"}});
    ASSERT_EQ(created.status, 201) << created.body;
    id = str(obj(created).at("id"));
    auto t = obj(owner.request("GET", "/api/v2/tasks/me/" + id));
    EXPECT_EQ(str(t.at("status")), "pending");
    EXPECT_EQ(str(t.at("workspace_status")), "pending");
    EXPECT_TRUE(t.at("current_state").is_null());  // only initializing gets a synthetic one
    auto logs = obj(owner.request("GET", "/api/v2/tasks/me/" + id + "/logs"));
    EXPECT_TRUE(logs.at("snapshot").as_bool());
    EXPECT_TRUE(logs.at("logs").as_array().empty());
    auto send = owner.request_json("POST", "/api/v2/tasks/me/" + id + "/send",
                                   json::object{{"input", "hello"}});
    EXPECT_EQ(send.status, 409);
    EXPECT_EQ(message_of(send), "Task is pending.");
  }
  ServerProcess server(dir.path().string());
  auto owner = sign_in_owner_again(server.url());
  std::vector<std::string> statuses{"pending"};  // as the server without a daemon showed it
  EXPECT_TRUE(eventually(
      [&] {
        auto t = obj(owner.request("GET", "/api/v2/tasks/me/" + id));
        auto s = str(t.at("status"));
        if (statuses.empty() || statuses.back() != s) statuses.push_back(s);
        auto* state = t.if_contains("current_state");
        return s == "active" && state && state->is_object() &&
               str(state->as_object().at("state")) == "idle";
      },
      std::chrono::seconds(90)));
  EXPECT_EQ(statuses, (std::vector<std::string>{"pending", "initializing", "active"}));
  auto workspace_id = str(obj(owner.request("GET", "/api/v2/tasks/me/" + id)).at("workspace_id"));
  EXPECT_EQ(owner.request("DELETE", "/api/v2/tasks/me/" + id).status, 202);
  EXPECT_TRUE(eventually(
      [&] { return owner.request("GET", "/api/v2/workspaces/" + workspace_id).status == 410; }));
}

TEST_F(ScriptedAiTask, ListsByStatusAndOwnerAndHidesOthersTasks) {
  auto member = sign_in_member(server_.url(), owner(), "dev");
  auto mine = owner().request_json(
      "POST", "/api/v2/tasks/me",
      json::object{{"template_version_id", import_scripted("scripted-a", free_loopback_port())},
                   {"input", "Owner's work"},
                   {"name", "owners"}});
  ASSERT_EQ(mine.status, 201) << mine.body;
  auto theirs = member.request_json(
      "POST", "/api/v2/tasks/me",
      json::object{{"template_version_id", import_scripted("scripted-b", free_loopback_port())},
                   {"input", "Member's work"},
                   {"name", "members"}});
  ASSERT_EQ(theirs.status, 201) << theirs.body;
  auto mine_id = str(obj(mine).at("id"));
  auto theirs_id = str(obj(theirs).at("id"));
  std::vector<Seen> trace;
  ASSERT_TRUE(follow(owner(), mine_id, trace, [](const json::object&, const Seen& s) {
    return s.status == "active" && s.state == "idle";
  })) << describe(trace);
  ASSERT_EQ(owner().request("POST", "/api/v2/tasks/me/" + mine_id + "/pause").status, 202);
  trace.clear();
  ASSERT_TRUE(follow(owner(), mine_id, trace,
                     [](const json::object&, const Seen& s) { return s.status == "paused"; }));
  trace.clear();
  ASSERT_TRUE(follow(member, theirs_id, trace, [](const json::object&, const Seen& s) {
    return s.status == "active";
  })) << describe(trace);

  auto names = [&](sdk::Client& c, const std::string& q) {
    auto r = c.request("GET", "/api/v2/tasks" + (q.empty() ? "" : "?q=" + q));
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    auto body = obj(r);
    for (const auto& t : body.at("tasks").as_array()) out.push_back(str(t.as_object().at("name")));
    EXPECT_EQ(body.at("count").as_int64(), std::int64_t(out.size()));
    std::sort(out.begin(), out.end());
    return out;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(names(owner(), ""), (Names{"members", "owners"}));
  EXPECT_EQ(names(owner(), "owner:owner"), Names{"owners"});
  EXPECT_EQ(names(owner(), "owner:dev"), Names{"members"});
  EXPECT_EQ(names(owner(), "status:paused"), Names{"owners"});
  EXPECT_EQ(names(owner(), "status:active"), Names{"members"});
  EXPECT_EQ(names(owner(), "owner:dev%20status:paused"), Names{});
  EXPECT_EQ(names(member, ""), Names{"members"});
  EXPECT_EQ(names(member, "status:paused"), Names{});

  // Another user's task does not exist for a member: by id, by name, and for every action.
  EXPECT_EQ(member.request("GET", "/api/v2/tasks/me/" + mine_id).status, 404);
  EXPECT_EQ(member.request("GET", "/api/v2/tasks/owner/owners").status, 404);
  EXPECT_EQ(member.request("GET", "/api/v2/tasks/me/" + mine_id + "/logs").status, 404);
  EXPECT_EQ(send(member, mine_id, "hi").status, 404);
  EXPECT_EQ(member.request("POST", "/api/v2/tasks/me/" + mine_id + "/resume").status, 404);
  EXPECT_EQ(member.request("DELETE", "/api/v2/tasks/me/" + mine_id).status, 404);
  // The owner (an admin) may read the member's task.
  EXPECT_EQ(owner().request("GET", "/api/v2/tasks/dev/members").status, 200);

  EXPECT_EQ(member.request("DELETE", "/api/v2/tasks/me/" + theirs_id).status, 202);
  EXPECT_EQ(owner().request("DELETE", "/api/v2/tasks/me/" + mine_id).status, 202);
  for (const auto& t : {obj(mine), obj(theirs)}) {
    auto ws = str(t.at("workspace_id"));
    EXPECT_TRUE(eventually(
        [&] { return owner().request("GET", "/api/v2/workspaces/" + ws).status == 410; }));
  }
}

}  // namespace
}  // namespace berth::testing
