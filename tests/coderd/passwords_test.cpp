#include "coderd/passwords.hpp"

#include <gtest/gtest.h>

namespace berth::coderd {
namespace {

TEST(PasswordRules, AcceptsStrongPasswords) {
  for (const char* ok : {"SomeStr0ng!Passw0rd", "correct horse battery staple", "Xk9#mQ2$vL7@"})
    EXPECT_FALSE(password_problem(ok)) << ok << ": " << *password_problem(ok);
}

TEST(PasswordRules, RejectsWeakPasswordsWithHints) {
  EXPECT_EQ(password_problem("password"),
            "insecure password, try including more special characters, using uppercase letters, "
            "using numbers or using a longer password");
  EXPECT_TRUE(password_problem(""));
  EXPECT_TRUE(password_problem("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));  // repeats count twice at most
  EXPECT_TRUE(password_problem("abcdefghijklmnopqrstu"));           // so do sequences
}

TEST(PasswordRules, RejectsOverlongPasswords) {
  std::string long_one;
  for (int i = 0; i < 13; ++i) long_one += "Ab3!x";
  EXPECT_EQ(password_problem(long_one), "password must be no more than 64 characters");
}

TEST(PasswordEntropy, GrowsWithAlphabetAndLength) {
  EXPECT_LT(password_entropy("abcxyz"), password_entropy("abcXYZ"));
  EXPECT_LT(password_entropy("qmzpwl"), password_entropy("qmzpwlrt"));
  EXPECT_EQ(password_entropy(""), 0);
}

TEST(PasswordHash, VerifiesOnlyTheRightPassword) {
  auto hash = hash_password("SomeStr0ng!Passw0rd");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_TRUE(verify_password("SomeStr0ng!Passw0rd", hash));
  EXPECT_FALSE(verify_password("SomeStr0ng!Passw0rD", hash));
  EXPECT_FALSE(verify_password("x", ""));
  EXPECT_FALSE(verify_password("x", "$argon2id$garbage"));
  EXPECT_NE(hash_password("SomeStr0ng!Passw0rd"), hash);  // salted
}

}  // namespace
}  // namespace berth::coderd
