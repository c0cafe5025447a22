#include "sdk/workspaces.hpp"

#include <gtest/gtest.h>

namespace berth::sdk {
namespace {

TimePoint at(const char* text) {
  return *parse_rfc3339(text);
}

Uuid id(int n) {
  return *Uuid::parse("7f0f4f1e-1111-4c8e-9f59-00000000000" + std::to_string(n));
}

WorkspaceAgent make_agent() {
  WorkspaceAgent a;
  // The build's definition, with a key the live fields overwrite in place ("status").
  a.definition = json::object{{"architecture", "amd64"},
                              {"status", "connecting"},
                              {"apps", json::array{json::object{{"slug", "code"}}}},
                              {"connection_timeout_seconds", 120}};
  a.id = id(3);
  a.name = "main";
  a.resource_id = id(2);
  a.created_at = at("2025-01-02T03:04:05Z");
  a.updated_at = at("2025-01-02T03:05:05Z");
  a.status = WorkspaceAgentStatus::connected;
  a.lifecycle_state = WorkspaceAgentLifecycle::ready;
  a.first_connected_at = at("2025-01-02T03:04:10Z");
  a.last_connected_at = at("2025-01-02T03:05:00Z");
  a.started_at = at("2025-01-02T03:04:11Z");
  a.ready_at = at("2025-01-02T03:04:12Z");
  a.version = "v2.20.0";
  a.api_version = "2.3";
  a.expanded_directory = "/home/coder";
  a.logs_length = 42;
  a.health = {false, "agent is shutting down"};
  a.latency_ms = 1.5;
  a.log_sources = json::array{json::object{{"id", id(4).to_string()}, {"display_name", "x"}}};
  return a;
}

Workspace make_workspace() {
  ProvisionerJob job;
  job.id = id(5);
  job.created_at = at("2025-01-02T03:00:00Z");
  job.started_at = at("2025-01-02T03:00:01Z");
  job.completed_at = at("2025-01-02T03:00:09Z");
  job.status = ProvisionerJobStatus::succeeded;
  job.file_id = id(6);
  job.tags = json::object{{"scope", "organization"}, {"owner", ""}};
  job.organization_id = id(7);
  job.initiator_id = id(8);
  job.type = "workspace_build";
  job.input.workspace_build_id = id(9).to_string();
  job.metadata.workspace_id = id(1);
  job.metadata.workspace_name = "dev";
  job.metadata.template_name = "docker";

  WorkspaceResource resource;
  resource.id = id(2);
  resource.created_at = at("2025-01-02T03:00:09Z");
  resource.job_id = job.id;
  resource.workspace_transition = WorkspaceTransition::start;
  resource.type = "docker_container";
  resource.name = "dev";
  resource.agents = {make_agent()};
  resource.metadata = json::array{json::object{{"key", "image"}, {"value", "ubuntu"}}};

  WorkspaceBuild build;
  build.id = id(9);
  build.created_at = build.updated_at = at("2025-01-02T03:00:00Z");
  build.workspace_id = id(1);
  build.workspace_name = "dev";
  build.workspace_owner_id = id(8);
  build.workspace_owner_name = "alice";
  build.template_version_id = id(0);
  build.template_version_name = "v1";
  build.build_number = 3;
  build.transition = WorkspaceTransition::start;
  build.initiator_id = id(8);
  build.initiator_name = "alice";
  build.job = job;
  build.reason = "initiator";
  build.resources = {resource};
  build.deadline = at("2025-01-02T11:00:00Z");
  build.status = WorkspaceStatus::running;
  build.matched_provisioners = {1, 1, at("2025-01-02T03:00:00Z")};

  Workspace w;
  w.id = id(1);
  w.created_at = w.updated_at = at("2025-01-01T00:00:00Z");
  w.owner_id = id(8);
  w.owner_name = "alice";
  w.organization_id = id(7);
  w.organization_name = "coder";
  w.template_id = id(0);
  w.template_name = "docker";
  w.template_active_version_id = id(0);
  w.latest_build = build;
  w.name = "dev";
  w.autostart_schedule = "CRON_TZ=UTC 30 9 * * 1-5";
  w.ttl_ms = 28'800'000;
  w.last_used_at = at("2025-01-02T03:05:00Z");
  w.health = {false, {id(3)}};
  w.favorite = true;
  return w;
}

TEST(SdkWorkspace, ToJsonFromJsonRoundTripsByteForByte) {
  auto w = make_workspace();
  auto first = json::serialize(to_json(w));
  auto parsed = workspace_from_json(json::parse(first));
  EXPECT_EQ(json::serialize(to_json(parsed)), first);

  EXPECT_EQ(parsed.id, w.id);
  EXPECT_EQ(parsed.ttl_ms, w.ttl_ms);
  EXPECT_EQ(parsed.autostart_schedule, w.autostart_schedule);
  EXPECT_EQ(parsed.health.failing_agents, w.health.failing_agents);
  ASSERT_TRUE(parsed.latest_build);
  const auto& b = *parsed.latest_build;
  EXPECT_EQ(b.status, WorkspaceStatus::running);
  EXPECT_EQ(b.transition, WorkspaceTransition::start);
  EXPECT_EQ(b.deadline, w.latest_build->deadline);
  ASSERT_TRUE(b.job);
  EXPECT_EQ(b.job->status, ProvisionerJobStatus::succeeded);
  EXPECT_EQ(b.job->input.workspace_build_id, id(9).to_string());
  EXPECT_EQ(b.job->metadata.workspace_id, id(1));
  ASSERT_EQ(b.resources.size(), 1u);
  ASSERT_EQ(b.resources[0].agents.size(), 1u);
  const auto& a = b.resources[0].agents[0];
  EXPECT_EQ(a.status, WorkspaceAgentStatus::connected);
  EXPECT_EQ(a.lifecycle_state, WorkspaceAgentLifecycle::ready);
  EXPECT_EQ(a.latency_ms, 1.5);
  EXPECT_EQ(a.health.reason, "agent is shutting down");
  EXPECT_EQ(a.definition.at("architecture"), "amd64");
}

TEST(SdkWorkspace, AgentLiveFieldsOverwriteTheDefinitionInPlace) {
  auto out = to_json(make_agent()).as_object();
  auto it = out.begin();
  EXPECT_EQ(it->key(), "architecture");
  EXPECT_EQ((++it)->key(), "status");  // where the build put it, with the live value
  EXPECT_EQ(out.at("status"), "connected");
  EXPECT_EQ(out.at("lifecycle_state"), "ready");
  EXPECT_FALSE(out.at("health").as_object().at("healthy").as_bool());
}

TEST(SdkWorkspace, AgentShowsOnlyCodersFieldsAndNoEnvValues) {
  auto a = make_agent();
  a.definition["environment_variables"] = json::object{{"API_KEY", "s3cret"}};
  a.definition["scripts"] = json::array{json::object{{"script", "echo hi"}}};
  // Berth's own bookkeeping in the build's definition.
  a.definition["metadata"] = json::array{json::object{{"key", "load"}}};
  a.definition["motd_file"] = "/etc/motd";
  a.definition["order"] = 3;
  auto out = to_json(a).as_object();
  EXPECT_EQ(out.at("environment_variables"), json::object{});
  EXPECT_EQ(json::serialize(out).find("s3cret"), std::string::npos);
  // Coder's WorkspaceAgentScript carries the script itself.
  EXPECT_EQ(out.at("scripts").as_array()[0].as_object().at("script"), "echo hi");
  for (const char* key : {"metadata", "motd_file", "order"}) EXPECT_FALSE(out.contains(key)) << key;
}

TEST(SdkWorkspace, ProvisionerJobLeavesOutEmptyOptionalFields) {
  ProvisionerJob job;
  job.status = ProvisionerJobStatus::pending;
  auto out = to_json(job).as_object();
  for (const char* key : {"started_at", "completed_at", "canceled_at", "error", "error_code",
                          "worker_id", "worker_name"})
    EXPECT_FALSE(out.contains(key)) << key;
  EXPECT_EQ(out.at("status"), "pending");
  EXPECT_TRUE(out.at("input").as_object().empty());
}

TEST(SdkWorkspace, UnknownEnumStringsParseToDefaults) {
  auto w = workspace_from_json(
      json::parse(R"({"latest_build":{"status":"exploded","transition":"fly","resources":[]}})"));
  ASSERT_TRUE(w.latest_build);
  EXPECT_EQ(w.latest_build->status, WorkspaceStatus::pending);
  EXPECT_EQ(w.latest_build->transition, WorkspaceTransition::start);
}

}  // namespace
}  // namespace berth::sdk
