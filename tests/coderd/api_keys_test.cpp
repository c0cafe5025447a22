#include "coderd/api_keys.hpp"

#include <gtest/gtest.h>

#include "coderd/fixtures.hpp"
#include "common/error.hpp"

namespace berth::coderd {
namespace {

using namespace std::chrono;

std::string detail_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unauthenticated);
    return e.detail().empty() ? e.message() : e.detail();
  }
  ADD_FAILURE() << "not refused";
  return {};
}

TEST(ApiKeys, IssuesIdSecretTokensAndStoresOnlyAHash) {
  testing::Services s;
  auto owner = s.make_owner();
  auto key = s.api_keys.create(owner.id, "password", hours(24), "", "127.0.0.1");
  ASSERT_EQ(key.token.size(), 33u);
  EXPECT_EQ(key.token[10], '-');
  auto stored = s.store.get_api_key_by_id(key.token.substr(0, 10));
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->hashed_secret.size(), 32u);
  EXPECT_EQ(stored->hashed_secret.find(key.token.substr(11)), std::string::npos);
  auto auth = s.api_keys.authenticate(key.token, "127.0.0.1");
  EXPECT_EQ(auth.user.id, owner.id);
  EXPECT_EQ(auth.subject.site_roles, std::vector<std::string>{"owner"});
}

TEST(ApiKeys, RefusesMissingMalformedUnknownAndWrongSecretTokens) {
  testing::Services s;
  auto owner = s.make_owner();
  auto key = s.api_keys.create(owner.id, "password", hours(1), "", "");
  EXPECT_EQ(detail_of([&] { s.api_keys.authenticate("", ""); }),
            "Cookie \"coder_session_token\" or query parameter must be provided.");
  EXPECT_EQ(detail_of([&] { s.api_keys.authenticate("nodash", ""); }),
            "Invalid API key format: incorrect amount of API key parts, expected 2 got 1");
  EXPECT_EQ(detail_of([&] { s.api_keys.authenticate("short-secret", ""); }),
            "Invalid API key format: invalid API key ID length, expected 10 got 5");
  EXPECT_EQ(detail_of([&] { s.api_keys.authenticate("abcdefghij-short", ""); }),
            "Invalid API key format: invalid API key secret length, expected 22 got 5");
  EXPECT_EQ(detail_of([&] { s.api_keys.authenticate("abcdefghij-abcdefghijabcdefghijab", ""); }),
            "API key is invalid.");
  std::string wrong = key.token.substr(0, 11) + std::string(22, 'x');
  EXPECT_EQ(detail_of([&] { s.api_keys.authenticate(wrong, ""); }), "API key secret is invalid.");
}

TEST(ApiKeys, ExpireAtTheirDeadlineUnlessUsed) {
  testing::Services s;
  auto owner = s.make_owner();
  auto idle = s.api_keys.create(owner.id, "token", hours(2), "idle", "");
  auto busy = s.api_keys.create(owner.id, "token", hours(2), "busy", "");
  s.clock.advance(hours(2) - seconds(1));
  EXPECT_NO_THROW(s.api_keys.authenticate(busy.token, ""));  // use slides its expiry
  s.clock.advance(seconds(1));
  auto detail = detail_of([&] { s.api_keys.authenticate(idle.token, ""); });
  EXPECT_EQ(detail.rfind("API key expired at \"", 0), 0u) << detail;
  EXPECT_NE(detail.find("+0000 UTC"), std::string::npos) << detail;
  EXPECT_NO_THROW(s.api_keys.authenticate(busy.token, ""));
}

TEST(ApiKeys, RefreshSlidingExpiryAndLastUsedAtMostHourly) {
  testing::Services s;
  auto owner = s.make_owner();
  auto key = s.api_keys.create(owner.id, "password", hours(24), "", "");
  auto id = key.token.substr(0, 10);
  s.api_keys.authenticate(key.token, "10.1.1.1");  // first use: last_used was the epoch
  auto first = *s.store.get_api_key_by_id(id);
  EXPECT_EQ(first.last_used, s.clock.now());
  EXPECT_EQ(first.ip_address, "10.1.1.1");
  s.clock.advance(minutes(30));
  s.api_keys.authenticate(key.token, "10.2.2.2");
  EXPECT_EQ(s.store.get_api_key_by_id(id)->last_used, first.last_used);  // no write yet
  s.clock.advance(minutes(31));
  s.api_keys.authenticate(key.token, "10.3.3.3");
  auto later = *s.store.get_api_key_by_id(id);
  EXPECT_EQ(later.last_used, s.clock.now());
  EXPECT_EQ(later.expires_at, s.clock.now() + hours(24));
  // Kept alive by use, it outlives its original 24 hours.
  for (int i = 0; i < 30; ++i) {
    s.clock.advance(hours(2));
    ASSERT_NO_THROW(s.api_keys.authenticate(key.token, ""));
  }
}

TEST(ApiKeys, RefuseSuspendedUsersAndActivateDormantOnes) {
  testing::Services s;
  auto owner = s.make_owner();
  auto member = s.make_member(owner, "dora");
  EXPECT_EQ(member.status, "dormant");
  auto key = s.api_keys.create(member.id, "password", hours(1), "", "");
  s.api_keys.authenticate(key.token, "");
  EXPECT_EQ(s.store.get_user_by_id(member.id)->status, "active");
  s.store.update_user_status_by_id(member.id, "suspended", s.clock.now());
  try {
    s.api_keys.authenticate(key.token, "");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unauthenticated);
    EXPECT_EQ(e.message(),
              "User is not active (status = \"suspended\"). Contact an admin to reactivate your "
              "account.");
  }
}

}  // namespace
}  // namespace berth::coderd
