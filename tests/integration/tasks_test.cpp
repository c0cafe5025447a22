// AI tasks against the real binary: a template with coder_ai_task, real processes, and the
// agent-token endpoints the workspace uses. The process records its agent token and prompt
// in its directory, which is how the test acts as the workspace.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
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
