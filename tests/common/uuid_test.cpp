#include "common/uuid.hpp"

#include <gtest/gtest.h>

#include <set>

#include "common/crypto.hpp"

namespace berth {
namespace {

TEST(Uuid, RandomV4HasVersionAndVariantBits) {
  auto id = Uuid::random_v4().to_string();
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '4');
  EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
}

TEST(Uuid, ParsesAndPrintsCanonicalLowerCase) {
  auto id = Uuid::parse("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_TRUE(Uuid{}.is_nil());
  EXPECT_FALSE(id->is_nil());
}

TEST(Uuid, RejectsMalformedText) {
  for (const char* bad :
       {"", "me", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "a0eebc99x9c0b-4ef8-bb6d-6bb9bd380a11",
        "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"})
    EXPECT_FALSE(Uuid::parse(bad)) << bad;
}

TEST(Crypto, RandomAlphanumericIsUniqueAndInAlphabet) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto s = random_alphanumeric(22);
    ASSERT_EQ(s.size(), 22u);
    for (char c : s) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << s;
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(Crypto, Sha256MatchesKnownVector) {
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace berth
