// The agent protocol's framing, backoff and report queue.
#include <gtest/gtest.h>

#include "agent/backoff.hpp"
#include "agent/outbox.hpp"
#include "agent/script_runner.hpp"
#include "sdk/agent_protocol.hpp"

namespace berth::agent {
namespace {

namespace proto = sdk::agentproto;
using Kind = proto::Message::Kind;
using namespace std::chrono;

TEST(AgentProtocol, RoundTripsRequestsResultsAndErrors) {
  auto req = proto::parse_message(
      proto::encode_request(7, "update_lifecycle", json::object{{"state", "ready"}}));
  EXPECT_EQ(req.kind, Kind::request);
  EXPECT_EQ(req.id, 7);
  EXPECT_EQ(req.method, "update_lifecycle");
  EXPECT_EQ(req.params.at("state").as_string(), "ready");

  auto res = proto::parse_message(proto::encode_result(7, json::object{{"ok", true}}));
  EXPECT_EQ(res.kind, Kind::response);
  EXPECT_TRUE(res.result.as_object().at("ok").as_bool());

  auto err = proto::parse_message(proto::encode_error(8, "too_large", "Logs limit exceeded"));
  EXPECT_EQ(err.kind, Kind::error);
  EXPECT_EQ(err.id, 8);
  EXPECT_EQ(err.error_code, "too_large");
  EXPECT_EQ(err.error_message, "Logs limit exceeded");

  auto note = proto::parse_message(proto::encode_notification("heartbeat", {}));
  EXPECT_EQ(note.kind, Kind::notification);
}

TEST(AgentProtocol, RoundTripsBinaryStreamFrames) {
  std::string bytes("\0\x01\xffhello", 8);
  auto data = proto::parse_message(proto::encode_stream_data(3, bytes));
  EXPECT_EQ(data.kind, Kind::stream);
  EXPECT_EQ(data.stream, 3);
  EXPECT_EQ(data.data, bytes);
  EXPECT_FALSE(data.close);
  auto close = proto::parse_message(proto::encode_stream_close(3));
  EXPECT_TRUE(close.close);
}

TEST(AgentProtocol, RejectsMalformedFramesWithoutThrowing) {
  for (const char* bad : {"", "not json", "[1,2]", "{}", R"({"id":"x","method":"m"})",
                          R"({"method":""})", R"({"method":5})", R"({"stream":1,"data":"!!"})"})
    EXPECT_EQ(proto::parse_message(bad).kind, Kind::invalid) << bad;
  std::string deep(100, '[');
  EXPECT_EQ(proto::parse_message(deep).kind, Kind::invalid);
  std::string huge(proto::kMaxMessageBytes + 1, ' ');
  EXPECT_EQ(proto::parse_message(huge).kind, Kind::invalid);
}

TEST(Backoff, GrowsExponentiallyWithJitterUpToTheCap) {
  Backoff b(milliseconds(100), milliseconds(1000), 42);
  std::int64_t ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (auto ceiling : ceilings) {
    auto d = b.next().count();
    EXPECT_GE(d, ceiling / 2);
    EXPECT_LE(d, ceiling);
  }
  b.reset();
  EXPECT_LE(b.next().count(), 100);
}

TEST(Backoff, DifferentSeedsSpreadTheDelays) {
  std::set<std::int64_t> seen;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Backoff b(milliseconds(1000), milliseconds(60000), seed);
    seen.insert(b.next().count());
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST(Outbox, CoalescesLogLinesButNeverTheReportInFlight) {
  Outbox box;
  box.push_log("s1", "t", "a");  // front: may be in flight, never extended
  box.push_log("s1", "t", "b");
  box.push_log("s1", "t", "c");
  box.push_log("s2", "t", "d");
  ASSERT_EQ(box.size(), 3u);
  auto first = box.front(milliseconds(0));
  EXPECT_EQ(first->params.at("logs").as_array().size(), 1u);
  box.pop();
  auto second = box.front(milliseconds(0));
  EXPECT_EQ(second->params.at("logs").as_array().size(), 2u);
  box.pop();
  EXPECT_EQ(box.front(milliseconds(0))->params.at("log_source_id").as_string(), "s2");
}

TEST(Outbox, KeepsOrderAcrossKindsAndDropsLinesPastItsBound) {
  Outbox box(10);
  box.push("update_lifecycle", json::object{{"state", "starting"}});
  box.push_log("s", "t", "12345");
  box.push_log("s", "t", "67890");
  box.push_log("s", "t", "x");  // over the 10-byte bound
  box.push("update_lifecycle", json::object{{"state", "ready"}});
  EXPECT_EQ(box.dropped_lines(), 1u);
  std::vector<std::string> methods;
  while (auto r = box.front(milliseconds(0))) {
    methods.push_back(r->method);
    box.pop();
  }
  EXPECT_EQ(methods, (std::vector<std::string>{"update_lifecycle", "batch_create_logs",
                                               "update_lifecycle"}));
  box.push_log("s", "t", "x");  // room again once sent
  EXPECT_EQ(box.dropped_lines(), 1u);
}

TEST(ScriptRunner, CapturesLinesExitCodeAndEnvironment) {
  std::vector<std::string> lines;
  auto r = run_script({"echo one; echo \"$GREETING\" >&2; printf tail; exit 3",
                       {{"GREETING", "hi"}},
                       "/tmp",
                       seconds(0)},
                      [&](std::string l) { lines.push_back(std::move(l)); });
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "hi", "tail"}));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.status, "exit_failure");
}

TEST(ScriptRunner, KillsAScriptPastItsTimeout) {
  auto r = run_script({"echo before; exec sleep 30", {}, "", seconds(1)}, [](std::string) {});
  EXPECT_EQ(r.status, "timed_out");
  EXPECT_LT(r.ended_at - r.started_at, seconds(10));
}

TEST(ScriptRunner, DoesNotWaitForABackgroundChildHoldingThePipe) {
  auto r = run_script({"sleep 30 & echo started", {}, "", seconds(0)}, [](std::string) {});
  EXPECT_EQ(r.status, "ok");
  EXPECT_LT(r.ended_at - r.started_at, seconds(10));
}

}  // namespace
}  // namespace berth::agent
