// The `berth` CLI as users run it: the real binary against a real `berth server`, with no
// terminal on stdin, so every value must come from flags.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "cli/cli_runner.hpp"
#include "common/json.hpp"
#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
#include "support/temp_dir.hpp"

namespace berth::testing {
namespace {

const std::filesystem::path kExamples =
    std::filesystem::path(BERTH_SOURCE_DIR) / "examples/templates";

std::string describe(const CliResult& r) {
  return "exit " + std::to_string(r.code) + "\n--- stdout\n" + r.out + "--- stderr\n" + r.err;
}

class Cli : public ::testing::Test {
 protected:
  CliResult berth(std::vector<std::string> args) { return run_cli(args, config_.path().string()); }

  // Runs and expects success.
  CliResult ok(std::vector<std::string> args) {
    auto r = berth(args);
    EXPECT_EQ(r.code, 0) << args.front() << ": " << describe(r);
    return r;
  }

  void login() {
    ok({"login", server_.url(), "--first-user-email", "owner@example.com", "--first-user-username",
        "owner", "--first-user-password", kPassword, "--first-user-full-name", "Owner"});
  }

  json::object workspace_by_api(const std::string& name) {
    auto client = sign_in_owner_again(server_.url());
    auto r = client.request("GET", "/api/v2/users/me/workspace/" + name);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json().as_object();
  }

  TempDir data_;
  TempDir config_;
  ServerProcess server_{data_.path().string()};
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

TEST_F(Cli, BadFlagsExitNonZeroWithUsage) {
  auto r = berth({"list", "--no-such-flag"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << describe(r);
  auto missing = berth({"create", "dev"});
  EXPECT_NE(missing.code, 0);
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

TEST_F(Cli, LoginAcceptsAnExistingToken) {
  auto owner = sign_in_owner(server_.url());
  auto r = berth({"login", server_.url(), "--token", owner.session_token()});
  ASSERT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(ok({"whoami"}).out.find("owner"), std::string::npos);
}

}  // namespace
}  // namespace berth::testing
