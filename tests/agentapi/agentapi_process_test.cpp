// End to end: the real `berth agentapi` binary around tests/agentapi/fake_agent.py.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/json.hpp"
#include "http/error_response.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "sdk/client.hpp"

namespace {

using namespace std::chrono_literals;
using berth::json::value;

constexpr auto kStartTimeout = 30s;
constexpr auto kWaitTimeout = 20s;  // every wait is bounded; only a broken build reaches it
const std::string kFakeAgent = BERTH_SOURCE_DIR "/tests/agentapi/fake_agent.py";

// Polls `done` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = kWaitTimeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// `berth agentapi` started on a free port around the fake agent; SIGTERM on destruction.
class AgentapiProcess {
 public:
  explicit AgentapiProcess(std::vector<std::string> flags, std::vector<std::string> env = {},
                           double delay = 0.6) {
    std::vector<std::string> args = {BERTH_BINARY, "agentapi",          "--port",
                                     "0",          "--stable-after-ms", "300"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--", "python3", kFakeAgent, "--delay", std::to_string(delay)});
    char log_template[] = "/tmp/berth-agentapi-test-XXXXXX";
    int log_fd = mkstemp(log_template);
    log_path_ = log_template;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = spawn(args, env, fds[1], log_fd);
    close(fds[1]);
    close(log_fd);
    url_ = read_url(fds[0]);
    close(fds[0]);
    if (url_.empty()) throw std::runtime_error("berth agentapi did not start: " + log());
  }

  ~AgentapiProcess() {
    if (pid_ > 0) stop();
    unlink(log_path_.c_str());
  }

  const std::string& url() const { return url_; }
  std::string log() const { return read_file(log_path_); }

  int stop() {
    kill(pid_, SIGTERM);
    return wait_exit();
  }

  // The exit status, waiting at most kWaitTimeout; -1 if it is still running.
  int wait_exit() {
    int status = 0;
    bool exited = eventually([&] { return waitpid(pid_, &status, WNOHANG) == pid_; });
    if (!exited) return -1;
    pid_ = -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
  }

 private:
  static pid_t spawn(std::vector<std::string>& args, const std::vector<std::string>& env,
                     int out_fd, int err_fd) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
      dup2(out_fd, STDOUT_FILENO);
      dup2(err_fd, STDERR_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
    return pid;
  }

  static std::string read_url(int fd) {
    const std::string marker = "Started agentapi listener at ";
    std::string output;
    auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    for (;;) {
      auto at = output.find(marker);
      auto end = output.find('\n', at);
      if (at != std::string::npos && end != std::string::npos)
        return output.substr(at + marker.size(), end - at - marker.size());
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
      char buf[256];
      auto n = read(fd, buf, sizeof buf);
      if (n <= 0) return {};
      output.append(buf, static_cast<std::size_t>(n));
    }
  }

  pid_t pid_ = -1;
  std::string log_path_;
  std::string url_;
};

// Reads `GET /events` on a raw socket in the background.
class EventReader {
 public:
  explicit EventReader(const std::string& url) {
    auto colon = url.rfind(':');
    int port = std::stoi(url.substr(colon + 1));
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect failed");
    std::string request =
        "GET /events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n";
    if (write(fd_, request.data(), request.size()) != static_cast<ssize_t>(request.size()))
      throw std::runtime_error("write failed");
    thread_ = std::thread([this] { run(); });
  }

  ~EventReader() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }

  std::string text() const {
    std::lock_guard lock(mutex_);
    return text_;
  }

  bool saw(const std::string& needle) {
    return eventually([&] { return text().find(needle) != std::string::npos; });
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      auto n = read(fd_, buf, sizeof buf);
      if (n <= 0) return;
      std::lock_guard lock(mutex_);
      text_.append(buf, static_cast<std::size_t>(n));
    }
  }

  int fd_ = -1;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::string text_;
  std::thread thread_;
};

value get_json(berth::sdk::Client& client, const std::string& path) {
  auto response = client.request("GET", path);
  EXPECT_EQ(response.status, 200) << response.body;
  return response.json();
}

std::string status_of(berth::sdk::Client& client) {
  return std::string(get_json(client, "/status").at("status").as_string());
}

berth::sdk::HttpResponse post_message(berth::sdk::Client& client, const std::string& content,
                                      const std::string& type = "user") {
  return client.request_json("POST", "/message",
                             berth::json::object{{"content", content}, {"type", type}});
}

bool wait_stable(berth::sdk::Client& client) {
  return eventually([&] { return status_of(client) == "stable"; });
}

// The messages, as (role, content) pairs.
std::vector<std::pair<std::string, std::string>> messages_of(berth::sdk::Client& client) {
  std::vector<std::pair<std::string, std::string>> out;
  auto body = get_json(client, "/messages");  // the loop below borrows from it
  for (const auto& m : body.at("messages").as_array())
    out.emplace_back(m.at("role").as_string(), m.at("content").as_string());
  return out;
}

TEST(AgentapiProcess, ServesAConversationWithTheProgram) {
  AgentapiProcess agentapi({});
  berth::sdk::Client client(agentapi.url());
  ASSERT_TRUE(wait_stable(client)) << agentapi.log();
  auto status = get_json(client, "/status");
  EXPECT_EQ(status.at("agent_type").as_string(), "custom");
  EXPECT_EQ(status.at("transport").as_string(), "pty");

  auto first = messages_of(client);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].first, "agent");
  EXPECT_NE(first[0].second.find("Fake agent ready"), std::string::npos) << first[0].second;

  EventReader events(agentapi.url());
  ASSERT_TRUE(events.saw("\"status\":\"stable\"")) << events.text();

  auto sent = post_message(client, "hello there");
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_TRUE(sent.json().at("ok").as_bool());
  EXPECT_EQ(status_of(client), "running");
  auto refused = post_message(client, "too soon");
  EXPECT_EQ(refused.status, 409) << refused.body;

  ASSERT_TRUE(wait_stable(client)) << agentapi.log();
  auto messages = messages_of(client);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[1], (std::pair<std::string, std::string>{"user", "hello there"}));
  EXPECT_EQ(messages[2].first, "agent");
  EXPECT_EQ(messages[2].second.rfind("You said: hello there", 0), 0u) << messages[2].second;
  EXPECT_EQ(messages[2].second.find("thinking"), std::string::npos) << messages[2].second;

  EXPECT_TRUE(events.saw("event: status_change\ndata: {\"status\":\"running\"")) << events.text();
  EXPECT_TRUE(events.saw("You said: hello there")) << events.text();
  auto body = get_json(client, "/messages");
  const auto& ids = body.at("messages").as_array();
  EXPECT_EQ(ids[2].at("id").as_int64(), 2);
  EXPECT_TRUE(berth::parse_rfc3339(ids[2].at("time").as_string()).has_value());
}

TEST(AgentapiProcess, AQuestionFromTheProgramIsItsOwnAgentMessage) {
  AgentapiProcess agentapi({}, {}, 0.2);
  berth::sdk::Client client(agentapi.url());
  ASSERT_TRUE(wait_stable(client));
  ASSERT_EQ(post_message(client, "ask me a question").status, 200);
  ASSERT_TRUE(wait_stable(client));
  ASSERT_EQ(post_message(client, "yes").status, 200);
  ASSERT_TRUE(wait_stable(client));
  auto messages = messages_of(client);
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_NE(messages[2].second.find("Do you want me to continue?"), std::string::npos);
  EXPECT_EQ(messages[4].second.rfind("You said: yes", 0), 0u) << messages[4].second;
}

TEST(AgentapiProcess, BadRequestBodiesAreRefusedNamingTheProblem) {
  AgentapiProcess agentapi({});
  berth::sdk::Client client(agentapi.url());
  ASSERT_TRUE(wait_stable(client));
  auto not_json = client.request("POST", "/message", "{", {{"Content-Type", "application/json"}});
  EXPECT_EQ(not_json.status, 400);
  auto bad_type = post_message(client, "hi", "shout");
  EXPECT_EQ(bad_type.status, 400);
  EXPECT_NE(bad_type.body.find("\"type\""), std::string::npos) << bad_type.body;
  auto empty = client.request_json("POST", "/message", berth::json::object{{"type", "user"}});
  EXPECT_EQ(empty.status, 400);
  EXPECT_NE(empty.body.find("\"content\""), std::string::npos) << empty.body;
  auto padded = post_message(client, " hi ");
  EXPECT_EQ(padded.status, 400);
  EXPECT_NE(padded.body.find("whitespace"), std::string::npos) << padded.body;
  EXPECT_EQ(client.request("GET", "/nope").status, 404);
  EXPECT_EQ(messages_of(client).size(), 1u);  // nothing reached the conversation
}

TEST(AgentapiProcess, TypesTheInitialPromptOnceFirstStable) {
  AgentapiProcess agentapi({"--initial-prompt", "start the work"});
  berth::sdk::Client client(agentapi.url());
  ASSERT_TRUE(eventually([&] {
    auto messages = messages_of(client);
    return messages.size() == 3u && status_of(client) == "stable";
  })) << agentapi.log();
  auto messages = messages_of(client);
  EXPECT_EQ(messages[1], (std::pair<std::string, std::string>{"user", "start the work"}));
  EXPECT_EQ(messages[2].second.rfind("You said: start the work", 0), 0u) << messages[2].second;
  std::this_thread::sleep_for(500ms);  // stays typed once: nothing more arrives while stable
  EXPECT_EQ(messages_of(client).size(), 3u);
}

TEST(AgentapiProcess, ExitsWithTheProgramsExitCode) {
  AgentapiProcess agentapi({});
  berth::sdk::Client client(agentapi.url());
  ASSERT_TRUE(wait_stable(client));
  auto raw = post_message(client, "exit\r", "raw");
  ASSERT_EQ(raw.status, 200) << raw.body;
  EXPECT_EQ(agentapi.wait_exit(), 3) << agentapi.log();
}

TEST(AgentapiProcess, SigtermEndsTheProgramAndExitsCleanly) {
  AgentapiProcess agentapi({});
  berth::sdk::Client client(agentapi.url());
  ASSERT_TRUE(wait_stable(client));
  EXPECT_EQ(agentapi.stop(), 0) << agentapi.log();
}

// A stand-in for Coder's app-status endpoint, recording what it is sent.
class FakeCoder {
 public:
  FakeCoder() {
    router_.add("PATCH", "/api/v2/workspaceagents/me/app-status", [this](berth::http::Request& r) {
      std::lock_guard lock(mutex_);
      tokens_.push_back(std::string(r.header("coder-session-token").value_or("")));
      bodies_.push_back(berth::json::parse(r.body));
      return berth::http::json_response(200, nullptr);
    });
    url_ = "http://" + server_.listen("127.0.0.1:0");
    thread_ = std::thread([this] { server_.run(false); });
  }
  ~FakeCoder() {
    server_.stop();
    thread_.join();
  }
  const std::string& url() const { return url_; }
  std::vector<std::string> states() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& b : bodies_) out.emplace_back(b.at("state").as_string());
    return out;
  }
  std::vector<value> bodies() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }
  std::vector<std::string> tokens() {
    std::lock_guard lock(mutex_);
    return tokens_;
  }

 private:
  berth::http::Router router_;
  berth::http::Server server_{[this](berth::http::Request& r) { return router_.dispatch(r); },
                              berth::http::ServerLimits{}, nullptr, 1};
  std::mutex mutex_;
  std::vector<value> bodies_;
  std::vector<std::string> tokens_;
  std::string url_;
  std::thread thread_;
};

TEST(AgentapiProcess, ReportsWorkingAndIdleToCoder) {
  FakeCoder coder;
  AgentapiProcess agentapi({"--status-slug", "claude"},
                           {"CODER_AGENT_URL=" + coder.url(), "CODER_AGENT_TOKEN=agent-token"});
  berth::sdk::Client client(agentapi.url());
  ASSERT_TRUE(wait_stable(client));
  ASSERT_TRUE(eventually([&] {
    return coder.states() == std::vector<std::string>{"working", "idle"};
  })) << agentapi.log();
  ASSERT_EQ(post_message(client, "hello").status, 200);
  ASSERT_TRUE(wait_stable(client));
  ASSERT_TRUE(eventually([&] { return coder.states().size() == 4u; })) << agentapi.log();
  EXPECT_EQ(coder.states(), (std::vector<std::string>{"working", "idle", "working", "idle"}));
  auto bodies = coder.bodies();
  EXPECT_EQ(bodies[2].at("app_slug").as_string(), "claude");
  EXPECT_EQ(bodies[2].at("message").as_string(), "hello");
  for (const auto& token : coder.tokens()) EXPECT_EQ(token, "agent-token");
}

TEST(AgentapiProcess, AppStatusFailuresAreOnlyWarnings) {
  AgentapiProcess agentapi({"--status-slug", "claude"},
                           {"CODER_AGENT_URL=http://127.0.0.1:1", "CODER_AGENT_TOKEN=t"});
  berth::sdk::Client client(agentapi.url());
  ASSERT_TRUE(wait_stable(client));
  EXPECT_TRUE(
      eventually([&] { return agentapi.log().find("reporting app status") != std::string::npos; }));
}

}  // namespace
