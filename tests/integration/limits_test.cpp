// Request limits and shutdown of the real binary.
#include <gtest/gtest.h>

#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
#include "support/temp_dir.hpp"

namespace berth::testing {
namespace {

TEST(ServerLimits, RefusesBodiesOverTheConfiguredLimitWith413) {
  TempDir dir;
  ServerProcess server(dir.path().string(), {"--max-body-bytes", "2048"});
  sdk::Client client(server.url());
  auto big = client.request("POST", "/api/v2/users/first", std::string(4096, 'x'),
                            {{"Content-Type", "application/json"}});
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(message_of(big), "Request body is too large.");
  sdk::Client again(server.url());
  EXPECT_EQ(again.request("GET", "/healthz").status, 200);
  EXPECT_EQ(again.request("GET", "/api/v2/users/first").status, 404);  // nothing half-written
}

// Coder's limits, per caller and path: a user's own count, an address's when signed out, and
// owners may skip them with X-Coder-Bypass-Ratelimit.
TEST(ServerLimits, RateLimitsEachCallerPerPathWith429AndRetryAfter) {
  TempDir dir;
  ServerProcess server(dir.path().string(), {"--api-rate-limit", "5", "--login-rate-limit", "3"});
  auto owner = sign_in_owner(server.url());                   // one login from this address
  auto alice = sign_in_member(server.url(), owner, "alice");  // a second
  for (int i = 0; i < 5; ++i) {
    auto ok = alice.request("GET", "/api/v2/users/me");
    ASSERT_EQ(ok.status, 200) << i;
    EXPECT_EQ(ok.header("x-ratelimit-limit").value_or(""), "5");
    EXPECT_EQ(ok.header("x-ratelimit-remaining").value_or(""), std::to_string(4 - i));
  }
  auto limited = alice.request("GET", "/api/v2/users/me");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(message_of(limited),
            "You've been rate limited for sending more than 5 requests in 1m0s.");
  auto retry = std::stoi(limited.header("retry-after").value_or("0"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  // Another path, and another user, count on their own.
  EXPECT_EQ(alice.request("GET", "/api/v2/users/me/organizations").status, 200);
  auto bob = sign_in_member(server.url(), owner, "bob");  // the third login
  EXPECT_EQ(bob.request("GET", "/api/v2/users/me").status, 200);

  // Only owners bypass.
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(
        owner.request("GET", "/api/v2/users/me", "", {{"X-Coder-Bypass-Ratelimit", "true"}}).status,
        200)
        << i;
  auto not_owner =
      alice.request("GET", "/api/v2/buildinfo", "", {{"X-Coder-Bypass-Ratelimit", "true"}});
  EXPECT_EQ(not_owner.status, 428);

  // Signed out, the address is counted.
  sdk::Client anonymous(server.url());
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(anonymous.request("GET", "/api/v2/workspaces").status, 401) << i;
  EXPECT_EQ(anonymous.request("GET", "/api/v2/workspaces").status, 429);
  // Password logins have their own, tighter limit: three from this address were used.
  auto login = anonymous.request_json(
      "POST", "/api/v2/users/login",
      json::object{{"email", "alice@example.com"}, {"password", "wrong-password"}});
  EXPECT_EQ(login.status, 429);
  EXPECT_EQ(message_of(login),
            "You've been rate limited for sending more than 3 requests in 1m0s.");
}

// Behind a reverse proxy every request comes from the proxy: with the proxy trusted, the login
// limit counts the client it names in X-Forwarded-For; from anyone else the header is ignored.
TEST(ServerLimits, TheLoginLimitCountsTheClientATrustedProxyNames) {
  auto login_as = [](sdk::Client& client, const std::string& forwarded_for) {
    auto body =
        json::serialize(json::object{{"email", "owner@example.com"}, {"password", kPassword}});
    return client
        .request("POST", "/api/v2/users/login", body,
                 {{"Content-Type", "application/json"}, {"X-Forwarded-For", forwarded_for}})
        .status;
  };
  {
    TempDir dir;
    ServerProcess server(dir.path().string(),
                         {"--login-rate-limit", "2", "--proxy-trusted-headers", "X-Forwarded-For",
                          "--proxy-trusted-origins", "127.0.0.0/8"});
    sign_in_owner(server.url());  // a login from 127.0.0.1 itself
    sdk::Client proxy(server.url());
    EXPECT_EQ(login_as(proxy, "203.0.113.1"), 201);
    EXPECT_EQ(login_as(proxy, "203.0.113.1, 127.0.0.1"), 201);
    EXPECT_EQ(login_as(proxy, "203.0.113.1"), 429);
    EXPECT_EQ(login_as(proxy, "203.0.113.2"), 201);  // another client behind the same proxy
  }
  {
    TempDir dir;
    ServerProcess server(dir.path().string(),
                         {"--login-rate-limit", "2", "--proxy-trusted-headers", "X-Forwarded-For",
                          "--proxy-trusted-origins", "10.0.0.0/8"});
    sign_in_owner(server.url());
    sdk::Client not_a_proxy(server.url());
    EXPECT_EQ(login_as(not_a_proxy, "203.0.113.1"), 201);
    EXPECT_EQ(login_as(not_a_proxy, "203.0.113.2"), 429);  // all from 127.0.0.1
  }
  TempDir dir;
  auto [code, err] =
      run_berth({"server", "--data-dir", dir.path().string(), "--proxy-trusted-origins",
                 "10.0.0.0/40", "--proxy-trusted-headers", "X-Forwarded-For"});
  EXPECT_NE(code, 0);
  EXPECT_NE(err.find("Invalid --proxy-trusted-origins entry \"10.0.0.0/40\""), std::string::npos)
      << err;
}

TEST(ServerLimits, ShutsDownCleanlyOnSigterm) {
  TempDir dir;
  ServerProcess server(dir.path().string());
  sdk::Client client(server.url());
  EXPECT_EQ(client.request("GET", "/healthz").status, 200);
  EXPECT_EQ(server.stop(), 0);
  auto log = server.log();
  EXPECT_NE(log.find("shutting down"), std::string::npos) << log;
  EXPECT_NE(log.find("GET /healthz 200"), std::string::npos) << log;  // the access log
}

}  // namespace
}  // namespace berth::testing
