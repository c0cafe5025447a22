// Every route of the API table (api::route_table(), so a new route is in here by default) and
// the app proxy, against every kind of caller, with real resources behind each path parameter:
// one server, requests only. A route without an expectation below fails the test, so nothing new
// can leak by default. Set BERTH_MATRIX_PRINT=1 to print the observed table in the form used below.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "api/routes.hpp"
#include "common/time.hpp"
#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
#include "support/tar_builder.hpp"
#include "support/temp_dir.hpp"

namespace berth::testing {
namespace {

// Callers, in the order of each expectation row. A provisioner key is no caller here: every
// caller below is refused the daemon routes, and what a key may do there is tested with real
// daemons (provisionerd_test.cpp).
enum Caller { anonymous, agent, other_member, auditor, template_admin, user_admin, member, owner };
constexpr std::size_t kCallers = 8;
constexpr std::array<const char*, kCallers> kCallerNames = {
    "anonymous",      "agent token", "another member", "auditor",
    "template admin", "user admin",  "member (owner)", "owner"};
using Row = std::array<int, kCallers>;

// How a route is called: its body, and what must be fresh for each call.
struct Call {
  std::string body;
  std::string content_type = "application/json";
  std::string query;  // appended to the path
  // Streaming routes: only the status line of a plain GET is read; `upgrade` asks for a
  // WebSocket (the answer is 101 when the route lets the caller in).
  bool status_only = false;
  bool upgrade = false;
  // The route ends the caller's session: each caller uses a session made for the call.
  bool own_session = false;
  // Path parameters to replace with new resources before the first call and after any call
  // that succeeded (the route consumed them).
  std::function<std::map<std::string, std::string>()> fresh;
  // Runs after a call that succeeded, to undo it.
  std::function<void()> undo;
};

// The expected status per caller, for each "METHOD path" of the route table. {user} is the
// member who owns the resources; every other parameter is one of theirs.
// clang-format off
const std::map<std::string, Row>& expectations() {
  static const std::map<std::string, Row> table = {
    // anonymous, agent, another member, auditor, template admin, user admin, member, owner
    {"GET /healthz", {200, 200, 200, 200, 200, 200, 200, 200}},
    {"GET /bin/berth-linux-amd64", {200, 200, 200, 200, 200, 200, 200, 200}},
    {"GET /bin/coder-linux-amd64", {200, 200, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2", {200, 200, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/buildinfo", {200, 200, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/users/authmethods", {200, 200, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/appearance", {200, 200, 200, 200, 200, 200, 200, 200}},
    {"POST /api/v2/authcheck", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/entitlements", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/experiments", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/experiments/available", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/regions", {401, 401, 200, 200, 200, 200, 200, 200}},
    // Reading the deployment's replicas is for owners; others get Coder's 404.
    {"GET /api/v2/replicas", {401, 401, 404, 404, 404, 404, 404, 200}},
    {"GET /api/v2/templates/examples", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/organizations/{organization}/templates/examples",
     {401, 401, 200, 200, 200, 200, 200, 200}},
    // Only your own login type, as in Coder.
    {"GET /api/v2/users/{user}/login-type", {401, 401, 404, 403, 403, 403, 200, 403}},
    // Values from the member's workspaces: personal, not for auditors or template admins.
    {"GET /api/v2/users/{user}/autofill-parameters", {401, 401, 404, 404, 404, 200, 200, 200}},
    {"GET /api/v2/organizations/{organization}/templates/{templatename}/versions/{templateversionname}",
     {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/users/first", {200, 200, 200, 200, 200, 200, 200, 200}},
    {"POST /api/v2/users/first", {400, 400, 400, 400, 400, 400, 400, 400}},
    {"POST /api/v2/users/login", {400, 400, 400, 400, 400, 400, 400, 400}},
    {"POST /api/v2/users/logout", {401, 401, 200, 200, 200, 200, 200, 200}},
    // Everyone may ask; members and admins without audit rights get an empty page.
    {"GET /api/v2/audit", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/users", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"POST /api/v2/users", {401, 401, 403, 403, 403, 400, 403, 400}},
    {"GET /api/v2/users/{user}", {401, 401, 404, 200, 200, 200, 200, 200}},
    // The member owns workspaces: Coder's 417 for those allowed to delete, and nobody deletes
    // themselves.
    {"DELETE /api/v2/users/{user}", {401, 401, 404, 403, 403, 417, 403, 417}},
    {"GET /api/v2/users/{user}/roles", {401, 401, 404, 200, 200, 200, 200, 200}},
    {"PUT /api/v2/users/{user}/roles", {401, 401, 404, 403, 403, 200, 400, 200}},
    {"PUT /api/v2/users/{user}/status/suspend", {401, 401, 404, 403, 403, 200, 400, 200}},
    {"PUT /api/v2/users/{user}/status/activate", {401, 401, 404, 403, 403, 200, 403, 200}},
    {"GET /api/v2/users/{user}/quiet-hours", {401, 401, 404, 404, 404, 200, 200, 200}},
    {"PUT /api/v2/users/{user}/quiet-hours", {401, 401, 404, 404, 404, 200, 200, 200}},
    {"GET /api/v2/users/{user}/organizations", {401, 401, 404, 200, 200, 200, 200, 200}},
    {"POST /api/v2/users/{user}/keys", {401, 401, 404, 404, 404, 404, 201, 201}},
    {"GET /api/v2/users/{user}/keys/tokens", {401, 401, 404, 200, 200, 200, 200, 200}},
    {"POST /api/v2/users/{user}/keys/tokens", {401, 401, 404, 404, 404, 404, 201, 201}},
    {"GET /api/v2/users/{user}/keys/tokens/tokenconfig", {401, 401, 404, 200, 200, 200, 200, 200}},
    {"GET /api/v2/users/{user}/keys/tokens/{keyname}", {401, 401, 404, 404, 404, 404, 200, 200}},
    {"GET /api/v2/users/{user}/keys/{keyid}", {401, 401, 404, 404, 404, 404, 200, 200}},
    {"DELETE /api/v2/users/{user}/keys/{keyid}", {401, 401, 404, 404, 404, 404, 204, 204}},
    {"GET /api/v2/organizations", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/organizations/{organization}", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/organizations/{organization}/members", {401, 401, 200, 200, 200, 200, 200, 200}},
    // Provisioner keys and daemons: for those who manage provisioners (template admins, owners).
    {"GET /api/v2/organizations/{organization}/provisionerkeys",
     {401, 401, 404, 404, 200, 404, 404, 200}},
    {"POST /api/v2/organizations/{organization}/provisionerkeys",
     {401, 401, 404, 404, 201, 404, 404, 201}},
    {"DELETE /api/v2/organizations/{organization}/provisionerkeys/{provisionerkey}",
     {401, 401, 404, 404, 204, 404, 404, 204}},
    {"GET /api/v2/organizations/{organization}/provisionerdaemons",
     {401, 401, 404, 404, 200, 404, 404, 200}},
    // The daemon protocol takes a provisioner key, never a session or an agent token.
    {"GET /api/v2/provisionerkeys/{provisionerkey}", {401, 401, 401, 401, 401, 401, 401, 401}},
    {"POST /api/v2/provisionerdaemons/jobs/acquire", {401, 401, 401, 401, 401, 401, 401, 401}},
    {"POST /api/v2/provisionerdaemons/jobs/acquire/cancel",
     {401, 401, 401, 401, 401, 401, 401, 401}},
    {"POST /api/v2/provisionerdaemons/jobs/{job}/logs", {401, 401, 401, 401, 401, 401, 401, 401}},
    {"POST /api/v2/provisionerdaemons/jobs/{job}/heartbeat",
     {401, 401, 401, 401, 401, 401, 401, 401}},
    {"POST /api/v2/provisionerdaemons/jobs/{job}/complete",
     {401, 401, 401, 401, 401, 401, 401, 401}},
    {"POST /api/v2/provisionerdaemons/jobs/{job}/fail", {401, 401, 401, 401, 401, 401, 401, 401}},
    {"POST /api/v2/files", {401, 401, 201, 201, 201, 201, 201, 201}},
    {"GET /api/v2/files/{fileID}", {401, 401, 404, 404, 200, 404, 200, 200}},
    {"POST /api/v2/organizations/{organization}/templateversions",
     {401, 401, 403, 403, 404, 403, 403, 404}},
    {"GET /api/v2/templateversions/{templateversion}", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"PATCH /api/v2/templateversions/{templateversion}", {401, 401, 403, 403, 200, 403, 403, 200}},
    {"PATCH /api/v2/templateversions/{templateversion}/cancel",
     {401, 401, 403, 403, 400, 403, 403, 400}},
    {"GET /api/v2/templateversions/{templateversion}/logs",
     {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/templateversions/{templateversion}/rich-parameters",
     {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/templateversions/{templateversion}/resources",
     {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/templateversions/{templateversion}/presets",
     {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/templateversions/{templateversion}/variables",
     {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/templateversions/{templateversion}/external-auth",
     {401, 401, 200, 200, 200, 200, 200, 200}},
    {"POST /api/v2/organizations/{organization}/templates",
     {401, 401, 403, 403, 409, 403, 403, 409}},
    {"GET /api/v2/organizations/{organization}/templates",
     {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/organizations/{organization}/templates/{templatename}",
     {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/templates", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/templates/{template}", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"PATCH /api/v2/templates/{template}", {401, 401, 403, 403, 200, 403, 403, 200}},
    {"DELETE /api/v2/templates/{template}", {401, 401, 403, 403, 400, 403, 403, 400}},
    {"GET /api/v2/templates/{template}/versions", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"PATCH /api/v2/templates/{template}/versions", {401, 401, 403, 403, 200, 403, 403, 200}},
    {"GET /api/v2/templates/{template}/versions/{templateversionname}",
     {401, 401, 200, 200, 200, 200, 200, 200}},
    // The member creates it; the owner then finds the name taken (409).
    {"POST /api/v2/users/{user}/workspaces", {401, 401, 404, 403, 403, 403, 201, 409}},
    {"POST /api/v2/organizations/{organization}/members/{user}/workspaces",
     {401, 401, 404, 403, 403, 403, 201, 409}},
    {"GET /api/v2/users/{user}/workspace/{workspacename}",
     {401, 401, 404, 404, 200, 404, 200, 200}},
    {"GET /api/v2/users/{user}/workspace/{workspacename}/builds/{buildnumber}",
     {401, 401, 404, 404, 200, 404, 200, 200}},
    {"GET /api/v2/workspaces", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"GET /api/v2/workspaces/{workspace}", {401, 401, 404, 404, 200, 404, 200, 200}},
    {"PATCH /api/v2/workspaces/{workspace}", {401, 401, 404, 404, 403, 404, 204, 204}},
    {"GET /api/v2/workspaces/{workspace}/builds", {401, 401, 404, 404, 200, 404, 200, 200}},
    {"POST /api/v2/workspaces/{workspace}/builds", {401, 401, 404, 404, 403, 404, 400, 400}},
    {"PUT /api/v2/workspaces/{workspace}/autostart", {401, 401, 404, 404, 403, 404, 204, 204}},
    {"PUT /api/v2/workspaces/{workspace}/ttl", {401, 401, 404, 404, 403, 404, 204, 204}},
    {"PUT /api/v2/workspaces/{workspace}/autoupdates", {401, 401, 404, 404, 403, 404, 204, 204}},
    {"PUT /api/v2/workspaces/{workspace}/dormant", {401, 401, 404, 404, 403, 404, 200, 200}},
    {"PUT /api/v2/workspaces/{workspace}/extend", {401, 401, 404, 404, 403, 404, 409, 409}},
    // Only the workspace's owner marks it a favourite.
    {"PUT /api/v2/workspaces/{workspace}/favorite", {401, 401, 404, 404, 403, 404, 204, 403}},
    {"DELETE /api/v2/workspaces/{workspace}/favorite", {401, 401, 404, 404, 403, 404, 204, 403}},
    {"GET /api/v2/workspaces/{workspace}/resolve-autostart",
     {401, 401, 404, 404, 200, 404, 200, 200}},
    {"POST /api/v2/workspaces/{workspace}/usage", {401, 401, 404, 404, 403, 404, 204, 204}},
    {"GET /api/v2/workspaces/{workspace}/watch", {401, 401, 404, 404, 200, 404, 200, 200}},
    {"GET /api/v2/workspaces/{workspace}/watch-ws", {401, 401, 404, 404, 101, 404, 101, 101}},
    {"GET /api/v2/workspaces/{workspace}/timings", {401, 401, 404, 404, 200, 404, 200, 200}},
    {"GET /api/v2/workspacebuilds/{workspacebuild}", {401, 401, 404, 404, 200, 404, 200, 200}},
    {"PATCH /api/v2/workspacebuilds/{workspacebuild}/cancel",
     {401, 401, 404, 404, 403, 404, 403, 400}},
    {"GET /api/v2/workspacebuilds/{workspacebuild}/logs", {401, 401, 404, 404, 200, 404, 200, 200}},
    {"GET /api/v2/workspacebuilds/{workspacebuild}/parameters",
     {401, 401, 404, 404, 200, 404, 200, 200}},
    {"GET /api/v2/workspacebuilds/{workspacebuild}/resources",
     {401, 401, 404, 404, 200, 404, 200, 200}},
    // Raw state is for template admins, as in Coder.
    {"GET /api/v2/workspacebuilds/{workspacebuild}/state",
     {401, 401, 404, 404, 200, 404, 404, 200}},
    {"PUT /api/v2/workspacebuilds/{workspacebuild}/state",
     {401, 401, 404, 404, 400, 404, 404, 400}},
    {"GET /api/v2/workspacebuilds/{workspacebuild}/timings",
     {401, 401, 404, 404, 200, 404, 200, 200}},
    {"GET /api/v2/tasks", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"POST /api/v2/tasks/{user}", {401, 401, 404, 403, 403, 403, 201, 201}},
    {"GET /api/v2/tasks/{user}/{task}", {401, 401, 404, 404, 200, 404, 200, 200}},
    {"DELETE /api/v2/tasks/{user}/{task}", {401, 401, 404, 404, 403, 404, 202, 202}},
    {"PATCH /api/v2/tasks/{user}/{task}/input", {401, 401, 404, 404, 404, 404, 409, 409}},
    // Sending reaches into the workspace: never for template admins (Coder: ApplicationConnect).
    {"POST /api/v2/tasks/{user}/{task}/send", {401, 401, 404, 404, 404, 404, 409, 409}},
    {"GET /api/v2/tasks/{user}/{task}/logs", {401, 401, 404, 404, 200, 404, 200, 200}},
    {"POST /api/v2/tasks/{user}/{task}/pause", {401, 401, 404, 404, 403, 404, 202, 202}},
    {"POST /api/v2/tasks/{user}/{task}/resume", {401, 401, 404, 404, 409, 404, 409, 409}},
    {"GET /api/experimental/tasks", {401, 401, 200, 200, 200, 200, 200, 200}},
    {"POST /api/experimental/tasks/{user}", {401, 401, 404, 403, 403, 403, 201, 201}},
    {"GET /api/experimental/tasks/{user}/{task}", {401, 401, 404, 404, 200, 404, 200, 200}},
    {"DELETE /api/experimental/tasks/{user}/{task}", {401, 401, 404, 404, 403, 404, 202, 202}},
    {"PATCH /api/experimental/tasks/{user}/{task}/input", {401, 401, 404, 404, 404, 404, 409, 409}},
    {"POST /api/experimental/tasks/{user}/{task}/send", {401, 401, 404, 404, 404, 404, 409, 409}},
    {"GET /api/experimental/tasks/{user}/{task}/logs", {401, 401, 404, 404, 200, 404, 200, 200}},
    {"POST /api/experimental/tasks/{user}/{task}/pause", {401, 401, 404, 404, 403, 404, 202, 202}},
    {"POST /api/experimental/tasks/{user}/{task}/resume", {401, 401, 404, 404, 409, 404, 409, 409}},
    // The app proxy: the `ai` app is shared at the owner level, which Berth keeps to the
    // workspace's owner (Coder lets site owners in too); 502 as its agent is not connected.
    {"GET /@{user}/{workspacename}/apps/ai/", {401, 401, 404, 404, 404, 404, 502, 404}},
    // Agent routes take only an agent token.
    {"GET /api/v2/workspaceagents/me/rpc", {401, 101, 401, 401, 401, 401, 401, 401}},
    {"GET /api/v2/workspaceagents/me/manifest", {401, 200, 401, 401, 401, 401, 401, 401}},
    {"PATCH /api/v2/workspaceagents/me/logs", {401, 400, 401, 401, 401, 401, 401, 401}},
    {"POST /api/v2/workspaceagents/me/log-source", {401, 400, 401, 401, 401, 401, 401, 401}},
    {"PATCH /api/v2/workspaceagents/me/app-status", {401, 200, 401, 401, 401, 401, 401, 401}},
    {"POST /api/v2/workspaceagents/me/tasks/{task}/log-snapshot",
     {401, 400, 401, 401, 401, 401, 401, 401}},
    {"GET /api/v2/workspaceagents/{workspaceagent}", {401, 401, 404, 404, 200, 404, 200, 200}},
    {"GET /api/v2/workspaceagents/{workspaceagent}/logs", {401, 401, 404, 404, 200, 404, 200, 200}},
    {"GET /api/v2/workspaceagents/{workspaceagent}/watch-metadata",
     {401, 401, 404, 404, 200, 404, 200, 200}},
    {"GET /api/v2/workspaceagents/{workspaceagent}/watch-metadata-ws",
     {401, 401, 404, 404, 101, 404, 101, 101}},
    // 503: allowed, but the agent is not connected (none runs in this test).
    {"GET /api/v2/workspaceagents/{workspaceagent}/pty", {401, 401, 404, 404, 403, 404, 503, 503}},
    {"GET /api/v2/workspaceagents/{workspaceagent}/stream",
     {401, 401, 404, 404, 403, 404, 503, 503}},
  };
  return table;
}
// clang-format on

std::string str(const json::value& v) {
  return std::string(v.as_string());
}

json::object obj(const sdk::HttpResponse& r) {
  EXPECT_TRUE(r.json().is_object()) << r.status << " " << r.body;
  return r.json().as_object();
}

// Sends a request and reads no more than the status line (for SSE and WebSocket routes).
int status_line_of(const std::string& url, const std::string& method, const std::string& target,
                   const std::string& token, bool upgrade) {
  auto colon = url.rfind(':');
  int port = std::stoi(url.substr(colon + 1));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(std::uint16_t(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return 0;
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) request += "Coder-Session-Token: " + token + "\r\n";
  request += upgrade ? "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                     : "Connection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
    ::close(fd);
    return 0;
  }
  std::string line;
  char c = 0;
  while (line.size() < 200 && ::recv(fd, &c, 1, 0) == 1 && c != '\r') line += c;
  ::close(fd);
  // "HTTP/1.1 200 OK"
  return line.size() >= 12 ? std::atoi(line.c_str() + 9) : 0;
}

class AuthorizationMatrix : public ::testing::Test {
 protected:
  void SetUp() override {
    owner_ = std::make_unique<sdk::Client>(sign_in_owner(server_.url()));
    for (auto name : {"alice", "mallory", "auditor", "tadmin", "uadmin"})
      users_.emplace(name, sign_in_member(server_.url(), *owner_, name));
    grant("auditor", "auditor");
    grant("tadmin", "template-admin");
    grant("uadmin", "user-admin");
    version_ = import_template();
    create_resources();
  }

  void grant(const std::string& user, const std::string& role) {
    auto r = owner_->request_json("PUT", "/api/v2/users/" + user + "/roles",
                                  json::object{{"roles", json::array{json::value(role)}}});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  sdk::Client& alice() { return users_.at("alice"); }

  // A task template whose workspace process writes its agent token beside it.
  json::object import_template() {
    constexpr const char* kTemplate = R"(
data "coder_workspace" "me" {}
data "coder_task" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}
resource "coder_app" "ai" {
  agent_id = coder_agent.main.id
  slug     = "ai"
  url      = "http://localhost:3284/"
}
resource "coder_ai_task" "task" {
  count  = data.coder_workspace.me.start_count
  app_id = coder_app.ai.id
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", "printf %s \"$CODER_AGENT_TOKEN\" > token; trap 'exit 0' TERM; while :; do sleep 1; done"]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
}
)";
    auto file =
        str(obj(owner_->request("POST", "/api/v2/files", make_tar({{"main.tf", kTemplate, ""}}),
                                {{"Content-Type", "application/x-tar"}}))
                .at("hash"));
    auto version = obj(owner_->request_json(
        "POST", "/api/v2/organizations/default/templateversions",
        json::object{{"storage_method", "file"}, {"provisioner", "terraform"}, {"file_id", file}}));
    auto id = str(version.at("id"));
    owner_->follow_websocket("/api/v2/templateversions/" + id + "/logs?follow",
                             [](const std::string&) { return true; });
    auto created =
        owner_->request_json("POST", "/api/v2/organizations/default/templates",
                             json::object{{"name", "matrix"}, {"template_version_id", id}});
    EXPECT_EQ(created.status, 201) << created.body;
    params_["template"] = str(obj(created).at("id"));
    params_["templatename"] = "matrix";
    params_["templateversion"] = id;
    params_["templateversionname"] = str(version.at("name"));
    return version;
  }

  // A task of alice's, its workspace built; returns the task.
  json::object create_task(const std::string& input) {
    auto created = alice().request_json(
        "POST", "/api/v2/tasks/me",
        json::object{{"template_version_id", params_.at("templateversion")}, {"input", input}});
    EXPECT_EQ(created.status, 201) << created.body;
    auto task = obj(created);
    auto ws = obj(alice().request("GET", "/api/v2/workspaces/" + str(task.at("workspace_id"))));
    auto build = str(ws.at("latest_build").as_object().at("id"));
    alice().follow_websocket("/api/v2/workspacebuilds/" + build + "/logs?follow",
                             [](const std::string&) { return true; });
    return task;
  }

  std::string new_token_id() {
    auto r = alice().request_json("POST", "/api/v2/users/me/keys/tokens", json::object{});
    EXPECT_EQ(r.status, 201) << r.body;
    return str(obj(r).at("key")).substr(0, 10);
  }

  void create_resources() {
    auto me = obj(owner_->request("GET", "/api/v2/users/me"));
    params_["organization"] = str(me.at("organization_ids").as_array().at(0));
    params_["user"] = "alice";
    auto task = create_task("The resource every route is asked about");
    params_["task"] = str(task.at("id"));
    auto ws = obj(alice().request("GET", "/api/v2/workspaces/" + str(task.at("workspace_id"))));
    params_["workspace"] = str(ws.at("id"));
    params_["workspacename"] = str(ws.at("name"));
    params_["buildnumber"] = "1";
    const auto& build = ws.at("latest_build").as_object();
    params_["workspacebuild"] = str(build.at("id"));
    const auto& resources = build.at("resources").as_array();
    for (const auto& r : resources)
      for (const auto& a : r.as_object().at("agents").as_array())
        params_["workspaceagent"] = str(a.as_object().at("id"));
    EXPECT_TRUE(params_.contains("workspaceagent")) << json::serialize(ws);
    auto upload = alice().request("POST", "/api/v2/files", make_tar({{"notes.txt", "hi", ""}}),
                                  {{"Content-Type", "application/x-tar"}});
    EXPECT_EQ(upload.status, 201) << upload.body;
    params_["fileID"] = str(obj(upload).at("hash"));
    auto token = alice().request_json("POST", "/api/v2/users/me/keys/tokens",
                                      json::object{{"token_name", "matrix-token"}});
    EXPECT_EQ(token.status, 201) << token.body;
    params_["keyname"] = "matrix-token";
    params_["keyid"] = str(obj(token).at("key")).substr(0, 10);
    agent_token_ = await_agent_token(params_["workspace"]);
    EXPECT_EQ(create_provisioner_key("matrix-existing"), 201);
    params_["provisionerkey"] = "matrix-existing";
    params_["job"] = Uuid::random_v4().to_string();
  }

  int create_provisioner_key(const std::string& name) {
    return owner_
        ->request_json("POST", "/api/v2/organizations/default/provisionerkeys",
                       json::object{{"name", name}})
        .status;
  }

  std::string await_agent_token(const std::string& workspace_id) {
    auto path = std::filesystem::path(dir_.path()) / "workspaces" / workspace_id / "token";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string token;
    while (token.size() != 36 && std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(path);
      token.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (token.size() != 36) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(token.size(), 36u) << "the workspace never wrote its agent token";
    return token;
  }

  // The session token each caller sends (empty for anonymous).
  std::string token_of(Caller caller, bool fresh_session) {
    static const std::map<Caller, const char*> kUsers = {{other_member, "mallory"},
                                                         {auditor, "auditor"},
                                                         {template_admin, "tadmin"},
                                                         {user_admin, "uadmin"},
                                                         {member, "alice"}};
    if (caller == anonymous) return "";
    if (caller == agent) return agent_token_;
    sdk::Client& client = caller == owner ? *owner_ : users_.at(kUsers.at(caller));
    if (!fresh_session) return client.session_token();
    auto key = client.request("POST", "/api/v2/users/me/keys");
    EXPECT_EQ(key.status, 201) << key.body;
    return str(obj(key).at("key"));
  }

  std::string fill(const std::string& path, const std::map<std::string, std::string>& extra) {
    std::string out;
    for (std::size_t i = 0; i < path.size();) {
      if (path[i] != '{') {
        out += path[i++];
        continue;
      }
      auto end = path.find('}', i);
      auto name = path.substr(i + 1, end - i - 1);
      auto found = extra.find(name);
      if (found != extra.end()) {
        out += found->second;
      } else {
        EXPECT_TRUE(params_.contains(name)) << "no resource for {" << name << "} in " << path;
        out += params_[name];
      }
      i = end + 1;
    }
    return out;
  }

  // How each route is called, where a plain call without a body does not do.
  std::map<std::string, Call> calls();

  int send(Caller caller, const api::RouteInfo& route, const Call& call,
           const std::map<std::string, std::string>& extra) {
    auto target = fill(route.path, extra) + call.query;
    auto token = token_of(caller, call.own_session);
    if (call.status_only)
      return status_line_of(server_.url(), route.method, target, token, call.upgrade);
    sdk::Client client(server_.url());
    client.set_session_token(token);
    std::vector<std::pair<std::string, std::string>> headers;
    if (!call.body.empty()) headers.emplace_back("Content-Type", call.content_type);
    return client.request(route.method, target, call.body, headers).status;
  }

  TempDir dir_;
  ServerProcess server_{dir_.path().string()};
  std::unique_ptr<sdk::Client> owner_;
  std::map<std::string, sdk::Client> users_;
  std::map<std::string, std::string> params_;
  json::object version_;
  std::string agent_token_;
  int doomed_keys_ = 0;
};

std::map<std::string, Call> AuthorizationMatrix::calls() {
  auto with_body = [](std::string body, std::string content_type = "application/json") {
    Call call;
    call.body = std::move(body);
    call.content_type = std::move(content_type);
    return call;
  };
  auto json_body = [&](json::value v) { return with_body(json::serialize(v)); };
  auto fresh_task = [this] {
    return [this]() -> std::map<std::string, std::string> {
      return {{"task", str(create_task("A task to be consumed").at("id"))}};
    };
  };
  std::map<std::string, Call> c;
  c["POST /api/v2/authcheck"] = json_body(json::object{{"checks", json::object{}}});
  c["POST /api/v2/users/first"] = json_body(json::object{});
  c["POST /api/v2/users/login"] = json_body(json::object{});
  c["POST /api/v2/users/logout"].own_session = true;
  c["POST /api/v2/users"] = json_body(json::object{{"email", "matrix@example.com"},
                                                   {"username", "matrix"},
                                                   {"password", kPassword},
                                                   {"organization_ids", json::array{}}});
  c["PUT /api/v2/users/{user}/roles"] = json_body(json::object{{"roles", json::array{}}});
  for (auto verb : {"suspend", "activate"}) {
    auto& call = c[std::string("PUT /api/v2/users/{user}/status/") + verb];
    call.undo = [this] {
      EXPECT_EQ(owner_->request("PUT", "/api/v2/users/alice/status/activate").status, 200);
    };
  }
  c["GET /api/v2/users/{user}/autofill-parameters"].query =
      "?template_id=" + params_.at("template");
  c["PUT /api/v2/users/{user}/quiet-hours"] =
      json_body(json::object{{"schedule", "CRON_TZ=UTC 0 0 * * *"}});
  c["POST /api/v2/users/{user}/keys/tokens"] = json_body(json::object{});
  c["DELETE /api/v2/users/{user}/keys/{keyid}"].fresh =
      [this]() -> std::map<std::string, std::string> {
    return {{"keyid", new_token_id()}};
  };
  // A key made, then deleted again so that the next caller may make it too.
  c["POST /api/v2/organizations/{organization}/provisionerkeys"] =
      json_body(json::object{{"name", "matrix-made"}});
  c["POST /api/v2/organizations/{organization}/provisionerkeys"].undo = [this] {
    EXPECT_EQ(owner_->request("DELETE", "/api/v2/organizations/default/provisionerkeys/matrix-made")
                  .status,
              204);
  };
  c["DELETE /api/v2/organizations/{organization}/provisionerkeys/{provisionerkey}"].fresh =
      [this]() -> std::map<std::string, std::string> {
    auto name = "matrix-doomed-" + std::to_string(++doomed_keys_);
    EXPECT_EQ(create_provisioner_key(name), 201);
    return {{"provisionerkey", name}};
  };
  c["POST /api/v2/files"] = with_body(make_tar({{"other.txt", "x", ""}}), "application/x-tar");
  c["POST /api/v2/organizations/{organization}/templateversions"] =
      json_body(json::object{{"storage_method", "file"},
                             {"provisioner", "terraform"},
                             {"file_id", "00000000-0000-0000-0000-000000000001"}});
  c["PATCH /api/v2/templateversions/{templateversion}"] =
      json_body(json::object{{"name", str(version_.at("name"))}});
  c["POST /api/v2/organizations/{organization}/templates"] = json_body(
      json::object{{"name", "matrix"}, {"template_version_id", params_.at("templateversion")}});
  c["PATCH /api/v2/templates/{template}"] = json_body(json::object{});
  c["PATCH /api/v2/templates/{template}/versions"] =
      json_body(json::object{{"id", params_.at("templateversion")}});
  // Real creations: the member's succeeds and the owner's then finds the name taken.
  c["POST /api/v2/users/{user}/workspaces"] =
      json_body(json::object{{"name", "matrix-ws"}, {"template_id", params_.at("template")}});
  c["POST /api/v2/organizations/{organization}/members/{user}/workspaces"] =
      json_body(json::object{{"name", "matrix-ws2"}, {"template_id", params_.at("template")}});
  c["PATCH /api/v2/workspaces/{workspace}"] = json_body(json::object{});
  c["POST /api/v2/workspaces/{workspace}/builds"] = json_body(json::object{
      {"transition", "start"}, {"template_version_id", "00000000-0000-0000-0000-000000000001"}});
  c["PUT /api/v2/workspaces/{workspace}/autostart"] = json_body(json::object{{"schedule", ""}});
  c["PUT /api/v2/workspaces/{workspace}/ttl"] = json_body(json::object{{"ttl_ms", nullptr}});
  c["PUT /api/v2/workspaces/{workspace}/autoupdates"] =
      json_body(json::object{{"automatic_updates", "never"}});
  c["PUT /api/v2/workspaces/{workspace}/dormant"] = json_body(json::object{{"dormant", false}});
  c["PUT /api/v2/workspaces/{workspace}/extend"] = json_body(json::object{
      {"deadline", format_rfc3339(std::chrono::time_point_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now() + std::chrono::hours(2)))}});
  c["POST /api/v2/workspaces/{workspace}/usage"] = json_body(json::object{});
  c["GET /api/v2/workspaces/{workspace}/watch"].status_only = true;
  c["GET /api/v2/workspaces/{workspace}/watch-ws"].status_only = true;
  c["GET /api/v2/workspaces/{workspace}/watch-ws"].upgrade = true;
  c["PUT /api/v2/workspacebuilds/{workspacebuild}/state"] = json_body(json::object{});
  for (auto prefix : {"/api/v2/tasks", "/api/experimental/tasks"}) {
    auto p = std::string(prefix);
    c["POST " + p + "/{user}"] = json_body(json::object{
        {"template_version_id", params_.at("templateversion")}, {"input", "A task by " + p}});
    c["PATCH " + p + "/{user}/{task}/input"] = json_body(json::object{{"input", "changed"}});
    c["POST " + p + "/{user}/{task}/send"] = json_body(json::object{{"input", "hello"}});
    c["DELETE " + p + "/{user}/{task}"].fresh = fresh_task();
    c["POST " + p + "/{user}/{task}/pause"].fresh = fresh_task();
  }
  c["GET /api/v2/workspaceagents/me/rpc"].status_only = true;
  c["GET /api/v2/workspaceagents/me/rpc"].upgrade = true;
  c["PATCH /api/v2/workspaceagents/me/logs"] = json_body(json::object{{"logs", json::array{}}});
  c["POST /api/v2/workspaceagents/me/log-source"] = json_body(json::object{});
  c["PATCH /api/v2/workspaceagents/me/app-status"] =
      json_body(json::object{{"app_slug", "ai"}, {"state", "working"}, {"message", "matrix"}});
  c["POST /api/v2/workspaceagents/me/tasks/{task}/log-snapshot"] = json_body(json::object{});
  c["GET /api/v2/workspaceagents/{workspaceagent}/watch-metadata"].status_only = true;
  c["GET /api/v2/workspaceagents/{workspaceagent}/watch-metadata-ws"].status_only = true;
  c["GET /api/v2/workspaceagents/{workspaceagent}/watch-metadata-ws"].upgrade = true;
  c["GET /api/v2/workspaceagents/{workspaceagent}/pty"].status_only = true;
  c["GET /api/v2/workspaceagents/{workspaceagent}/pty"].upgrade = true;
  c["GET /api/v2/workspaceagents/{workspaceagent}/pty"].query =
      "?reconnect=00000000-0000-0000-0000-000000000002&width=80&height=24";
  c["GET /api/v2/workspaceagents/{workspaceagent}/stream"].status_only = true;
  c["GET /api/v2/workspaceagents/{workspaceagent}/stream"].upgrade = true;
  c["GET /api/v2/workspaceagents/{workspaceagent}/stream"].query = "?port=22";
  return c;
}

// Whether a path names the member ({user}) or one of the member's own resources.
bool names_the_member(const std::string& path) {
  for (auto param : {"{user}", "{workspace}", "{workspacebuild}", "{workspaceagent}", "{task}",
                     "{fileID}", "{keyid}", "{keyname}"})
    if (path.find(param) != std::string::npos && path.find("/me/") == std::string::npos)
      return true;
  return false;
}

// The route table, and the app proxy, which is matched before it (by its `/@` prefix).
std::vector<api::RouteInfo> routes_under_test() {
  auto routes = api::route_table();
  routes.push_back({"GET", "/@{user}/{workspacename}/apps/ai/", api::RouteKind::private_});
  return routes;
}

std::string key_of(const api::RouteInfo& route) {
  return route.method + " " + route.path;
}

TEST(AuthorizationMatrixTable, EveryRouteHasAnExpectationAndEveryExpectationARoute) {
  std::set<std::string> routes;
  for (const auto& route : routes_under_test()) {
    routes.insert(key_of(route));
    EXPECT_TRUE(expectations().contains(key_of(route)))
        << "new route " << key_of(route)
        << " has no authorization expectation (tests/integration/authorization_matrix_test.cpp)";
  }
  for (const auto& [key, row] : expectations())
    EXPECT_TRUE(routes.contains(key)) << "expectation for " << key << ", which is no route";
}

TEST_F(AuthorizationMatrix, EveryRouteAnswersEveryCallerAsExpected) {
  bool print = std::getenv("BERTH_MATRIX_PRINT") != nullptr;
  auto calls = this->calls();
  for (const auto& route : routes_under_test()) {
    auto key = key_of(route);
    const auto& call = calls[key];
    std::map<std::string, std::string> extra;
    bool need_fresh = bool(call.fresh);
    Row actual{};
    // Denied callers first, then those who may: a call that succeeds may consume the resource.
    for (std::size_t i = 0; i < kCallers; ++i) {
      if (need_fresh) extra = call.fresh();
      auto caller = Caller(i);
      actual[i] = send(caller, route, call, extra);
      bool ok = actual[i] >= 200 && actual[i] < 300;
      need_fresh = call.fresh && ok;
      if (ok && call.undo) call.undo();
    }
    if (print) {
      std::cout << "    {\"" << key << "\",\n     {";
      for (std::size_t i = 0; i < kCallers; ++i) std::cout << (i ? ", " : "") << actual[i];
      std::cout << "}},\n";
    }
    // What holds for every route, whatever its row says.
    for (std::size_t i = 0; i < kCallers; ++i) {
      auto caller = Caller(i);
      bool refused =
          (route.kind == api::RouteKind::private_ && (caller == anonymous || caller == agent)) ||
          (route.kind == api::RouteKind::agent && caller != agent) ||
          route.kind == api::RouteKind::provisioner_daemon;
      if (refused) {
        EXPECT_EQ(actual[i], 401) << key << " answered " << kCallerNames[i];
      }
      // Another member never learns of the member or anything of theirs.
      if (caller == other_member && names_the_member(route.path)) {
        EXPECT_EQ(actual[i], 404) << key << " answered " << kCallerNames[i];
      }
    }
    auto expected = expectations().find(key);
    if (expected == expectations().end()) {
      ADD_FAILURE() << "new route " << key << " has no authorization expectation";
      continue;
    }
    for (std::size_t i = 0; i < kCallers; ++i)
      EXPECT_EQ(actual[i], expected->second[i]) << key << " as " << kCallerNames[i];
  }
}

}  // namespace
}  // namespace berth::testing
