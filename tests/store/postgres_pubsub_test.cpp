#include "store/postgres/postgres_pubsub.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "store/postgres/postgres_database.hpp"
#include "support/postgres_suite.hpp"

namespace berth::store::postgres {
namespace {

// Generous: a busy 2-core machine running the whole suite; a pass takes milliseconds.
constexpr auto kDeadline = std::chrono::seconds(30);

// What one subscription received, in order, with waits that end on arrival (or fail at the
// deadline), never sleeps.
class Inbox {
 public:
  Pubsub::Listener listener() {
    return [this](const std::string& message) {
      {
        std::lock_guard lock(mutex_);
        messages_.push_back(message);
      }
      cv_.notify_all();
    };
  }
  // Waits until at least `count` messages arrived.
  bool wait_for_count(std::size_t count) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kDeadline, [&] { return messages_.size() >= count; });
  }
  // Waits until `message` arrived.
  bool wait_for(const std::string& message) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kDeadline, [&] {
      return std::find(messages_.begin(), messages_.end(), message) != messages_.end();
    });
  }
  std::vector<std::string> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> messages_;
};

TEST(PostgresPubsubChannel, IsAStableIdentifierOfAHash) {
  // FNV-1a's offset basis: the empty string hashes to it, on every build and version.
  EXPECT_EQ(PostgresPubsub::postgres_channel(""), "berth_cbf29ce484222325");
  auto name = PostgresPubsub::postgres_channel("workspace:4e1c8a5f-1111-2222-3333-444455556666");
  ASSERT_EQ(name.size(), 22u);
  EXPECT_EQ(name.rfind("berth_", 0), 0u);
  EXPECT_EQ(name.find_first_not_of("0123456789abcdef", 6), std::string::npos) << name;
  EXPECT_NE(PostgresPubsub::postgres_channel("a"), PostgresPubsub::postgres_channel("b"));
  EXPECT_EQ(PostgresPubsub::max_message_bytes("abc"), PostgresPubsub::kMaxPayloadBytes - 5);
}

// Each test gets a database of its own on one server for the test binary, and two
// PostgresPubsub on it, as two replicas would have.
class PostgresPubsubTest : public testing::PostgresSuite {
 protected:
  PostgresPubsubTest() : PostgresSuite("pubsub_") {}

  void SetUp() override {
    PostgresSuite::SetUp();
    if (HasFatalFailure()) return;
    a_ = std::make_unique<PostgresPubsub>(url(), clock_);
    b_ = std::make_unique<PostgresPubsub>(url(), clock_);
  }

  // Ends the server sessions named `application_name` on this test's database, as a
  // database restart or a network cut would; returns how many.
  std::int64_t terminate(const char* application_name) {
    PostgresDatabase admin(url());
    sqlite::Statement kill(admin,
                           "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE application_name = ? AND datname = current_database()");
    kill.bind(1, std::string_view(application_name));
    EXPECT_TRUE(kill.step());
    return kill.integer(0);
  }

  SystemClock clock_;
  std::unique_ptr<PostgresPubsub> a_;
  std::unique_ptr<PostgresPubsub> b_;
};

TEST_F(PostgresPubsubTest, MessagesReachSubscribersOfBothReplicasInOrder) {
  Inbox on_a, on_b;
  auto sub_a = a_->subscribe("workspace:1", on_a.listener());
  auto sub_b = b_->subscribe("workspace:1", on_b.listener());
  a_->publish("workspace:1", "one");
  a_->publish("workspace:1", "two");
  b_->publish("workspace:1", "three");
  a_->publish("workspace:1", "");  // kJobPostedChannel's message is empty
  const std::vector<std::string> expected = {"one", "two", "three", ""};
  ASSERT_TRUE(on_a.wait_for_count(4)) << on_a.messages().size();
  ASSERT_TRUE(on_b.wait_for_count(4)) << on_b.messages().size();
  EXPECT_EQ(on_a.messages(), expected);
  EXPECT_EQ(on_b.messages(), expected);
}

TEST_F(PostgresPubsubTest, ChannelsAreIsolated) {
  Inbox first, second;
  auto sub_first = b_->subscribe("job:1", first.listener());
  auto sub_second = b_->subscribe("job:2", second.listener());
  a_->publish("job:1", "for the first");
  a_->publish("job:2", "marker");
  // One connection delivers both in publishing order: once the marker is in, the first
  // message would have been too.
  ASSERT_TRUE(second.wait_for("marker"));
  ASSERT_TRUE(first.wait_for("for the first"));
  EXPECT_EQ(second.messages(), std::vector<std::string>{"marker"});
  EXPECT_EQ(first.messages(), std::vector<std::string>{"for the first"});
}

TEST_F(PostgresPubsubTest, UnsubscribeStopsDeliveryAndTheLastOneUnlistens) {
  Inbox first, second, witness;
  auto sub_first = b_->subscribe("agent:1", first.listener());
  auto sub_second = b_->subscribe("agent:1", second.listener());
  auto sub_witness = b_->subscribe("witness", witness.listener());
  auto name = PostgresPubsub::postgres_channel("agent:1");
  auto witness_name = PostgresPubsub::postgres_channel("witness");
  EXPECT_EQ(b_->listening_channels_for_test().size(), 2u);

  sub_first = {};
  a_->publish("agent:1", "to the second only");
  a_->publish("witness", "1");
  ASSERT_TRUE(witness.wait_for("1"));
  ASSERT_TRUE(second.wait_for("to the second only"));
  EXPECT_TRUE(first.messages().empty());
  auto both = std::vector<std::string>{name, witness_name};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(b_->listening_channels_for_test(), both);  // one subscriber left keeps it

  sub_second = {};
  EXPECT_EQ(b_->listening_channels_for_test(), std::vector<std::string>{witness_name});
  a_->publish("agent:1", "to nobody");
  a_->publish("witness", "2");
  ASSERT_TRUE(witness.wait_for("2"));
  EXPECT_EQ(second.messages(), std::vector<std::string>{"to the second only"});
  EXPECT_TRUE(first.messages().empty());
}

TEST_F(PostgresPubsubTest, ManyChannels) {
  constexpr int kChannels = 200;
  std::vector<std::unique_ptr<Inbox>> inboxes;
  std::vector<Pubsub::Subscription> subscriptions;
  for (int i = 0; i < kChannels; ++i) {
    inboxes.push_back(std::make_unique<Inbox>());
    subscriptions.push_back(
        b_->subscribe("workspace:" + std::to_string(i), inboxes.back()->listener()));
  }
  EXPECT_EQ(b_->listening_channels_for_test().size(), std::size_t(kChannels));
  for (int i = 0; i < kChannels; ++i)
    a_->publish("workspace:" + std::to_string(i), "message " + std::to_string(i));
  for (int i = 0; i < kChannels; ++i) {
    ASSERT_TRUE(inboxes[i]->wait_for_count(1)) << i;
    EXPECT_EQ(inboxes[i]->messages(), std::vector<std::string>{"message " + std::to_string(i)});
  }
}

TEST_F(PostgresPubsubTest, TheLongestMessageArrivesWholeALongerOneFails) {
  const std::string channel = "workspace:4e1c8a5f-1111-2222-3333-444455556666";
  Inbox inbox;
  auto sub = b_->subscribe(channel, inbox.listener());
  std::string longest(PostgresPubsub::max_message_bytes(channel), 'x');
  longest.front() = '{';
  longest.back() = '}';
  a_->publish(channel, longest);
  ASSERT_TRUE(inbox.wait_for_count(1));
  EXPECT_EQ(inbox.messages().at(0), longest);

  try {
    a_->publish(channel, longest + "y");
    FAIL() << "published a message over the limit";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
    EXPECT_NE(e.detail().find(channel), std::string::npos) << e.detail();
  }
  try {
    a_->publish(channel, std::string("a\0b", 3));
    FAIL() << "published a NUL byte";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
    EXPECT_NE(e.detail().find(channel), std::string::npos) << e.detail();
  }
  a_->publish(channel, "after");
  ASSERT_TRUE(inbox.wait_for("after"));
  EXPECT_EQ(inbox.messages().size(), 2u);  // nothing of the refused ones
}

TEST_F(PostgresPubsubTest, ALostListenConnectionComesBackAndResyncsEverySubscriber) {
  Inbox on_a, on_b, other_on_a;
  auto sub_a = a_->subscribe("workspace:1", on_a.listener());
  auto sub_b = b_->subscribe("workspace:1", on_b.listener());
  auto sub_other = a_->subscribe("job:9", other_on_a.listener());
  EXPECT_EQ(terminate(PostgresPubsub::kListenApplicationName), 2);

  ASSERT_TRUE(on_a.wait_for(Pubsub::kResync));
  ASSERT_TRUE(on_b.wait_for(Pubsub::kResync));
  ASSERT_TRUE(other_on_a.wait_for(Pubsub::kResync));
  // Every channel LISTENed again, and messages flow both ways.
  EXPECT_EQ(a_->listening_channels_for_test().size(), 2u);
  a_->publish("workspace:1", "from a");
  b_->publish("job:9", "from b");
  EXPECT_TRUE(on_a.wait_for("from a"));
  EXPECT_TRUE(on_b.wait_for("from a"));
  EXPECT_TRUE(other_on_a.wait_for("from b"));

  // A subscription made after the reconnection is LISTENed on the new connection.
  Inbox late;
  auto sub_late = b_->subscribe("late", late.listener());
  a_->publish("late", "hello");
  EXPECT_TRUE(late.wait_for("hello"));
}

TEST_F(PostgresPubsubTest, APublishAfterTheNotifyConnectionWasLostStillArrives) {
  Inbox inbox;
  auto sub = b_->subscribe("workspace:1", inbox.listener());
  EXPECT_EQ(terminate(PostgresPubsub::kNotifyApplicationName), 2);
  a_->publish("workspace:1", "after the cut");
  ASSERT_TRUE(inbox.wait_for("after the cut"));
  EXPECT_EQ(inbox.messages(), std::vector<std::string>{"after the cut"});
}

TEST_F(PostgresPubsubTest, ConcurrentPublishersKeepEachOnesOrder) {
  constexpr int kThreads = 8;
  constexpr int kEach = 100;
  Inbox inbox;
  auto sub = b_->subscribe("busy", inbox.listener());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      // Half the publishers on each replica.
      auto& pubsub = t % 2 ? *a_ : *b_;
      for (int i = 0; i < kEach; ++i)
        pubsub.publish("busy", std::to_string(t) + ":" + std::to_string(i));
    });
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(inbox.wait_for_count(kThreads * kEach)) << inbox.messages().size();
  std::vector<int> next(kThreads, 0);
  for (const auto& message : inbox.messages()) {
    auto colon = message.find(':');
    int t = std::stoi(message.substr(0, colon));
    int i = std::stoi(message.substr(colon + 1));
    EXPECT_EQ(i, next[t]) << "publisher " << t << " out of order";
    next[t] = i + 1;
  }
  EXPECT_EQ(next, std::vector<int>(kThreads, kEach));
}

TEST_F(PostgresPubsubTest, UnsubscribeWaitsForARunningListener) {
  std::mutex mutex;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  std::atomic<bool> finished{false};
  auto sub = b_->subscribe("slow", [&](const std::string&) {
    std::unique_lock lock(mutex);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    finished = true;
  });
  a_->publish("slow", "go");
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, kDeadline, [&] { return entered; }));
  }
  bool finished_when_unsubscribed = false;
  std::thread unsubscriber([&] {
    sub = {};
    finished_when_unsubscribed = finished;
  });
  // Gives the unsubscriber time to reach the wait; if it did not wait, it has returned by
  // now and saw the listener unfinished.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  unsubscriber.join();
  EXPECT_TRUE(finished_when_unsubscribed);
}

TEST_F(PostgresPubsubTest, AListenerMayEndItsOwnSubscription) {
  Inbox witness;
  Pubsub::Subscription self;
  std::atomic<int> calls{0};
  self = b_->subscribe("once", [&](const std::string&) {
    ++calls;
    self = {};
  });
  auto sub_witness = b_->subscribe("witness", witness.listener());
  a_->publish("once", "1");
  a_->publish("once", "2");
  a_->publish("witness", "done");
  ASSERT_TRUE(witness.wait_for("done"));
  EXPECT_EQ(calls, 1);
}

TEST_F(PostgresPubsubTest, ASubscriptionMayOutliveThePubsub) {
  Inbox inbox;
  auto sub = b_->subscribe("workspace:1", inbox.listener());
  b_.reset();
  sub = {};  // a no-op now
  SUCCEED();
}

}  // namespace
}  // namespace berth::store::postgres
