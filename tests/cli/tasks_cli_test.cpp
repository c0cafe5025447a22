// `berth tasks` against a real server: the round trip with the tasks-local example (a real
// agent, agentapi and a shell standing in for an AI CLI), and the errors people hit.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "cli/cli_fixture.hpp"
#include "support/ports.hpp"

namespace berth::testing {
namespace {

std::string str(const json::object& o, const char* key) {
  return std::string(o.at(key).as_string());
}

// A task template whose workspace is a plain process (no agent): enough for everything but the
// conversation, and fast.
constexpr const char* kFakeTaskTemplate = R"(
data "coder_workspace" "me" {}
data "coder_task" "me" {}
data "coder_parameter" "size" {
  name    = "size"
  type    = "string"
  default = "s"
  mutable = true
}
data "coder_workspace_preset" "big" {
  name = "Big"
  parameters = {
    size = "xl"
  }
}
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
  command = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
}
)";

class TasksCli : public CliTest {
 protected:
  sdk::Client& api() {
    if (!api_) api_ = std::make_unique<sdk::Client>(sign_in_owner_again(server_.url()));
    return *api_;
  }

  json::value api_json(const std::string& target) {
    auto r = api().request("GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return r.json();
  }

  void push_fake_template(const std::string& name) {
    TempDir dir;
    std::ofstream(dir.file("main.tf")) << kFakeTaskTemplate;
    ok({"templates", "push", name, "-d", dir.path().string()});
  }

  // Polls `probe` (a real process reaching a state) until it holds or `limit` passes.
  template <typename Probe>
  bool eventually(Probe probe, std::chrono::seconds limit = std::chrono::seconds(90)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (probe()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
  }

  std::unique_ptr<sdk::Client> api_;
};

// The tasks-local example, with agentapi on its own port: its fixed 3284 is shared by every
// task workspace on this machine, and tests run side by side.
std::string tasks_local_copy(const TempDir& dir) {
  std::ifstream in(kExamples / "tasks-local" / "main.tf");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto port = std::to_string(free_loopback_port());
  for (auto at = text.find("3284"); at != std::string::npos; at = text.find("3284", at))
    text.replace(at, 4, port);
  std::ofstream(dir.file("main.tf")) << text;
  return dir.path().string();
}

std::set<std::string> ids_of(const json::array& tasks) {
  std::set<std::string> ids;
  for (const auto& t : tasks) ids.insert(str(t.as_object(), "id"));
  return ids;
}

TEST_F(TasksCli, RoundTripWithARealAgentFromCreateToDelete) {
  login();
  TempDir tmpl;
  ok({"templates", "push", "tasks", "-d", tasks_local_copy(tmpl)});
  auto create =
      ok({"tasks", "create", "echo hello-from-cli", "--template", "tasks", "--name", "t1"});
  EXPECT_NE(create.out.find("owner/t1"), std::string::npos) << create.out;

  // --watch prints a row per change and returns once the agent is idle.
  auto watch = berth({"tasks", "status", "t1", "--watch"}, with_timeout(std::chrono::seconds(180)));
  ASSERT_EQ(watch.code, 0) << describe(watch);
  EXPECT_NE(watch.out.find("STATUS"), std::string::npos) << watch.out;
  EXPECT_NE(watch.out.find("active"), std::string::npos) << watch.out;

  // The prompt was typed into the shell; its output is in the conversation.
  json::array logs;
  ASSERT_TRUE(eventually([&] {
    auto r = berth({"tasks", "logs", "t1", "-o", "json"});
    if (r.code != 0) return false;
    logs = json::parse(r.out).as_array();
    return r.out.find("hello-from-cli\\n") != std::string::npos;
  })) << json::serialize(logs);
  bool prompt_logged = false;
  for (const auto& entry : logs)
    prompt_logged = prompt_logged || (str(entry.as_object(), "type") == "input" &&
                                      str(entry.as_object(), "content") == "echo hello-from-cli");
  EXPECT_TRUE(prompt_logged) << json::serialize(logs);

  auto send = ok({"tasks", "send", "t1", "echo second-message"});
  EXPECT_NE(send.out.find("Sent input"), std::string::npos) << send.out;
  ASSERT_TRUE(eventually([&] {
    return berth({"tasks", "logs", "t1"}).out.find("second-message\n") != std::string::npos;
  }));
  auto table = ok({"tasks", "logs", "t1"}).out;
  EXPECT_NE(table.find("TYPE"), std::string::npos) << table;
  EXPECT_NE(table.find("input   echo second-message"), std::string::npos) << table;

  // Listings and status match the API.
  auto listed = json::parse(ok({"tasks", "list", "-o", "json"}).out);
  auto api_list = api_json("/api/v2/tasks").as_object();
  EXPECT_EQ(ids_of(listed.as_array()), ids_of(api_list.at("tasks").as_array()));
  EXPECT_EQ(listed.as_array().size(), 1u);
  auto list_table = ok({"tasks", "list"}).out;
  EXPECT_NE(list_table.find("t1"), std::string::npos) << list_table;
  EXPECT_NE(list_table.find("active"), std::string::npos) << list_table;
  EXPECT_EQ(ok({"tasks", "list", "--status", "paused", "-q"}).out, "");
  auto status = json::parse(ok({"tasks", "status", "t1", "-o", "json"}).out).as_object();
  auto api_task = api_json("/api/v2/tasks/me/t1").as_object();
  EXPECT_EQ(str(status, "id"), str(api_task, "id"));
  EXPECT_EQ(str(status, "status"), "active");
  EXPECT_EQ(str(status, "workspace_id"), str(api_task, "workspace_id"));

  // Pausing asks first; scripts pass --yes. The paused task's logs are its snapshot.
  auto unconfirmed = berth({"tasks", "pause", "t1"});
  EXPECT_EQ(unconfirmed.code, 1);
  EXPECT_NE(unconfirmed.err.find("--yes"), std::string::npos) << describe(unconfirmed);
  auto pause = ok({"tasks", "pause", "t1", "-y"});
  EXPECT_NE(pause.out.find("(stop) succeeded"), std::string::npos) << pause.out;
  EXPECT_EQ(str(api_json("/api/v2/tasks/me/t1").as_object(), "status"), "paused");
  auto snapshot = ok({"tasks", "logs", "t1"});
  EXPECT_NE(snapshot.out.find("second-message"), std::string::npos) << describe(snapshot);
  EXPECT_NE(snapshot.err.find("snapshot"), std::string::npos) << describe(snapshot);

  // Sending to a paused task resumes it first, then types the input (here from stdin).
  auto resumed_send = ok({"tasks", "send", "t1", "--stdin"}, with_stdin("echo third-message\n"));
  EXPECT_NE(resumed_send.err.find("Resuming"), std::string::npos) << describe(resumed_send);
  EXPECT_NE(resumed_send.out.find("(start) succeeded"), std::string::npos)
      << describe(resumed_send);
  ASSERT_TRUE(eventually([&] {
    return berth({"tasks", "logs", "t1"}).out.find("third-message\n") != std::string::npos;
  }));
  auto not_paused = berth({"tasks", "resume", "t1", "-y"});
  EXPECT_EQ(not_paused.code, 1);
  EXPECT_NE(not_paused.err.find("is not paused"), std::string::npos) << describe(not_paused);

  auto del = ok({"tasks", "delete", "t1", "-y"});
  EXPECT_NE(del.out.find("(delete) succeeded"), std::string::npos) << del.out;
  EXPECT_EQ(api().request("GET", "/api/v2/tasks/me/t1").status, 404);
  EXPECT_TRUE(json::parse(ok({"tasks", "list", "-o", "json"}).out).as_array().empty());
}

TEST_F(TasksCli, CreateWithPresetStdinAndQuietThenPauseResumeAndDeleteSeveral) {
  login();
  push_fake_template("fake");
  auto quiet = ok({"tasks", "create", "Make it big", "--template", "fake", "--preset", "Big",
                   "--name", "p1", "-q"});
  auto task = api_json("/api/v2/tasks/me/p1").as_object();
  EXPECT_EQ(quiet.out, str(task, "id") + "\n");
  auto ws = api_json("/api/v2/workspaces/" + str(task, "workspace_id")).as_object();
  auto build_id = str(ws.at("latest_build").as_object(), "id");
  auto params = api_json("/api/v2/workspacebuilds/" + build_id + "/parameters");
  EXPECT_NE(json::serialize(params).find("\"xl\""), std::string::npos) << json::serialize(params);

  ok({"tasks", "create", "--template", "fake", "--stdin", "--name", "s1"},
     with_stdin("Prompt from stdin\n"));
  EXPECT_EQ(str(api_json("/api/v2/tasks/me/s1").as_object(), "initial_prompt"),
            "Prompt from stdin");
  // Piped in without --stdin works too, as `echo … | coder task create` does.
  ok({"tasks", "create", "--template", "fake", "--name", "s2"}, with_stdin("Piped prompt"));
  EXPECT_EQ(str(api_json("/api/v2/tasks/me/s2").as_object(), "initial_prompt"), "Piped prompt");

  // pause and resume follow their builds; delete waits for a build still running, then deletes.
  auto pause = ok({"tasks", "pause", "p1", "-y"});
  EXPECT_NE(pause.out.find("(stop) succeeded"), std::string::npos) << describe(pause);
  EXPECT_EQ(str(api_json("/api/v2/tasks/me/p1").as_object(), "status"), "paused");
  auto resume = ok({"tasks", "resume", "p1", "-y", "--no-wait"});
  EXPECT_NE(resume.out.find("(start) succeeded"), std::string::npos) << describe(resume);
  EXPECT_NE(str(api_json("/api/v2/tasks/me/p1").as_object(), "status"), "paused");

  auto del = ok({"tasks", "delete", "p1", "s1", "owner/s2", "-y"});
  EXPECT_NE(del.out.find("owner/p1 has been deleted"), std::string::npos) << del.out;
  EXPECT_NE(del.out.find("owner/s2 has been deleted"), std::string::npos) << del.out;
  EXPECT_EQ(api_json("/api/v2/tasks").as_object().at("count").as_int64(), 0);
}

TEST_F(TasksCli, BadFlagsAndUnknownTasksAreClearErrors) {
  login();
  push_fake_template("fake");
  ok({"templates", "push", "plain", "-d", (kExamples / "rich-parameters").string()});

  auto unknown = berth({"tasks", "status", "nope"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("Task \"nope\" not found"), std::string::npos) << describe(unknown);
  for (const auto* verb : {"logs", "pause", "resume", "delete"}) {
    auto r = berth({"tasks", verb, "owner/nope", "-y"});
    if (std::string(verb) == "logs") r = berth({"tasks", verb, "owner/nope"});
    EXPECT_EQ(r.code, 1) << verb << ": " << describe(r);
    EXPECT_NE(r.err.find("not found"), std::string::npos) << verb << ": " << describe(r);
  }
  auto no_user = berth({"tasks", "status", "someone/nope"});
  EXPECT_EQ(no_user.code, 1);
  EXPECT_NE(no_user.err.find("someone"), std::string::npos) << describe(no_user);
  auto no_input = berth({"tasks", "create", "--template", "fake"});
  EXPECT_EQ(no_input.code, 1);
  EXPECT_NE(no_input.err.find("Missing the task's input"), std::string::npos) << describe(no_input);
  auto both = berth({"tasks", "create", "x", "--stdin", "--template", "fake"});
  EXPECT_EQ(both.code, 1) << describe(both);
  auto no_template = berth({"tasks", "create", "x"});
  EXPECT_EQ(no_template.code, 1);
  EXPECT_NE(no_template.err.find("--template"), std::string::npos) << describe(no_template);
  auto bad_template = berth({"tasks", "create", "x", "--template", "nosuch"});
  EXPECT_NE(bad_template.err.find("Template \"nosuch\" not found"), std::string::npos)
      << describe(bad_template);
  auto not_a_task = berth({"tasks", "create", "x", "--template", "plain"});
  EXPECT_EQ(not_a_task.code, 1);
  EXPECT_NE(not_a_task.err.find("coder_ai_task"), std::string::npos) << describe(not_a_task);
  auto bad_preset = berth({"tasks", "create", "x", "--template", "fake", "--preset", "Nope"});
  EXPECT_EQ(bad_preset.code, 1);
  EXPECT_NE(bad_preset.err.find("Preset \"Nope\" not found"), std::string::npos)
      << describe(bad_preset);
  EXPECT_NE(bad_preset.err.find("Big"), std::string::npos) << describe(bad_preset);
  auto bad_version =
      berth({"tasks", "create", "x", "--template", "fake", "--template-version", "v-nope"});
  EXPECT_EQ(bad_version.code, 1);
  EXPECT_NE(bad_version.err.find("v-nope"), std::string::npos) << describe(bad_version);
  auto bad_name = berth({"tasks", "create", "x", "--template", "fake", "--name", "no spaces"});
  EXPECT_EQ(bad_name.code, 1);
  EXPECT_NE(bad_name.err.find("name"), std::string::npos) << describe(bad_name);

  auto bad_status = berth({"tasks", "list", "--status", "bogus"});
  EXPECT_NE(bad_status.code, 0);
  EXPECT_NE(bad_status.err.find("bogus"), std::string::npos) << describe(bad_status);
  auto bad_flag = berth({"tasks", "list", "--no-such-flag"});
  EXPECT_NE(bad_flag.code, 0);
  EXPECT_NE(bad_flag.err.find("--no-such-flag"), std::string::npos) << describe(bad_flag);
  EXPECT_NE(berth({"tasks"}).code, 0);
  EXPECT_NE(berth({"tasks", "status"}).code, 0);
  auto bad_user = berth({"tasks", "list", "--user", "ghost"});
  EXPECT_EQ(bad_user.code, 1);
  EXPECT_NE(bad_user.err.find("ghost"), std::string::npos) << describe(bad_user);
  // Nothing was created by any of these.
  EXPECT_EQ(api_json("/api/v2/tasks").as_object().at("count").as_int64(), 0);
}

}  // namespace
}  // namespace berth::testing
