// External provisioner daemons (issue #15): the real `berth server --provisioner-daemons 0` and
// real `berth provisionerd start` processes. Keys through Coder's API; imports, builds and their
// logs through a daemon; Coder's tag rules; cancellation reaching a daemon; a daemon outliving
// a server restart; and a daemon killed mid-build, whose job the reaper fails.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/fixtures.hpp"
#include "integration/provisionerd_process.hpp"
#include "integration/server_process.hpp"
#include "integration/workspace_fixture.hpp"
#include "support/polling.hpp"
#include "support/swagger_validator.hpp"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kKeys = "/api/v2/organizations/default/provisionerkeys";
constexpr const char* kDaemons = "/api/v2/organizations/default/provisionerdaemons";
// Bounds for what real processes make true; never expected durations.
constexpr auto kLimit = 60s;

// What Coder's API description says of an answer (empty: it conforms, or no description).
std::vector<std::string> swagger_problems(const std::string& method, const std::string& path,
                                          const sdk::HttpResponse& r) {
  static auto validator = SwaggerValidator::load_default();
  if (!validator) return {};
  return validator->validate_response(method, path, r.status, r.json());
}

std::string field_of(const sdk::HttpResponse& r) {
  auto v = r.json();
  const auto& validations = v.as_object().at("validations").as_array();
  return validations.empty() ? "" : str(validations.at(0).as_object().at("field"));
}

// A template whose build waits at a gate while <gate>/hold exists: a build that is running for
// as long as a test needs. It marks <gate>/entered when it reaches the gate. An import passes
// the gate (no hold file then). The wait is bounded, so that nothing outlives a failed test.
std::string gated_template(const std::string& gate) {
  return R"(
data "coder_workspace" "me" {}
data "external" "gate" {
  program = ["sh", "-c", "touch )" +
         gate + "/entered; i=0; while [ -f " + gate +
         R"(/hold ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; echo '{}'"]
}
)";
}

constexpr const char* kPlainTemplate = "data \"coder_workspace\" \"me\" {}\nlocals {\n  a = 1\n}\n";

class ExternalProvisioners : public WorkspaceFixture {
 protected:
  ExternalProvisioners()
      : WorkspaceFixture({"--provisioner-daemons", "0", "--provisioner-job-hung-after", "8s"}) {}

  // Creates a provisioner key; returns its secret.
  std::string create_key(const std::string& name, json::object tags = {}) {
    auto r = owner().request_json("POST", kKeys, json::object{{"name", name}, {"tags", tags}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? str(obj(r).at("key")) : "";
  }

  std::unique_ptr<ProvisionerdProcess> start_daemon(const std::string& key, const std::string& name,
                                                    std::vector<std::string> extra = {}) {
    auto daemon = std::make_unique<ProvisionerdProcess>(server_->url(), key, name,
                                                        dir_.file("daemon-" + name), extra);
    EXPECT_TRUE(daemon->wait_started()) << daemon->log();
    return daemon;
  }

  json::object daemon_named(const std::string& name) {
    auto list = owner().request("GET", kDaemons);
    EXPECT_EQ(list.status, 200) << list.body;
    auto body = list.json();
    for (const auto& d : body.as_array())
      if (str(d.as_object().at("name")) == name) return d.as_object();
    return {};
  }

  // Uploads `main_tf` and queues its import (`tags`: the version's provisioner tags).
  json::object create_version(const std::string& main_tf, json::object tags = {}) {
    auto upload = owner().request("POST", "/api/v2/files", make_tar({{"main.tf", main_tf, ""}}),
                                  {{"Content-Type", "application/x-tar"}});
    auto r = owner().request_json("POST", "/api/v2/organizations/default/templateversions",
                                  json::object{{"storage_method", "file"},
                                               {"provisioner", "terraform"},
                                               {"file_id", str(obj(upload).at("hash"))},
                                               {"tags", tags}});
    EXPECT_EQ(r.status, 201) << r.body;
    return obj(r);
  }

  json::object version_job(const std::string& version_id) {
    return obj(owner().request("GET", "/api/v2/templateversions/" + version_id))
        .at("job")
        .as_object();
  }

  json::object build(const std::string& build_id) {
    return obj(owner().request("GET", "/api/v2/workspacebuilds/" + build_id));
  }

  // Creates a workspace from `template_id` without waiting for its build; returns the build.
  json::object start_workspace(const std::string& template_id, const std::string& name) {
    auto r = owner().request_json("POST", "/api/v2/users/me/workspaces",
                                  json::object{{"name", name}, {"template_id", template_id}});
    EXPECT_EQ(r.status, 201) << r.body;
    // Not in running_: these workspaces run no processes, and their daemons are gone by the
    // fixture's teardown.
    workspaces_.push_back(str(obj(r).at("id")));
    return obj(r).at("latest_build").as_object();
  }

  std::string gate_dir() {
    auto gate = dir_.file("gate");
    fs::create_directories(gate);
    return gate;
  }
  void hold(const std::string& gate) { std::ofstream(gate + "/hold") << "1"; }
  void release(const std::string& gate) { fs::remove(gate + "/hold"); }
  // Pushes the gated template: its import passes the gate, which is then forgotten.
  std::string push_gated(const std::string& gate) {
    auto id = push_template(gated_template(gate), "gated");
    fs::remove(gate + "/entered");
    return id;
  }

  std::vector<std::string> workspaces_;
};

TEST_F(ExternalProvisioners, KeysAreForAdminsValidatedAndRefusedOnceDeleted) {
  auto secret = create_key("alpha", json::object{{"region", "eu"}});
  EXPECT_GE(secret.size(), 32u);
  auto listed = owner().request("GET", kKeys);
  ASSERT_EQ(listed.status, 200) << listed.body;
  auto problems = swagger_problems("GET", "/organizations/{organization}/provisionerkeys", listed);
  EXPECT_TRUE(problems.empty()) << describe(problems);
  ASSERT_EQ(listed.json().as_array().size(), 1u);
  auto key = listed.json().as_array().at(0).as_object();
  EXPECT_EQ(str(key.at("name")), "alpha");
  EXPECT_EQ(json::serialize(key.at("tags")), R"({"region":"eu"})");
  EXPECT_FALSE(key.contains("key"));
  EXPECT_FALSE(key.contains("hashed_secret"));
  EXPECT_EQ(listed.body.find(secret), std::string::npos);

  auto refused = [&](json::object body, int status, const std::string& field) {
    auto r = owner().request_json("POST", kKeys, body);
    EXPECT_EQ(r.status, status) << json::serialize(body) << " " << r.body;
    EXPECT_EQ(field_of(r), field) << json::serialize(body) << " " << r.body;
  };
  refused(json::object{{"name", "ALPHA"}}, 409, "name");
  refused(json::object{{"name", ""}}, 400, "name");
  refused(json::object{{"name", "bad name!"}}, 400, "name");
  refused(json::object{{"name", std::string(65, 'a')}}, 400, "name");
  refused(json::object{{"name", "built-in"}}, 400, "name");
  json::object many;
  for (char c = 'a'; c <= 'z'; ++c)
    for (char d : {'1', '2'}) many[std::string{c, d}] = "v";  // 52 tags
  refused(json::object{{"name", "many"}, {"tags", many}}, 400, "tags");
  refused(json::object{{"name", "long"}, {"tags", json::object{{"k", std::string(300, 'v')}}}}, 400,
          "tags.k");
  refused(json::object{{"name", "scoped"}, {"tags", json::object{{"scope", "user"}}}}, 400,
          "tags.scope");
  refused(json::object{{"name", "typed"}, {"tags", json::object{{"k", 1}}}}, 400, "tags.k");

  auto member = sign_in_member(server_->url(), owner(), "plainmember");
  EXPECT_EQ(member.request("GET", kKeys).status, 404);
  EXPECT_EQ(member.request_json("POST", kKeys, json::object{{"name", "mine"}}).status, 404);
  EXPECT_EQ(member.request("GET", kDaemons).status, 404);

  // What a daemon holding the key may read: its own key, with the header.
  sdk::Client daemon(server_->url());
  auto with_key = [](const std::string& k) {
    return std::vector<std::pair<std::string, std::string>>{{"Coder-Provisioner-Daemon-Key", k}};
  };
  auto own = daemon.request("GET", "/api/v2/provisionerkeys/" + secret, {}, with_key(secret));
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(str(obj(own).at("name")), "alpha");
  EXPECT_EQ(daemon.request("GET", "/api/v2/provisionerkeys/" + secret).status, 401);
  EXPECT_EQ(daemon.request("GET", "/api/v2/provisionerkeys/" + secret, {}, with_key("nope")).status,
            401);
  auto other = create_key("beta");
  EXPECT_EQ(daemon.request("GET", "/api/v2/provisionerkeys/" + other, {}, with_key(secret)).status,
            404);

  EXPECT_EQ(owner().request("DELETE", std::string(kKeys) + "/alpha").status, 204);
  EXPECT_EQ(owner().request("DELETE", std::string(kKeys) + "/alpha").status, 404);
  // A deleted key lets nothing in again, not even once the name is taken by a new key.
  auto again = create_key("alpha");
  EXPECT_NE(again, secret);
  EXPECT_EQ(daemon.request("GET", "/api/v2/provisionerkeys/" + secret, {}, with_key(secret)).status,
            401);
  auto acquire = daemon.request(
      "POST", "/api/v2/provisionerdaemons/jobs/acquire",
      json::serialize(json::object{{"daemon_id", Uuid::random_v4().to_string()}, {"name", "d"}}),
      with_key(secret));
  EXPECT_EQ(acquire.status, 401) << acquire.body;
}

// The protocol itself, spoken by hand: a daemon acts only on the jobs it holds, with its own
// key, and what it sends is checked.
TEST_F(ExternalProvisioners, ADaemonActsOnlyOnTheJobsItHolds) {
  auto key = create_key("hand");
  auto other_key = create_key("other");
  auto version = create_version(kPlainTemplate);
  sdk::Client client(server_->url());
  auto call = [&](const std::string& path, json::object body, const std::string& with) {
    return client.request(
        "POST", "/api/v2/provisionerdaemons/jobs/" + path, json::serialize(body),
        {{"Content-Type", "application/json"}, {"Coder-Provisioner-Daemon-Key", with}});
  };
  auto holder = Uuid::random_v4().to_string();
  auto acquired = call("acquire", json::object{{"daemon_id", holder}, {"name", "hand-1"}}, key);
  ASSERT_EQ(acquired.status, 200) << acquired.body;
  auto job = obj(acquired);
  auto job_id = str(job.at("id"));
  EXPECT_EQ(str(job.at("type")), "template_version_import");
  EXPECT_FALSE(str(job.at("archive")).empty());
  EXPECT_EQ(str(version_job(str(version.at("id"))).at("worker_name")), "hand-1");

  auto as_holder = [&](json::object extra = {}) {
    extra["daemon_id"] = holder;
    return extra;
  };
  EXPECT_EQ(
      call(job_id + "/logs",
           as_holder({{"logs", json::array{json::object{
                                   {"level", "info"}, {"stage", "Hand"}, {"output", "by hand"}}}}}),
           key)
          .status,
      204);
  auto beat = call(job_id + "/heartbeat", as_holder(), key);
  ASSERT_EQ(beat.status, 200) << beat.body;
  EXPECT_FALSE(obj(beat).at("canceled").as_bool());

  // Another daemon of the same key, registered by asking for work, holds nothing.
  auto stranger = Uuid::random_v4().to_string();
  auto idle = json::object{{"daemon_id", stranger}, {"name", "hand-2"}};
  EXPECT_EQ(call("acquire", idle, key).status, 204);
  auto stranger_fail =
      call(job_id + "/fail", json::object{{"daemon_id", stranger}, {"error", "x"}}, key);
  EXPECT_EQ(stranger_fail.status, 403) << stranger_fail.body;
  // The holder's id under another key is not the holder.
  EXPECT_EQ(
      call("acquire", json::object{{"daemon_id", holder}, {"name", "hand-1"}}, other_key).status,
      403);
  EXPECT_EQ(call(job_id + "/logs", as_holder({{"logs", json::array{}}}), other_key).status, 403);
  // Bad shapes are refused, naming the field.
  json::array too_many;
  for (int i = 0; i < 1001; ++i) too_many.push_back(json::object{{"output", "x"}});
  auto flood = call(job_id + "/logs", as_holder({{"logs", too_many}}), key);
  EXPECT_EQ(flood.status, 400);
  EXPECT_EQ(field_of(flood), "logs");
  auto wrong = call(job_id + "/complete", as_holder({{"build", json::object{}}}), key);
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(field_of(wrong), "import");
  auto malformed =
      call(job_id + "/complete", as_holder({{"import", json::object{{"parameters", "{"}}}}), key);
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(field_of(malformed), "import.parameters");

  auto done =
      call(job_id + "/complete", as_holder({{"import", json::object{{"readme", "# hi"}}}}), key);
  EXPECT_EQ(done.status, 204) << done.body;
  auto finished = version_job(str(version.at("id")));
  EXPECT_EQ(str(finished.at("status")), "succeeded");
  auto logs = owner().request("GET", "/api/v2/templateversions/" + str(version.at("id")) + "/logs");
  EXPECT_NE(logs.body.find("by hand"), std::string::npos) << logs.body;
  // The job ended: a heartbeat now says so, which tells a daemon to stop working on it.
  EXPECT_TRUE(obj(call(job_id + "/heartbeat", as_holder(), key)).at("canceled").as_bool());
}

TEST_F(ExternalProvisioners, BuildsWaitForAnExternalDaemonThatImportsBuildsAndStreamsLogs) {
  auto version = create_version(kPlainTemplate);
  auto vid = str(version.at("id"));
  // No daemon yet: the job waits, first in its queue, and no provisioner could take it.
  auto job = version.at("job").as_object();
  EXPECT_EQ(str(job.at("status")), "pending");
  EXPECT_EQ(job.at("queue_position").as_int64(), 1);
  EXPECT_EQ(version.at("matched_provisioners").as_object().at("count").as_int64(), 0);

  auto key = create_key("builders");
  auto daemon = start_daemon(key, "d1");
  owner().follow_websocket("/api/v2/templateversions/" + vid + "/logs?follow",
                           [](const std::string&) { return true; });
  job = version_job(vid);
  EXPECT_EQ(str(job.at("status")), "succeeded") << daemon->log();
  EXPECT_EQ(str(job.at("worker_name")), "d1");
  auto logs = owner().request("GET", "/api/v2/templateversions/" + vid + "/logs");
  EXPECT_NE(logs.body.find("Unpacking the template archive"), std::string::npos) << logs.body;

  auto created =
      owner().request_json("POST", "/api/v2/organizations/default/templates",
                           json::object{{"name", "plain"}, {"template_version_id", vid}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto first = start_workspace(str(obj(created).at("id")), "through-d1");
  auto build_id = str(first.at("id"));
  std::vector<std::string> streamed;
  owner().follow_websocket("/api/v2/workspacebuilds/" + build_id + "/logs?follow",
                           [&](const std::string& message) {
                             streamed.push_back(message);
                             return true;
                           });
  auto done = build(build_id);
  EXPECT_EQ(str(done.at("status")), "running") << daemon->log();
  EXPECT_EQ(str(done.at("job").as_object().at("worker_name")), "d1");
  std::string all;
  for (const auto& m : streamed) all += m;
  EXPECT_NE(all.find("Planning the start transition"), std::string::npos) << all;

  auto problems = swagger_problems("GET", "/organizations/{organization}/provisionerdaemons",
                                   owner().request("GET", kDaemons));
  EXPECT_TRUE(problems.empty()) << describe(problems);
  auto listed = daemon_named("d1");
  ASSERT_FALSE(listed.empty());
  EXPECT_EQ(str(listed.at("status")), "idle");
  EXPECT_EQ(str(listed.at("key_name")), "builders");
  EXPECT_EQ(str(listed.at("api_version")), "1.0");
  EXPECT_TRUE(listed.at("current_job").is_null());
  EXPECT_EQ(str(listed.at("previous_job").as_object().at("id")),
            str(done.at("job").as_object().at("id")));
  EXPECT_EQ(json::serialize(listed.at("tags")), R"({"owner":"","scope":"organization"})");
  EXPECT_EQ(daemon->stop(), 0) << daemon->log();
  // The daemon read its key (GET /provisionerkeys/{key}); the access log does not show it.
  EXPECT_EQ(server_->log().find(key), std::string::npos);
  EXPECT_NE(server_->log().find("/api/v2/provisionerkeys/[redacted]"), std::string::npos);
}

TEST_F(ExternalProvisioners, ATaggedJobWaitsForADaemonWithItsTags) {
  auto plain = start_daemon(create_key("plain"), "plain-daemon");
  auto prod_key = create_key("prod", json::object{{"env", "prod"}});
  auto version = create_version(kPlainTemplate, json::object{{"env", "prod"}});
  auto vid = str(version.at("id"));
  auto queued_at = parse_rfc3339(str(version.at("job").as_object().at("created_at")));
  // The plain daemon asks for work twice after the job was queued (the first ask surely
  // finished then) and leaves it.
  std::optional<TimePoint> seen;
  ASSERT_TRUE(wait_until(
      [&] {
        auto d = daemon_named("plain-daemon");
        auto at = d.empty() ? std::nullopt : parse_rfc3339(str(d.at("last_seen_at")));
        if (!at || at <= queued_at) return false;
        if (!seen) seen = at;
        return *at > *seen;
      },
      kLimit));
  auto job = version_job(vid);
  EXPECT_EQ(str(job.at("status")), "pending");
  EXPECT_EQ(job.at("queue_position").as_int64(), 1);

  // A key's tags are fixed: a daemon asking for others is refused.
  auto [code, err] = run_berth({"provisionerd", "start", "--url", server_->url(), "--key", prod_key,
                                "--tag", "env=dev", "--data-dir", dir_.file("refused")});
  EXPECT_NE(code, 0);
  EXPECT_NE(err.find("env=prod"), std::string::npos) << err;

  auto prod = start_daemon(prod_key, "prod-daemon", {"--tag", "env=prod"});
  owner().follow_websocket("/api/v2/templateversions/" + vid + "/logs?follow",
                           [](const std::string&) { return true; });
  job = version_job(vid);
  EXPECT_EQ(str(job.at("status")), "succeeded") << prod->log();
  EXPECT_EQ(str(job.at("worker_name")), "prod-daemon");
  EXPECT_EQ(json::serialize(daemon_named("prod-daemon").at("tags")),
            R"({"env":"prod","owner":"","scope":"organization"})");
}

TEST_F(ExternalProvisioners, CancelReachesTheDaemonWhichShowsBusyMeanwhile) {
  auto daemon = start_daemon(create_key("cancels"), "d1");
  auto gate = gate_dir();
  auto template_id = push_gated(gate);
  hold(gate);
  auto first = start_workspace(template_id, "held");
  auto build_id = str(first.at("id"));
  auto job_id = str(first.at("job").as_object().at("id"));
  ASSERT_TRUE(wait_until([&] { return fs::exists(gate + "/entered"); }, kLimit)) << daemon->log();
  auto busy = daemon_named("d1");
  EXPECT_EQ(str(busy.at("status")), "busy");
  EXPECT_EQ(str(busy.at("current_job").as_object().at("id")), job_id);
  EXPECT_EQ(str(busy.at("current_job").as_object().at("template_name")), "gated");

  auto cancel = owner().request("PATCH", "/api/v2/workspacebuilds/" + build_id + "/cancel");
  EXPECT_EQ(cancel.status, 200) << cancel.body;
  ASSERT_TRUE(wait_until(
      [&] { return daemon->log().find("job " + job_id + ": canceled") != std::string::npos; },
      kLimit))
      << daemon->log();
  release(gate);
  follow_build(build_id);
  auto job = build(build_id).at("job").as_object();
  EXPECT_EQ(str(job.at("error")), "canceled");
  EXPECT_TRUE(job.contains("canceled_at"));
  EXPECT_EQ(str(daemon_named("d1").at("status")), "idle");
}

TEST_F(ExternalProvisioners, ADaemonKeepsWorkingThroughAServerRestart) {
  auto daemon = start_daemon(create_key("steady"), "d1");
  server_->kill_and_restart();
  owner_ = std::make_unique<sdk::Client>(sign_in_owner_again(server_->url()));
  auto version = create_version(kPlainTemplate);
  auto vid = str(version.at("id"));
  owner().follow_websocket("/api/v2/templateversions/" + vid + "/logs?follow",
                           [](const std::string&) { return true; });
  auto job = version_job(vid);
  EXPECT_EQ(str(job.at("status")), "succeeded") << daemon->log();
  EXPECT_EQ(str(job.at("worker_name")), "d1");
}

// A service manager stops the daemon (SIGTERM) while it builds: the build finishes and is
// recorded, then the daemon exits.
TEST_F(ExternalProvisioners, SigtermLetsTheRunningBuildFinish) {
  auto daemon = start_daemon(create_key("graceful"), "graceful");
  auto gate = gate_dir();
  auto template_id = push_gated(gate);
  hold(gate);
  auto first = start_workspace(template_id, "finished-anyway");
  auto build_id = str(first.at("id"));
  ASSERT_TRUE(wait_until([&] { return fs::exists(gate + "/entered"); }, kLimit)) << daemon->log();
  int exit_code = -1;
  std::thread stopper([&] { exit_code = daemon->stop(); });
  EXPECT_TRUE(wait_until(
      [&] { return daemon->log().find("received SIGTERM") != std::string::npos; }, kLimit));
  release(gate);
  stopper.join();
  EXPECT_EQ(exit_code, 0) << daemon->log();
  auto done = build(build_id);
  EXPECT_EQ(str(done.at("status")), "running") << daemon->log();
  EXPECT_EQ(str(done.at("job").as_object().at("status")), "succeeded");
}

TEST_F(ExternalProvisioners, AKilledDaemonsBuildIsFailedByTheReaperAndTheWorkspaceBuildsAgain) {
  auto key = create_key("mortal");
  auto daemon = start_daemon(key, "doomed");
  auto gate = gate_dir();
  auto template_id = push_gated(gate);
  hold(gate);
  auto first = start_workspace(template_id, "orphaned");
  auto build_id = str(first.at("id"));
  ASSERT_TRUE(wait_until([&] { return fs::exists(gate + "/entered"); }, kLimit)) << daemon->log();
  EXPECT_EQ(str(build(build_id).at("status")), "starting");
  daemon->kill();
  release(gate);  // the daemon's orphaned gate program may end now

  ASSERT_TRUE(wait_until([&] { return str(build(build_id).at("status")) == "failed"; }, kLimit))
      << server_->log();
  auto error = str(build(build_id).at("job").as_object().at("error"));
  EXPECT_NE(error.find("hung"), std::string::npos) << error;
  EXPECT_NE(error.find("\"doomed\""), std::string::npos) << error;

  auto successor = start_daemon(key, "successor");
  auto ws_id = workspaces_.back();
  auto again = owner().request_json("POST", "/api/v2/workspaces/" + ws_id + "/builds",
                                    json::object{{"transition", "start"}});
  ASSERT_EQ(again.status, 201) << again.body;
  auto again_id = str(obj(again).at("id"));
  follow_build(again_id);
  auto rebuilt = build(again_id);
  EXPECT_EQ(str(rebuilt.at("status")), "running") << successor->log();
  EXPECT_EQ(str(rebuilt.at("job").as_object().at("worker_name")), "successor");
}

}  // namespace
}  // namespace berth::testing
