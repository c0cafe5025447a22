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
  EXPECT_EQ(auth->user.id, owner.id);
  EXPECT_EQ(auth->subject.site_roles, std::vector<std::string>{"owner"});
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
  s.api_keys.authenticate(key.token, "");  // cached now
  s.users.update_status(s.api_keys.subject_for(owner), *s.store.get_user_by_id(member.id),
                        "suspended");
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

// The session cache: what a cached key answers must be what the store would.

TEST(ApiKeys, CachedSessionsStillCheckTheSecretAndTheExpiry) {
  testing::Services s;
  auto owner = s.make_owner();
  auto key = s.api_keys.create(owner.id, "token", hours(2), "ci", "");
  s.api_keys.authenticate(key.token, "");  // first use writes last_used
  auto cached = s.api_keys.authenticate(key.token, "");
  EXPECT_EQ(s.api_keys.cached_sessions_for_test(), 1u);
  EXPECT_EQ(s.api_keys.authenticate(key.token, ""), cached);  // the same snapshot
  std::string wrong = key.token.substr(0, 11) + std::string(22, 'x');
  EXPECT_EQ(detail_of([&] { s.api_keys.authenticate(wrong, ""); }), "API key secret is invalid.");
  s.clock.advance(hours(2));
  auto detail = detail_of([&] { s.api_keys.authenticate(key.token, ""); });
  EXPECT_EQ(detail.rfind("API key expired at \"", 0), 0u) << detail;
}

TEST(ApiKeys, RevokingAKeyOrChangingItsUserDropsTheCachedSession) {
  testing::Services s;
  auto owner = s.make_owner();
  auto member = s.make_member(owner, "bob");
  auto key = s.api_keys.create(member.id, "password", hours(24), "", "");
  auto other = s.api_keys.create(member.id, "token", hours(24), "ci", "");
  for (int i = 0; i < 2; ++i) {
    s.api_keys.authenticate(key.token, "");
    s.api_keys.authenticate(other.token, "");
  }
  EXPECT_EQ(s.api_keys.cached_sessions_for_test(), 2u);
  auto actor = s.api_keys.subject_for(owner);
  auto updated = s.users.update_roles(actor, *s.store.get_user_by_id(member.id), {"auditor"});
  EXPECT_EQ(s.api_keys.cached_sessions_for_test(), 0u);
  EXPECT_EQ(s.api_keys.authenticate(key.token, "")->subject.site_roles,
            std::vector<std::string>{"auditor"});
  s.api_keys.authenticate(other.token, "");
  EXPECT_EQ(s.api_keys.cached_sessions_for_test(), 2u);
  s.users.delete_api_key(actor, updated, other.token.substr(0, 10));
  EXPECT_EQ(s.api_keys.cached_sessions_for_test(), 1u);
  EXPECT_EQ(detail_of([&] { s.api_keys.authenticate(other.token, ""); }), "API key is invalid.");
  EXPECT_TRUE(s.api_keys.revoke(key.token.substr(0, 10)));
  EXPECT_EQ(detail_of([&] { s.api_keys.authenticate(key.token, ""); }), "API key is invalid.");
}

TEST(ApiKeys, TheHourlyUsageWriteRefreshesTheCachedSession) {
  testing::Services s;
  auto owner = s.make_owner();
  auto key = s.api_keys.create(owner.id, "password", hours(24), "", "");
  auto id = key.token.substr(0, 10);
  s.api_keys.authenticate(key.token, "10.1.1.1");
  s.api_keys.authenticate(key.token, "10.1.1.1");
  s.clock.advance(minutes(61));
  auto written = s.api_keys.authenticate(key.token, "10.2.2.2");
  EXPECT_EQ(s.store.get_api_key_by_id(id)->last_used, s.clock.now());
  EXPECT_EQ(written->key.expires_at, s.clock.now() + hours(24));
  EXPECT_EQ(written->user.last_seen_at, s.clock.now());
  auto next = s.api_keys.authenticate(key.token, "10.2.2.2");
  EXPECT_EQ(next->key.last_used, s.clock.now());
  EXPECT_EQ(next->user.last_seen_at, s.clock.now());
}

TEST(ApiKeys, AnInvalidationOnThePubsubDropsSessionsOfAnotherReplica) {
  testing::Services s;
  store::MemoryPubsub pubsub;
  ApiKeys replica(s.store, pubsub, s.clock, TokenPolicy{});
  auto owner = s.make_owner();
  auto key = s.api_keys.create(owner.id, "password", hours(24), "", "");
  for (int i = 0; i < 2; ++i) replica.authenticate(key.token, "");
  EXPECT_EQ(replica.cached_sessions_for_test(), 1u);
  pubsub.publish(kSessionInvalidationChannel, "user:" + owner.id.to_string());
  EXPECT_EQ(replica.cached_sessions_for_test(), 0u);
  replica.authenticate(key.token, "");
  pubsub.publish(kSessionInvalidationChannel, "key:" + key.token.substr(0, 10));
  EXPECT_EQ(replica.cached_sessions_for_test(), 0u);
  replica.authenticate(key.token, "");
  pubsub.publish(kSessionInvalidationChannel, "something new");
  EXPECT_EQ(replica.cached_sessions_for_test(), 0u);
}

TEST(SessionCache, StaysWithinItsCapacityAndKeepsRecentlyUsedEntries) {
  SessionCache cache(32);
  auto entry = [](int i) {
    auto a = std::make_shared<Authenticated>();
    a->key.id = "key" + std::to_string(i);
    a->user.id = Uuid::random_v4();
    return std::shared_ptr<const Authenticated>(std::move(a));
  };
  for (int i = 0; i < 1000; ++i) {
    cache.insert(cache.epoch(), entry(i));
    cache.find("key0");  // kept warm
  }
  EXPECT_LE(cache.size(), 32u);
  EXPECT_TRUE(cache.find("key0"));
  EXPECT_TRUE(cache.find("key999"));
}

TEST(SessionCache, RefusesAnEntryLoadedBeforeADrop) {
  SessionCache cache;
  auto a = std::make_shared<Authenticated>();
  a->key.id = "abcdefghij";
  auto epoch = cache.epoch();          // a request starts loading...
  cache.drop_user(Uuid::random_v4());  // ...while a change commits
  cache.insert(epoch, a);
  EXPECT_FALSE(cache.find("abcdefghij"));
  cache.insert(cache.epoch(), a);
  EXPECT_TRUE(cache.find("abcdefghij"));
}

}  // namespace
}  // namespace berth::coderd
