// Regular expressions from templates and users: Go's syntax, and no input that hangs or
// crashes the server (std::regex overflowed the stack on 16,000 characters).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "common/error.hpp"
#include "common/regex.hpp"

namespace berth {
namespace {

TEST(Regex, FindsMatchesAndGroupsAsTerraformDoes) {
  Regex re("([a-z]+)-(\\d+)?");
  auto m = re.find("xx abc-12 def-");
  ASSERT_TRUE(m);
  EXPECT_EQ(*(*m)[0], "abc-12");
  EXPECT_EQ(*(*m)[1], "abc");
  EXPECT_EQ(*(*m)[2], "12");
  auto all = re.find_all("abc-12 def-", 100);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(*all[1][1], "def");
  EXPECT_FALSE(all[1][2].has_value());  // the group did not take part
  EXPECT_FALSE(Regex("^z").find("abc"));
  EXPECT_TRUE(Regex("b+").search("abbbc"));
}

TEST(Regex, ReplacesWithGosExpansion) {
  Regex re("(?P<word>[a-z]+)=(\\d)");
  EXPECT_EQ(re.replace_all("a=1 b=2", "$2:$1"), "1:a 2:b");
  EXPECT_EQ(re.replace_all("a=1", "${word}!$$"), "a!$");
  EXPECT_EQ(re.replace_all("a=1", "${2}x"), "1x");
  EXPECT_EQ(re.replace_all("a=1", "$nosuch."), ".");
  // Coder's Docker template rewrites the loopback address in the agent's init script.
  EXPECT_EQ(Regex("localhost|127\\.0\\.0\\.1").replace_all("http://127.0.0.1:3000", "host"),
            "http://host:3000");
  // Empty matches advance one character at a time, as in Go.
  EXPECT_EQ(Regex("x*").replace_all("abc", "-"), "-a-b-c-");
}

TEST(Regex, RefusesBadPatternsNamingThem) {
  try {
    Regex("(");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid);
    EXPECT_NE(e.message().find("\"(\""), std::string::npos) << e.message();
  }
  // Backreferences are not Go syntax (and are what makes other engines exponential).
  EXPECT_THROW(Regex("(a)\\1"), Error);
}

TEST(Regex, LongSubjectsAndNestedRepeatsStayLinear) {
  std::string subject(1 << 20, 'a');
  EXPECT_TRUE(Regex("^(a|b)+$").search(subject));
  subject.back() = 'c';
  EXPECT_FALSE(Regex("^(a+)+$").search(subject));
  EXPECT_EQ(Regex("a").find_all(subject, 10).size(), 10u);
}

}  // namespace
}  // namespace berth
