// What agents report besides their lifecycle (stats: round trip, version, platform), and the
// schedule bounds stats feed (quiet hours, the template's autostop requirement), against the
// real binary with a real agent.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "integration/workspace_fixture.hpp"
#include "sdk/websocket.hpp"

namespace berth::testing {
namespace {

using namespace std::chrono;

constexpr const char* kAgentTemplate = R"(
data "coder_workspace" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  dir  = "/tmp"
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
}
)";

constexpr const char* kNoProcessTemplate = R"(
data "coder_workspace" "me" {}
resource "null_resource" "box" {}
)";

// Agents report stats every 200 ms; every user's quiet hours default to 03:00 in Tokyo.
class AgentStatsApi : public WorkspaceFixture {
 protected:
  AgentStatsApi()
      : WorkspaceFixture({"--agent-stats-refresh-interval", "200ms",
                          "--default-quiet-hours-schedule", "CRON_TZ=Asia/Tokyo 0 3 * * *"}) {}

  json::object create_workspace(const std::string& template_id, const std::string& name,
                                std::int64_t ttl_ms) {
    return create_workspace_from(template_id, name, json::object{{"ttl_ms", ttl_ms}});
  }
};

TEST_F(AgentStatsApi, TheAgentReportsItsRoundTripVersionAndPlatform) {
  auto ws = create_workspace(push_template(kAgentTemplate, "stats"), "stats", 3'600'000);
  std::string agent_id;
  for (const auto& r : ws.at("latest_build").as_object().at("resources").as_array())
    for (const auto& a : r.as_object().at("agents").as_array())
      agent_id = str(a.as_object().at("id"));
  ASSERT_FALSE(agent_id.empty());
  // The agent measures its first round trip on connect and reports it every 200 ms.
  json::object agent;
  auto limit = steady_clock::now() + seconds(60);
  while (steady_clock::now() < limit) {
    agent = obj(owner().request("GET", "/api/v2/workspaceagents/" + agent_id));
    if (agent.at("latency").as_object().contains("berth")) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(agent.at("latency").as_object().contains("berth")) << json::serialize(agent);
  const auto& berth = agent.at("latency").as_object().at("berth").as_object();
  EXPECT_TRUE(berth.at("preferred").as_bool());
  EXPECT_GE(berth.at("latency_ms").to_number<double>(), 0.0);
  EXPECT_LT(berth.at("latency_ms").to_number<double>(), 10'000.0);
  EXPECT_EQ(str(agent.at("version")).rfind("v", 0), 0u) << json::serialize(agent);
  EXPECT_EQ(str(agent.at("operating_system")), "linux");
  EXPECT_EQ(str(agent.at("architecture")), "amd64");
  // No session is open, so the reports are not use of the workspace.
  auto again = obj(owner().request("GET", "/api/v2/workspaces/" + str(ws.at("id"))));
  EXPECT_EQ(again.at("last_used_at"), ws.at("last_used_at"));
}

TEST_F(AgentStatsApi, AnOpenTerminalKeepsTheWorkspaceRunning) {
  // A one-minute TTL; the template's activity bump is Coder's default hour.
  auto ws = create_workspace(push_template(kAgentTemplate, "busy"), "busy", 60'000);
  auto workspace_id = str(ws.at("id"));
  std::string agent_id;
  for (const auto& r : ws.at("latest_build").as_object().at("resources").as_array())
    for (const auto& a : r.as_object().at("agents").as_array())
      agent_id = str(a.as_object().at("id"));
  ASSERT_FALSE(agent_id.empty());
  auto deadline_of = [&](const json::object& w) {
    return parse_rfc3339(str(w.at("latest_build").as_object().at("deadline")));
  };
  auto first_deadline = deadline_of(ws);
  ASSERT_TRUE(first_deadline);
  auto used_before = parse_rfc3339(str(ws.at("last_used_at")));

  auto connected = steady_clock::now() + seconds(60);
  while (steady_clock::now() < connected &&
         str(obj(owner().request("GET", "/api/v2/workspaceagents/" + agent_id)).at("status")) !=
             "connected")
    std::this_thread::sleep_for(milliseconds(100));
  // A terminal is a reconnecting-PTY session; the agent counts it in its next report.
  auto pty = owner().open_websocket("/api/v2/workspaceagents/" + agent_id + "/pty?reconnect=" +
                                    Uuid::random_v4().to_string() + "&width=80&height=24");
  ASSERT_TRUE(pty->send(json::serialize(json::object{{"data", "echo on\r"}})));
  json::object now;
  auto limit = steady_clock::now() + seconds(60);
  while (steady_clock::now() < limit) {
    now = obj(owner().request("GET", "/api/v2/workspaces/" + workspace_id));
    if (*deadline_of(now) > *first_deadline + minutes(30)) break;
    pty->read(milliseconds(100));
  }
  EXPECT_GT(*deadline_of(now), *first_deadline + minutes(30)) << json::serialize(now);
  EXPECT_GT(parse_rfc3339(str(now.at("last_used_at"))), used_before);
}

TEST_F(AgentStatsApi, QuietHoursAreTheDeploymentDefaultUntilTheUserSetsTheirOwn) {
  auto q = owner().request("GET", "/api/v2/users/me/quiet-hours");
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(str(obj(q).at("raw_schedule")), "CRON_TZ=Asia/Tokyo 0 3 * * *");
  EXPECT_FALSE(obj(q).at("user_set").as_bool());
  EXPECT_TRUE(obj(q).at("user_can_set").as_bool());
  EXPECT_EQ(str(obj(q).at("time")), "03:00");
  EXPECT_EQ(str(obj(q).at("timezone")), "Asia/Tokyo");
  EXPECT_TRUE(obj(q).at("next").is_string());

  auto weekly = owner().request_json("PUT", "/api/v2/users/me/quiet-hours",
                                     json::object{{"schedule", "0 2 * * 1-5"}});
  EXPECT_EQ(weekly.status, 400) << weekly.body;
  EXPECT_EQ(str(obj(weekly).at("validations").as_array().at(0).as_object().at("field")),
            "schedule");
  auto missing = owner().request_json("PUT", "/api/v2/users/me/quiet-hours", json::object{});
  EXPECT_EQ(missing.status, 400) << missing.body;

  auto set = owner().request_json("PUT", "/api/v2/users/me/quiet-hours",
                                  json::object{{"schedule", "CRON_TZ=Europe/Berlin 30 2 * * *"}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_TRUE(obj(set).at("user_set").as_bool());
  EXPECT_EQ(str(obj(set).at("time")), "02:30");
  EXPECT_EQ(str(obj(set).at("timezone")), "Europe/Berlin");
  EXPECT_EQ(str(obj(owner().request("GET", "/api/v2/users/me/quiet-hours")).at("raw_schedule")),
            "CRON_TZ=Europe/Berlin 30 2 * * *");

  // Another member can neither see nor change the owner's.
  auto member = sign_in_member(server_->url(), owner(), "member");
  EXPECT_EQ(member.request("GET", "/api/v2/users/owner/quiet-hours").status, 404);
  EXPECT_EQ(member
                .request_json("PUT", "/api/v2/users/owner/quiet-hours",
                              json::object{{"schedule", "0 4 * * *"}})
                .status,
            404);
}

TEST_F(AgentStatsApi, TheTemplatesAutostopRequirementBoundsTheDeadline) {
  json::array every_day{"monday", "tuesday",  "wednesday", "thursday",
                        "friday", "saturday", "sunday"};
  auto tid = push_template(kNoProcessTemplate, "required",
                           json::object{{"autostop_requirement",
                                         json::object{{"days_of_week", every_day}, {"weeks", 1}}}});
  auto before = system_clock::now();
  // A 7-day TTL: the next quiet hours (03:00 Tokyo, at most a day and 2 hours away) win.
  auto ws = create_workspace(tid, "required", 7 * 24 * 3'600'000LL);
  const auto& build = ws.at("latest_build").as_object();
  ASSERT_TRUE(build.at("max_deadline").is_string()) << json::serialize(build);
  auto max_deadline = parse_rfc3339(str(build.at("max_deadline")));
  ASSERT_TRUE(max_deadline);
  EXPECT_GE(*max_deadline, before + minutes(59));
  EXPECT_LE(*max_deadline, before + hours(27));
  EXPECT_EQ(build.at("deadline"), build.at("max_deadline"));
  // Extending past it is refused.
  auto extend =
      owner().request_json("PUT", "/api/v2/workspaces/" + str(ws.at("id")) + "/extend",
                           json::object{{"deadline", format_rfc3339(*max_deadline + hours(1))}});
  EXPECT_EQ(extend.status, 400) << extend.body;
  EXPECT_EQ(message_of(extend), "Cannot extend workspace beyond max deadline.");
}

}  // namespace
}  // namespace berth::testing
