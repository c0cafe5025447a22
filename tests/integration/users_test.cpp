// Users, sessions, tokens and organizations against the real binary over HTTP.
#include <gtest/gtest.h>

#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace berth::testing {
namespace {

class UsersApi : public ::testing::Test {
 protected:
  TempDir dir_;
  ServerProcess server_{dir_.path().string()};
};

TEST_F(UsersApi, FirstUserFlowFromEmptyServerToSignedInOwner) {
  sdk::Client anon(server_.url());
  auto first = anon.request("GET", "/api/v2/users/first");
  EXPECT_EQ(first.status, 404);
  EXPECT_EQ(message_of(first), "The initial user has not been created!");
  EXPECT_TRUE(first.header("x-coder-build-version"));
  auto owner = sign_in_owner(server_.url());
  EXPECT_EQ(anon.request("GET", "/api/v2/users/first").status, 200);
  auto again = anon.request_json(
      "POST", "/api/v2/users/first",
      json::object{{"email", "x@example.com"}, {"username", "x"}, {"password", kPassword}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(message_of(again), "The initial user has already been created.");

  auto me = owner.request("GET", "/api/v2/users/me");
  ASSERT_EQ(me.status, 200);
  auto user = sdk::user_from_json(me.json());
  EXPECT_EQ(user.username, "owner");
  EXPECT_EQ(user.status, "active");
  ASSERT_EQ(user.roles.size(), 1u);
  EXPECT_EQ(user.roles[0].name, "owner");
  EXPECT_EQ(user.roles[0].display_name, "Owner");
  ASSERT_EQ(user.organization_ids.size(), 1u);
  auto org = owner.request("GET", "/api/v2/organizations/" + user.organization_ids[0].to_string());
  ASSERT_EQ(org.status, 200);
  EXPECT_EQ(sdk::organization_from_json(org.json()).name, "coder");
  EXPECT_EQ(owner.request("GET", "/api/v2/organizations/coder").status, 200);
  EXPECT_EQ(owner.request("GET", "/api/v2/users/owner").status, 200);
  EXPECT_EQ(owner.request("GET", "/api/v2/users/" + user.id.to_string()).status, 200);
}

TEST_F(UsersApi, TokenIsAcceptedFromHeaderCookieAndQuery) {
  auto owner = sign_in_owner(server_.url());
  auto token = owner.session_token();
  sdk::Client anon(server_.url());
  EXPECT_EQ(
      anon.request("GET", "/api/v2/users/me", "", {{"Cookie", "coder_session_token=" + token}})
          .status,
      200);
  EXPECT_EQ(anon.request("GET", "/api/v2/users/me?coder_session_token=" + token).status, 200);
  auto none = anon.request("GET", "/api/v2/users/me");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(message_of(none),
            "You are signed out or your session has expired. Please sign in again to continue.");
  auto bad = anon.request("GET", "/api/v2/users/me", "", {{"Coder-Session-Token", "garbage"}});
  EXPECT_EQ(bad.status, 401);
}

TEST_F(UsersApi, LoginRejectsWrongPasswordAndLogoutEndsTheSession) {
  auto owner = sign_in_owner(server_.url());
  sdk::Client anon(server_.url());
  auto wrong =
      anon.request_json("POST", "/api/v2/users/login",
                        json::object{{"email", "owner@example.com"}, {"password", "nope"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(message_of(wrong), "Incorrect email or password.");
  auto out = owner.request("POST", "/api/v2/users/logout");
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(message_of(out), "Logged out!");
  EXPECT_EQ(owner.request("GET", "/api/v2/users/me").status, 401);
}

TEST_F(UsersApi, TokensAreCreatedListedUsedAndDeleted) {
  auto owner = sign_in_owner(server_.url());
  auto created =
      owner.request_json("POST", "/api/v2/users/me/keys/tokens",
                         json::object{{"token_name", "ci"}, {"lifetime", 3600LL * 1000000000LL}});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string token(created.json().as_object().at("key").as_string());
  auto dup = owner.request_json("POST", "/api/v2/users/me/keys/tokens",
                                json::object{{"token_name", "ci"}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(message_of(dup), "A token with name \"ci\" already exists.");
  auto list = owner.request("GET", "/api/v2/users/me/keys/tokens");
  ASSERT_EQ(list.status, 200);
  auto keys = list.json().as_array();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].as_object().at("token_name"), "ci");
  EXPECT_EQ(keys[0].as_object().at("lifetime_seconds"), 3600);
  EXPECT_EQ(keys[0].as_object().at("username"), "owner");
  EXPECT_EQ(owner.request("GET", "/api/v2/users/me/keys/tokens/ci").status, 200);

  sdk::Client with_token(server_.url());
  with_token.set_session_token(token);
  EXPECT_EQ(with_token.request("GET", "/api/v2/users/me").status, 200);
  auto id = token.substr(0, 10);
  EXPECT_EQ(owner.request("DELETE", "/api/v2/users/me/keys/" + id).status, 204);
  EXPECT_EQ(with_token.request("GET", "/api/v2/users/me").status, 401);
  EXPECT_EQ(owner.request("DELETE", "/api/v2/users/me/keys/" + id).status, 404);

  auto session = owner.request("POST", "/api/v2/users/me/keys");
  EXPECT_EQ(session.status, 201);
  auto config = owner.request("GET", "/api/v2/users/me/keys/tokens/tokenconfig");
  EXPECT_EQ(config.status, 200);
  EXPECT_TRUE(config.json().as_object().at("max_token_lifetime").is_number());
  auto negative = owner.request_json("POST", "/api/v2/users/me/keys/tokens",
                                     json::object{{"token_name", "neg"}, {"lifetime", -5}});
  EXPECT_EQ(negative.status, 400);
}

TEST_F(UsersApi, MembersSeeOnlyTheirOwnDataAndCannotAdminister) {
  auto owner = sign_in_owner(server_.url());
  auto member = sign_in_member(server_.url(), owner, "mallory");
  auto me = member.request("GET", "/api/v2/users/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(sdk::user_from_json(me.json()).roles.size(), 0u);
  auto other = member.request("GET", "/api/v2/users/owner");
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(message_of(other), "Resource not found or you do not have access to this resource");
  EXPECT_EQ(member.request("GET", "/api/v2/users/owner/keys/tokens").status, 404);
  EXPECT_EQ(member.request_json("POST", "/api/v2/users/owner/keys/tokens", json::object{}).status,
            404);
  auto users = member.request("GET", "/api/v2/users").json().as_object();
  ASSERT_EQ(users.at("users").as_array().size(), 1u);
  EXPECT_EQ(users.at("users").as_array()[0].as_object().at("username"), "mallory");
  auto create = member.request_json("POST", "/api/v2/users",
                                    json::object{{"email", "e@example.com"},
                                                 {"username", "eve"},
                                                 {"password", kPassword},
                                                 {"organization_ids", json::array{}}});
  EXPECT_EQ(create.status, 403);
  auto roles = member.request_json("PUT", "/api/v2/users/owner/roles",
                                   json::object{{"roles", json::array{}}});
  EXPECT_EQ(roles.status, 404);
  // The organization and its member list are visible to its members.
  EXPECT_EQ(member.request("GET", "/api/v2/organizations").json().as_array().size(), 1u);
  auto members = member.request("GET", "/api/v2/organizations/coder/members");
  ASSERT_EQ(members.status, 200);
  EXPECT_EQ(members.json().as_array().size(), 2u);
}

TEST_F(UsersApi, OwnersListSearchAndPromoteUsers) {
  auto owner = sign_in_owner(server_.url());
  for (auto name : {"alice", "bob", "carol"}) sign_in_member(server_.url(), owner, name);
  auto all = owner.request("GET", "/api/v2/users").json().as_object();
  EXPECT_EQ(all.at("count"), 4);
  EXPECT_EQ(all.at("users").as_array()[0].as_object().at("username"), "alice");
  auto page = owner.request("GET", "/api/v2/users?limit=2&offset=1").json().as_object();
  EXPECT_EQ(page.at("users").as_array().size(), 2u);
  EXPECT_EQ(page.at("users").as_array()[0].as_object().at("username"), "bob");
  auto search = owner.request("GET", "/api/v2/users?q=car").json().as_object();
  EXPECT_EQ(search.at("count"), 1);
  auto by_role = owner.request("GET", "/api/v2/users?q=role:owner").json().as_object();
  EXPECT_EQ(by_role.at("count"), 1);
  auto bad_query = owner.request("GET", "/api/v2/users?q=color:blue");
  EXPECT_EQ(bad_query.status, 400);
  EXPECT_EQ(message_of(bad_query), "Invalid user search query.");
  auto bad_limit = owner.request("GET", "/api/v2/users?limit=-1");
  EXPECT_EQ(bad_limit.status, 400);
  EXPECT_EQ(message_of(bad_limit), "Query parameters have invalid values.");

  auto promote = owner.request_json("PUT", "/api/v2/users/bob/roles",
                                    json::object{{"roles", json::array{"template-admin"}}});
  ASSERT_EQ(promote.status, 200) << promote.body;
  EXPECT_EQ(sdk::user_from_json(promote.json()).roles.at(0).name, "template-admin");
  auto unknown = owner.request_json("PUT", "/api/v2/users/bob/roles",
                                    json::object{{"roles", json::array{"wizard"}}});
  EXPECT_EQ(unknown.status, 400);
  auto self =
      owner.request_json("PUT", "/api/v2/users/me/roles", json::object{{"roles", json::array{}}});
  EXPECT_EQ(self.status, 400);
  EXPECT_EQ(message_of(self), "You cannot change your own roles.");
}

TEST_F(UsersApi, BadInputGetsClearErrors) {
  auto owner = sign_in_owner(server_.url());
  auto bad_json =
      owner.request("POST", "/api/v2/users", "{not json", {{"Content-Type", "application/json"}});
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(message_of(bad_json), "Request body must be valid JSON.");
  auto wrong_type = owner.request_json("POST", "/api/v2/users", json::object{{"email", 5}});
  EXPECT_EQ(wrong_type.status, 400);
  auto invalid = owner.request_json(
      "POST", "/api/v2/users",
      json::object{{"email", "nope"}, {"username", "bad name"}, {"password", kPassword}});
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(message_of(invalid), "Validation failed.");
  EXPECT_EQ(invalid.json().as_object().at("validations").as_array().size(), 2u);
  auto weak =
      owner.request_json("POST", "/api/v2/users",
                         json::object{{"email", "w@example.com"},
                                      {"username", "weak"},
                                      {"password", "password"},
                                      {"organization_ids", json::array{Uuid{}.to_string()}}});
  EXPECT_EQ(weak.status, 400);
  EXPECT_EQ(message_of(weak), "Password is invalid");
  auto unknown_user = owner.request("GET", "/api/v2/users/ghost");
  EXPECT_EQ(unknown_user.status, 400);
  EXPECT_EQ(message_of(unknown_user), "\"user\" must be an existing uuid or username.");
  auto route = owner.request("GET", "/api/v2/nothing-here");
  EXPECT_EQ(route.status, 404);
  EXPECT_EQ(message_of(route), "Route not found.");
  auto method = owner.request("PATCH", "/api/v2/users/first");
  EXPECT_EQ(method.status, 405);
  EXPECT_TRUE(method.header("allow"));
}

TEST_F(UsersApi, ExpiredTokensAreRefused) {
  auto owner = sign_in_owner(server_.url());
  auto id = owner.session_token().substr(0, 10);
  // Age the key in the real database, as time passing would.
  exec_sql(server_.data_dir(), "UPDATE api_keys SET expires_at = 1000000 WHERE id = '" + id + "'");
  auto r = owner.request("GET", "/api/v2/users/me");
  EXPECT_EQ(r.status, 401);
  auto detail = std::string(r.json().as_object().at("detail").as_string());
  EXPECT_EQ(detail.rfind("API key expired at \"1970-01-01 00:00:01 +0000 UTC\"", 0), 0u) << detail;
}

// A client using a new API token ("ci") of the user `session` is signed in as.
sdk::Client token_client(const std::string& url, sdk::Client& session) {
  auto token = session.request_json("POST", "/api/v2/users/me/keys/tokens",
                                    json::object{{"token_name", "ci"}});
  EXPECT_EQ(token.status, 201) << token.body;
  sdk::Client client(url);
  client.set_session_token(std::string(token.json().as_object().at("key").as_string()));
  return client;
}

// Signs in as `username` again (its earlier sessions stay valid).
sdk::HttpResponse log_in(const std::string& url, const std::string& username,
                         const std::string& password = kPassword) {
  sdk::Client client(url);
  return client.request_json(
      "POST", "/api/v2/users/login",
      json::object{{"email", username + "@example.com"}, {"password", password}});
}

std::string status_of(const sdk::HttpResponse& r) {
  return std::string(r.json().as_object().at("status").as_string());
}

TEST_F(UsersApi, SuspensionLocksSessionsAndTokensOutAtOnceAndActivationLetsThemBack) {
  auto owner = sign_in_owner(server_.url());
  auto alice = sign_in_member(server_.url(), owner, "alice");
  auto alice_token = token_client(server_.url(), alice);
  ASSERT_EQ(alice_token.request("GET", "/api/v2/users/me").status, 200);

  auto suspended = owner.request("PUT", "/api/v2/users/alice/status/suspend");
  ASSERT_EQ(suspended.status, 200) << suspended.body;
  EXPECT_EQ(status_of(suspended), "suspended");
  EXPECT_EQ(sdk::user_from_json(suspended.json()).username, "alice");
  for (auto* client : {&alice, &alice_token}) {
    auto refused = client->request("GET", "/api/v2/users/me");
    EXPECT_EQ(refused.status, 401);
    EXPECT_EQ(message_of(refused),
              "User is not active (status = \"suspended\"). Contact an admin to reactivate your "
              "account.");
  }
  auto login = log_in(server_.url(), "alice");
  EXPECT_EQ(login.status, 401);
  EXPECT_EQ(message_of(login),
            "Your account is suspended. Contact an admin to reactivate your account.");
  EXPECT_EQ(status_of(owner.request("GET", "/api/v2/users/alice")), "suspended");

  auto activated = owner.request("PUT", "/api/v2/users/alice/status/activate");
  ASSERT_EQ(activated.status, 200) << activated.body;
  EXPECT_EQ(status_of(activated), "active");
  EXPECT_EQ(alice.request("GET", "/api/v2/users/me").status, 200);
  EXPECT_EQ(alice_token.request("GET", "/api/v2/users/me").status, 200);
  EXPECT_EQ(log_in(server_.url(), "alice").status, 201);
}

TEST_F(UsersApi, OnlyUserAdminsSuspendAndNobodySuspendsThemselvesOrAnOwner) {
  auto owner = sign_in_owner(server_.url());
  auto member = sign_in_member(server_.url(), owner, "bob");
  auto admin = sign_in_member(server_.url(), owner, "uadmin");
  auto templates = sign_in_member(server_.url(), owner, "tadmin");
  sign_in_member(server_.url(), owner, "boss");
  auto grant = [&](const std::string& user, const std::string& role) {
    auto r = owner.request_json("PUT", "/api/v2/users/" + user + "/roles",
                                json::object{{"roles", json::array{json::value(role)}}});
    ASSERT_EQ(r.status, 200) << r.body;
  };
  grant("uadmin", "user-admin");
  grant("tadmin", "template-admin");
  grant("boss", "owner");

  auto self = owner.request("PUT", "/api/v2/users/me/status/suspend");
  EXPECT_EQ(self.status, 400);
  EXPECT_EQ(message_of(self), "You cannot suspend yourself.");
  auto member_self = member.request("PUT", "/api/v2/users/me/status/suspend");
  EXPECT_EQ(member_self.status, 400);
  EXPECT_EQ(message_of(member_self), "You cannot suspend yourself.");
  auto an_owner = admin.request("PUT", "/api/v2/users/boss/status/suspend");
  EXPECT_EQ(an_owner.status, 400);
  EXPECT_EQ(message_of(an_owner),
            "You cannot suspend a user with the \"owner\" role. You must remove the role first.");
  // A member cannot see other users; a template admin sees them but may not change them.
  EXPECT_EQ(member.request("PUT", "/api/v2/users/uadmin/status/suspend").status, 404);
  auto forbidden = templates.request("PUT", "/api/v2/users/bob/status/suspend");
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(message_of(forbidden), "Forbidden.");
  EXPECT_EQ(member.request("PUT", "/api/v2/users/me/status/activate").status, 403);

  auto by_admin = admin.request("PUT", "/api/v2/users/bob/status/suspend");
  ASSERT_EQ(by_admin.status, 200) << by_admin.body;
  EXPECT_EQ(member.request("GET", "/api/v2/users/me").status, 401);
  EXPECT_EQ(admin.request("PUT", "/api/v2/users/bob/status/activate").status, 200);
  EXPECT_EQ(member.request("GET", "/api/v2/users/me").status, 200);
  EXPECT_EQ(owner.request("PUT", "/api/v2/users/ghost/status/suspend").status, 400);
}

TEST_F(UsersApi, DeletingAUserEndsItsSessionsAtOnceAndFreesItsName) {
  auto owner = sign_in_owner(server_.url());
  auto bob = sign_in_member(server_.url(), owner, "bob");
  auto templates = sign_in_member(server_.url(), owner, "tadmin");
  auto grant = owner.request_json("PUT", "/api/v2/users/tadmin/roles",
                                  json::object{{"roles", json::array{"template-admin"}}});
  ASSERT_EQ(grant.status, 200) << grant.body;
  auto bob_token = token_client(server_.url(), bob);
  ASSERT_EQ(bob_token.request("GET", "/api/v2/users/me").status, 200);
  auto old_id = sdk::user_from_json(owner.request("GET", "/api/v2/users/bob").json()).id;

  auto self = owner.request("DELETE", "/api/v2/users/me");
  EXPECT_EQ(self.status, 403);
  EXPECT_EQ(message_of(self), "You cannot delete yourself!");
  EXPECT_EQ(message_of(bob.request("DELETE", "/api/v2/users/me")), "You cannot delete yourself!");
  // A member cannot see other users; a template admin sees them but may not delete them.
  EXPECT_EQ(bob.request("DELETE", "/api/v2/users/tadmin").status, 404);
  auto forbidden = templates.request("DELETE", "/api/v2/users/bob");
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(message_of(forbidden), "Forbidden.");
  EXPECT_EQ(bob.request("GET", "/api/v2/users/me").status, 200);

  auto deleted = owner.request("DELETE", "/api/v2/users/bob");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(message_of(deleted), "User has been deleted!");
  // Sessions and tokens stop with the very next request (they were cached a moment ago).
  EXPECT_EQ(bob.request("GET", "/api/v2/users/me").status, 401);
  EXPECT_EQ(bob_token.request("GET", "/api/v2/users/me").status, 401);
  EXPECT_EQ(log_in(server_.url(), "bob").status, 401);
  EXPECT_EQ(owner.request("GET", "/api/v2/users/bob").status, 400);
  EXPECT_EQ(owner.request("GET", "/api/v2/users/" + old_id.to_string()).status, 400);
  EXPECT_EQ(owner.request("DELETE", "/api/v2/users/bob").status, 400);
  auto users = owner.request("GET", "/api/v2/users").json().as_object().at("users").as_array();
  for (const auto& u : users) EXPECT_NE(sdk::user_from_json(u).username, "bob");

  // The name is free again, for a new account.
  auto again = sign_in_member(server_.url(), owner, "bob");
  auto fresh = sdk::user_from_json(again.request("GET", "/api/v2/users/me").json());
  EXPECT_EQ(fresh.username, "bob");
  EXPECT_NE(fresh.id, old_id);
}

TEST_F(UsersApi, AuditLogRecordsWhoChangedWhatAndNeverASecret) {
  auto owner = sign_in_owner(server_.url());
  auto alice = sign_in_member(server_.url(), owner, "alice");
  auto bob = sign_in_member(server_.url(), owner, "bob");
  EXPECT_EQ(log_in(server_.url(), "alice", "Wrong-Passw0rd!").status, 401);
  auto token = owner.request_json("POST", "/api/v2/users/alice/keys/tokens",
                                  json::object{{"token_name", "ci"}});
  ASSERT_EQ(token.status, 201) << token.body;
  auto secret = std::string(token.json().as_object().at("key").as_string());
  ASSERT_EQ(owner.request("PUT", "/api/v2/users/alice/status/suspend").status, 200);
  ASSERT_EQ(owner.request("PUT", "/api/v2/users/alice/status/activate").status, 200);
  EXPECT_EQ(bob.request("DELETE", "/api/v2/users/alice").status, 404);  // a failure, audited

  auto page = [&](sdk::Client& who, const std::string& query) {
    auto r = who.request("GET", "/api/v2/audit?limit=50" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json().as_object();
  };
  auto all = page(owner, "");
  auto logs = all.at("audit_logs").as_array();
  // First user, two members created, three good logins and a bad one, a token, two status
  // changes and the refused delete.
  EXPECT_EQ(all.at("count").as_int64(), 11);
  ASSERT_EQ(logs.size(), 11u);
  auto entry = [](const json::value& v) { return v.as_object(); };
  auto newest = entry(logs[0]);
  EXPECT_EQ(newest.at("action"), "delete");
  EXPECT_EQ(newest.at("resource_type"), "user");
  EXPECT_EQ(newest.at("resource_target"), "alice");
  EXPECT_EQ(newest.at("status_code").as_int64(), 404);
  EXPECT_EQ(newest.at("user").as_object().at("username"), "bob");
  EXPECT_EQ(newest.at("description"), "{user} deleted user {target}");
  auto activated = entry(logs[1]);
  EXPECT_EQ(activated.at("action"), "write");
  EXPECT_EQ(activated.at("resource_target"), "alice");
  EXPECT_EQ(activated.at("status_code").as_int64(), 200);
  EXPECT_EQ(activated.at("user").as_object().at("username"), "owner");
  EXPECT_EQ(activated.at("description"), "{user} updated user {target}");
  auto created_token = entry(logs[3]);
  EXPECT_EQ(created_token.at("resource_type"), "api_key");
  EXPECT_EQ(created_token.at("action"), "create");
  EXPECT_EQ(created_token.at("resource_target"), json::value(secret.substr(0, secret.find('-'))));
  // Nothing secret anywhere: not the token's secret, not a password.
  auto text = json::serialize(all);
  EXPECT_EQ(text.find(secret.substr(secret.find('-') + 1)), std::string::npos);
  EXPECT_EQ(text.find(kPassword), std::string::npos);
  EXPECT_EQ(text.find("Wrong-Passw0rd!"), std::string::npos);

  auto logins = page(owner, "&q=action:login").at("audit_logs").as_array();
  ASSERT_EQ(logins.size(), 4u);
  auto failed = entry(logins[0]);
  EXPECT_EQ(failed.at("status_code").as_int64(), 401);
  EXPECT_EQ(failed.at("user").as_object().at("username"), "alice");
  EXPECT_EQ(failed.at("description"), "{user} logged in");
  EXPECT_EQ(page(owner, "&q=username:bob").at("count").as_int64(), 2);  // his login, the delete
  EXPECT_EQ(page(owner, "&q=resource_type:api_key%20action:create").at("count").as_int64(), 1);
  auto second = owner.request("GET", "/api/v2/audit?limit=2&offset=1").json().as_object();
  ASSERT_EQ(second.at("audit_logs").as_array().size(), 2u);
  EXPECT_EQ(second.at("audit_logs").as_array()[0].as_object().at("id"),
            logs[1].as_object().at("id"));
  EXPECT_EQ(second.at("count").as_int64(), 11);
  auto bad = owner.request("GET", "/api/v2/audit?limit=5&q=action:dance");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(message_of(bad), "Invalid audit search query.");

  // Members see none of it; auditors all of it.
  EXPECT_EQ(page(bob, "").at("count").as_int64(), 0);
  auto grant = owner.request_json("PUT", "/api/v2/users/bob/roles",
                                  json::object{{"roles", json::array{"auditor"}}});
  ASSERT_EQ(grant.status, 200) << grant.body;
  EXPECT_EQ(page(bob, "").at("count").as_int64(), 12);  // and the role change itself
}

TEST(ServerLifecycle, RestartKeepsUsersSessionsAndIds) {
  TempDir dir;
  std::string token, deployment;
  {
    ServerProcess server(dir.path().string());
    auto owner = sign_in_owner(server.url());
    token = owner.session_token();
    deployment = std::string(owner.request("GET", "/api/v2/buildinfo")
                                 .json()
                                 .as_object()
                                 .at("deployment_id")
                                 .as_string());
    EXPECT_EQ(server.stop(), 0) << server.log();
  }
  ServerProcess server(dir.path().string());
  sdk::Client client(server.url());
  client.set_session_token(token);
  auto me = client.request("GET", "/api/v2/users/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(sdk::user_from_json(me.json()).username, "owner");
  EXPECT_EQ(client.request("GET", "/api/v2/buildinfo").json().as_object().at("deployment_id"),
            json::value(deployment));
  EXPECT_EQ(client.request("GET", "/api/v2/users/first").status, 200);
}

TEST(ServerLifecycle, RefusesADatabaseFromANewerBerth) {
  TempDir dir;
  { ServerProcess server(dir.path().string()); }
  exec_sql(dir.path().string(), "INSERT INTO schema_migrations (version) VALUES (9999)");
  std::vector<std::string> args = {"server", "--http-address", "127.0.0.1:0", "--data-dir",
                                   dir.path().string()};
  for (auto& flag : store_flags(dir.path().string())) args.push_back(flag);
  auto [code, err] = run_berth(args);
  EXPECT_NE(code, 0);
  EXPECT_NE(err.find("newer version of Berth"), std::string::npos) << err;
}

TEST(ServerLifecycle, BadFlagsExitNonZeroWithAMessage) {
  auto [code, err] = run_berth({"server", "--http-address", "not-an-address"});
  EXPECT_NE(code, 0);
  EXPECT_NE(err.find("host:port"), std::string::npos) << err;
  auto [code2, err2] = run_berth({"server", "--log-level", "loud", "--http-address", "127.0.0.1:0",
                                  "--data-dir", "/tmp/berth-unused-" + std::to_string(getpid())});
  EXPECT_NE(code2, 0);
  EXPECT_NE(err2.find("log-level"), std::string::npos) << err2;
}

}  // namespace
}  // namespace berth::testing
