// Workspaces as real containers: the docker example template on a real Podman service that the
// test starts, with an image made here from busybox alone (no registry is reachable), so the
// agent that runs inside is the statically linked one the server serves.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/uuid.hpp"
#include "integration/podman_service.hpp"
#include "integration/workspace_fixture.hpp"
#include "provisioner/local/coder_provider.hpp"
#include "support/ports.hpp"

namespace berth::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr const char* kImage = "localhost/berth-test-busybox:latest";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << "the example no longer contains: " << from;
  text.replace(at, from.size(), to);
}

// Registry modules for --terraform-module-dir: a code-server stand-in that serves a page from
// inside the container with busybox httpd on `port`, as an app through the proxy.
std::string module_dir() {
  static const auto dir =
      std::filesystem::temp_directory_path() / ("berth-modules-" + std::to_string(::getpid()));
  return dir.string();
}

void write_modules(int port) {
  auto dir = std::filesystem::path(module_dir()) / "registry.coder.com/coder/code-server/coder";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "main.tf") << R"(
variable "agent_id" { type = string }
variable "order" {
  type    = number
  default = null
}
variable "port" {
  type    = number
  default = )" << port << R"(
}
resource "coder_script" "code-server" {
  agent_id     = var.agent_id
  display_name = "code-server"
  run_on_start = true
  script       = "mkdir -p /tmp/www && echo hello-from-$(hostname) > /tmp/www/index.html && httpd -p 127.0.0.1:${var.port} -h /tmp/www"
}
resource "coder_app" "code-server" {
  agent_id     = var.agent_id
  slug         = "code-server"
  display_name = "code-server"
  url          = "http://localhost:${var.port}/"
  order        = var.order
  share        = "owner"
}
output "port" { value = var.port }
)";
}

class DockerWorkspaces : public WorkspaceFixture {
 protected:
  DockerWorkspaces() : WorkspaceFixture({"--terraform-module-dir", module_dir()}) {}

  static void SetUpTestSuite() {
    podman_ = new PodmanService();
    podman_->import_busybox_image(kImage);
  }
  static void TearDownTestSuite() {
    delete podman_;
    podman_ = nullptr;
    std::error_code ec;
    std::filesystem::remove_all(module_dir(), ec);
  }

  void SetUp() override {
    WorkspaceFixture::SetUp();
    app_port_ = free_loopback_port();
    write_modules(app_port_);
  }

  // The example, on the test's image; its containers share the host's network so that the
  // agent reaches the server on loopback (host.docker.internal resolves to it).
  static std::string example() {
    auto tf = read_text(std::string(BERTH_SOURCE_DIR) + "/examples/templates/docker/main.tf");
    replace_once(tf, "hostname = data.coder_workspace.me.name",
                 "hostname = data.coder_workspace.me.name\n  network_mode = \"host\"");
    return tf;
  }

  std::string push_with_variables(const std::string& main_tf, const std::string& name,
                                  const json::array& variables,
                                  std::vector<TarEntry> more_files = {}) {
    more_files.push_back({"main.tf", main_tf, ""});
    auto upload = owner().request("POST", "/api/v2/files", make_tar(more_files),
                                  {{"Content-Type", "application/x-tar"}});
    auto version =
        obj(owner().request_json("POST", "/api/v2/organizations/default/templateversions",
                                 json::object{{"storage_method", "file"},
                                              {"provisioner", "terraform"},
                                              {"file_id", str(obj(upload).at("hash"))},
                                              {"user_variable_values", variables}}));
    auto vid = str(version.at("id"));
    owner().follow_websocket("/api/v2/templateversions/" + vid + "/logs?follow",
                             [](const std::string&) { return true; });
    auto imported = obj(owner().request("GET", "/api/v2/templateversions/" + vid));
    EXPECT_EQ(str(imported.at("job").as_object().at("status")), "succeeded")
        << json::serialize(imported);
    auto created = owner().request_json("POST", "/api/v2/organizations/default/templates",
                                        json::object{{"name", name}, {"template_version_id", vid}});
    EXPECT_EQ(created.status, 201) << created.body;
    return str(obj(created).at("id"));
  }

  json::array example_variables() const {
    return json::array{json::object{{"name", "docker_socket"}, {"value", podman_->host()}},
                       json::object{{"name", "image"}, {"value", kImage}}};
  }

  json::object workspace(const std::string& id) {
    return obj(owner().request("GET", "/api/v2/workspaces/" + id));
  }

  static std::string build_status(const json::object& ws) {
    return str(ws.at("latest_build").as_object().at("status"));
  }
  static std::string job_error(const json::object& ws) {
    const auto& job = ws.at("latest_build").as_object().at("job").as_object();
    auto* e = job.if_contains("error");
    return e && e->is_string() ? str(*e) : "";
  }

  // Runs `command` in the workspace through the agent's terminal and returns what it printed.
  std::string run_in(const std::string& agent_id, const std::string& command,
                     const std::string& until) {
    auto ws = owner().open_websocket("/api/v2/workspaceagents/" + agent_id +
                                     "/pty?reconnect=" + Uuid::random_v4().to_string() +
                                     "&width=200&height=40&command=" + percent_encode(command));
    std::string seen;
    auto deadline = steady_clock::now() + seconds(30);
    while (seen.find(until) == std::string::npos && steady_clock::now() < deadline) {
      if (auto m = ws->read(milliseconds(200))) seen += *m;
      if (ws->closed()) break;
    }
    EXPECT_NE(seen.find(until), std::string::npos) << "never saw \"" << until << "\" in: " << seen;
    return seen;
  }

  static std::string percent_encode(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.')
        out += static_cast<char>(c);
      else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
    return out;
  }

  static bool has(const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  }

  static PodmanService* podman_;
  int app_port_ = 0;
};

PodmanService* DockerWorkspaces::podman_ = nullptr;

TEST_F(DockerWorkspaces, TheExampleRunsAContainerThatKeepsItsHomeAcrossStopAndStart) {
  auto template_id = push_with_variables(example(), "docker", example_variables());
  auto ws = create_workspace_from(template_id, "dev");
  auto id = str(ws.at("id"));
  ASSERT_EQ(build_status(ws), "running") << job_error(ws);
  EXPECT_TRUE(has(podman_->containers(), "coder-owner-dev"));
  auto volume = "coder-" + id + "-home";
  EXPECT_TRUE(has(podman_->volumes(), volume));

  // The agent downloaded from the server runs inside the busybox image and gets ready.
  auto agent_id = agent_id_of(ws);
  wait_agent(id, agent_id, ready, seconds(120));
  auto inside = run_in(agent_id,
                       "sh -c 'echo host=$(hostname); cat /proc/self/cgroup; "
                       "echo kept > /home/coder/kept.txt; echo done-1'",
                       "done-1");
  EXPECT_NE(inside.find("host=dev"), std::string::npos) << inside;
  EXPECT_NE(inside.find("libpod"), std::string::npos) << inside;

  // The app proxy reaches a server inside the container.
  auto deadline = steady_clock::now() + seconds(30);
  sdk::HttpResponse page;
  do {
    page = owner().request("GET", "/@owner/dev/apps/code-server/");
    if (page.body.find("hello-from-dev") != std::string::npos) break;
    std::this_thread::sleep_for(milliseconds(200));
  } while (steady_clock::now() < deadline);
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("hello-from-dev"), std::string::npos) << page.body;

  // Stop: the container goes, the home volume stays.
  transition(id, "stop");
  ASSERT_EQ(build_status(workspace(id)), "stopped") << job_error(workspace(id));
  EXPECT_FALSE(has(podman_->containers(), "coder-owner-dev"));
  EXPECT_TRUE(has(podman_->volumes(), volume));

  // Start: a new container on the same volume sees the file written before.
  transition(id, "start");
  running_.push_back(id);
  ws = workspace(id);
  ASSERT_EQ(build_status(ws), "running") << job_error(ws);
  agent_id = agent_id_of(ws);
  wait_agent(id, agent_id, ready, seconds(120));
  auto again = run_in(agent_id, "sh -c 'cat /home/coder/kept.txt; echo done-2'", "done-2");
  EXPECT_NE(again.find("kept"), std::string::npos) << again;
  // The template's metadata scripts call `coder stat`: the downloaded agent answers to it,
  // reading the container's cgroup.
  auto stats = run_in(agent_id, "sh -c 'coder stat mem; coder stat cpu; echo done-3'", "done-3");
  EXPECT_TRUE(std::regex_search(stats, std::regex(R"([0-9.]+/[0-9.]+ GiB \([0-9]+%\))"))) << stats;
  EXPECT_TRUE(std::regex_search(stats, std::regex(R"([0-9.]+/[0-9.]+ cores \([0-9]+%\))")))
      << stats;

  // Delete: container and volume are gone.
  transition(id, "delete");
  std::erase(running_, id);
  EXPECT_FALSE(has(podman_->containers(), "coder-owner-dev"));
  EXPECT_FALSE(has(podman_->volumes(), volume));
}

// A minimal container template on the test's engine; `container` is the body's extra lines.
std::string minimal_template(const std::string& host, const std::string& container) {
  return R"(
provider "docker" { host = ")" +
         host + R"(" }
data "coder_workspace" "me" {}
resource "coder_agent" "main" { os = "linux" }
resource "docker_volume" "home" { name = "home-${data.coder_workspace.me.id}" }
resource "docker_container" "ws" {
  count = data.coder_workspace.me.start_count
  name  = "ws-${data.coder_workspace.me.id}"
  network_mode = "host"
  destroy_grace_seconds = 1
  volumes {
    container_path = "/home/coder"
    volume_name    = docker_volume.home.name
  }
)" + container +
         "\n}\n";
}

TEST_F(DockerWorkspaces, FailedBuildsNameTheCauseAndLeaveNothingBehind) {
  struct Case {
    std::string name;
    std::string host;
    std::string container;
    std::vector<std::string> expected;
  };
  std::vector<Case> cases = {
      {"missing-image",
       podman_->host(),
       "image = \"localhost/no-such-image:latest\"",
       {"localhost/no-such-image:latest", "could not be pulled"}},
      {"no-daemon",
       "unix:///nonexistent/docker.sock",
       std::string("image = \"") + kImage + "\"",
       {"unix:///nonexistent/docker.sock"}},
      {"exits-at-once",
       podman_->host(),
       std::string("image = \"") + kImage +
           "\"\n  entrypoint = [\"sh\", \"-c\", \"echo giving-up; exit 3\"]",
       {"exited with code 3", "giving-up"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto template_id = push_with_variables(minimal_template(c.host, c.container), c.name, {});
    auto ws = create_workspace_from(template_id, c.name);
    std::erase(running_, str(ws.at("id")));
    EXPECT_EQ(build_status(ws), "failed");
    for (const auto& text : c.expected)
      EXPECT_NE(job_error(ws).find(text), std::string::npos) << job_error(ws);
    EXPECT_TRUE(podman_->containers().empty());
    EXPECT_TRUE(podman_->volumes().empty());
  }
}

TEST_F(DockerWorkspaces, ABuildAfterAFailedOneRemovesContainersNoStateRecords) {
  auto sleeper = std::string("image = \"") + kImage + "\"\n  entrypoint = [\"sleep\", \"600\"]";
  auto template_id =
      push_with_variables(minimal_template(podman_->host(), sleeper), "reconcile", {});
  auto ws = create_workspace_from(template_id, "reconcile");
  auto id = str(ws.at("id"));
  ASSERT_EQ(build_status(ws), "running") << job_error(ws);

  // A version whose container exits at once: the update build fails.
  auto upload = owner().request(
      "POST", "/api/v2/files",
      make_tar({{"main.tf",
                 minimal_template(podman_->host(), std::string("image = \"") + kImage +
                                                       "\"\n  entrypoint = [\"false\"]"),
                 ""}}),
      {{"Content-Type", "application/x-tar"}});
  auto version = obj(owner().request_json("POST", "/api/v2/organizations/default/templateversions",
                                          json::object{{"storage_method", "file"},
                                                       {"provisioner", "terraform"},
                                                       {"template_id", template_id},
                                                       {"file_id", str(obj(upload).at("hash"))}}));
  owner().follow_websocket("/api/v2/templateversions/" + str(version.at("id")) + "/logs?follow",
                           [](const std::string&) { return true; });
  auto failing = owner().request_json(
      "POST", "/api/v2/workspaces/" + id + "/builds",
      json::object{{"transition", "start"}, {"template_version_id", str(version.at("id"))}});
  ASSERT_EQ(failing.status, 201) << failing.body;
  follow_build(str(obj(failing).at("id")));
  ASSERT_EQ(build_status(workspace(id)), "failed");

  // What a build killed between creating a container and recording it would leave: a
  // container with the workspace's label that no state knows.
  auto [status, output] =
      podman_->podman({"run", "-d", "--name", "stray", "--network", "host", "--label",
                       "berth.workspace_id=" + id, kImage, "sleep", "600"});
  ASSERT_EQ(status, 0) << output;
  ASSERT_TRUE(has(podman_->containers(), "stray"));
  transition(id, "stop");
  EXPECT_EQ(build_status(workspace(id)), "stopped") << job_error(workspace(id));
  EXPECT_TRUE(podman_->containers().empty());

  // A delete looks for leftovers whatever came before.
  std::tie(status, output) =
      podman_->podman({"run", "-d", "--name", "stray-2", "--network", "host", "--label",
                       "berth.workspace_id=" + id, kImage, "sleep", "600"});
  ASSERT_EQ(status, 0) << output;
  transition(id, "delete");
  EXPECT_FALSE(has(podman_->containers(), "settings-" + id));
  EXPECT_FALSE(has(podman_->volumes(), "data-" + id));
}

TEST_F(DockerWorkspaces, BuildsTheImageFromADockerfileInTheTemplate) {
  auto tf = std::string(R"(
provider "docker" { host = ")") +
            podman_->host() + R"(" }
data "coder_workspace" "me" {}
resource "coder_agent" "main" { os = "linux" }
resource "docker_image" "main" {
  name         = "localhost/berth-built-${data.coder_workspace.me.id}:latest"
  keep_locally = false
  build {
    context    = "./build"
    build_args = { GREETING = "built-with-args" }
  }
}
resource "docker_container" "ws" {
  count        = data.coder_workspace.me.start_count
  name         = "built-${data.coder_workspace.me.id}"
  image        = docker_image.main.image_id
  network_mode = "host"
  destroy_grace_seconds = 1
  entrypoint   = ["sh", "-c", "cat /greeting.txt /hello.txt; sleep 600"]
}
)";
  auto dockerfile =
      std::string("FROM ") + kImage +
      "\nARG GREETING\nCOPY hello.txt /hello.txt\nRUN echo $GREETING > /greeting.txt\n";
  auto template_id = push_with_variables(
      tf, "built", {},
      {{"build/Dockerfile", dockerfile, ""}, {"build/hello.txt", "hello-from-the-context\n", ""}});
  auto ws = create_workspace_from(template_id, "built");
  auto id = str(ws.at("id"));
  ASSERT_EQ(build_status(ws), "running") << job_error(ws);
  auto [status, logs] = podman_->podman({"logs", "built-" + id});
  EXPECT_NE(logs.find("built-with-args"), std::string::npos) << logs;
  EXPECT_NE(logs.find("hello-from-the-context"), std::string::npos) << logs;
  // The image goes with the workspace (keep_locally = false).
  transition(id, "delete");
  auto [exists, output] = podman_->podman({"image", "exists", "localhost/berth-built-" + id});
  EXPECT_NE(exists, 0) << output;
}

TEST_F(DockerWorkspaces, NetworksLiveWithTheWorkspaceAndPreventDestroyIsHonoured) {
  auto tf = std::string(R"(
provider "docker" { host = ")") +
            podman_->host() + R"(" }
data "coder_workspace" "me" {}
resource "coder_agent" "main" { os = "linux" }
resource "docker_network" "net" {
  name = "net-${data.coder_workspace.me.id}"
}
resource "docker_volume" "keep" {
  name = "keep-${data.coder_workspace.me.id}"
  lifecycle { prevent_destroy = true }
}
)";
  auto template_id = push_with_variables(tf, "net", {});
  auto ws = create_workspace_from(template_id, "net");
  auto id = str(ws.at("id"));
  ASSERT_EQ(build_status(ws), "running") << job_error(ws);
  EXPECT_TRUE(has(podman_->networks(), "net-" + id));
  transition(id, "stop");
  EXPECT_TRUE(has(podman_->networks(), "net-" + id));
  // The volume may not be destroyed: the delete fails and says which and why.
  transition(id, "delete");
  auto after = workspace(id);
  EXPECT_EQ(build_status(after), "failed");
  EXPECT_NE(job_error(after).find("docker_volume.keep"), std::string::npos) << job_error(after);
  EXPECT_NE(job_error(after).find("prevent_destroy"), std::string::npos) << job_error(after);
  EXPECT_TRUE(has(podman_->volumes(), "keep-" + id));
  podman_->podman({"volume", "rm", "--force", "keep-" + id});
}

TEST_F(DockerWorkspaces, TheContainersSettingsReachTheEngine) {
  auto tf = std::string(R"(
provider "docker" { host = ")") +
            podman_->host() + R"(" }
data "coder_workspace" "me" {}
resource "coder_agent" "main" { os = "linux" }
resource "docker_volume" "data" { name = "data-${data.coder_workspace.me.id}" }
resource "docker_container" "ws" {
  count        = data.coder_workspace.me.start_count
  name         = "settings-${data.coder_workspace.me.id}"
  image        = ")" +
            kImage + R"("
  hostname     = "settings"
  network_mode = "host"
  command      = ["sleep", "600"]
  env          = ["GREETING=hello", "TOKEN=${coder_agent.main.token}"]
  working_dir  = "/tmp"
  user         = "0:0"
  memory       = 64
  cpu_shares   = 512
  restart      = "unless-stopped"
  destroy_grace_seconds = 1
  labels {
    label = "team"
    value = "platform"
  }
  host {
    host = "registry.internal"
    ip   = "192.0.2.10"
  }
  mounts {
    target = "/data"
    source = docker_volume.data.name
    type   = "volume"
  }
}
)";
  auto template_id = push_with_variables(tf, "settings", {});
  auto ws = create_workspace_from(template_id, "settings");
  auto id = str(ws.at("id"));
  ASSERT_EQ(build_status(ws), "running") << job_error(ws);
  auto [status, out] = podman_->podman(
      {"inspect", "--format",
       "{{.Config.WorkingDir}}|{{.Config.User}}|{{.HostConfig.Memory}}|{{.HostConfig.CpuShares}}|"
       "{{.HostConfig.RestartPolicy.Name}}|{{index .Config.Labels \"team\"}}|"
       "{{index .Config.Labels \"berth.workspace_id\"}}|{{.Config.Hostname}}|{{.Config.Env}}|"
       "{{range .Mounts}}{{.Destination}}={{.Name}} {{end}}|{{.HostConfig.ExtraHosts}}",
       "settings-" + id});
  ASSERT_EQ(status, 0) << out;
  for (const auto& expected :
       {std::string("/tmp|0:0|67108864|512|unless-stopped|platform|") + id + "|settings|",
        std::string("GREETING=hello"), "/data=data-" + id,
        std::string("registry.internal:192.0.2.10")})
    EXPECT_NE(out.find(expected), std::string::npos) << expected << " not in " << out;
  transition(id, "delete");
  EXPECT_FALSE(has(podman_->containers(), "settings-" + id));
  EXPECT_FALSE(has(podman_->volumes(), "data-" + id));
}

// tests/support/tls_proxy.py in front of the test's engine: TLS with client certificates, as
// a remote Docker daemon started with --tlsverify, or plain TCP; it goes with the object.
class EngineProxy {
 public:
  EngineProxy(const TempDir& dir, const std::string& socket, const std::string& certs)
      : port_file_(dir.file("proxy-port-" + std::to_string(++count_))) {
    pid_ = fork();
    if (pid_ == 0) {
      std::string script = std::string(BERTH_SOURCE_DIR) + "/tests/support/tls_proxy.py";
      if (certs.empty())
        execlp("python3", "python3", script.c_str(), port_file_.c_str(), socket.c_str(), nullptr);
      else
        execlp("python3", "python3", script.c_str(), port_file_.c_str(), socket.c_str(),
               certs.c_str(), nullptr);
      _exit(127);
    }
    auto deadline = steady_clock::now() + seconds(20);
    while (!std::filesystem::exists(port_file_) && steady_clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(20));
    port_ = read_text(port_file_);
  }
  ~EngineProxy() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::string host() const { return "tcp://localhost:" + port_; }

 private:
  static inline int count_ = 0;
  std::string port_file_;
  std::string port_;
  pid_t pid_ = -1;
};

// A CA, a server certificate for localhost and a client certificate, as `docker` expects them
// in DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem), in `dir`.
void make_certificates(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  auto d = dir.string();
  auto script =
      "cd " + d +
      " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 1"
      " -subj /CN=berth-test-ca"
      " && openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr"
      " -subj /CN=localhost"
      " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1' > server.ext"
      " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial"
      " -out server.pem -days 1 -extfile server.ext"
      " && openssl req -newkey rsa:2048 -nodes -keyout key.pem -out client.csr -subj /CN=client"
      " && printf 'extendedKeyUsage=clientAuth' > client.ext"
      " && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial"
      " -out cert.pem -days 1 -extfile client.ext >/dev/null 2>&1";
  ASSERT_EQ(std::system((script + " >/dev/null 2>&1").c_str()), 0) << script;
}

TEST_F(DockerWorkspaces, ReachesARemoteEngineOverTcpAndTls) {
  TempDir certs_dir;
  make_certificates(certs_dir.path() / "good");
  make_certificates(certs_dir.path() / "other");
  EngineProxy tls(certs_dir, podman_->socket_path(), (certs_dir.path() / "good").string());
  EngineProxy plain(certs_dir, podman_->socket_path(), "");
  auto provider = [&](const std::string& host, const std::string& certs) {
    auto config = "  host = \"" + host + "\"\n";
    if (!certs.empty()) config += "  cert_path = \"" + certs + "\"\n";
    return std::string("provider \"docker\" {\n") + config + "}\n";
  };
  auto body = std::string(R"(
data "coder_workspace" "me" {}
resource "coder_agent" "main" { os = "linux" }
resource "docker_container" "ws" {
  count        = data.coder_workspace.me.start_count
  name         = "remote-${data.coder_workspace.me.id}"
  image        = ")") +
              kImage + R"("
  network_mode = "host"
  command      = ["sleep", "600"]
  destroy_grace_seconds = 1
}
)";
  struct Case {
    std::string name;
    std::string provider;
    bool works;
  };
  std::vector<Case> cases = {
      {"over-tls", provider(tls.host(), (certs_dir.path() / "good").string()), true},
      {"over-tcp", provider(plain.host(), ""), true},
      // A client certificate from another CA: the engine refuses the handshake.
      {"wrong-ca", provider(tls.host(), (certs_dir.path() / "other").string()), false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto template_id = push_with_variables(c.provider + body, c.name, {});
    auto ws = create_workspace_from(template_id, c.name);
    auto id = str(ws.at("id"));
    if (!c.works) {
      std::erase(running_, id);
      EXPECT_EQ(build_status(ws), "failed");
      EXPECT_NE(job_error(ws).find(tls.host()), std::string::npos) << job_error(ws);
      continue;
    }
    ASSERT_EQ(build_status(ws), "running") << job_error(ws);
    EXPECT_TRUE(has(podman_->containers(), "remote-" + id));
    transition(id, "delete");
    EXPECT_FALSE(has(podman_->containers(), "remote-" + id));
  }
}

TEST_F(DockerWorkspaces, ServesTheStaticAgentWithItsDigest) {
  for (const char* path : {"/bin/berth-linux-amd64", "/bin/coder-linux-amd64"}) {
    sdk::Client anonymous(server_->url());
    auto r = anonymous.request("GET", path);
    ASSERT_EQ(r.status, 200) << path;
    EXPECT_GT(r.body.size(), 1u << 20);
    EXPECT_EQ(r.body.substr(0, 4),
              "\x7f"
              "ELF");
    auto etag = r.header("etag").value_or("");
    ASSERT_FALSE(etag.empty());
    auto again = anonymous.request("GET", path, {}, {{"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304);
  }
}

}  // namespace
}  // namespace berth::testing

namespace berth::testing {
namespace {

// The init script every container runs, against a real server: it downloads the agent with
// whichever fetcher the image has, checks its digest, and runs it.
class AgentDownload : public ::testing::Test {
 protected:
  // Runs the script for a few seconds with PATH holding only `tools` (plus what every image
  // has); returns what it printed.
  std::string run_script(const std::string& script, const std::vector<std::string>& tools) {
    auto bin = dir_.path() / ("bin-" + std::to_string(runs_++));
    std::filesystem::create_directories(bin);
    for (const char* tool : {"sh", "mktemp", "chmod", "cut", "sha256sum", "sleep", "mkdir", "cat"})
      std::filesystem::create_symlink("/bin/busybox", bin / tool);
    for (const auto& tool : tools) {
      auto target = tool == "wget" ? std::string("/bin/busybox") : "/usr/bin/" + tool;
      std::filesystem::create_symlink(target, bin / tool);
    }
    auto script_path = dir_.file("init.sh");
    std::ofstream(script_path) << script;
    auto out = dir_.file("out.txt");
    auto command = "timeout 4 env -i PATH=" + bin.string() +
                   " CODER_AGENT_TOKEN=not-a-token TMPDIR=" + dir_.path().string() + " " +
                   bin.string() + "/sh " + script_path + " >" + out + " 2>&1";
    [[maybe_unused]] int status = std::system(command.c_str());
    return read_text(out);
  }

  std::string script(const std::string& sha256) {
    provisioner::local::BuildContext context;
    context.access_url = server_.url();
    context.agent_sha256 = sha256;
    return provisioner::local::agent_init_script(context, "linux", "amd64");
  }

  std::string served_sha256() {
    sdk::Client anonymous(server_.url());
    auto r = anonymous.request("GET", "/bin/berth-linux-amd64");
    EXPECT_EQ(r.status, 200);
    return r.header("x-berth-sha256").value_or("");
  }

  TempDir dir_;
  ServerProcess server_{dir_.path().string()};
  int runs_ = 0;
};

TEST_F(AgentDownload, FetchesWithCurlWgetOrBashAndRunsTheAgent) {
  auto sha = served_sha256();
  ASSERT_EQ(sha.size(), 64u);
  for (const std::vector<std::string>& tools :
       {std::vector<std::string>{"curl"}, {"wget"}, {"bash"}}) {
    SCOPED_TRACE(tools[0]);
    auto output = run_script(script(sha), tools);
    // The agent's own log lines: it was downloaded, checked and started.
    EXPECT_NE(output.find("[berth-agent]"), std::string::npos) << output;
  }
}

TEST_F(AgentDownload, RefusesAnAgentWhoseDigestDiffers) {
  auto output = run_script(script(std::string(64, '0')), {"curl"});
  EXPECT_NE(output.find("expected " + std::string(64, '0')), std::string::npos) << output;
  EXPECT_EQ(output.find("[berth-agent]"), std::string::npos) << output;
}

}  // namespace
}  // namespace berth::testing
