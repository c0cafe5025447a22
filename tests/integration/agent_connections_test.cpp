// Reaching into a workspace through its agent's one connection, against the real binary: the
// path-based app proxy (HTTP and WebSocket, share levels), the reconnecting terminal, and TCP
// streams to a workspace port.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <thread>
#include <vector>

#include "common/uuid.hpp"
#include "integration/workspace_fixture.hpp"
#include "sdk/websocket.hpp"
#include "support/ports.hpp"

namespace berth::testing {
namespace {

using namespace std::chrono;

// A workspace whose agent starts tests/support/app_server.py on `port`, published as four
// apps that differ only in their share level.
std::string app_template(int port) {
  auto url = "http://127.0.0.1:" + std::to_string(port);
  std::string apps;
  for (const char* share : {"owner", "authenticated", "organization", "public"})
    apps += std::string(R"(
resource "coder_app" ")") +
            share + R"(" {
  agent_id = coder_agent.main.id
  slug     = ")" +
            share +
            R"("
  url      = ")" +
            url +
            R"(/base"
  share    = ")" +
            share +
            R"("
})";
  return R"(
data "coder_workspace" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  dir  = "/tmp"
  startup_script = "python3 )" +
         std::string(BERTH_SOURCE_DIR) + "/tests/support/app_server.py " + std::to_string(port) +
         R"( 300 >/dev/null 2>&1 &"
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
}
)" + apps;
}

class AgentConnections : public WorkspaceFixture {
 protected:
  AgentConnections() : WorkspaceFixture({"--max-body-bytes", "33554432"}) {}

  void SetUp() override {
    WorkspaceFixture::SetUp();
    port_ = free_loopback_port();
    auto ws = create_workspace(app_template(port_), "dev");
    workspace_id_ = str(ws.at("id"));
    agent_id_ = agent_id_of(ws);
    ASSERT_FALSE(agent_id_.empty());
    // Ready once the app answers through the proxy (the agent connected, the app listens).
    ASSERT_TRUE(eventually([&] { return owner_->request("GET", app("owner")).status == 200; }))
        << owner_->request("GET", app("owner")).body;
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "server log:\n" << server_->log() << "\n";
    WorkspaceFixture::TearDown();
  }

  static std::string app(const std::string& slug, const std::string& rest = "/") {
    return "/@owner/dev/apps/" + slug + rest;
  }

  static bool eventually(const std::function<bool()>& done, seconds limit = seconds(60)) {
    auto deadline = steady_clock::now() + limit;
    while (steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(milliseconds(200));
    }
    return false;
  }

  // Reads from `ws` until what arrived contains `needle`; returns everything read.
  static std::string read_until(sdk::WebSocket& ws, const std::string& needle,
                                seconds limit = seconds(20)) {
    std::string seen;
    auto deadline = steady_clock::now() + limit;
    while (seen.find(needle) == std::string::npos && steady_clock::now() < deadline) {
      if (auto m = ws.read(milliseconds(200))) seen += *m;
      if (ws.closed()) break;
    }
    EXPECT_NE(seen.find(needle), std::string::npos)
        << "never saw \"" << needle << "\" in: " << seen;
    return seen;
  }

  static std::string pty_input(const std::string& data) {
    return json::serialize(json::object{{"data", data}});
  }

  int port_ = 0;
  std::string workspace_id_;
  std::string agent_id_;
};

TEST_F(AgentConnections, ProxiesHttpToTheAppWithItsPathQueryAndBody) {
  auto r = owner_->request(
      "POST", app("owner", "/some/where?x=1&y=two"), "the body",
      {{"Content-Type", "text/plain"},
       {"Cookie", "coder_session_token=" + owner_->session_token() + "; theme=dark"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto seen = r.json().as_object();
  EXPECT_EQ(str(seen.at("method")), "POST");
  EXPECT_EQ(str(seen.at("path")), "/base/some/where");  // the app URL's path comes first
  EXPECT_EQ(str(seen.at("query")), "x=1&y=two");
  EXPECT_EQ(str(seen.at("body")), "the body");
  const auto& headers = seen.at("headers").as_object();
  // Berth's credentials never reach the app; its own cookies do.
  EXPECT_FALSE(headers.contains("coder-session-token"));
  EXPECT_EQ(str(headers.at("cookie")), "theme=dark");
  EXPECT_EQ(str(headers.at("x-forwarded-for")), "127.0.0.1");
  EXPECT_EQ(r.header("connection").value_or(""), "close");
  // The agent form of the URL reaches the same app; a missing slash after the slug redirects.
  EXPECT_EQ(owner_->request("GET", "/@owner/dev.main/apps/owner/").status, 200);
  auto bare = owner_->request("GET", "/@owner/dev/apps/owner?a=b");
  EXPECT_EQ(bare.status, 307);
  EXPECT_EQ(bare.header("location").value_or(""), "/@owner/dev/apps/owner/?a=b");
  EXPECT_EQ(owner_->request("GET", "/@owner/dev.other/apps/owner/").status, 404);
  EXPECT_EQ(owner_->request("GET", app("nope")).status, 404);
  EXPECT_EQ(owner_->request("GET", "/@owner/nope/apps/owner/").status, 404);
}

TEST_F(AgentConnections, ASlowClientSlowsTheAppInsteadOfLosingTheResponse) {
  // More than the server will queue for one client (16 MiB) plus the sockets' buffers: without
  // flow control through the agent the server would give up on this client.
  constexpr std::size_t kBytes = 48 * 1024 * 1024;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int small = 64 * 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(std::stoi(server_->url().substr(server_->url().rfind(':') + 1)));
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string request =
      "GET " + app("owner", "/bulk?n=" + std::to_string(kBytes)) +
      " HTTP/1.1\r\nHost: berth\r\nCoder-Session-Token: " + owner_->session_token() + "\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), ssize_t(request.size()));
  // Read nothing for a while: the app keeps producing, the server must not buffer it all.
  std::this_thread::sleep_for(seconds(3));
  std::string head;
  std::size_t body = 0;
  std::vector<char> buf(256 * 1024);
  for (;;) {
    auto n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    if (head.find("\r\n\r\n") == std::string::npos) {
      head.append(buf.data(), n);
      auto end = head.find("\r\n\r\n");
      if (end != std::string::npos) body = head.size() - end - 4;
    } else {
      body += n;
    }
  }
  ::close(fd);
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head.substr(0, 200);
  EXPECT_EQ(body, kBytes);
}

TEST_F(AgentConnections, ALargeUploadToASlowAppArrivesWhole) {
  // Far more than the agent buffers for one stream (8 MiB) plus what the sockets hold: only
  // flow control gets it through.
  constexpr std::size_t kBytes = 24 * 1024 * 1024;
  auto r = owner_->request("POST", app("owner", "/sink"), std::string(kBytes, 'u'),
                           {{"Content-Type", "application/octet-stream"}});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  EXPECT_EQ(r.json().as_object().at("received").as_int64(), std::int64_t(kBytes));
}

TEST_F(AgentConnections, ProxiesAWebSocketToTheApp) {
  auto ws = owner_->open_websocket(app("owner", "/ws"));
  ASSERT_TRUE(ws->send("hello", false));
  auto m = ws->read(seconds(20));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, "echo:hello");
  ASSERT_TRUE(ws->send(std::string("\x01\x02", 2), true));
  m = ws->read(seconds(20));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, std::string("echo:\x01\x02", 7));
}

TEST_F(AgentConnections, HonoursTheAppsShareLevels) {
  auto member = sign_in_member(server_->url(), *owner_, "mallory");
  sdk::Client anonymous(server_->url());
  // owner: only the workspace's owner; others see nothing, strangers must sign in.
  EXPECT_EQ(member.request("GET", app("owner")).status, 404);
  EXPECT_EQ(anonymous.request("GET", app("owner")).status, 401);
  auto browser = anonymous.request("GET", app("owner"), {}, {{"Accept", "text/html"}});
  EXPECT_EQ(browser.status, 303);
  EXPECT_EQ(browser.header("location").value_or("").rfind("/login?redirect=", 0), 0u);
  // authenticated: any signed-in user.
  EXPECT_EQ(member.request("GET", app("authenticated")).status, 200);
  EXPECT_EQ(anonymous.request("GET", app("authenticated")).status, 401);
  // organization: members of the workspace's organization (the member is in it).
  EXPECT_EQ(member.request("GET", app("organization")).status, 200);
  EXPECT_EQ(anonymous.request("GET", app("organization")).status, 401);
  // public: anyone.
  EXPECT_EQ(anonymous.request("GET", app("public")).status, 200);
  // A bad token is refused, not treated as anonymous.
  EXPECT_EQ(
      anonymous.request("GET", app("public"), {}, {{"Coder-Session-Token", "nope-nope"}}).status,
      401);
}

TEST_F(AgentConnections, TheTerminalRunsCommandsResizesAndReplaysAfterAReconnect) {
  auto id = Uuid::random_v4().to_string();
  auto target =
      "/api/v2/workspaceagents/" + agent_id_ + "/pty?reconnect=" + id + "&width=80&height=24";
  {
    auto pty = owner_->open_websocket(target);
    ASSERT_TRUE(pty->send(pty_input("echo pty-$((40+2))\r")));
    read_until(*pty, "pty-42");
    ASSERT_TRUE(pty->send(json::serialize(json::object{{"height", 30}, {"width", 100}})));
    ASSERT_TRUE(pty->send(pty_input("stty size\r")));
    read_until(*pty, "30 100");
  }
  // The session outlived the connection: a new one sees the recent screen, then goes on.
  auto again = owner_->open_websocket(target);
  read_until(*again, "pty-42");
  ASSERT_TRUE(again->send(pty_input("echo still-$((1+1))\r")));
  read_until(*again, "still-2");
  // A command runs instead of the shell.
  auto command = owner_->open_websocket("/api/v2/workspaceagents/" + agent_id_ + "/pty?reconnect=" +
                                        Uuid::random_v4().to_string() + "&command=echo%20one-shot");
  read_until(*command, "one-shot");
}

TEST_F(AgentConnections, RefusesTerminalsToOthersAndBadParameters) {
  auto base = "/api/v2/workspaceagents/" + agent_id_;
  EXPECT_EQ(owner_->request("GET", base + "/pty?reconnect=not-a-uuid").status, 400);
  EXPECT_EQ(owner_
                ->request("GET",
                          base + "/pty?reconnect=" + Uuid::random_v4().to_string() + "&width=70000")
                .status,
            400);
  EXPECT_EQ(owner_->request("GET", base + "/stream?port=0").status, 400);
  auto member = sign_in_member(server_->url(), *owner_, "mallory");
  EXPECT_THROW(member.open_websocket(base + "/pty?reconnect=" + Uuid::random_v4().to_string()),
               Error);
  EXPECT_EQ(member.request("GET", base + "/pty?reconnect=" + Uuid::random_v4().to_string()).status,
            404);
}

TEST_F(AgentConnections, StreamsBytesToAWorkspacePort) {
  auto stream = owner_->open_websocket("/api/v2/workspaceagents/" + agent_id_ +
                                       "/stream?port=" + std::to_string(port_));
  ASSERT_TRUE(stream->send("GET /direct HTTP/1.0\r\nHost: x\r\n\r\n"));
  auto seen = read_until(*stream, "\"path\": \"/direct\"");
  EXPECT_EQ(seen.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << seen;
  // A port nobody listens on: the agent refuses and the stream closes.
  auto dead = owner_->open_websocket("/api/v2/workspaceagents/" + agent_id_ + "/stream?port=1");
  EXPECT_FALSE(dead->read(seconds(20)).has_value());
  EXPECT_TRUE(dead->closed());
}

}  // namespace
}  // namespace berth::testing
