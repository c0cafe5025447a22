// `berth ssh` and `berth port-forward` against a real server and a real agent: commands,
// piped input, an interactive terminal, a forwarded port, and the errors people hit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "cli/cli_fixture.hpp"
#include "support/ports.hpp"

namespace berth::testing {
namespace {

using namespace std::chrono;

// Sends `request` to 127.0.0.1:`port` and returns all it answers; empty if nobody listens.
std::string exchange(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), 0) == ssize_t(request.size())) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, n);
  }
  ::close(fd);
  return out;
}

class SshCli : public CliTest {
 protected:
  void SetUp() override {
    login();
    app_port_ = free_loopback_port();
    std::ofstream(template_dir_.path() / "main.tf") << R"(
data "coder_workspace" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  dir  = "/tmp"
  startup_script = "python3 )" + std::string(BERTH_SOURCE_DIR) +
                                                           "/tests/support/app_server.py " +
                                                           std::to_string(app_port_) +
                                                           R"( 300 >/dev/null 2>&1 &"
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}", "SHELL=/bin/sh"]
}
)";
    ok({"templates", "push", "shell", "-d", template_dir_.path().string()});
    ok({"create", "dev", "-t", "shell", "-y"});
  }

  void TearDown() override { berth({"stop", "dev", "-y"}); }

  TempDir template_dir_;
  int app_port_ = 0;
};

TEST_F(SshCli, RunsACommandInTheWorkspace) {
  auto r = ok({"ssh", "dev", "--", "echo", "hello-$((40+2))", "from", "$PWD"});
  EXPECT_NE(r.out.find("hello-42 from /tmp"), std::string::npos) << describe(r);
}

TEST_F(SshCli, FeedsPipedInputToTheShell) {
  auto r = ok({"ssh", "dev"}, with_stdin("echo piped-$((6*7))\nexit\n"));
  EXPECT_NE(r.out.find("piped-42"), std::string::npos) << describe(r);
}

TEST_F(SshCli, GivesAnInteractiveTerminal) {
  auto r = run_cli_in_terminal({"ssh", "dev"}, config_.path().string(),
                               "echo tty-$((7*6)); stty size\rexit\r", seconds(120));
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("tty-42"), std::string::npos) << describe(r);
}

TEST_F(SshCli, ForwardsALocalPortToTheWorkspace) {
  auto local = free_loopback_port();
  auto spec = std::to_string(local) + ":" + std::to_string(app_port_);
  CliResult forwarded;
  std::thread cli([&] {
    forwarded = berth({"port-forward", "dev", "--tcp", spec}, with_timeout(seconds(120)));
  });
  std::string answer;
  auto deadline = steady_clock::now() + seconds(60);
  while (answer.empty() && steady_clock::now() < deadline) {
    answer = exchange(local, "GET /through-the-tunnel HTTP/1.0\r\nHost: x\r\n\r\n");
    if (answer.empty()) std::this_thread::sleep_for(milliseconds(200));
  }
  // Two connections at once work too.
  std::string second = exchange(local, "GET /again HTTP/1.0\r\nHost: x\r\n\r\n");
  std::system(("pkill -TERM -f 'port-forward dev --tcp " + spec + "'").c_str());
  cli.join();
  EXPECT_NE(answer.find("\"path\": \"/through-the-tunnel\""), std::string::npos) << answer;
  EXPECT_NE(second.find("\"path\": \"/again\""), std::string::npos) << second;
  EXPECT_EQ(forwarded.code, 0) << describe(forwarded);
  EXPECT_NE(forwarded.out.find("Forwarding 127.0.0.1:" + std::to_string(local)), std::string::npos);
}

TEST_F(SshCli, ExplainsWhatIsWrong) {
  auto unknown = berth({"ssh", "nosuch", "--", "true"});
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.err.find("Workspace \"nosuch\" not found"), std::string::npos)
      << describe(unknown);
  auto agent = berth({"ssh", "dev.other", "--", "true"});
  EXPECT_NE(agent.code, 0);
  EXPECT_NE(agent.err.find("has no agent \"other\""), std::string::npos) << describe(agent);
  for (const char* spec : {"99999", "80:x", "1:2:3:4", "nohost:80:80"}) {
    auto bad = berth({"port-forward", "dev", "--tcp", spec});
    EXPECT_NE(bad.code, 0) << spec;
    EXPECT_NE(bad.err.find("Invalid --tcp"), std::string::npos) << describe(bad);
  }
  ok({"stop", "dev", "-y"});
  auto stopped = berth({"ssh", "dev", "--", "true"});
  EXPECT_NE(stopped.code, 0);
  EXPECT_NE(stopped.err.find("is not running"), std::string::npos) << describe(stopped);
}

}  // namespace
}  // namespace berth::testing
