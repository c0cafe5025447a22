#include "coderd/daemon_polls.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "coderd/fixtures.hpp"
#include "store/pubsub.hpp"

namespace berth::coderd {
namespace {

using namespace std::chrono_literals;

// Bounds waits for the poll thread; not an expected duration.
constexpr auto kWaitLimit = 20s;

// What a poll's tries saw, in order: "first", "woken:<channel>", "last", "stopping".
class TryLog {
 public:
  // An attempt that records each try and answers on the try `answer_at` (1-based; 0: never).
  DaemonPolls::Attempt attempt(int answer_at = 0) {
    return [this, answer_at](const DaemonPolls::Try& t) {
      std::lock_guard lock(mutex_);
      std::string entry = t.stopping ? "stopping" : t.last ? "last" : "first";
      for (const auto& channel : t.woken) entry = "woken:" + channel;
      tries_.push_back(entry);
      cv_.notify_all();
      return answer_at > 0 && int(tries_.size()) == answer_at;
    };
  }
  // The tries so far (after stop(), which joins the poll thread: all of them).
  std::vector<std::string> tries() {
    std::lock_guard lock(mutex_);
    return tries_;
  }
  // Waits until `n` tries happened; returns them.
  std::vector<std::string> wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, kWaitLimit, [&] { return tries_.size() >= n; });
    return tries_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> tries_;
};

class DaemonPollsTest : public ::testing::Test {
 protected:
  ManualClock clock{testing::start_time()};
  store::MemoryPubsub pubsub;
  DaemonPolls polls{pubsub, clock, 10s};
};

TEST_F(DaemonPollsTest, TriesAtOnceOnEachMessageAndLastAtTheDeadline) {
  TryLog log;
  auto deadline = clock.steady_now() + 5s;
  polls.add({"a", "b"}, 5s, log.attempt());
  EXPECT_EQ(log.wait_for(1), std::vector<std::string>{"first"});
  pubsub.publish("a", "");
  pubsub.publish("elsewhere", "");  // not the poll's: no try
  EXPECT_EQ(log.wait_for(2), (std::vector<std::string>{"first", "woken:a"}));
  ASSERT_TRUE(clock.await_waiter(deadline));
  clock.advance(5s);
  EXPECT_EQ(log.wait_for(3), (std::vector<std::string>{"first", "woken:a", "last"}));
  pubsub.publish("a", "");  // the poll is over
  polls.stop();
  EXPECT_EQ(log.tries().size(), 3u);
}

TEST_F(DaemonPollsTest, AnAnsweredPollEndsAndWaitsAreCapped) {
  TryLog answered;
  polls.add({"a"}, 1h, answered.attempt(2));  // capped at the 10 s maximum
  answered.wait_for(1);
  pubsub.publish("a", "");
  EXPECT_EQ(answered.wait_for(2).size(), 2u);
  pubsub.publish("a", "");
  // Past the cap, an unanswered poll would have had its last try: this one is gone.
  ASSERT_TRUE(clock.await_waiter(clock.steady_now() + 1h));
  clock.advance(10s);
  polls.stop();
  EXPECT_EQ(answered.tries().size(), 2u);
}

TEST_F(DaemonPollsTest, StoppingGivesEveryPollItsLastTryAsStopping) {
  TryLog waiting;
  polls.add({"a"}, 5s, waiting.attempt());
  waiting.wait_for(1);
  polls.stop();
  EXPECT_EQ(waiting.wait_for(2), (std::vector<std::string>{"first", "stopping"}));
  TryLog late;
  polls.add({"a"}, 5s, late.attempt());
  EXPECT_EQ(late.wait_for(1), std::vector<std::string>{"stopping"});
}

}  // namespace
}  // namespace berth::coderd
