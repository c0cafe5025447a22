// start, stop, restart, update and delete with Coder's flags: a script written for `coder`
// runs with `berth` by changing the command name alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/cli_fixture.hpp"

namespace berth::testing {
namespace {

std::string str(const json::object& o, const char* key) {
  return std::string(o.at(key).as_string());
}

class WorkspaceVerbs : public CliTest {
 protected:
  json::object workspace(const std::string& name) {
    auto client = sign_in_owner_again(server_.url());
    auto r = client.request("GET", "/api/v2/users/me/workspace/" + name);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json().as_object();
  }

  std::string status(const std::string& name) {
    return str(workspace(name).at("latest_build").as_object(), "status");
  }

  // The values the workspace's latest build was given, by name.
  std::map<std::string, std::string> parameters(const std::string& name) {
    auto client = sign_in_owner_again(server_.url());
    auto build = str(workspace(name).at("latest_build").as_object(), "id");
    auto r = client.request("GET", "/api/v2/workspacebuilds/" + build + "/parameters");
    EXPECT_EQ(r.status, 200) << r.body;
    std::map<std::string, std::string> out;
    auto list = r.json();
    for (const auto& p : list.as_array())
      out[str(p.as_object(), "name")] = str(p.as_object(), "value");
    return out;
  }
};

TEST_F(WorkspaceVerbs, TakeCodersYesAndParameterFlags) {
  login();
  ok({"templates", "push", "rp", "-d", (kExamples / "rich-parameters").string()});
  ok({"create", "dev", "-t", "rp", "-y"});
  EXPECT_EQ(parameters("dev")["cpus"], "2");

  ok({"stop", "dev", "-y"});
  EXPECT_EQ(status("dev"), "stopped");
  auto start =
      ok({"start", "dev", "-y", "--parameter", "cpus=4", "--build-option", "session_note=hello"});
  EXPECT_NE(start.out.find("(start) succeeded"), std::string::npos) << start.out;
  auto values = parameters("dev");
  EXPECT_EQ(values["cpus"], "4");
  EXPECT_EQ(values["session_note"], "hello");
  EXPECT_EQ(values["region"], "eu");

  auto restart = ok({"restart", "dev", "--yes", "--parameter", "cpus=6"});
  EXPECT_NE(restart.out.find("has been restarted"), std::string::npos) << restart.out;
  EXPECT_EQ(parameters("dev")["cpus"], "6");
  EXPECT_EQ(status("dev"), "running");

  TempDir files;
  std::ofstream(files.file("values.yaml")) << "cpus: 7\n";
  ok({"restart", "dev", "-y", "--rich-parameter-file", files.file("values.yaml")});
  EXPECT_EQ(parameters("dev")["cpus"], "7");

  // A name the template does not define is refused before anything stops.
  auto unknown = berth({"restart", "dev", "-y", "--parameter", "nosuch=1"});
  EXPECT_EQ(unknown.code, 1) << describe(unknown);
  EXPECT_NE(unknown.err.find("nosuch"), std::string::npos) << describe(unknown);
  EXPECT_EQ(status("dev"), "running");
  auto not_ephemeral = berth({"restart", "dev", "-y", "--build-option", "cpus=8"});
  EXPECT_EQ(not_ephemeral.code, 1) << describe(not_ephemeral);
  EXPECT_NE(not_ephemeral.err.find("not ephemeral"), std::string::npos) << describe(not_ephemeral);
  auto malformed = berth({"restart", "dev", "-y", "--parameter", "cpus"});
  EXPECT_EQ(malformed.code, 1) << describe(malformed);
  EXPECT_NE(malformed.err.find("key=value"), std::string::npos) << describe(malformed);
  // --always-prompt asks for every value, which a script (no terminal) cannot answer.
  auto prompt = berth({"restart", "dev", "-y", "--always-prompt"});
  EXPECT_EQ(prompt.code, 1) << describe(prompt);
  EXPECT_NE(prompt.err.find("--parameter"), std::string::npos) << describe(prompt);
  EXPECT_EQ(status("dev"), "running");

  // A new version with a required parameter: update asks for it (names it without a terminal).
  auto up_to_date = ok({"update", "dev", "-y"});
  EXPECT_NE(up_to_date.out.find("up to date"), std::string::npos) << up_to_date.out;
  TempDir v2;
  std::ifstream in(kExamples / "rich-parameters" / "main.tf");
  std::stringstream source;
  source << in.rdbuf();
  std::ofstream(v2.file("main.tf")) << source.str() << R"(
data "coder_parameter" "zone" {
  name    = "zone"
  type    = "string"
  mutable = true
}
)";
  ok({"templates", "push", "rp", "-d", v2.path().string()});
  EXPECT_TRUE(workspace("dev").at("outdated").as_bool());
  auto missing = berth({"update", "dev", "-y"});
  EXPECT_EQ(missing.code, 1) << describe(missing);
  EXPECT_NE(missing.err.find("zone"), std::string::npos) << describe(missing);
  auto update = ok({"update", "dev", "-y", "--parameter", "zone=b"});
  EXPECT_NE(update.out.find("has been updated"), std::string::npos) << update.out;
  auto ws = workspace("dev");
  EXPECT_FALSE(ws.at("outdated").as_bool());
  EXPECT_EQ(parameters("dev")["zone"], "b");
  EXPECT_EQ(parameters("dev")["cpus"], "7");

  // --no-wait returns once the build is queued.
  ok({"stop", "dev", "-y"});
  auto queued = ok({"start", "dev", "-y", "--no-wait"});
  EXPECT_NE(queued.out.find("is starting"), std::string::npos) << queued.out;
  ok({"logs", "dev", "-f"});
  EXPECT_EQ(status("dev"), "running");

  auto del = ok({"delete", "dev", "-y"});
  EXPECT_NE(del.out.find("(delete) succeeded"), std::string::npos) << del.out;
}

TEST_F(WorkspaceVerbs, CreateTakesCodersTemplateVersionDefaultsAndAutomaticUpdates) {
  login();
  ok({"templates", "push", "rp", "-d", (kExamples / "rich-parameters").string(), "--name", "v1"});
  TempDir v2;
  std::ifstream in(kExamples / "rich-parameters" / "main.tf");
  std::stringstream source;
  source << in.rdbuf();
  std::ofstream(v2.file("main.tf")) << source.str() << R"(
data "coder_parameter" "zone" {
  name    = "zone"
  type    = "string"
  mutable = true
}
)";
  ok({"templates", "push", "rp", "-d", v2.path().string(), "--name", "v2"});

  ok({"create", "old", "-t", "rp", "--template-version", "v1", "-y"});
  auto old = workspace("old");
  EXPECT_EQ(str(old.at("latest_build").as_object(), "template_version_name"), "v1");
  EXPECT_TRUE(old.at("outdated").as_bool());

  // Without a terminal a required value may come from --parameter-default.
  auto missing = berth({"create", "fresh", "-t", "rp", "-y"});
  EXPECT_EQ(missing.code, 1) << describe(missing);
  EXPECT_NE(missing.err.find("zone"), std::string::npos) << describe(missing);
  ok({"create", "fresh", "-t", "rp", "--parameter-default", "zone=z", "--automatic-updates",
      "always", "-y"});
  auto created = workspace("fresh");
  EXPECT_EQ(str(created, "automatic_updates"), "always");
  EXPECT_EQ(parameters("fresh")["zone"], "z");
  auto bad = berth({"create", "bad", "-t", "rp", "--automatic-updates", "sometimes", "-y"});
  EXPECT_NE(bad.code, 0) << describe(bad);
  auto unknown = berth({"create", "bad", "-t", "rp", "--template-version", "v9", "-y"});
  EXPECT_EQ(unknown.code, 1) << describe(unknown);
  EXPECT_NE(unknown.err.find("v9"), std::string::npos) << describe(unknown);
}

TEST_F(WorkspaceVerbs, OnATerminalRestartAsksToConfirmAndAlwaysPromptAsksEveryValue) {
  login();
  ok({"templates", "push", "rp", "-d", (kExamples / "rich-parameters").string()});
  ok({"create", "dev", "-t", "rp", "-y"});
  auto declined = run_cli_in_terminal({"restart", "dev"}, config_.path().string(), "no\n",
                                      std::chrono::seconds(60));
  EXPECT_EQ(declined.code, 1) << declined.out;
  EXPECT_NE(declined.out.find("Restart workspace owner/dev?"), std::string::npos) << declined.out;
  EXPECT_EQ(status("dev"), "running");
  EXPECT_EQ(parameters("dev")["cpus"], "2");
  // Every parameter is asked for in order (region, cpus, dotfiles_url, gpu, tools); an empty
  // answer keeps the offered value.
  auto asked =
      run_cli_in_terminal({"restart", "dev", "--always-prompt", "-y"}, config_.path().string(),
                          "\n5\n\n\n\n", std::chrono::seconds(120));
  ASSERT_EQ(asked.code, 0) << asked.out;
  EXPECT_NE(asked.out.find("Where the workspace runs"), std::string::npos) << asked.out;
  auto values = parameters("dev");
  EXPECT_EQ(values["cpus"], "5");
  EXPECT_EQ(values["region"], "eu");
}

}  // namespace
}  // namespace berth::testing
