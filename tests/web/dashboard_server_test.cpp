// The dashboard served by the real `berth server`, beside the API and the app proxy.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
#include "support/temp_dir.hpp"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;

const std::string kIndex = "<!doctype html><title>Berth</title>";

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

TEST(DashboardServer, ServesTheDashboardOutsideTheApiAndTheAppProxy) {
  TempDir data;
  TempDir web;
  write_file(web.path() / "index.html", kIndex);
  write_file(web.path() / "assets/app-abc123.js", "console.log(1);");
  write_file(web.path() / "assets/app-abc123.js.br", "br:console.log(1);");
  ServerProcess server(data.path().string(), {"--dashboard-dir", web.path().string()});
  sdk::Client client(server.url());

  for (std::string path :
       {"/", "/login", "/workspaces", "/@alice/dev", "/@alice/dev.main/terminal"}) {
    auto page = client.request("GET", path);
    EXPECT_EQ(page.status, 200) << path;
    EXPECT_EQ(page.body, kIndex) << path;
    EXPECT_EQ(page.header("content-type").value_or(""), "text/html; charset=utf-8") << path;
    EXPECT_NE(page.header("content-security-policy").value_or("").find("default-src 'self'"),
              std::string::npos)
        << path;
  }
  auto script = client.request("GET", "/assets/app-abc123.js", {}, {{"Accept-Encoding", "br"}});
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.body, "br:console.log(1);");
  EXPECT_EQ(script.header("content-encoding").value_or(""), "br");
  // HEAD: GET's headers, its Content-Length included, and no body on the wire (the next
  // request on the same connection would not parse otherwise).
  auto head = client.request("HEAD", "/assets/app-abc123.js", {}, {{"Accept-Encoding", "br"}});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.header("content-length").value_or(""), "18");
  EXPECT_EQ(client.request("GET", "/login").body, kIndex);

  auto unknown_api = client.request("GET", "/api/v2/nope");
  EXPECT_EQ(unknown_api.status, 404);
  EXPECT_EQ(message_of(unknown_api), "Route not found.");
  EXPECT_FALSE(unknown_api.header("content-security-policy"));
  // Only GET and HEAD fall back to the page; a POST to a page path is still the API's 404.
  EXPECT_EQ(message_of(client.request("POST", "/workspaces", "{}")), "Route not found.");

  auto app = client.request("GET", "/@alice/dev/apps/x/");
  EXPECT_EQ(app.status, 401);
  EXPECT_EQ(app.header("content-type").value_or(""), "application/json; charset=utf-8");
  EXPECT_EQ(message_of(app), "You must be signed in to open this application.");
  EXPECT_NE(server.log().find("serving the web dashboard from"), std::string::npos);
}

TEST(DashboardServer, ServesTheApiAloneWithoutADashboard) {
  TempDir data;
  TempDir empty;
  ServerProcess server(data.path().string(), {"--dashboard-dir", empty.path().string()});
  sdk::Client client(server.url());
  auto root = client.request("GET", "/");
  EXPECT_EQ(root.status, 404);
  EXPECT_EQ(message_of(root), "Route not found.");
  EXPECT_NE(server.log().find("no web dashboard served: " + empty.path().string()),
            std::string::npos)
      << server.log();
}

}  // namespace
}  // namespace berth::testing
