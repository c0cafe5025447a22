// The agent's reconnecting terminals: real programs (sh, cat, echo) in real PTYs.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "agent/connection.hpp"
#include "agent/fake_server_session.hpp"
#include "agent/reconnecting_pty.hpp"
#include "agent/session_counters.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "common/uuid.hpp"
#include "http/server.hpp"
#include "pty/pty_process.hpp"
#include "sdk/agent_protocol.hpp"

namespace berth::agent {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 10s;

// Collects what one attachment is sent.
class Capture {
 public:
  PtySink sink() {
    return {[this](std::string bytes) {
              std::lock_guard lock(mutex_);
              output_ += bytes;
              cv_.notify_all();
            },
            [this] {
              std::lock_guard lock(mutex_);
              closed_ = true;
              cv_.notify_all();
            }};
  }
  bool wait_for(const std::string& text) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kDeadline, [&] { return output_.find(text) != std::string::npos; });
  }
  bool wait_closed() {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kDeadline, [&] { return closed_; });
  }
  std::string output() {
    std::lock_guard lock(mutex_);
    return output_;
  }
  bool closed() {
    std::lock_guard lock(mutex_);
    return closed_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string output_;
  bool closed_ = false;
};

std::string typed(const std::string& data) {
  return json::serialize(json::object{{"data", data}});
}

std::string new_id() {
  return Uuid::random_v4().to_string();
}

template <class Pred>
bool eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// A plain sh, whatever the user's $SHELL and its rc files are.
void hermetic(ReconnectingPtys& ptys) {
  ptys.set_environment({{"PATH", "/usr/bin:/bin"}, {"SHELL", "/bin/sh"}}, "");
}

ErrorCode input_error(PtyAttachment& a, const std::string& bytes) {
  try {
    a.input(bytes);
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::internal;  // no error: the test fails on this
}

TEST(ReconnectingPty, ProgramOutputThenExitClosesTheAttachment) {
  Capture out;
  ReconnectingPtys ptys;
  hermetic(ptys);
  auto a = ptys.attach(new_id(), "echo hello-from-berth", 80, 24, out.sink());
  EXPECT_TRUE(out.wait_for("hello-from-berth"));
  EXPECT_TRUE(out.wait_closed());
  EXPECT_TRUE(eventually([&] { return ptys.session_count() == 0; }));
}

TEST(ReconnectingPty, TypedDataReachesTheProgram) {
  Capture out;
  ReconnectingPtys ptys;
  hermetic(ptys);
  auto a = ptys.attach(new_id(), "cat", 80, 24, out.sink());
  a->input(typed("typed-through-json\r"));
  // Once as the terminal echoes it, once as cat writes it back.
  EXPECT_TRUE(eventually([&] {
    auto o = out.output();
    auto first = o.find("typed-through-json");
    return first != std::string::npos &&
           o.find("typed-through-json", first + 1) != std::string::npos;
  }));
}

TEST(ReconnectingPty, RequestsSplitAndMergedAcrossFramesAreDecoded) {
  Capture out;
  ReconnectingPtys ptys;
  hermetic(ptys);
  auto a = ptys.attach(new_id(), "", 80, 24, out.sink());
  auto both = typed("echo $((6*7))\r") + "\n" + typed("echo $((100+23))\r");
  // Byte by byte: every split point, including inside escapes and numbers.
  for (char c : both) a->input(std::string(1, c));
  // The typed text says 6*7 and 100+23; only the shell's answers say 42 and 123.
  EXPECT_TRUE(out.wait_for("42"));
  EXPECT_TRUE(out.wait_for("123"));
  a->input(typed("echo $((2*500))\r") + typed("echo $((3*500))\r"));
  EXPECT_TRUE(out.wait_for("1000"));
  EXPECT_TRUE(out.wait_for("1500"));
}

TEST(ReconnectingPty, ResizeShowsInSttySize) {
  Capture out;
  ReconnectingPtys ptys;
  hermetic(ptys);
  auto a = ptys.attach(new_id(), "", 100, 30, out.sink());
  a->input(typed("stty size\r"));
  EXPECT_TRUE(out.wait_for("30 100"));
  a->input(R"({"height":40,"width":120})");
  a->input(typed("stty size\r"));
  EXPECT_TRUE(out.wait_for("40 120"));
  // A zero size changes nothing.
  a->input(R"({"data":"stty size\r","height":0,"width":0})");
  EXPECT_TRUE(eventually([&] {
    auto o = out.output();
    return o.find("40 120") != o.rfind("40 120");
  }));
}

TEST(ReconnectingPty, ReconnectingReplaysRecentOutputAndKeepsTheSession) {
  Capture first, second;
  ReconnectingPtys ptys;
  hermetic(ptys);
  auto id = new_id();
  auto a = ptys.attach(id, "", 80, 24, first.sink());
  a->input(typed("MARK=persisted; echo $((6*7))\r"));
  ASSERT_TRUE(first.wait_for("42"));
  a->detach();
  EXPECT_FALSE(first.closed());
  EXPECT_EQ(ptys.session_count(), 1u);
  auto b = ptys.attach(id, "", 80, 24, second.sink());
  EXPECT_TRUE(second.wait_for("42"));  // the screen so far, before anything new
  // The same shell: its variable is still set.
  b->input(typed("echo got-$MARK\r"));
  EXPECT_TRUE(second.wait_for("got-persisted"));
  EXPECT_EQ(first.output().find("got-persisted"), std::string::npos);
  EXPECT_EQ(ptys.session_count(), 1u);
}

TEST(ReconnectingPty, ReplayIsBoundedToTheRecentOutput) {
  Capture first, second;
  ReconnectingPtyOptions options;
  options.replay_bytes = 4096;
  ReconnectingPtys ptys(options);
  hermetic(ptys);
  auto id = new_id();
  auto a = ptys.attach(id, "", 80, 24, first.sink());
  a->input(
      typed("echo START; i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done; "
            "echo $((6*7))done\r"));
  ASSERT_TRUE(first.wait_for("42done"));
  auto b = ptys.attach(id, "", 80, 24, second.sink());
  ASSERT_TRUE(second.wait_for("42done"));
  EXPECT_LE(second.output().size(), 4096u);
  EXPECT_EQ(second.output().find("START\r\n"), std::string::npos);
}

TEST(ReconnectingPty, TwoAttachmentsBothSeeOutputAndInput) {
  Capture first, second;
  ReconnectingPtys ptys;
  hermetic(ptys);
  auto id = new_id();
  auto a = ptys.attach(id, "", 80, 24, first.sink());
  auto b = ptys.attach(id, "", 80, 24, second.sink());
  a->input(typed("echo $((6*7))\r"));
  EXPECT_TRUE(first.wait_for("42"));
  EXPECT_TRUE(second.wait_for("42"));
  b->input(typed("echo $((100+23))\r"));
  EXPECT_TRUE(first.wait_for("123"));
  EXPECT_TRUE(second.wait_for("123"));
  // The program's exit closes both.
  a->input(typed("exit\r"));
  EXPECT_TRUE(first.wait_closed());
  EXPECT_TRUE(second.wait_closed());
  EXPECT_TRUE(eventually([&] { return ptys.session_count() == 0; }));
}

TEST(ReconnectingPty, AnExitedSessionStartsAfreshUnderItsId) {
  Capture first, second;
  ReconnectingPtys ptys;
  hermetic(ptys);
  auto id = new_id();
  auto a = ptys.attach(id, "echo first-run", 80, 24, first.sink());
  ASSERT_TRUE(first.wait_closed());
  ASSERT_TRUE(eventually([&] { return ptys.session_count() == 0; }));
  auto b = ptys.attach(id, "echo second-run", 80, 24, second.sink());
  EXPECT_TRUE(second.wait_for("second-run"));
  EXPECT_EQ(second.output().find("first-run"), std::string::npos);
}

TEST(ReconnectingPty, BadRequestsAreRefusedAndTheSessionLivesOn) {
  Capture out, later;
  ReconnectingPtyOptions options;
  options.max_request_bytes = 1024;
  ReconnectingPtys ptys(options);
  hermetic(ptys);
  auto id = new_id();
  auto a = ptys.attach(id, "", 80, 24, out.sink());
  EXPECT_EQ(input_error(*a, "{not json"), ErrorCode::invalid);
  auto b = ptys.attach(id, "", 80, 24, out.sink());
  EXPECT_EQ(input_error(*b, "[1,2]"), ErrorCode::invalid);
  auto c = ptys.attach(id, "", 80, 24, out.sink());
  EXPECT_EQ(input_error(*c, R"({"data":5})"), ErrorCode::invalid);
  auto d = ptys.attach(id, "", 80, 24, out.sink());
  EXPECT_EQ(input_error(*d, R"({"height":-1,"width":70000})"), ErrorCode::invalid);
  auto e = ptys.attach(id, "", 80, 24, out.sink());
  // An unfinished request over the limit, fed in pieces: refused before it is complete.
  EXPECT_EQ(input_error(*e, R"({"data":")" + std::string(600, 'a')), ErrorCode::internal);
  EXPECT_EQ(input_error(*e, std::string(600, 'a')), ErrorCode::too_large);
  a.reset();
  b.reset();
  c.reset();
  d.reset();
  e.reset();
  auto f = ptys.attach(id, "", 80, 24, later.sink());
  f->input(typed("echo $((6*7))\r"));
  EXPECT_TRUE(later.wait_for("42"));
  EXPECT_EQ(ptys.session_count(), 1u);
}

TEST(ReconnectingPty, BadParametersAndLimits) {
  Capture out;
  ReconnectingPtyOptions options;
  options.max_sessions = 1;
  options.max_attachments = 2;
  ReconnectingPtys ptys(options);
  hermetic(ptys);
  auto code = [&](const std::string& id, unsigned cols, unsigned rows) {
    try {
      ptys.attach(id, "cat", cols, rows, out.sink());
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::internal;
  };
  EXPECT_EQ(code("not-a-uuid", 80, 24), ErrorCode::invalid);
  EXPECT_EQ(code(new_id(), 70000, 24), ErrorCode::invalid);
  auto id = new_id();
  auto a = ptys.attach(id, "cat", 80, 24, out.sink());
  auto b = ptys.attach(id, "cat", 80, 24, out.sink());
  EXPECT_EQ(code(id, 80, 24), ErrorCode::unavailable);        // attachments
  EXPECT_EQ(code(new_id(), 80, 24), ErrorCode::unavailable);  // sessions
  EXPECT_EQ(ptys.session_count(), 1u);
}

TEST(ReconnectingPty, EnvironmentDirectoryAndShell) {
  Capture out;
  auto dir = std::filesystem::temp_directory_path() / ("berth-pty-" + new_id());
  std::filesystem::create_directories(dir);
  ReconnectingPtys ptys;
  hermetic(ptys);
  ptys.set_environment(
      {{"PATH", "/usr/bin:/bin"}, {"SHELL", "/bin/sh"}, {"FROM_MANIFEST", "yes"}, {"TERM", "dumb"}},
      dir.string());
  auto a = ptys.attach(new_id(), "echo env-$FROM_MANIFEST-$TERM; pwd", 80, 24, out.sink());
  EXPECT_TRUE(out.wait_for("env-yes-xterm-256color"));
  EXPECT_TRUE(out.wait_for(dir.string()));
  Capture shell;
  auto b = ptys.attach(new_id(), "", 80, 24, shell.sink());
  b->input(typed("echo in-$0-$FROM_MANIFEST\r"));
  EXPECT_TRUE(shell.wait_for("in-/bin/sh-yes"));
  a.reset();
  b.reset();
  std::filesystem::remove_all(dir);
}

TEST(ReconnectingPty, IdleSessionsAreKilledAfterTheTimeout) {
  ManualClock clock(TimePoint{});
  Capture out;
  ReconnectingPtyOptions options;
  options.clock = &clock;
  options.idle_timeout = 5min;
  options.reap_interval = 10ms;
  ReconnectingPtys ptys(options);
  hermetic(ptys);
  auto id = new_id();
  auto a = ptys.attach(id, "", 80, 24, out.sink());
  clock.advance(10min);  // attached: never idle
  ptys.reap_idle();
  EXPECT_EQ(ptys.session_count(), 1u);
  a->detach();
  clock.advance(4min);
  ptys.reap_idle();
  EXPECT_EQ(ptys.session_count(), 1u);
  clock.advance(2min);
  EXPECT_TRUE(eventually([&] { return ptys.session_count() == 0; }));
  EXPECT_FALSE(out.closed());  // it was detached before: nothing more reaches it
}

TEST(ReconnectingPty, OutputWaitsForASlowClient) {
  constexpr std::size_t kWindow = 64 * 1024;
  Capture out;
  ReconnectingPtyOptions options;
  options.max_unacked_output = kWindow;
  ReconnectingPtys ptys(options);
  hermetic(ptys);
  auto a = ptys.attach(new_id(), "yes", 80, 24, out.sink());
  constexpr std::size_t kRead = pty::PtyProcess::kReadBytes;
  ASSERT_TRUE(eventually([&] { return out.output().size() > kWindow - kRead; }));
  // Nothing is acknowledged: the program is paused before the window would overflow.
  std::this_thread::sleep_for(200ms);
  auto held = out.output().size();
  EXPECT_LE(held, kWindow);
  a->acknowledged(held);
  EXPECT_TRUE(eventually([&] { return out.output().size() > held + kWindow - kRead; }));
}

TEST(ReconnectingPty, LiveAttachmentsAreCounted) {
  SessionCounters counters;
  Capture out;
  ReconnectingPtyOptions options;
  options.counters = &counters;
  ReconnectingPtys ptys(options);
  hermetic(ptys);
  auto id = new_id();
  auto a = ptys.attach(id, "", 80, 24, out.sink());
  auto b = ptys.attach(id, "", 80, 24, out.sink());
  EXPECT_EQ(counters.count(SessionCounters::Kind::reconnecting_pty), 2);
  b->detach();
  EXPECT_EQ(counters.count(SessionCounters::Kind::reconnecting_pty), 1);
  a->input(typed("exit\r"));
  EXPECT_TRUE(out.wait_closed());
  EXPECT_EQ(counters.count(SessionCounters::Kind::reconnecting_pty), 0);
}

// open_pty end to end inside the agent: a real Connection against an in-process server whose
// WebSocket session plays Berth's server.
namespace proto = sdk::agentproto;
using Kind = proto::Message::Kind;

class PtyOverConnection : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = "http://" + server_.listen("127.0.0.1:0");
    thread_ = std::thread([this] { server_.run(false); });
    ConnectionOptions o;
    o.url = url_;
    o.token = "agent-token";
    o.version = "test";
    hermetic(*terminals_);
    o.terminals = terminals_;
    connection_ = std::make_unique<Connection>(o);
    connection_->start();
    ASSERT_TRUE(session_->wait_open());
  }
  void TearDown() override {
    connection_->stop();
    server_.stop();
    thread_.join();
  }

  proto::Message open(std::int64_t id, json::object params) {
    session_->send(proto::encode_request(id, "open_pty", std::move(params)));
    // Output of terminals already open may come first.
    while (auto m = session_->next()) {
      if (m->kind != Kind::stream) return *m;
      record(*m);
    }
    ADD_FAILURE() << "no answer to open_pty";
    return {};
  }
  void record(const proto::Message& m) { output_[m.stream] += m.close ? "<closed>" : m.data; }
  // Output of `stream` until it contains `text`; "closed" is appended on a close frame.
  std::string read_until(std::int64_t stream, const std::string& text) {
    auto& seen = output_[stream];
    while (seen.find(text) == std::string::npos) {
      auto m = session_->next();
      if (!m) return seen;
      if (m->kind == Kind::stream) record(*m);
    }
    return seen;
  }

  std::shared_ptr<ReconnectingPtys> terminals_ = std::make_shared<ReconnectingPtys>();
  std::shared_ptr<FakeServerSession> session_ = std::make_shared<FakeServerSession>();
  http::Server server_{[this](http::Request&) {
                         http::Response r;
                         r.duplex = session_;
                         return r;
                       },
                       http::ServerLimits{}, nullptr, 1};
  std::string url_;
  std::thread thread_;
  std::unique_ptr<Connection> connection_;
  std::map<std::int64_t, std::string> output_;
};

TEST_F(PtyOverConnection, ShellSurvivesTheClientAndReplaysOnReconnect) {
  auto id = new_id();
  auto answer =
      open(1, {{"stream", 7}, {"reconnect", id}, {"width", 90}, {"height", 20}, {"command", ""}});
  ASSERT_EQ(answer.kind, Kind::response) << answer.error_message;
  // One request split across two frames, then a resize and a command merged in one.
  auto first = typed("stty size; echo $((6*7))done\r");
  session_->send(proto::encode_stream_data(7, first.substr(0, 10)));
  session_->send(proto::encode_stream_data(7, first.substr(10)));
  EXPECT_NE(read_until(7, "42done").find("20 90"), std::string::npos);
  session_->send(
      proto::encode_stream_data(7, R"({"height":33,"width":101})" + typed("stty size\r")));
  EXPECT_NE(read_until(7, "33 101").find("33 101"), std::string::npos);
  // The client goes; the shell stays.
  session_->send(proto::encode_stream_close(7));
  ASSERT_TRUE(eventually([&] { return terminals_->session_count() == 1; }));
  answer = open(2, {{"stream", 8}, {"reconnect", id}});
  ASSERT_EQ(answer.kind, Kind::response) << answer.error_message;
  EXPECT_NE(read_until(8, "42done").find("42done"), std::string::npos);  // the replay
  session_->send(proto::encode_stream_data(8, typed("exit\r")));
  EXPECT_NE(read_until(8, "<closed>").find("<closed>"), std::string::npos);
  EXPECT_TRUE(eventually([&] { return terminals_->session_count() == 0; }));
}

TEST_F(PtyOverConnection, CarriesLargeOutputInOrder) {
  auto answer = open(1, {{"stream", 5},
                         {"reconnect", new_id()},
                         {"command",
                          "i=0; while [ $i -lt 20000 ]; do echo row-$i; i=$((i+1)); done; "
                          "echo END-OF-ROWS"}});
  ASSERT_EQ(answer.kind, Kind::response) << answer.error_message;
  auto out = read_until(5, "<closed>");
  ASSERT_NE(out.find("END-OF-ROWS"), std::string::npos);
  // Every row, once, in order.
  std::size_t at = 0;
  for (int i = 0; i < 20000; ++i) {
    auto row = "row-" + std::to_string(i) + "\r\n";
    auto next = out.find(row, at);
    ASSERT_EQ(next, at) << "row " << i;
    at = next + row.size();
  }
}

TEST_F(PtyOverConnection, WithAWindowOutputWaitsForTheServersAcks) {
  constexpr std::size_t kWindow = 16 * 1024;
  auto answer = open(1, {{"stream", 6},
                         {"reconnect", new_id()},
                         {"command", "yes"},
                         {"window", static_cast<std::int64_t>(kWindow)}});
  ASSERT_EQ(answer.kind, Kind::response) << answer.error_message;
  auto drain = [&](std::size_t at_least) {
    while (auto m = session_->next(at_least ? 10s : 300ms)) {
      if (m->kind == Kind::stream) record(*m);
      if (at_least && output_[6].size() >= at_least) break;
    }
    return output_[6].size();
  };
  drain(kWindow / 2);
  auto held = drain(0);  // what arrives with no ack at all
  EXPECT_GE(held, kWindow / 2);
  EXPECT_LE(held, kWindow);
  session_->send(proto::encode_stream_ack(6, static_cast<std::int64_t>(held)));
  EXPECT_GE(drain(held + kWindow / 2), held + kWindow / 2);
}

TEST_F(PtyOverConnection, BadInputClosesOnlyThatStream) {
  auto id = new_id();
  ASSERT_EQ(open(1, {{"stream", 3}, {"reconnect", id}}).kind, Kind::response);
  ASSERT_EQ(open(2, {{"stream", 4}, {"reconnect", id}}).kind, Kind::response);
  session_->send(proto::encode_stream_data(3, "{oops"));
  EXPECT_NE(read_until(3, "<closed>").find("<closed>"), std::string::npos);
  session_->send(proto::encode_stream_data(4, typed("echo $((6*7))done\r")));
  EXPECT_NE(read_until(4, "42done").find("42done"), std::string::npos);
  EXPECT_EQ(output_[4].find("<closed>"), std::string::npos);
}

TEST_F(PtyOverConnection, RefusesBadParams) {
  auto no_id = open(1, {{"stream", 3}});
  EXPECT_EQ(no_id.kind, Kind::error);
  EXPECT_EQ(no_id.error_code, "invalid");
  auto not_uuid = open(2, {{"stream", 3}, {"reconnect", "x"}});
  EXPECT_EQ(not_uuid.error_code, "invalid");
  auto too_wide = open(3, {{"stream", 3}, {"reconnect", new_id()}, {"width", 70000}});
  EXPECT_EQ(too_wide.error_code, "invalid");
  ASSERT_EQ(open(4, {{"stream", 3}, {"reconnect", new_id()}}).kind, Kind::response);
  EXPECT_EQ(open(5, {{"stream", 3}, {"reconnect", new_id()}}).error_code, "conflict");
}

}  // namespace
}  // namespace berth::agent
