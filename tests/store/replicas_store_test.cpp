// The replicas table through the Store, on SQLite here and on PostgreSQL in the suite's
// `postgres.` variant (its filter takes every *StoreConformance* suite).
#include <gtest/gtest.h>

#include <memory>

#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace berth::store {
namespace {

TimePoint at(int seconds) {
  return from_unix_micros(1'700'000'000'000'000LL + seconds * 1'000'000LL);
}

ReplicaRow make_replica(const std::string& hostname, TimePoint now) {
  return ReplicaRow{.id = Uuid::random_v4(),
                    .hostname = hostname,
                    .relay_address = "http://" + hostname + ":3000",
                    .region_id = 999,
                    .version = "v1.2.3",
                    .started_at = now,
                    .updated_at = now,
                    .database_latency_us = 1234};
}

std::vector<std::string> hostnames(const std::vector<ReplicaRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.hostname);
  return out;
}

class ReplicasStoreConformance : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  std::unique_ptr<Store> store_ = testing::open_test_store(dir_);
};

TEST_F(ReplicasStoreConformance, KeepsEveryColumn) {
  auto replica = make_replica("alpha", at(10));
  replica.error = "cannot reach beta";
  store_->upsert_replica(replica);
  auto read = store_->get_replica_by_id(replica.id);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->id, replica.id);
  EXPECT_EQ(read->hostname, "alpha");
  EXPECT_EQ(read->relay_address, "http://alpha:3000");
  EXPECT_EQ(read->region_id, 999);
  EXPECT_EQ(read->version, "v1.2.3");
  EXPECT_EQ(read->started_at, at(10));
  EXPECT_EQ(read->updated_at, at(10));
  EXPECT_FALSE(read->stopped_at);
  EXPECT_EQ(read->error, "cannot reach beta");
  EXPECT_EQ(read->database_latency_us, 1234);
  EXPECT_FALSE(store_->get_replica_by_id(Uuid::random_v4()));
}

TEST_F(ReplicasStoreConformance, UpsertReplacesTheRowOfTheSameId) {
  auto replica = make_replica("alpha", at(0));
  store_->upsert_replica(replica);
  store_->update_replica_stopped(replica.id, at(5));
  replica.hostname = "alpha-2";
  replica.started_at = replica.updated_at = at(20);
  store_->upsert_replica(replica);
  auto read = store_->get_replica_by_id(replica.id);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->hostname, "alpha-2");
  EXPECT_EQ(read->started_at, at(20));
  EXPECT_FALSE(read->stopped_at);
}

TEST_F(ReplicasStoreConformance, HeartbeatUpdatesTimeLatencyAndError) {
  auto replica = make_replica("alpha", at(0));
  store_->upsert_replica(replica);
  EXPECT_TRUE(store_->update_replica_heartbeat(replica.id, at(5), 77, "peer down"));
  auto read = store_->get_replica_by_id(replica.id);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->updated_at, at(5));
  EXPECT_EQ(read->started_at, at(0));
  EXPECT_EQ(read->database_latency_us, 77);
  EXPECT_EQ(read->error, "peer down");
  EXPECT_FALSE(store_->update_replica_heartbeat(Uuid::random_v4(), at(5), 1, ""));
}

TEST_F(ReplicasStoreConformance, ListsTheLiveOnesOldestFirst) {
  auto late = make_replica("late", at(3));
  auto early = make_replica("early", at(1));
  auto silent = make_replica("silent", at(0));
  auto stopped = make_replica("stopped", at(2));
  for (const auto& r : {late, early, silent, stopped}) store_->upsert_replica(r);
  store_->update_replica_heartbeat(late.id, at(20), 0, "");
  store_->update_replica_heartbeat(early.id, at(15), 0, "");
  store_->update_replica_stopped(stopped.id, at(20));
  // Heard from at or after the cutoff, and not stopped.
  EXPECT_EQ(hostnames(store_->list_alive_replicas(at(15))),
            (std::vector<std::string>{"early", "late"}));
  EXPECT_EQ(hostnames(store_->list_alive_replicas(at(16))), std::vector<std::string>{"late"});
  EXPECT_EQ(hostnames(store_->list_alive_replicas(at(0))),
            (std::vector<std::string>{"silent", "early", "late"}));
  auto read = store_->get_replica_by_id(stopped.id);
  ASSERT_TRUE(read && read->stopped_at);
  EXPECT_EQ(*read->stopped_at, at(20));
  EXPECT_EQ(read->updated_at, at(20));
}

TEST_F(ReplicasStoreConformance, DeletesTheOnesNotHeardFromSinceACutoff) {
  auto old_stopped = make_replica("old-stopped", at(0));
  auto old_silent = make_replica("old-silent", at(0));
  auto recent = make_replica("recent", at(0));
  for (const auto& r : {old_stopped, old_silent, recent}) store_->upsert_replica(r);
  store_->update_replica_stopped(old_stopped.id, at(5));
  store_->update_replica_heartbeat(old_silent.id, at(9), 0, "");
  store_->update_replica_heartbeat(recent.id, at(10), 0, "");
  EXPECT_EQ(store_->delete_replicas_updated_before(at(10)), 2);
  EXPECT_FALSE(store_->get_replica_by_id(old_stopped.id));
  EXPECT_FALSE(store_->get_replica_by_id(old_silent.id));
  EXPECT_TRUE(store_->get_replica_by_id(recent.id));
  EXPECT_EQ(store_->delete_replicas_updated_before(at(10)), 0);
}

// Which replica holds an agent: the newest connection wins, a stale replica's disconnect does
// not erase it, and a replica that stopped or went silent holds nothing.
TEST_F(ReplicasStoreConformance, AnAgentIsHeldByTheReplicaItLastConnectedTo) {
  auto a = make_replica("a", at(0));
  auto b = make_replica("b", at(0));
  for (const auto& r : {a, b}) store_->upsert_replica(r);
  auto agent = Uuid::random_v4();
  EXPECT_FALSE(store_->get_agent_connection_replica(agent, at(0)));

  store_->upsert_agent_connection(agent, b.id, at(1));
  auto held = store_->get_agent_connection_replica(agent, at(0));
  ASSERT_TRUE(held);
  EXPECT_EQ(held->id, b.id);
  EXPECT_EQ(held->relay_address, "http://b:3000");

  // The agent reconnects to A before B notices its old connection closed.
  store_->upsert_agent_connection(agent, a.id, at(2));
  EXPECT_FALSE(store_->delete_agent_connection(agent, b.id));
  EXPECT_EQ(store_->get_agent_connection_replica(agent, at(0))->id, a.id);

  // A went silent (heard from last at 0): not alive for a reader whose cutoff is later.
  EXPECT_FALSE(store_->get_agent_connection_replica(agent, at(1)));
  store_->update_replica_heartbeat(a.id, at(5), 0, "");
  EXPECT_TRUE(store_->get_agent_connection_replica(agent, at(1)));
  store_->update_replica_stopped(a.id, at(6));
  EXPECT_FALSE(store_->get_agent_connection_replica(agent, at(0)));

  EXPECT_TRUE(store_->delete_agent_connection(agent, a.id));
  EXPECT_FALSE(store_->delete_agent_connection(agent, a.id));
}

}  // namespace
}  // namespace berth::store
