// The `berth` CLI as users run it: the real binary against a real `berth server`, with no
// terminal on stdin, so every value must come from flags.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "cli/cli_fixture.hpp"

namespace berth::testing {
namespace {

class Cli : public CliTest {
 protected:
  json::object workspace_by_api(const std::string& name) {
    auto client = sign_in_owner_again(server_.url());
    auto r = client.request("GET", "/api/v2/users/me/workspace/" + name);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json().as_object();
  }
};

std::string str(const json::object& o, const char* key) {
  return std::string(o.at(key).as_string());
}

TEST_F(Cli, ScriptedSessionFromLoginToDelete) {
  auto login_out = berth({"login", server_.url(), "--first-user-email", "owner@example.com",
                          "--first-user-username", "owner", "--first-user-password", kPassword,
                          "--first-user-trial"});
  ASSERT_EQ(login_out.code, 0) << describe(login_out);
  EXPECT_NE(login_out.out.find("owner"), std::string::npos) << login_out.out;
  struct stat st {};
  ASSERT_EQ(stat(config_.file("session").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  EXPECT_NE(ok({"whoami"}).out.find("owner"), std::string::npos);

  auto push = ok({"templates", "push", "rp", "-d", (kExamples / "rich-parameters").string()});
  EXPECT_NE(push.out.find("created"), std::string::npos) << push.out;
  EXPECT_NE(ok({"templates", "list"}).out.find("rp"), std::string::npos);
  EXPECT_NE(ok({"templates", "versions", "list", "rp"}).out.find("Active"), std::string::npos);

  auto create = ok({"create", "dev", "-t", "rp", "--parameter", "cpus=4", "--parameter",
                    "region=us", "--stop-after", "8h", "-y"});
  EXPECT_NE(create.out.find("Build #1 (start) succeeded"), std::string::npos) << create.out;
  auto ws = workspace_by_api("dev");
  EXPECT_EQ(str(ws.at("latest_build").as_object(), "status"), "running");
  EXPECT_EQ(ws.at("ttl_ms").as_int64(), 8 * 3600 * 1000);

  auto table = ok({"list"}).out;
  EXPECT_NE(table.find("WORKSPACE"), std::string::npos) << table;
  EXPECT_NE(table.find("owner/dev"), std::string::npos) << table;
  EXPECT_NE(table.find("running"), std::string::npos) << table;

  auto listed = json::parse(ok({"list", "-o", "json"}).out);
  auto client = sign_in_owner_again(server_.url());
  auto api = client.request("GET", "/api/v2/workspaces").json();
  std::set<std::string> cli_ids, api_ids;
  for (const auto& w : listed.as_array()) cli_ids.insert(str(w.as_object(), "id"));
  for (const auto& w : api.as_object().at("workspaces").as_array())
    api_ids.insert(str(w.as_object(), "id"));
  EXPECT_EQ(cli_ids, api_ids);
  EXPECT_EQ(cli_ids.size(), 1u);

  auto show = ok({"show", "dev"}).out;
  EXPECT_NE(show.find("owner/dev"), std::string::npos) << show;
  EXPECT_NE(show.find("berth_process"), std::string::npos) << show;

  EXPECT_NE(ok({"stop", "dev"}).out.find("(stop) succeeded"), std::string::npos);
  EXPECT_EQ(str(workspace_by_api("dev").at("latest_build").as_object(), "status"), "stopped");
  EXPECT_NE(ok({"start", "dev"}).out.find("(start) succeeded"), std::string::npos);
  EXPECT_EQ(str(workspace_by_api("dev").at("latest_build").as_object(), "status"), "running");
  EXPECT_FALSE(ok({"logs", "dev"}).out.empty());

  ok({"schedule", "start", "dev", "Mon-Fri", "09:00", "Europe/Berlin"});
  EXPECT_EQ(str(workspace_by_api("dev"), "autostart_schedule"),
            "CRON_TZ=Europe/Berlin 0 9 * * Mon-Fri");
  auto schedule = ok({"schedule", "show", "dev"}).out;
  EXPECT_NE(schedule.find("09:00 Mon-Fri (Europe/Berlin)"), std::string::npos) << schedule;
  ok({"schedule", "stop", "dev", "2h"});
  EXPECT_EQ(workspace_by_api("dev").at("ttl_ms").as_int64(), 2 * 3600 * 1000);

  ok({"favorite", "dev"});
  EXPECT_TRUE(workspace_by_api("dev").at("favorite").as_bool());
  ok({"rename", "dev", "dev2"});
  auto del = ok({"delete", "dev2", "-y"});
  EXPECT_NE(del.out.find("(delete) succeeded"), std::string::npos) << del.out;
  EXPECT_TRUE(json::parse(ok({"list", "-o", "json"}).out).as_array().empty());

  ok({"logout"});
  auto after = berth({"whoami"});
  EXPECT_NE(after.code, 0);
  EXPECT_NE(after.err.find("not logged in"), std::string::npos) << describe(after);
}

TEST_F(Cli, BadFlagsExitOneWithUsage) {
  // Coder's CLI exits 1 on a usage error; scripts test for it.
  auto r = berth({"list", "--no-such-flag"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << describe(r);
  auto missing = berth({"create", "dev"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("--template"), std::string::npos) << describe(missing);
  auto bad_output = berth({"list", "-o", "yaml"});
  EXPECT_NE(bad_output.code, 0) << describe(bad_output);
}

TEST_F(Cli, UnknownWorkspaceAndTemplateAreClearErrors) {
  login();
  auto show = berth({"show", "nope"});
  EXPECT_EQ(show.code, 1);
  EXPECT_NE(show.err.find("Workspace \"nope\" not found"), std::string::npos) << describe(show);
  auto start = berth({"start", "someone/nope"});
  EXPECT_EQ(start.code, 1) << describe(start);
  auto create = berth({"create", "dev", "-t", "nosuch", "-y"});
  EXPECT_EQ(create.code, 1);
  EXPECT_NE(create.err.find("Template \"nosuch\" not found"), std::string::npos)
      << describe(create);
}

TEST_F(Cli, CreateRejectsUnknownParametersAndDeleteNeedsYesWithoutATerminal) {
  login();
  ok({"templates", "push", "rp", "-d", (kExamples / "rich-parameters").string()});
  auto unknown = berth({"create", "dev", "-t", "rp", "--parameter", "nosuch=1", "-y"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("nosuch"), std::string::npos) << describe(unknown);
  ok({"create", "dev", "-t", "rp", "-y"});
  auto del = berth({"delete", "dev"});
  EXPECT_EQ(del.code, 1);
  EXPECT_NE(del.err.find("--yes"), std::string::npos) << describe(del);
}

TEST_F(Cli, FailingTemplatePushExitsNonZeroWithThePositionedError) {
  login();
  TempDir tmpl;
  std::ofstream(tmpl.file("main.tf")) << "resource \"null_resource\" {\n";
  auto push = berth({"templates", "push", "broken", "-d", tmpl.path().string()});
  EXPECT_NE(push.code, 0);
  EXPECT_NE(push.err.find("main.tf:"), std::string::npos) << describe(push);
  EXPECT_NE(push.err.find("failed"), std::string::npos) << describe(push);
  EXPECT_EQ(berth({"templates", "versions", "list", "broken"}).code, 1);
}

TEST_F(Cli, LoginOnANewServerWithoutFlagsNamesTheMissingFlag) {
  auto r = berth({"login", server_.url()});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--first-user-username"), std::string::npos) << describe(r);
  struct stat st {};
  EXPECT_NE(stat(config_.file("session").c_str(), &st), 0) << "no session should be stored";
}

// A template with a required parameter (no default), so that create must get a value.
constexpr const char* kRequiredParameterTemplate = R"(
data "coder_workspace" "me" {}
data "coder_parameter" "region" {
  name         = "region"
  display_name = "Region"
  description  = "Where the workspace runs"
  type         = "string"
  option {
    name  = "Europe"
    value = "eu"
  }
  option {
    name  = "United States"
    value = "us"
  }
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
}
)";

// The values a workspace's latest build was given, by name.
std::map<std::string, std::string> build_parameters(sdk::Client& client, const json::object& ws) {
  auto build = std::string(ws.at("latest_build").as_object().at("id").as_string());
  auto r = client.request("GET", "/api/v2/workspacebuilds/" + build + "/parameters");
  EXPECT_EQ(r.status, 200) << r.body;
  std::map<std::string, std::string> out;
  auto list = r.json();
  for (const auto& p : list.as_array())
    out[str(p.as_object(), "name")] = str(p.as_object(), "value");
  return out;
}

TEST_F(Cli, CreateTakesAParameterFileFlagsOverItAndAStartSchedule) {
  login();
  ok({"templates", "push", "rp", "-d", (kExamples / "rich-parameters").string()});
  TempDir files;
  std::ofstream(files.file("params.yaml")) << "# chosen for the team\nregion: \"us\"\ncpus: 3\n"
                                              "dotfiles_url: 'https://example.com/d.git'\n";
  auto create = ok({"create", "dev", "-t", "rp", "--rich-parameter-file", files.file("params.yaml"),
                    "--parameter", "cpus=5", "--start-at", "Mon-Fri 09:30 Europe/Berlin", "-y"});
  EXPECT_NE(create.out.find("(start) succeeded"), std::string::npos) << create.out;
  auto ws = workspace_by_api("dev");
  EXPECT_EQ(str(ws, "autostart_schedule"), "CRON_TZ=Europe/Berlin 30 9 * * Mon-Fri");
  auto client = sign_in_owner_again(server_.url());
  auto params = build_parameters(client, ws);
  EXPECT_EQ(params["region"], "us");
  EXPECT_EQ(params["cpus"], "5");  // the flag wins over the file
  EXPECT_EQ(params["dotfiles_url"], "https://example.com/d.git");

  std::ofstream(files.file("bad.yaml")) << "region us\n";
  auto bad =
      berth({"create", "dev2", "-t", "rp", "--rich-parameter-file", files.file("bad.yaml"), "-y"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("bad.yaml:1"), std::string::npos) << describe(bad);
  auto missing =
      berth({"create", "dev2", "-t", "rp", "--rich-parameter-file", "/nonexistent.yaml"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("/nonexistent.yaml"), std::string::npos) << describe(missing);
  auto bad_start = berth({"create", "dev2", "-t", "rp", "--start-at", "someday", "-y"});
  EXPECT_EQ(bad_start.code, 1) << describe(bad_start);
  auto bad_stop = berth({"create", "dev2", "-t", "rp", "--stop-after", "forever", "-y"});
  EXPECT_EQ(bad_stop.code, 1);
  EXPECT_NE(bad_stop.err.find("forever"), std::string::npos) << describe(bad_stop);
}

TEST_F(Cli, LogsFollowEndsWithTheBuildAndDeleteOrphanForgetsTheWorkspace) {
  login();
  ok({"templates", "push", "rp", "-d", (kExamples / "rich-parameters").string()});
  ok({"create", "dev", "-t", "rp", "-y"});
  auto logs = ok({"logs", "dev"}).out;
  auto followed = berth({"logs", "dev", "-f"}, with_timeout(std::chrono::seconds(60)));
  ASSERT_EQ(followed.code, 0) << describe(followed);
  EXPECT_EQ(followed.out, logs);
  auto id = str(workspace_by_api("dev"), "id");
  auto orphan = ok({"delete", "dev", "--orphan", "-y"});
  EXPECT_NE(orphan.out.find("(delete) succeeded"), std::string::npos) << orphan.out;
  auto client = sign_in_owner_again(server_.url());
  EXPECT_EQ(client.request("GET", "/api/v2/workspaces/" + id).status, 410);
  auto unknown = berth({"logs", "nope", "-f"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("Workspace \"nope\" not found"), std::string::npos)
      << describe(unknown);
}

TEST_F(Cli, OnATerminalCreateAsksForMissingParametersAndDeleteAsksToConfirm) {
  login();
  TempDir tmpl;
  std::ofstream(tmpl.file("main.tf")) << kRequiredParameterTemplate;
  ok({"templates", "push", "req", "-d", tmpl.path().string()});
  // Without a terminal the missing value is an error naming it.
  auto script = berth({"create", "dev", "-t", "req", "-y"});
  EXPECT_EQ(script.code, 1);
  EXPECT_NE(script.err.find("region"), std::string::npos) << describe(script);

  // A person is asked for it (with its description and options), then to confirm.
  auto asked = run_cli_in_terminal({"create", "dev", "-t", "req"}, config_.path().string(),
                                   "us\nyes\n", std::chrono::seconds(120));
  ASSERT_EQ(asked.code, 0) << asked.out;
  EXPECT_NE(asked.out.find("Where the workspace runs"), std::string::npos) << asked.out;
  EXPECT_NE(asked.out.find("us (United States)"), std::string::npos) << asked.out;
  EXPECT_NE(asked.out.find("Create workspace dev?"), std::string::npos) << asked.out;
  EXPECT_NE(asked.out.find("(start) succeeded"), std::string::npos) << asked.out;
  auto client = sign_in_owner_again(server_.url());
  EXPECT_EQ(build_parameters(client, workspace_by_api("dev"))["region"], "us");

  auto declined = run_cli_in_terminal({"delete", "dev"}, config_.path().string(), "no\n",
                                      std::chrono::seconds(60));
  EXPECT_EQ(declined.code, 1) << declined.out;
  EXPECT_NE(declined.out.find("Canceled"), std::string::npos) << declined.out;
  EXPECT_EQ(str(workspace_by_api("dev").at("latest_build").as_object(), "status"), "running");
  auto confirmed = run_cli_in_terminal({"delete", "dev"}, config_.path().string(), "yes\n",
                                       std::chrono::seconds(120));
  EXPECT_EQ(confirmed.code, 0) << confirmed.out;
  EXPECT_NE(confirmed.out.find("(delete) succeeded"), std::string::npos) << confirmed.out;
}

TEST_F(Cli, LoginAcceptsAnExistingToken) {
  auto owner = sign_in_owner(server_.url());
  auto r = berth({"login", server_.url(), "--token", owner.session_token()});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(ok({"whoami"}).out.find("owner"), std::string::npos);
}

}  // namespace
}  // namespace berth::testing
