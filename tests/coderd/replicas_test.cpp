#include "coderd/replicas.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "coderd/fixtures.hpp"

namespace berth::coderd {
namespace {

using namespace std::chrono_literals;
using testing::Services;

ReplicaSettings settings_for(const std::string& hostname) {
  ReplicaSettings settings;
  settings.hostname = hostname;
  settings.relay_address = "http://" + hostname + ":3000";
  settings.version = "v9.9.9";
  return settings;
}

// The listed ids, as a set: replicas that started at the same instant list in id order.
std::set<Uuid> ids(const std::vector<store::ReplicaRow>& rows) {
  std::set<Uuid> out;
  for (const auto& r : rows) out.insert(r.id);
  return out;
}

bool listed(const std::vector<store::ReplicaRow>& rows, const Uuid& id) {
  return std::any_of(rows.begin(), rows.end(), [&](const auto& r) { return r.id == id; });
}

// One replica's heartbeat thread on the fixture's ManualClock: beat() moves the clock one
// interval and returns once the heartbeat ran and the thread waits for the next.
class ReplicasTest : public ::testing::Test {
 protected:
  void beat() {
    ASSERT_TRUE(s_.clock.await_waiter(next_)) << "no heartbeat waits for the next interval";
    s_.clock.advance(kReplicaHeartbeatInterval);
    next_ += kReplicaHeartbeatInterval;
    ASSERT_TRUE(s_.clock.await_waiter(next_)) << "the heartbeat did not come back to wait";
  }

  Services s_;
  SteadyTime next_ = s_.clock.steady_now() + kReplicaHeartbeatInterval;
};

TEST_F(ReplicasTest, RegistersItselfAtStart) {
  Replicas replicas(s_.store, s_.clock, settings_for("alpha"));
  EXPECT_TRUE(replicas.list_alive().empty());
  replicas.start();
  auto alive = replicas.list_alive();
  ASSERT_EQ(alive.size(), 1u);
  const auto& me = alive[0];
  EXPECT_EQ(me.id, replicas.id());
  EXPECT_EQ(me.hostname, "alpha");
  EXPECT_EQ(me.relay_address, "http://alpha:3000");
  EXPECT_EQ(me.version, "v9.9.9");
  EXPECT_EQ(me.region_id, kPrimaryRegionId);
  EXPECT_EQ(me.started_at, s_.clock.now());
  EXPECT_EQ(me.updated_at, s_.clock.now());
  EXPECT_FALSE(me.stopped_at);
  EXPECT_EQ(me.error, "");
  // A new id on every start.
  Replicas other(s_.store, s_.clock, settings_for("alpha"));
  EXPECT_NE(other.id(), replicas.id());
}

TEST_F(ReplicasTest, NamesThisMachineUnlessTold) {
  Replicas replicas(s_.store, s_.clock, ReplicaSettings{});
  replicas.start();
  auto alive = replicas.list_alive();
  ASSERT_EQ(alive.size(), 1u);
  EXPECT_EQ(alive[0].hostname, local_hostname());
  EXPECT_FALSE(alive[0].hostname.empty());
}

TEST_F(ReplicasTest, HeartbeatsKeepItAlive) {
  Replicas replicas(s_.store, s_.clock, settings_for("alpha"));
  auto started = s_.clock.now();
  replicas.start();
  for (int i = 0; i < 10; ++i) {
    beat();
    auto alive = replicas.list_alive();
    ASSERT_EQ(alive.size(), 1u) << "after heartbeat " << i + 1;
    EXPECT_EQ(alive[0].updated_at, s_.clock.now());
    EXPECT_EQ(alive[0].started_at, started);
  }
}

TEST_F(ReplicasTest, ASilentReplicaDropsOutAfterThreeIntervals) {
  Replicas replicas(s_.store, s_.clock, settings_for("alpha"));
  replicas.start();
  // A replica killed right after it registered: its row stays, its heartbeats stop.
  store::ReplicaRow killed{.id = Uuid::random_v4(),
                           .hostname = "beta",
                           .started_at = s_.clock.now(),
                           .updated_at = s_.clock.now()};
  s_.store.upsert_replica(killed);
  for (int i = 0; i < kReplicaAliveIntervals; ++i) {
    beat();
    EXPECT_EQ(ids(replicas.list_alive()), (std::set<Uuid>{replicas.id(), killed.id}))
        << "after " << i + 1 << " interval(s)";
  }
  beat();
  EXPECT_EQ(ids(replicas.list_alive()), std::set<Uuid>{replicas.id()});
}

TEST_F(ReplicasTest, StoppingLeavesTheListAtOnce) {
  Replicas alpha(s_.store, s_.clock, settings_for("alpha"));
  Replicas beta(s_.store, s_.clock, settings_for("beta"));
  alpha.start();
  beta.start();
  EXPECT_EQ(ids(alpha.list_alive()), (std::set<Uuid>{alpha.id(), beta.id()}));
  EXPECT_EQ(ids(beta.list_alive()), (std::set<Uuid>{alpha.id(), beta.id()}));
  beta.stop();
  EXPECT_EQ(ids(alpha.list_alive()), std::set<Uuid>{alpha.id()});
  auto row = s_.store.get_replica_by_id(beta.id());
  ASSERT_TRUE(row && row->stopped_at);
  EXPECT_EQ(*row->stopped_at, s_.clock.now());
  beta.stop();  // again: nothing more
  EXPECT_EQ(ids(alpha.list_alive()), std::set<Uuid>{alpha.id()});
}

TEST_F(ReplicasTest, AHeartbeatWritesAForgottenRowAgain) {
  Replicas replicas(s_.store, s_.clock, settings_for("alpha"));
  auto started = s_.clock.now();
  replicas.start();
  // Another replica forgot this one (it was paused past the cleanup age).
  s_.store.delete_replicas_updated_before(s_.clock.now() + 1h);
  ASSERT_TRUE(replicas.list_alive().empty());
  beat();
  auto alive = replicas.list_alive();
  ASSERT_EQ(alive.size(), 1u);
  EXPECT_EQ(alive[0].id, replicas.id());
  EXPECT_EQ(alive[0].started_at, started);
  EXPECT_EQ(alive[0].updated_at, s_.clock.now());
}

TEST_F(ReplicasTest, ForgetsReplicasGoneForHalfAnHour) {
  auto now = s_.clock.now();
  store::ReplicaRow gone{.id = Uuid::random_v4(),
                         .hostname = "gone",
                         .started_at = now - 2h,
                         .updated_at = now - 31min,
                         .stopped_at = now - 31min};
  store::ReplicaRow recent{.id = Uuid::random_v4(),
                           .hostname = "recent",
                           .started_at = now - 2h,
                           .updated_at = now - 29min};
  s_.store.upsert_replica(gone);
  s_.store.upsert_replica(recent);
  Replicas replicas(s_.store, s_.clock, settings_for("alpha"));
  replicas.start();
  EXPECT_FALSE(s_.store.get_replica_by_id(gone.id));
  EXPECT_TRUE(s_.store.get_replica_by_id(recent.id));
  // Silent, but not for long enough to be forgotten; not alive either.
  EXPECT_FALSE(listed(replicas.list_alive(), recent.id));
}

}  // namespace
}  // namespace berth::coderd
