// Workspaces and builds against the real binary: the built-in provisioner starts and stops
// real processes for the example template.
#include <gtest/gtest.h>
#include <signal.h>

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

const std::filesystem::path kExamples =
    std::filesystem::path(BERTH_SOURCE_DIR) / "examples/templates";

json::object obj(const sdk::HttpResponse& r) {
  return r.json().as_object();
}
std::string str(const json::value& v) {
  return std::string(v.as_string());
}

// Checks a response against Coder's OpenAPI description when it is beside the checkout.
void expect_schema(const sdk::HttpResponse& r, const std::string& method, const std::string& path) {
  static auto validator = SwaggerValidator::load_default();
  if (!validator) {
    static bool warned = false;
    if (!warned) std::fprintf(stderr, "swagger.json not found; skipping OpenAPI response checks\n");
    warned = true;
    return;
  }
  auto problems = validator->validate_response(method, path, r.status, r.json());
  EXPECT_TRUE(problems.empty()) << method << " " << path << ":\n" << describe(problems);
}

// Follows a build's logs until the server ends the stream (the job finished).
std::vector<std::string> follow_build(sdk::Client& client, const std::string& build_id) {
  std::vector<std::string> lines;
  client.follow_websocket("/api/v2/workspacebuilds/" + build_id + "/logs?follow",
                          [&](const std::string& m) {
                            lines.push_back(str(json::parse(m).as_object().at("output")));
                            return true;
                          });
  return lines;
}

class WorkspacesApi : public ::testing::Test {
 protected:
  void SetUp() override {
    owner_ = std::make_unique<sdk::Client>(sign_in_owner(server_.url()));
    template_id_ = push_template("rich-parameters", "rp");
  }

  sdk::Client& owner() { return *owner_; }

  std::string push_template(const std::string& example, const std::string& name) {
    return push_archive(tar_directory(kExamples / example), name);
  }

  std::string push_source(const std::string& main_tf, const std::string& name) {
    return push_archive(make_tar({{"main.tf", main_tf, ""}}), name);
  }

  std::string push_archive(const std::string& tar, const std::string& name) {
    auto upload =
        owner().request("POST", "/api/v2/files", tar, {{"Content-Type", "application/x-tar"}});
    auto file = str(obj(upload).at("hash"));
    auto version = obj(owner().request_json(
        "POST", "/api/v2/organizations/default/templateversions",
        json::object{{"storage_method", "file"}, {"provisioner", "terraform"}, {"file_id", file}}));
    auto vid = str(version.at("id"));
    owner().follow_websocket("/api/v2/templateversions/" + vid + "/logs?follow",
                             [](const std::string&) { return true; });
    auto created = owner().request_json("POST", "/api/v2/organizations/default/templates",
                                        json::object{{"name", name}, {"template_version_id", vid}});
    EXPECT_EQ(created.status, 201) << created.body;
    return str(obj(created).at("id"));
  }

  json::object create_workspace(sdk::Client& client, const std::string& name,
                                json::array params = {}) {
    auto r = client.request_json("POST", "/api/v2/users/me/workspaces",
                                 json::object{{"name", name},
                                              {"template_id", template_id_},
                                              {"rich_parameter_values", std::move(params)}});
    EXPECT_EQ(r.status, 201) << r.body;
    expect_schema(r, "POST", "/users/{user}/workspaces");
    return obj(r);
  }

  json::object get(sdk::Client& client, const std::string& id) {
    auto r = client.request("GET", "/api/v2/workspaces/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    expect_schema(r, "GET", "/workspaces/{workspace}");
    return obj(r);
  }

  json::object build(sdk::Client& client, const std::string& workspace_id, json::object body) {
    auto r = client.request_json("POST", "/api/v2/workspaces/" + workspace_id + "/builds", body);
    EXPECT_EQ(r.status, 201) << r.body;
    expect_schema(r, "POST", "/workspaces/{workspace}/builds");
    auto b = obj(r);
    follow_build(client, str(b.at("id")));
    return b;
  }

  std::string status_of(sdk::Client& client, const std::string& id) {
    return str(get(client, id).at("latest_build").as_object().at("status"));
  }

  TempDir dir_;
  ServerProcess server_{dir_.path().string()};
  std::unique_ptr<sdk::Client> owner_;
  std::string template_id_;
};

int pid_from_state(sdk::Client& client, const std::string& build_id) {
  auto state = client.request("GET", "/api/v2/workspacebuilds/" + build_id + "/state");
  if (state.body.empty()) return 0;
  auto parsed = json::parse(state.body);
  const auto& processes = parsed.as_object().at("processes").as_array();
  return processes.empty()
             ? 0
             : int(processes[0].as_object().at("state").as_object().at("pid").as_int64());
}

// Alive and not a zombie (an exited, reparented process may linger unreaped).
bool process_exists(int pid) {
  if (pid <= 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

// A template whose workspace process stays up by itself (no agent needed), to observe the
// process lifecycle.
constexpr const char* kSleeperTemplate = R"(
data "coder_workspace" "me" {}
data "coder_parameter" "cpus" {
  name    = "cpus"
  type    = "number"
  default = 2
  mutable = true
}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", "trap 'exit 0' TERM; echo started > started; while :; do sleep 1; done"]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}", "CPUS=${data.coder_parameter.cpus.value}"]
}
)";

TEST_F(WorkspacesApi, CreateStartStopStartDeleteRunsAndStopsTheProcess) {
  template_id_ = push_source(kSleeperTemplate, "sleeper");
  auto ws =
      create_workspace(owner(), "dev", json::array{json::object{{"name", "cpus"}, {"value", "4"}}});
  auto id = str(ws.at("id"));
  auto first = ws.at("latest_build").as_object();
  EXPECT_EQ(first.at("build_number").as_int64(), 1);
  EXPECT_EQ(str(first.at("transition")), "start");
  auto lines = follow_build(owner(), str(first.at("id")));
  EXPECT_FALSE(lines.empty());
  auto running = get(owner(), id);
  auto latest = running.at("latest_build").as_object();
  EXPECT_EQ(str(latest.at("status")), "running");
  EXPECT_EQ(str(latest.at("initiator_name")), "owner");
  ASSERT_EQ(latest.at("resources").as_array().size(), 1u);
  auto resource = latest.at("resources").as_array()[0].as_object();
  EXPECT_EQ(str(resource.at("type")), "berth_process");
  ASSERT_EQ(resource.at("agents").as_array().size(), 1u);
  int pid = pid_from_state(owner(), str(latest.at("id")));
  EXPECT_TRUE(process_exists(pid)) << pid;
  auto params =
      owner().request("GET", "/api/v2/workspacebuilds/" + str(latest.at("id")) + "/parameters");
  expect_schema(params, "GET", "/workspacebuilds/{workspacebuild}/parameters");
  bool found = false;
  auto param_list = params.json();
  for (const auto& p : param_list.as_array())
    if (str(p.as_object().at("name")) == "cpus") found = str(p.as_object().at("value")) == "4";
  EXPECT_TRUE(found) << params.body;

  auto stop = build(owner(), id, json::object{{"transition", "stop"}});
  EXPECT_EQ(stop.at("build_number").as_int64(), 2);
  EXPECT_EQ(status_of(owner(), id), "stopped");
  EXPECT_FALSE(process_exists(pid)) << "the stop build left process " << pid << " running";

  build(owner(), id, json::object{{"transition", "start"}});
  EXPECT_EQ(status_of(owner(), id), "running");
  auto after_restart = get(owner(), id).at("latest_build").as_object();
  int pid2 = pid_from_state(owner(), str(after_restart.at("id")));
  EXPECT_TRUE(process_exists(pid2));
  // Parameters carry over from the previous build.
  auto carried = owner().request(
      "GET", "/api/v2/workspacebuilds/" + str(after_restart.at("id")) + "/parameters");
  EXPECT_NE(carried.body.find("\"4\""), std::string::npos) << carried.body;

  auto builds = owner().request("GET", "/api/v2/workspaces/" + id + "/builds");
  expect_schema(builds, "GET", "/workspaces/{workspace}/builds");
  EXPECT_EQ(builds.json().as_array().size(), 3u);
  EXPECT_EQ(builds.json().as_array()[0].as_object().at("build_number").as_int64(), 3);
  auto by_number = owner().request("GET", "/api/v2/users/me/workspace/dev/builds/2");
  EXPECT_EQ(by_number.status, 200);
  EXPECT_EQ(str(obj(by_number).at("transition")), "stop");
  EXPECT_EQ(owner().request("GET", "/api/v2/users/me/workspace/dev/builds/9").status, 404);

  build(owner(), id, json::object{{"transition", "delete"}});
  EXPECT_FALSE(process_exists(pid2));
  auto gone = owner().request("GET", "/api/v2/workspaces/" + id);
  EXPECT_EQ(gone.status, 410);
  auto deleted = owner().request("GET", "/api/v2/workspaces/" + id + "?include_deleted=true");
  EXPECT_EQ(str(obj(deleted).at("latest_build").as_object().at("status")), "deleted");
  EXPECT_EQ(obj(owner().request("GET", "/api/v2/workspaces")).at("count").as_int64(), 0);
  // The name is free again.
  auto again = create_workspace(owner(), "dev");
  // A template in use cannot be deleted; once its workspaces are gone it can.
  auto in_use = owner().request("DELETE", "/api/v2/templates/" + template_id_);
  EXPECT_EQ(in_use.status, 400);
  EXPECT_EQ(message_of(in_use), "All workspaces must be deleted before a template can be removed.");
  follow_build(owner(), str(again.at("latest_build").as_object().at("id")));
  build(owner(), str(again.at("id")), json::object{{"transition", "delete"}});
  EXPECT_EQ(owner().request("DELETE", "/api/v2/templates/" + template_id_).status, 200);
}

TEST_F(WorkspacesApi, ValidatesParametersAndRefusesConcurrentBuilds) {
  auto bad = owner().request_json(
      "POST", "/api/v2/users/me/workspaces",
      json::object{
          {"name", "x"},
          {"template_id", template_id_},
          {"rich_parameter_values", json::array{json::object{{"name", "cpus"}, {"value", "99"}}}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(message_of(bad), "Unable to validate parameter \"cpus\"");
  auto regex = owner().request_json(
      "POST", "/api/v2/users/me/workspaces",
      json::object{{"name", "y"},
                   {"template_id", template_id_},
                   {"rich_parameter_values",
                    json::array{json::object{{"name", "dotfiles_url"}, {"value", "ftp://x"}}}}});
  EXPECT_EQ(regex.status, 400);
  EXPECT_NE(regex.body.find("Use an https:// URL"), std::string::npos) << regex.body;
  auto option = owner().request_json(
      "POST", "/api/v2/users/me/workspaces",
      json::object{{"name", "z"},
                   {"template_id", template_id_},
                   {"rich_parameter_values",
                    json::array{json::object{{"name", "region"}, {"value", "mars"}}}}});
  EXPECT_EQ(option.status, 400);

  auto ws = create_workspace(owner(), "dev");
  auto id = str(ws.at("id"));
  follow_build(owner(), str(ws.at("latest_build").as_object().at("id")));
  // Immutable parameters cannot change; monotonic ones cannot go down.
  auto immutable = owner().request_json(
      "POST", "/api/v2/workspaces/" + id + "/builds",
      json::object{{"transition", "start"},
                   {"rich_parameter_values",
                    json::array{json::object{{"name", "region"}, {"value", "us"}}}}});
  EXPECT_EQ(immutable.status, 400);
  EXPECT_NE(immutable.body.find("is not mutable"), std::string::npos) << immutable.body;
  auto down = owner().request_json(
      "POST", "/api/v2/workspaces/" + id + "/builds",
      json::object{
          {"transition", "start"},
          {"rich_parameter_values", json::array{json::object{{"name", "cpus"}, {"value", "1"}}}}});
  EXPECT_EQ(down.status, 400);
  auto transition = owner().request_json("POST", "/api/v2/workspaces/" + id + "/builds",
                                         json::object{{"transition", "explode"}});
  EXPECT_EQ(transition.status, 400);
  auto orphan = owner().request_json("POST", "/api/v2/workspaces/" + id + "/builds",
                                     json::object{{"transition", "stop"}, {"orphan", true}});
  EXPECT_EQ(orphan.status, 400);
  EXPECT_EQ(message_of(orphan), "Orphan is only permitted when deleting a workspace.");
  auto dup = owner().request_json("POST", "/api/v2/users/me/workspaces",
                                  json::object{{"name", "DEV"}, {"template_id", template_id_}});
  EXPECT_EQ(dup.status, 409);
  auto bad_name =
      owner().request_json("POST", "/api/v2/users/me/workspaces",
                           json::object{{"name", "no spaces"}, {"template_id", template_id_}});
  EXPECT_EQ(bad_name.status, 400);
  auto neither =
      owner().request_json("POST", "/api/v2/users/me/workspaces", json::object{{"name", "q"}});
  EXPECT_EQ(neither.status, 400);
}

TEST(WorkspaceBuildQueue, RefusesASecondBuildAndCancelsAPendingOne) {
  TempDir dir;
  std::string template_id;
  {
    // Import the template on a server with daemons, then restart without any: builds stay
    // pending, which makes the active-build rule and cancellation deterministic.
    ServerProcess server(dir.path().string());
    auto owner = sign_in_owner(server.url());
    auto file =
        str(obj(owner.request("POST", "/api/v2/files", make_tar({{"main.tf", "locals {}\n", ""}}),
                              {{"Content-Type", "application/x-tar"}}))
                .at("hash"));
    auto version =
        str(obj(owner.request_json("POST", "/api/v2/organizations/default/templateversions",
                                   json::object{{"storage_method", "file"},
                                                {"provisioner", "terraform"},
                                                {"file_id", file}}))
                .at("id"));
    owner.follow_websocket("/api/v2/templateversions/" + version + "/logs?follow",
                           [](const std::string&) { return true; });
    template_id = str(
        obj(owner.request_json("POST", "/api/v2/organizations/default/templates",
                               json::object{{"name", "empty"}, {"template_version_id", version}}))
            .at("id"));
  }
  ServerProcess server(dir.path().string(), {"--provisioner-daemons", "0"});
  auto owner = sign_in_owner_again(server.url());
  auto ws = obj(owner.request_json("POST", "/api/v2/users/me/workspaces",
                                   json::object{{"name", "queued"}, {"template_id", template_id}}));
  auto id = str(ws.at("id"));
  auto first = ws.at("latest_build").as_object();
  EXPECT_EQ(str(first.at("status")), "pending");
  EXPECT_EQ(first.at("job").as_object().at("queue_position").as_int64(), 1);
  auto second = owner.request_json("POST", "/api/v2/workspaces/" + id + "/builds",
                                   json::object{{"transition", "stop"}});
  EXPECT_EQ(second.status, 409);
  EXPECT_EQ(message_of(second), "A workspace build is already active.");
  auto build_id = str(first.at("id"));
  auto wrong = owner.request(
      "PATCH", "/api/v2/workspacebuilds/" + build_id + "/cancel?expect_status=running");
  EXPECT_EQ(wrong.status, 409);
  EXPECT_EQ(message_of(wrong), "Job is not in the expected state.");
  auto cancel = owner.request(
      "PATCH", "/api/v2/workspacebuilds/" + build_id + "/cancel?expect_status=pending");
  EXPECT_EQ(cancel.status, 200) << cancel.body;
  auto after = obj(owner.request("GET", "/api/v2/workspaces/" + id));
  EXPECT_EQ(str(after.at("latest_build").as_object().at("status")), "canceled");
  auto again = owner.request("PATCH", "/api/v2/workspacebuilds/" + build_id + "/cancel");
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(message_of(again), "Job has already completed!");
  // A canceled pending build frees the workspace for the next one.
  auto next = owner.request_json("POST", "/api/v2/workspaces/" + id + "/builds",
                                 json::object{{"transition", "start"}});
  EXPECT_EQ(next.status, 201) << next.body;
  EXPECT_EQ(obj(next).at("build_number").as_int64(), 2);
}

TEST_F(WorkspacesApi, SearchesAndPagesWorkspaces) {
  for (auto name : {"alpha", "beta", "gamma"}) {
    auto ws = create_workspace(owner(), name);
    follow_build(owner(), str(ws.at("latest_build").as_object().at("id")));
  }
  auto member = sign_in_member(server_.url(), owner(), "mem");
  auto mine = create_workspace(member, "memws");
  follow_build(member, str(mine.at("latest_build").as_object().at("id")));
  auto list = [&](const std::string& query) {
    auto r = owner().request("GET", "/api/v2/workspaces" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    expect_schema(r, "GET", "/workspaces");
    return obj(r);
  };
  EXPECT_EQ(list("").at("count").as_int64(), 4);
  EXPECT_EQ(list("?q=owner:me").at("count").as_int64(), 3);
  EXPECT_EQ(list("?q=owner:mem").at("count").as_int64(), 1);
  EXPECT_EQ(list("?q=owner:nobody").at("count").as_int64(), 0);
  EXPECT_EQ(list("?q=name:alp").at("count").as_int64(), 1);
  EXPECT_EQ(list("?q=gam").at("count").as_int64(), 1);
  EXPECT_EQ(list("?q=owner/beta").at("count").as_int64(), 1);
  EXPECT_EQ(list("?q=template:rp").at("count").as_int64(), 4);
  EXPECT_EQ(list("?q=template:none").at("count").as_int64(), 0);
  EXPECT_EQ(list("?q=status:running").at("count").as_int64(), 4);
  EXPECT_EQ(list("?q=status:stopped").at("count").as_int64(), 0);
  EXPECT_EQ(list("?q=outdated:false").at("count").as_int64(), 4);
  EXPECT_EQ(list("?q=organization:coder").at("count").as_int64(), 4);
  EXPECT_EQ(list("?q=dormant:true").at("count").as_int64(), 0);
  auto page = list("?limit=2&offset=1");
  EXPECT_EQ(page.at("count").as_int64(), 4);
  EXPECT_EQ(page.at("workspaces").as_array().size(), 2u);
  auto bad = owner().request("GET", "/api/v2/workspaces?q=color:red");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(message_of(bad), "Invalid workspace search query.");
  EXPECT_EQ(owner().request("GET", "/api/v2/workspaces?q=status:sleepy").status, 400);
  // Members see only their own.
  auto theirs = obj(member.request("GET", "/api/v2/workspaces"));
  EXPECT_EQ(theirs.at("count").as_int64(), 1);
  auto alpha_id = str(list("?q=name:alpha").at("workspaces").as_array()[0].as_object().at("id"));
  EXPECT_EQ(member.request("GET", "/api/v2/workspaces/" + alpha_id).status, 404);
  EXPECT_EQ(member
                .request_json("POST", "/api/v2/workspaces/" + alpha_id + "/builds",
                              json::object{{"transition", "stop"}})
                .status,
            404);
  EXPECT_EQ(owner().request("GET", "/api/v2/workspaces/" + str(mine.at("id"))).status, 200);
}

TEST_F(WorkspacesApi, UpdatesScheduleTtlNameAndFavorites) {
  auto ws = create_workspace(owner(), "sched");
  auto id = str(ws.at("id"));
  follow_build(owner(), str(ws.at("latest_build").as_object().at("id")));
  auto put = [&](const std::string& what, json::object body) {
    return owner().request_json("PUT", "/api/v2/workspaces/" + id + "/" + what, body);
  };
  EXPECT_EQ(
      put("autostart", json::object{{"schedule", "CRON_TZ=Europe/Berlin 30 9 * * 1-5"}}).status,
      204);
  auto after = get(owner(), id);
  EXPECT_EQ(str(after.at("autostart_schedule")), "CRON_TZ=Europe/Berlin 30 9 * * 1-5");
  EXPECT_TRUE(after.at("next_start_at").is_string());
  auto invalid = put("autostart", json::object{{"schedule", "30 9 1 * *"}});
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(message_of(invalid), "Invalid autostart schedule.");
  EXPECT_EQ(put("autostart", json::object{{"schedule", "CRON_TZ=Mars/Olympus 0 9 * * *"}}).status,
            400);
  EXPECT_EQ(put("ttl", json::object{{"ttl_ms", 3600000}}).status, 204);
  EXPECT_EQ(get(owner(), id).at("ttl_ms").as_int64(), 3600000);
  auto short_ttl = put("ttl", json::object{{"ttl_ms", 1000}});
  EXPECT_EQ(short_ttl.status, 400);
  EXPECT_NE(short_ttl.body.find("at least one minute"), std::string::npos);
  EXPECT_EQ(put("autoupdates", json::object{{"automatic_updates", "always"}}).status, 204);
  EXPECT_EQ(str(get(owner(), id).at("automatic_updates")), "always");
  EXPECT_EQ(put("autoupdates", json::object{{"automatic_updates", "sometimes"}}).status, 400);
  EXPECT_EQ(put("favorite", json::object{}).status, 204);
  EXPECT_TRUE(get(owner(), id).at("favorite").as_bool());
  EXPECT_EQ(owner().request("DELETE", "/api/v2/workspaces/" + id + "/favorite").status, 204);
  EXPECT_EQ(
      owner()
          .request_json("PATCH", "/api/v2/workspaces/" + id, json::object{{"name", "renamed"}})
          .status,
      204);
  EXPECT_EQ(str(get(owner(), id).at("name")), "renamed");
  EXPECT_EQ(owner().request("GET", "/api/v2/users/me/workspace/renamed").status, 200);
  auto dormant = put("dormant", json::object{{"dormant", true}});
  EXPECT_EQ(dormant.status, 200);
  EXPECT_TRUE(obj(dormant).at("dormant_at").is_string());
  EXPECT_EQ(obj(owner().request("GET", "/api/v2/workspaces?q=dormant:true")).at("count").as_int64(),
            1);
  auto resolve = owner().request("GET", "/api/v2/workspaces/" + id + "/resolve-autostart");
  EXPECT_EQ(resolve.status, 200);
  EXPECT_FALSE(obj(resolve).at("parameter_mismatch").as_bool());
  auto timings = owner().request("GET", "/api/v2/workspaces/" + id + "/timings");
  EXPECT_EQ(timings.status, 200);
  expect_schema(timings, "GET", "/workspaces/{workspace}/timings");
  auto usage = owner().request_json("POST", "/api/v2/workspaces/" + id + "/usage",
                                    json::object{{"app_name", "vscode"}});
  EXPECT_EQ(usage.status, 400);
}

TEST_F(WorkspacesApi, WatchRefusesAnUpgradeWithAnInvalidWebSocketKey) {
  auto ws = create_workspace(owner(), "watchkey");
  auto id = str(ws.at("id"));
  for (std::string key : {"bad", "", "not*base64*at*all*here==", "AAECAwQFBgc="}) {
    auto r = owner().request("GET", "/api/v2/workspaces/" + id + "/watch-ws", "",
                             {{"Connection", "Upgrade"},
                              {"Upgrade", "websocket"},
                              {"Sec-WebSocket-Version", "13"},
                              {"Sec-WebSocket-Key", key}});
    EXPECT_EQ(r.status, 400) << key;
    EXPECT_EQ(message_of(r), "Failed to accept websocket.") << key;
  }
}

TEST_F(WorkspacesApi, WatchEmitsAnEventPerChange) {
  auto ws = create_workspace(owner(), "watched");
  auto id = str(ws.at("id"));
  follow_build(owner(), str(ws.at("latest_build").as_object().at("id")));
  std::vector<json::object> events;
  std::thread changer;
  bool started = false;
  owner().follow_websocket("/api/v2/workspaces/" + id + "/watch-ws", [&](const std::string& m) {
    auto e = json::parse(m).as_object();
    events.push_back(e);
    if (str(e.at("type")) == "data" && !started) {
      started = true;
      // Change the workspace from another client once the first snapshot arrived.
      changer = std::thread([&] {
        sdk::Client other(server_.url());
        other.set_session_token(owner().session_token());
        other.request_json("PUT", "/api/v2/workspaces/" + id + "/ttl",
                           json::object{{"ttl_ms", 7200000}});
      });
    }
    if (str(e.at("type")) == "data" && !e.at("data").as_object().at("ttl_ms").is_null() &&
        e.at("data").as_object().at("ttl_ms").as_int64() == 7200000)
      return false;  // saw the change: stop watching
    return true;
  });
  if (changer.joinable()) changer.join();
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(str(events[0].at("type")), "ping");
  EXPECT_EQ(str(events[1].at("type")), "data");
  EXPECT_EQ(events.back().at("data").as_object().at("ttl_ms").as_int64(), 7200000);
}

}  // namespace
}  // namespace berth::testing
