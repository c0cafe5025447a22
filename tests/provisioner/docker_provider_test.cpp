// The pieces of the Docker provider that need no engine: addresses, planning defaults, the
// external data source and its program runner. The engine itself is tested for real in
// tests/integration/docker_workspaces_test.cpp.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/error.hpp"
#include "docker/engine.hpp"
#include "docker/engine_client.hpp"
#include "provisioner/local/coder_provider.hpp"
#include "provisioner/local/docker_resources.hpp"
#include "provisioner/local/external_program.hpp"
#include "provisioner/local/http_data_source.hpp"
#include "support/ports.hpp"

namespace berth::provisioner::local {
namespace {

using std::chrono::milliseconds;

TEST(DockerAddress, ParsesUnixAndTcpHosts) {
  auto unix_socket = docker::parse_engine_address("unix:///run/podman/podman.sock");
  EXPECT_EQ(unix_socket.kind, docker::EngineAddress::Kind::unix_socket);
  EXPECT_EQ(unix_socket.path, "/run/podman/podman.sock");
  auto tcp = docker::parse_engine_address("tcp://docker.example:2376", "/certs");
  EXPECT_EQ(tcp.kind, docker::EngineAddress::Kind::tcp);
  EXPECT_EQ(tcp.host, "docker.example");
  EXPECT_EQ(tcp.port, "2376");
  EXPECT_EQ(tcp.cert_path, "/certs");
  EXPECT_EQ(docker::parse_engine_address("tcp://10.0.0.1").port, "2375");
  EXPECT_EQ(docker::parse_engine_address("tcp://[::1]:2375").host, "::1");
  EXPECT_THROW(docker::parse_engine_address("unix://relative.sock"), Error);
  EXPECT_THROW(docker::parse_engine_address("ssh://user@host"), Error);
  EXPECT_THROW(docker::parse_engine_address("tcp://:2375"), Error);
}

TEST(DockerClient, AnUnreachableEngineIsNamedInTheError) {
  docker::EngineClient client(docker::parse_engine_address("unix:///nonexistent/docker.sock"),
                              milliseconds(2000));
  try {
    client.call("GET", "/_ping");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
    EXPECT_NE(e.message().find("unix:///nonexistent/docker.sock"), std::string::npos)
        << e.message();
    EXPECT_NE(e.message().find("GET /_ping"), std::string::npos) << e.message();
  }
}

TEST(DockerClient, TakesTheDaemonsMessageFromAnErrorBody) {
  EXPECT_EQ(docker::daemon_message(R"({"message":"No such image: x"})"), "No such image: x");
  EXPECT_EQ(docker::daemon_message("plain text\n"), "plain text");
  EXPECT_EQ(docker::url_encode("a/b:c d"), "a%2Fb%3Ac%20d");
}

TEST(DockerPlan, FillsTheProvidersDefaults) {
  auto container = plan_docker_resource("docker_container", json::object{{"image", "x"}});
  EXPECT_TRUE(container.at("must_run").as_bool());
  EXPECT_EQ(container.at("restart").as_string(), "no");
  // Unset, as in the provider: the container is removed at once, not stopped first.
  EXPECT_FALSE(container.as_object().contains("destroy_grace_seconds"));
  auto volume = plan_docker_resource("docker_volume", json::object{{"name", "home"}});
  EXPECT_EQ(volume.at("id").as_string(), "home");
  EXPECT_EQ(volume.at("driver").as_string(), "local");
  auto unnamed = plan_docker_resource("docker_volume", json::object{});
  EXPECT_EQ(std::string(unnamed.at("name").as_string()).substr(0, 6), "berth-");
  auto image = plan_docker_resource("docker_image", json::object{{"name", "ubuntu:24.04"}});
  EXPECT_EQ(image.at("image_id").as_string(), "ubuntu:24.04");
  EXPECT_FALSE(image.at("keep_locally").as_bool());
}

TEST(DockerState, RoundTripsAndRefusesGarbage) {
  DockerObject o{"docker_container.ws[0]",
                 "docker_container",
                 "abc",
                 "ws",
                 "unix:///s",
                 "",
                 "f00",
                 true,
                 false,
                 3};
  auto back = docker_object_from(to_json(o));
  EXPECT_EQ(back.address, o.address);
  EXPECT_EQ(back.id, "abc");
  EXPECT_TRUE(back.prevent_destroy);
  EXPECT_EQ(back.grace_seconds, 3);
  EXPECT_THROW(docker_object_from(json::object{{"type", "docker_container"}}), Error);
  EXPECT_THROW(docker_object_from(json::value("x")), Error);
}

TEST(ExternalProgram, RunsWithTheQueryOnStdinAndReadsItsResult) {
  hcl::Position at{"main.tf", 3, 1};
  // `cat` answers the query itself: it arrived on stdin as a JSON object of strings.
  auto planned = plan_external(
      json::object{{"program", json::array{"cat"}}, {"query", json::object{{"k", "v"}}}}, "/", at);
  EXPECT_EQ(planned.at("result").at("k").as_string(), "v") << json::serialize(planned);

  auto ok = plan_external(
      json::object{{"program", json::array{"sh", "-c", "echo '{\"status\":\"ok\"}'"}}}, "/", at);
  EXPECT_EQ(ok.at("result").at("status").as_string(), "ok");
}

TEST(ExternalProgram, FailuresArePositionedAndSayWhy) {
  hcl::Position at{"main.tf", 7, 3};
  auto message = [&](json::array program) {
    try {
      plan_external(json::object{{"program", std::move(program)}}, "/", at);
    } catch (const Error& e) {
      return e.message();
    }
    return std::string("no error");
  };
  auto failed = message({"sh", "-c", "echo broken >&2; exit 4"});
  EXPECT_NE(failed.find("main.tf:7:3"), std::string::npos) << failed;
  EXPECT_NE(failed.find("exited with code 4"), std::string::npos) << failed;
  EXPECT_NE(failed.find("broken"), std::string::npos) << failed;
  EXPECT_NE(message({"sh", "-c", "echo not-json"}).find("JSON object"), std::string::npos);
  EXPECT_NE(message({"sh", "-c", "echo '{\"n\": 1}'"}).find("\"n\" is not a string"),
            std::string::npos);
  EXPECT_NE(message({"/nonexistent/program"}).find("cannot run"), std::string::npos);
  EXPECT_NE(message({}).find("non-empty list"), std::string::npos);
}

TEST(ExternalProgram, IsKilledAtItsTimeoutAndBoundedInOutput) {
  EXPECT_THROW(run_program({"sleep", "30"}, "/", "", milliseconds(200)), Error);
  try {
    run_program({"sh", "-c", "yes"}, "/", "", milliseconds(10000), 4096);
    FAIL() << "expected too_large";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::too_large);
  }
  auto echoed = run_program({"cat"}, "/", "hello", milliseconds(5000));
  EXPECT_EQ(echoed.out, "hello");
  EXPECT_EQ(echoed.exit_code, 0);
}

// tests/support/app_server.py on a free loopback port: answers each request with JSON that
// describes it (method, path, query, headers, body); /bulk?n=N answers N bytes.
class AppServer {
 public:
  AppServer() : port_(testing::free_loopback_port()) {
    pid_ = fork();
    if (pid_ == 0) {
      auto script = std::string(BERTH_SOURCE_DIR) + "/tests/support/app_server.py";
      auto port = std::to_string(port_);
      execlp("python3", "python3", script.c_str(), port.c_str(), "60", nullptr);
      _exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      try {
        fetch_url("GET", url("/ready"), {}, "", milliseconds(500), 1 << 20);
        return;
      } catch (const Error&) {
        std::this_thread::sleep_for(milliseconds(25));
      }
    }
  }
  ~AppServer() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

TEST(HttpDataSource, RequestsTheUrlWhilePlanningAndExposesTheAnswer) {
  AppServer app;
  hcl::Position at{"main.tf", 4, 1};
  auto planned =
      plan_http(json::object{{"url", app.url("/releases?code=GO")},
                             {"method", "POST"},
                             {"request_headers", json::object{{"Accept", "application/json"}}},
                             {"request_body", "hello"}},
                at);
  EXPECT_EQ(planned.at("status_code").as_int64(), 200);
  auto answer = json::parse(planned.at("response_body").as_string());
  EXPECT_EQ(answer.at("method").as_string(), "POST");
  EXPECT_EQ(answer.at("path").as_string(), "/releases");
  EXPECT_EQ(answer.at("query").as_string(), "code=GO");
  EXPECT_EQ(answer.at("headers").at("accept").as_string(), "application/json");
  EXPECT_EQ(answer.at("body").as_string(), "hello");
  EXPECT_EQ(planned.at("response_headers").at("Content-Type").as_string(), "application/json");
}

TEST(HttpDataSource, AnUnreachableOrOversizedAnswerFailsThePlanNamingTheUrl) {
  hcl::Position at{"main.tf", 9, 3};
  auto dead = "http://127.0.0.1:" + std::to_string(testing::free_loopback_port()) + "/x";
  try {
    plan_http(json::object{{"url", dead}}, at);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("main.tf:9:3"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find(dead), std::string::npos) << e.message();
  }
  EXPECT_THROW(plan_http(json::object{{"url", "ftp://example.com/"}}, at), Error);
  EXPECT_THROW(plan_http(json::object{}, at), Error);
  AppServer app;
  EXPECT_THROW(fetch_url("GET", app.url("/bulk?n=100000"), {}, "", milliseconds(5000), 1000),
               Error);
}

TEST(InitScript, DownloadsUnlessTheHostsBinaryIsGiven) {
  BuildContext context;
  context.access_url = "http://127.0.0.1:3000";
  context.agent_sha256 = "abc";
  auto script = agent_init_script(context, "linux", "amd64");
  EXPECT_NE(script.find("BERTH_AGENT_BINARY"), std::string::npos);
  EXPECT_NE(script.find("http://127.0.0.1:3000/bin/berth-linux-amd64"), std::string::npos);
  EXPECT_NE(script.find("EXPECTED_SHA256='abc'"), std::string::npos);
  EXPECT_NE(script.find("exec \"$BINARY\" agent"), std::string::npos);
}

}  // namespace
}  // namespace berth::provisioner::local
