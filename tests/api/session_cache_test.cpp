// The session cache seen from a client: Berth's API served in-process on loopback, with time
// under the test's control. Each test warms the cache with a token, changes what the token
// stands for, and checks that the very next request sees the change.
#include <gtest/gtest.h>

#include <thread>

#include "api/agent_app_http.hpp"
#include "api/deps.hpp"
#include "api/routes.hpp"
#include "coderd/organizations.hpp"
#include "http/server.hpp"
#include "sdk/client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace berth::api {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPassword = "SomeStr0ng!Passw0rd";

std::string message_of(const sdk::HttpResponse& r) {
  auto v = r.json();
  if (!v.is_object() || !v.as_object().contains("message")) return "<no message: " + r.body + ">";
  return std::string(v.as_object().at("message").as_string());
}

std::string detail_of(const sdk::HttpResponse& r) {
  auto v = r.json();
  if (!v.is_object() || !v.as_object().contains("detail")) return "<no detail: " + r.body + ">";
  return std::string(v.as_object().at("detail").as_string());
}

class SessionCacheApi : public ::testing::Test {
 protected:
  ~SessionCacheApi() override {
    server_.stop();
    thread_.join();
  }

  sdk::Client client(const std::string& token) {
    sdk::Client c(url_);
    c.set_session_token(token);
    return c;
  }

  std::string log_in(const std::string& email) {
    sdk::Client c(url_);
    auto login = c.request_json("POST", "/api/v2/users/login",
                                json::object{{"email", email}, {"password", kPassword}});
    EXPECT_EQ(login.status, 201) << login.body;
    return std::string(login.json().as_object().at("session_token").as_string());
  }

  sdk::Client sign_in_owner() {
    sdk::Client c(url_);
    auto created = c.request_json(
        "POST", "/api/v2/users/first",
        json::object{
            {"email", "owner@example.com"}, {"username", "owner"}, {"password", kPassword}});
    EXPECT_EQ(created.status, 201) << created.body;
    return client(log_in("owner@example.com"));
  }

  sdk::Client sign_in_member(const std::string& username) {
    auto org = store_.get_default_organization()->id.to_string();
    auto created = owner_.request_json("POST", "/api/v2/users",
                                       json::object{{"email", username + "@example.com"},
                                                    {"username", username},
                                                    {"password", kPassword},
                                                    {"organization_ids", json::array{org}}});
    EXPECT_EQ(created.status, 201) << created.body;
    return client(log_in(username + "@example.com"));
  }

  // Uses the token until its session is served from the cache (its first use writes the
  // key's last use, which is not cached).
  void warm(sdk::Client& c, const std::string& path = "/api/v2/users/me") {
    for (int i = 0; i < 2; ++i) ASSERT_EQ(c.request("GET", path).status, 200) << path;
    ASSERT_TRUE(cached(c.session_token()));
  }

  // Whether the token's session is answered from the cache, without the store.
  bool cached(const std::string& token) {
    return api_keys_.is_cached_for_test(token.substr(0, 10));
  }

  berth::testing::TempDir dir_;
  ManualClock clock_{from_unix_micros(1'700'000'000'000'000LL)};
  std::unique_ptr<store::Store> owned_store_ = berth::testing::open_test_store(dir_);
  store::Store& store_ = *owned_store_;
  bool deployed_ = (coderd::initialize_deployment(store_, clock_), true);
  store::MemoryPubsub pubsub_;
  coderd::ApiKeys api_keys_{store_, pubsub_, clock_, coderd::TokenPolicy{}};
  coderd::Users users_{store_, clock_, api_keys_};
  coderd::JobQueue jobs_{store_, pubsub_, clock_};
  coderd::Templates templates_{store_, jobs_, clock_};
  coderd::Workspaces workspaces_{store_, pubsub_, jobs_, clock_};
  coderd::Agents agents_{store_, pubsub_, clock_};
  coderd::Tasks tasks_{store_, pubsub_, workspaces_, clock_};
  coderd::AgentRegistry agent_registry_;
  AgentAppHttpClient app_http_{agent_registry_};
  Deps deps_{store_,          clock_,      api_keys_,
             users_,          pubsub_,     jobs_,
             templates_,      workspaces_, {"v0.0.0-test", "", ""},
             tasks_,          app_http_,   agents_,
             agent_registry_, nullptr,     nullptr};
  http::Server server_{make_api_handler(deps_), http::ServerLimits{}, nullptr, 4};
  std::string url_ = "http://" + server_.listen("127.0.0.1:0");
  std::thread thread_{[this] { server_.run(false); }};
  sdk::Client owner_ = sign_in_owner();
};

TEST_F(SessionCacheApi, LogoutRefusesTheCachedSessionAtOnce) {
  auto alice = sign_in_member("alice");
  warm(alice);
  ASSERT_EQ(alice.request("POST", "/api/v2/users/logout").status, 200);
  auto after = alice.request("GET", "/api/v2/users/me");
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(detail_of(after), "API key is invalid.");
}

TEST_F(SessionCacheApi, DeletingATokenRefusesItsCachedSessionAtOnce) {
  auto created = owner_.request_json("POST", "/api/v2/users/me/keys/tokens",
                                     json::object{{"token_name", "ci"}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto ci = client(std::string(created.json().as_object().at("key").as_string()));
  warm(ci);
  auto id = ci.session_token().substr(0, 10);
  ASSERT_EQ(owner_.request("DELETE", "/api/v2/users/me/keys/" + id).status, 204);
  auto after = ci.request("GET", "/api/v2/users/me");
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(detail_of(after), "API key is invalid.");
}

TEST_F(SessionCacheApi, SuspensionRefusesCachedSessionsAtOnceAndActivationLetsThemBack) {
  auto alice = sign_in_member("alice");
  warm(alice);
  ASSERT_EQ(owner_.request("PUT", "/api/v2/users/alice/status/suspend").status, 200);
  auto refused = alice.request("GET", "/api/v2/users/me");
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(message_of(refused),
            "User is not active (status = \"suspended\"). Contact an admin to reactivate your "
            "account.");
  ASSERT_EQ(owner_.request("PUT", "/api/v2/users/alice/status/activate").status, 200);
  EXPECT_EQ(alice.request("GET", "/api/v2/users/me").status, 200);
}

TEST_F(SessionCacheApi, SiteRoleChangesApplyToTheNextRequest) {
  auto alice = sign_in_member("alice");
  sign_in_member("bob");
  warm(alice);
  EXPECT_EQ(alice.request("GET", "/api/v2/users/bob").status, 404);
  auto grant = owner_.request_json("PUT", "/api/v2/users/alice/roles",
                                   json::object{{"roles", json::array{"user-admin"}}});
  ASSERT_EQ(grant.status, 200) << grant.body;
  EXPECT_EQ(alice.request("GET", "/api/v2/users/bob").status, 200);  // granted at once
  warm(alice, "/api/v2/users/bob");
  auto revoke = owner_.request_json("PUT", "/api/v2/users/alice/roles",
                                    json::object{{"roles", json::array{}}});
  ASSERT_EQ(revoke.status, 200) << revoke.body;
  auto after = alice.request("GET", "/api/v2/users/bob");
  EXPECT_EQ(after.status, 404);
  EXPECT_EQ(message_of(after), "Resource not found or you do not have access to this resource");
  auto me = alice.request("GET", "/api/v2/users/me").json().as_object();
  EXPECT_TRUE(me.at("roles").as_array().empty());
}

TEST_F(SessionCacheApi, ExpiryIsEnforcedOnCachedSessions) {
  auto created = owner_.request_json(
      "POST", "/api/v2/users/me/keys/tokens",
      json::object{{"token_name", "short"}, {"lifetime", 2LL * 3600 * 1000000000LL}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto token = client(std::string(created.json().as_object().at("key").as_string()));
  warm(token);
  clock_.advance(2h - 1s);  // unused for longer than an hour: its next use slides the expiry
  warm(token);
  clock_.advance(2h);
  auto after = token.request("GET", "/api/v2/users/me");
  EXPECT_EQ(after.status, 401);
  auto detail = detail_of(after);
  EXPECT_EQ(detail.rfind("API key expired at \"", 0), 0u) << detail;
}

TEST_F(SessionCacheApi, AWrongSecretForACachedKeyIsRefused) {
  warm(owner_);
  auto wrong = client(owner_.session_token().substr(0, 11) + std::string(22, 'x'));
  auto refused = wrong.request("GET", "/api/v2/users/me");
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(detail_of(refused), "API key secret is invalid.");
  EXPECT_EQ(owner_.request("GET", "/api/v2/users/me").status, 200);
}

}  // namespace
}  // namespace berth::api
