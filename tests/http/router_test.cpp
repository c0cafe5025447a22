#include "http/router.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace berth::http {
namespace {

Request make(const std::string& method, const std::string& path) {
  Request r;
  r.method = method;
  r.path = path;
  return r;
}

Response body(const std::string& text) {
  Response r;
  r.body = text;
  return r;
}

TEST(Router, MatchesLiteralsBeforeCapturesAndFillsParams) {
  Router router;
  router.add("GET", "/api/v2/users/first", [](Request&) { return body("first"); });
  router.add("GET", "/api/v2/users/{user}",
             [](Request& r) { return body("user " + r.param("user")); });
  router.add("GET", "/api/v2/users/{user}/keys/{keyid}",
             [](Request& r) { return body(r.param("user") + "/" + r.param("keyid")); });
  auto first = make("GET", "/api/v2/users/first");
  EXPECT_EQ(router.dispatch(first).body, "first");
  auto me = make("GET", "/api/v2/users/me");
  EXPECT_EQ(router.dispatch(me).body, "user me");
  auto key = make("GET", "/api/v2/users/me/keys/abc");
  EXPECT_EQ(router.dispatch(key).body, "me/abc");
  auto trailing = make("GET", "/api/v2/users/me/");
  EXPECT_EQ(router.dispatch(trailing).body, "user me");
}

TEST(Router, AnswersUnknownPathsWith404AndWrongMethodsWith405) {
  Router router;
  router.add("GET", "/a/{x}", [](Request&) { return body("a"); });
  router.add("POST", "/a/{x}", [](Request&) { return body("a"); });
  auto unknown = make("GET", "/b");
  try {
    router.dispatch(unknown);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_EQ(e.message(), "Route not found.");
  }
  auto wrong = make("DELETE", "/a/1");
  auto response = router.dispatch(wrong);
  EXPECT_EQ(response.status, 405);
  EXPECT_NE(response.body.find("Method not allowed."), std::string::npos);
  auto too_deep = make("GET", "/a/1/2");
  EXPECT_THROW(router.dispatch(too_deep), Error);
}

TEST(Request, ReadsCookiesQueryAndHeaders) {
  Request r;
  r.headers = {{"cookie", "a=1; coder_session_token=abc; b=\"q\""}, {"x-y", "z"}};
  ASSERT_TRUE(parse_target("/p%20q?x=1&x=2&y=hello%20world", r.path, r.query));
  EXPECT_EQ(r.path, "/p q");
  EXPECT_EQ(r.query_values("x"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(r.query_values("y").at(0), "hello world");
  EXPECT_EQ(r.cookie("coder_session_token"), "abc");
  EXPECT_EQ(r.cookie("b"), "q");
  EXPECT_FALSE(r.cookie("missing"));
  EXPECT_EQ(r.header("x-y"), "z");
  EXPECT_FALSE(parse_target("no-slash", r.path, r.query));
}

}  // namespace
}  // namespace berth::http
