#pragma once

#include <gtest/gtest.h>

#include <string>

#include "common/json.hpp"
#include "sdk/client.hpp"
#include "sdk/users.hpp"

namespace berth::testing {

inline constexpr const char* kPassword = "SomeStr0ng!Passw0rd";

inline std::string message_of(const sdk::HttpResponse& r) {
  auto v = r.json();
  if (!v.is_object() || !v.as_object().contains("message")) return "<no message: " + r.body + ">";
  return std::string(v.as_object().at("message").as_string());
}

// Creates the first user over HTTP and returns a client signed in as them.
inline sdk::Client sign_in_owner(const std::string& url) {
  sdk::Client client(url);
  auto created = client.request_json(
      "POST", "/api/v2/users/first",
      json::object{{"email", "owner@example.com"}, {"username", "owner"}, {"password", kPassword}});
  EXPECT_EQ(created.status, 201) << created.body;
  auto login =
      client.request_json("POST", "/api/v2/users/login",
                          json::object{{"email", "owner@example.com"}, {"password", kPassword}});
  EXPECT_EQ(login.status, 201) << login.body;
  client.set_session_token(std::string(login.json().as_object().at("session_token").as_string()));
  return client;
}

// Signs in as the owner sign_in_owner created (on a restarted server).
inline sdk::Client sign_in_owner_again(const std::string& url) {
  sdk::Client client(url);
  auto login =
      client.request_json("POST", "/api/v2/users/login",
                          json::object{{"email", "owner@example.com"}, {"password", kPassword}});
  EXPECT_EQ(login.status, 201) << login.body;
  client.set_session_token(std::string(login.json().as_object().at("session_token").as_string()));
  return client;
}

// Has `owner` create a member and returns a client signed in as that member.
inline sdk::Client sign_in_member(const std::string& url, sdk::Client& owner,
                                  const std::string& username) {
  auto me = owner.request("GET", "/api/v2/users/me").json().as_object();
  auto org = me.at("organization_ids").as_array().at(0);
  auto created = owner.request_json("POST", "/api/v2/users",
                                    json::object{{"email", username + "@example.com"},
                                                 {"username", username},
                                                 {"password", kPassword},
                                                 {"organization_ids", json::array{org}}});
  EXPECT_EQ(created.status, 201) << created.body;
  sdk::Client client(url);
  auto login = client.request_json(
      "POST", "/api/v2/users/login",
      json::object{{"email", username + "@example.com"}, {"password", kPassword}});
  EXPECT_EQ(login.status, 201) << login.body;
  client.set_session_token(std::string(login.json().as_object().at("session_token").as_string()));
  return client;
}

}  // namespace berth::testing
