// Two `berth server` replicas on one PostgreSQL database: what one of them changes reaches
// the watchers, log streams and session caches of the other through LISTEN/NOTIFY. Only the
// suite's PostgreSQL variant (postgres.*) runs these.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
#include "support/tar_builder.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace berth::testing {
namespace {

// A workspace without processes: its builds run quickly and leave nothing behind.
constexpr const char* kTemplate = R"(
data "coder_workspace" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}
)";

// Generous for a busy 2-core machine; a pass takes well under a second a step.
constexpr auto kIdleTimeout = std::chrono::seconds(30);

json::object obj(const sdk::HttpResponse& r) {
  return r.json().as_object();
}
std::string str(const json::value& v) {
  return std::string(v.as_string());
}

// Replica A runs the provisioner daemons, B none: B's watchers and log streams learn of a
// build's progress only from A's notifications.
class Replicas : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!on_postgres()) GTEST_SKIP() << "needs PostgreSQL";
    auto url = postgres_database_for(dir_a_.path().string());
    a_ = std::make_unique<ServerProcess>(dir_a_.path().string(),
                                         std::vector<std::string>{"--postgres-url", url});
    b_ = std::make_unique<ServerProcess>(
        dir_b_.path().string(),
        std::vector<std::string>{"--postgres-url", url, "--provisioner-daemons", "0"});
    on_a_ = std::make_unique<sdk::Client>(sign_in_owner(a_->url()));
    // The session made through A works on B: the same database.
    on_b_ = std::make_unique<sdk::Client>(b_->url());
    on_b_->set_session_token(on_a_->session_token());
  }

  void TearDown() override {
    // The servers' logs say why when a step timed out.
    if (HasFailure() && a_ && b_) {
      std::fprintf(stderr, "--- replica A ---\n%s\n", a_->log().c_str());
      std::fprintf(stderr, "--- replica B ---\n%s\n", b_->log().c_str());
    }
  }

  // Uploads and imports kTemplate through A while B follows the import's logs to their end;
  // creates the template through A; returns its id.
  std::string push_template_following_on_b() {
    auto upload = on_a_->request("POST", "/api/v2/files", make_tar({{"main.tf", kTemplate, ""}}),
                                 {{"Content-Type", "application/x-tar"}});
    EXPECT_EQ(upload.status, 201) << upload.body;
    auto version = obj(on_a_->request_json("POST", "/api/v2/organizations/default/templateversions",
                                           json::object{{"storage_method", "file"},
                                                        {"provisioner", "terraform"},
                                                        {"file_id", obj(upload).at("hash")}}));
    auto vid = str(version.at("id"));
    // Ends only once B learns that the job ended (it may also have ended already).
    EXPECT_TRUE(on_b_->follow_websocket(
        "/api/v2/templateversions/" + vid + "/logs?follow", [](const std::string&) { return true; },
        kIdleTimeout));
    auto read = obj(on_b_->request("GET", "/api/v2/templateversions/" + vid));
    EXPECT_EQ(str(read.at("job").as_object().at("status")), "succeeded");
    auto created =
        on_a_->request_json("POST", "/api/v2/organizations/default/templates",
                            json::object{{"name", "replicated"}, {"template_version_id", vid}});
    EXPECT_EQ(created.status, 201) << created.body;
    return str(obj(created).at("id"));
  }

  TempDir dir_a_;
  TempDir dir_b_;
  std::unique_ptr<ServerProcess> a_;
  std::unique_ptr<ServerProcess> b_;
  std::unique_ptr<sdk::Client> on_a_;
  std::unique_ptr<sdk::Client> on_b_;
};

// Builds a workspace through `client` and waits, on the same replica, for its build to end.
std::string create_workspace(sdk::Client& client, const std::string& template_id,
                             const std::string& name) {
  auto created = client.request_json("POST", "/api/v2/users/me/workspaces",
                                     json::object{{"name", name}, {"template_id", template_id}});
  EXPECT_EQ(created.status, 201) << created.body;
  auto build = str(obj(created).at("latest_build").as_object().at("id"));
  EXPECT_TRUE(client.follow_websocket(
      "/api/v2/workspacebuilds/" + build + "/logs?follow", [](const std::string&) { return true; },
      kIdleTimeout));
  return str(obj(created).at("id"));
}

TEST_F(Replicas, AWatcherOnOneReplicaSeesTheFinalStateOfABuildRunByTheOther) {
  auto template_id = push_template_following_on_b();
  auto id = create_workspace(*on_a_, template_id, "shared");

  // Watch through B; once the first snapshot is in, change the workspace and stop it
  // through A. B re-reads only when told: the final state arrives only by notification.
  std::jthread changer;  // joined however the watch ends
  bool started = false;
  bool saw_ttl = false;
  std::string last_status;
  bool ended_by_us = !on_b_->follow_websocket(
      "/api/v2/workspaces/" + id + "/watch-ws",
      [&](const std::string& m) {
        auto event = json::parse(m).as_object();
        if (str(event.at("type")) != "data") return true;
        const auto& ws = event.at("data").as_object();
        if (!started) {
          started = true;
          EXPECT_EQ(str(ws.at("latest_build").as_object().at("status")), "running");
          changer = std::jthread([&] {
            sdk::Client a(a_->url());
            a.set_session_token(on_a_->session_token());
            a.request_json("PUT", "/api/v2/workspaces/" + id + "/ttl",
                           json::object{{"ttl_ms", 7200000}});
            auto stop = a.request_json("POST", "/api/v2/workspaces/" + id + "/builds",
                                       json::object{{"transition", "stop"}});
            EXPECT_EQ(stop.status, 201) << stop.body;
          });
          return true;
        }
        saw_ttl = saw_ttl || (ws.at("ttl_ms").is_int64() && ws.at("ttl_ms").as_int64() == 7200000);
        const auto& build = ws.at("latest_build").as_object();
        last_status = str(build.at("status"));
        // Seen through B: the stop build, run by A, finished.
        return !(str(build.at("transition")) == "stop" && last_status == "stopped");
      },
      kIdleTimeout);
  if (changer.joinable()) changer.join();
  EXPECT_TRUE(ended_by_us) << "the watch ended before the workspace stopped";
  EXPECT_TRUE(saw_ttl);
  EXPECT_EQ(last_status, "stopped");
}

// B has no daemons: every build requested through it runs on A, woken by B's "job posted".
// That notification used to leave inside the creating transaction, before the job was
// committed, and A's claim could then run twice and drop the job (both fixed: notifications
// wait for the commit, and the claim runs once).
TEST_F(Replicas, ABuildRequestedOnOneReplicaRunsOnTheOther) {
  auto template_id = push_template_following_on_b();
  for (int i = 0; i < 5; ++i)
    create_workspace(*on_b_, template_id, "through-b-" + std::to_string(i));
}

TEST_F(Replicas, ASessionSignedOutOnOneReplicaEndsOnTheOther) {
  ASSERT_EQ(on_b_->request("GET", "/api/v2/users/me").status, 200);  // cached on B now
  ASSERT_EQ(on_a_->request("POST", "/api/v2/users/logout").status, 200);
  // B drops its cached session when A's notification arrives: soon, not necessarily before
  // the next request.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int status = 0;
  while ((status = on_b_->request("GET", "/api/v2/users/me").status) == 200 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(status, 401);
}

}  // namespace
}  // namespace berth::testing
