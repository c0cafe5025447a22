#include "coderd/names.hpp"

#include <gtest/gtest.h>

namespace berth::coderd {
namespace {

TEST(NameRules, MatchCodersNameValid) {
  struct {
    const char* name;
    std::optional<std::string> problem;
  } cases[] = {
      {"alice", std::nullopt},
      {"a-b-c1", std::nullopt},
      {"A1", std::nullopt},
      {"", "must be >= 1 character"},
      {"new", "cannot use \"new\" as a name"},
      {"create", "cannot use \"create\" as a name"},
      {"-a", "must be alphanumeric with hyphens"},
      {"a-", "must be alphanumeric with hyphens"},
      {"a--b", "must be alphanumeric with hyphens"},
      {"a_b", "must be alphanumeric with hyphens"},
      {"a b", "must be alphanumeric with hyphens"},
      {"abcdefghijabcdefghijabcdefghijabc", "must be <= 32 characters"},
  };
  for (const auto& c : cases) EXPECT_EQ(name_problem(c.name), c.problem) << c.name;
}

TEST(NameRules, RealNamesAreTrimmedAndBounded) {
  EXPECT_FALSE(real_name_problem("Ada Lovelace"));
  EXPECT_FALSE(real_name_problem(""));
  EXPECT_EQ(real_name_problem(" Ada"), "must not have leading or trailing whitespace");
  EXPECT_EQ(real_name_problem(std::string(129, 'a')), "must be <= 128 characters");
}

TEST(EmailRules, AcceptPlausibleAddressesOnly) {
  for (const char* ok : {"a@b.c", "first.last+tag@example.co.uk", "x@localhost"})
    EXPECT_TRUE(email_valid(ok)) << ok;
  for (const char* bad :
       {"", "plain", "@example.com", "a@", "a@@b.c", "a b@c.d", "a@.com", "a@b..c"})
    EXPECT_FALSE(email_valid(bad)) << bad;
}

}  // namespace
}  // namespace berth::coderd
