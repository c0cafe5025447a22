#include "agentapi/conversation.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace berth::agentapi {
namespace {

using std::chrono::milliseconds;

TEST(ScreenDiff, StartsAtTheFirstLineNotOnTheOldScreen) {
  EXPECT_EQ(screen_diff("banner\n>", "banner\n> hi\nreply\n>"), "> hi\nreply\n>");
}

TEST(ScreenDiff, TrimsBlankLines) {
  EXPECT_EQ(screen_diff("a", "a\n\n  \nb\n\n"), "b");
}

TEST(ScreenDiff, EverythingIsNewAgainstAnEmptyScreen) {
  EXPECT_EQ(screen_diff("", "\nhello\nworld"), "hello\nworld");
}

TEST(RemoveEcho, DropsTheLinesThatEchoTheInput) {
  EXPECT_EQ(remove_echo("> fix the bug\nthinking\nDone.", "fix the bug"), "thinking\nDone.");
}

TEST(RemoveEcho, FollowsAnEchoWrappedOverLines) {
  EXPECT_EQ(remove_echo("> please fix the\n  bug in main\nDone.", "please fix the bug in main"),
            "Done.");
}

TEST(RemoveEcho, LeavesAMessageWithoutEchoAlone) {
  EXPECT_EQ(remove_echo("All good.\nBye.", "fix the bug"), "All good.\nBye.");
}

TEST(RemoveEcho, OnlySearchesNearTheTop) {
  std::string message = "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nfix the bug\nmore";
  EXPECT_EQ(remove_echo(message, "fix the bug"), message);
}

class ConversationTest : public ::testing::Test {
 protected:
  ManualClock clock{TimePoint{}};
  Conversation conversation{clock, milliseconds(1000), 100};

  void settle() {
    clock.advance(milliseconds(1000));
    conversation.tick();
  }
};

TEST_F(ConversationTest, FirstScreenIsAgentMessageZero) {
  auto update = conversation.observe("Welcome\n>");
  ASSERT_EQ(update.messages.size(), 1u);
  EXPECT_EQ(update.messages[0].id, 0);
  EXPECT_EQ(update.messages[0].role, Role::agent);
  EXPECT_EQ(update.messages[0].content, "Welcome\n>");
  EXPECT_EQ(conversation.status(), Status::running);
}

TEST_F(ConversationTest, StatusGoesStableAfterTheWindowAndReportsTheChange) {
  conversation.observe("Welcome\n>");
  clock.advance(milliseconds(999));
  EXPECT_FALSE(conversation.tick().status_changed);
  clock.advance(milliseconds(1));
  EXPECT_TRUE(conversation.tick().status_changed);
  EXPECT_EQ(conversation.status(), Status::stable);
  EXPECT_FALSE(conversation.tick().status_changed);
}

TEST_F(ConversationTest, BlankScreenIsNeverStable) {
  conversation.observe("");
  clock.advance(milliseconds(5000));
  conversation.tick();
  EXPECT_EQ(conversation.status(), Status::running);
  conversation.observe("ready>");
  settle();
  EXPECT_EQ(conversation.status(), Status::stable);
}

TEST_F(ConversationTest, RefusesAUserMessageWhileRunning) {
  conversation.observe("Welcome\n>");
  try {
    conversation.begin_user_message("hi");
    FAIL() << "expected a conflict";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
  }
}

TEST_F(ConversationTest, SplitsUserAndAgentMessages) {
  conversation.observe("Welcome\n>");
  settle();
  auto begun = conversation.begin_user_message("what is 2+2");
  EXPECT_TRUE(begun.status_changed);
  EXPECT_EQ(conversation.status(), Status::running);
  // The echo while typing is not agent output.
  EXPECT_TRUE(conversation.observe("Welcome\n> what is 2+2").messages.empty());
  conversation.end_user_message();
  conversation.observe("Welcome\n> what is 2+2\nthinking...");
  conversation.observe("Welcome\n> what is 2+2\nIt is 4.\n>");
  settle();
  EXPECT_EQ(conversation.status(), Status::stable);
  const auto& messages = conversation.messages();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[1].role, Role::user);
  EXPECT_EQ(messages[1].content, "what is 2+2");
  EXPECT_EQ(messages[2].role, Role::agent);
  EXPECT_EQ(messages[2].id, 2);
  EXPECT_EQ(messages[2].content, "It is 4.\n>");
}

TEST_F(ConversationTest, AgentMessageIsUpdatedInPlaceAsTheScreenChanges) {
  conversation.observe(">");
  settle();
  conversation.begin_user_message("go");
  conversation.end_user_message();
  auto first = conversation.observe("> go\nstep 1");
  auto second = conversation.observe("> go\nstep 1\nstep 2");
  ASSERT_EQ(first.messages.size(), 1u);
  ASSERT_EQ(second.messages.size(), 1u);
  EXPECT_EQ(first.messages[0].id, second.messages[0].id);
  EXPECT_EQ(second.messages[0].content, "step 1\nstep 2");
}

TEST_F(ConversationTest, OldestMessagesAreDroppedBeyondTheBound) {
  Conversation small(clock, milliseconds(10), 4);
  small.observe("start");
  for (int i = 0; i < 5; ++i) {
    clock.advance(milliseconds(10));
    small.tick();
    // Appending (not "literal" + string) sidesteps GCC 12's false -Wrestrict at -O3.
    std::string n = std::to_string(i);
    small.begin_user_message(std::string("m").append(n));
    small.end_user_message();
    small.observe(std::string("start\nreply ").append(n));
  }
  ASSERT_EQ(small.messages().size(), 4u);
  EXPECT_EQ(small.messages().back().id, 10);
  EXPECT_EQ(small.messages().back().content, "reply 4");
}

}  // namespace
}  // namespace berth::agentapi
