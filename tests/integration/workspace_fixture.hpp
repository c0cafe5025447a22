#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
#include "support/tar_builder.hpp"
#include "support/temp_dir.hpp"

namespace berth::testing {

inline json::object obj(const sdk::HttpResponse& r) {
  return r.json().as_object();
}
inline std::string str(const json::value& v) {
  return std::string(v.as_string());
}

// A real `berth server` with a signed-in owner, and the steps of tests whose workspaces run
// real agents: push a template, build a workspace, wait for its agent. Workspaces still
// running at the end are stopped, so no agent outlives its test.
class WorkspaceFixture : public ::testing::Test {
 protected:
  explicit WorkspaceFixture(std::vector<std::string> server_args = {})
      : server_(std::make_unique<ServerProcess>(dir_.path().string(), std::move(server_args))) {}

  void SetUp() override { owner_ = std::make_unique<sdk::Client>(sign_in_owner(server_->url())); }

  void TearDown() override {
    for (const auto& id : running_) {
      auto b = owner().request_json("POST", "/api/v2/workspaces/" + id + "/builds",
                                    json::object{{"transition", "stop"}});
      if (b.status == 201) follow_build(str(obj(b).at("id")));
    }
  }

  sdk::Client& owner() { return *owner_; }

  // Uploads, imports and publishes `main_tf` as template `name` (`settings`: more fields of
  // the create request); returns the template id.
  std::string push_template(const std::string& main_tf, const std::string& name,
                            json::object settings = {}) {
    auto upload = owner().request("POST", "/api/v2/files", make_tar({{"main.tf", main_tf, ""}}),
                                  {{"Content-Type", "application/x-tar"}});
    auto file = str(obj(upload).at("hash"));
    auto version = obj(owner().request_json(
        "POST", "/api/v2/organizations/default/templateversions",
        json::object{{"storage_method", "file"}, {"provisioner", "terraform"}, {"file_id", file}}));
    auto vid = str(version.at("id"));
    owner().follow_websocket("/api/v2/templateversions/" + vid + "/logs?follow",
                             [](const std::string&) { return true; });
    settings["name"] = name;
    settings["template_version_id"] = vid;
    auto created =
        owner().request_json("POST", "/api/v2/organizations/default/templates", settings);
    EXPECT_EQ(created.status, 201) << created.body;
    return str(obj(created).at("id"));
  }

  void follow_build(const std::string& build_id) {
    owner().follow_websocket("/api/v2/workspacebuilds/" + build_id + "/logs?follow",
                             [](const std::string&) { return true; });
  }

  // A workspace of the owner from `template_id` (`extra`: more fields of the request), its
  // build done; returns the workspace as read afterwards.
  json::object create_workspace_from(const std::string& template_id, const std::string& name,
                                     json::object extra = {}) {
    extra["name"] = name;
    extra["template_id"] = template_id;
    auto r = owner().request_json("POST", "/api/v2/users/me/workspaces", extra);
    EXPECT_EQ(r.status, 201) << r.body;
    auto ws = obj(r);
    follow_build(str(ws.at("latest_build").as_object().at("id")));
    running_.push_back(str(ws.at("id")));
    return obj(owner().request("GET", "/api/v2/workspaces/" + str(ws.at("id"))));
  }

  // A workspace from a new template of the same name.
  json::object create_workspace(const std::string& main_tf, const std::string& name) {
    return create_workspace_from(push_template(main_tf, name), name);
  }

  // Builds `to` and waits for it; the workspace process is gone once a stop ends.
  void transition(const std::string& workspace_id, const std::string& to) {
    auto b = owner().request_json("POST", "/api/v2/workspaces/" + workspace_id + "/builds",
                                  json::object{{"transition", to}});
    ASSERT_EQ(b.status, 201) << b.body;
    follow_build(str(obj(b).at("id")));
    if (to != "start") std::erase(running_, workspace_id);
  }

  static std::string agent_id_of(const json::object& ws) {
    for (const auto& r : ws.at("latest_build").as_object().at("resources").as_array())
      for (const auto& a : r.as_object().at("agents").as_array())
        return str(a.as_object().at("id"));
    ADD_FAILURE() << "the workspace has no agent";
    return "";
  }

  json::object agent(const std::string& id) {
    auto r = owner().request("GET", "/api/v2/workspaceagents/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return obj(r);
  }

  // Waits, woken by the workspace's watch stream (every agent change publishes it), until
  // `done(agent)` holds; fails after `limit`. Re-subscribes if the server restarts.
  json::object wait_agent(const std::string& workspace_id, const std::string& agent_id,
                          const std::function<bool(const json::object&)>& done,
                          std::chrono::seconds limit = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    sdk::Client watcher(server_->url());
    watcher.set_session_token(owner().session_token());
    json::object last;
    bool met = false;
    while (!met && std::chrono::steady_clock::now() < deadline) {
      try {
        watcher.follow_websocket(
            "/api/v2/workspaces/" + workspace_id + "/watch-ws",
            [&](const std::string&) {
              last = agent(agent_id);
              met = done(last);
              return !met && std::chrono::steady_clock::now() < deadline;
            },
            std::chrono::seconds(30));
      } catch (const std::exception&) {
        // The server went away mid-watch (a restart test); watch again.
      }
    }
    EXPECT_TRUE(met) << "agent never reached the state; last seen: " << json::serialize(last);
    return last;
  }

  std::vector<std::string> log_lines(const std::string& agent_id) {
    auto r = owner().request("GET", "/api/v2/workspaceagents/" + agent_id + "/logs");
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    auto logs = r.json();
    for (const auto& l : logs.as_array()) out.push_back(str(l.as_object().at("output")));
    return out;
  }

  static bool ready(const json::object& a) {
    return str(a.at("status")) == "connected" && str(a.at("lifecycle_state")) == "ready";
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<sdk::Client> owner_;
  std::vector<std::string> running_;
};

}  // namespace berth::testing
