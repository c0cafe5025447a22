// The job reaper on a ManualClock: it ticks when the test advances the clock, never on its own,
// so each case names the exact tick at which a job is failed.
#include "provisioner/reaper.hpp"

#include <gtest/gtest.h>

#include "coderd/files.hpp"
#include "coderd/fixtures.hpp"
#include "coderd/templates.hpp"
#include "store/pubsub.hpp"
#include "support/ustar.hpp"

namespace berth::provisioner {
namespace {

using namespace std::chrono_literals;

constexpr std::chrono::seconds kInterval = 30s;
constexpr std::chrono::seconds kHungAfter = 5min;
constexpr std::chrono::seconds kPendingAfter = 30min;

class JobReaperTest : public ::testing::Test {
 protected:
  JobReaperTest() {
    owner = s.make_owner();
    org = *s.store.get_default_organization();
    file =
        coderd::upload_file(s.store, s.clock, s.api_keys.subject_for(owner), coderd::kTarMimeType,
                            berth::testing::make_ustar({{"main.tf", "# tf\n", '0', ""}}))
            .file;
  }

  // A pending import job, queued the way the API does.
  Uuid queue_job() {
    coderd::CreateVersionParams p;
    p.file_id = file.id;
    return templates.create_version(s.api_keys.subject_for(owner), org, p).job_id;
  }

  // Takes the oldest pending job as a daemon would: it runs, heartbeat now.
  void acquire(const Uuid& expected) {
    auto job = jobs.acquire(
        {Uuid::random_v4(), "d1", {{"scope", "organization"}, {"owner", ""}}, {"terraform"}});
    ASSERT_TRUE(job);
    ASSERT_EQ(job->id, expected);
  }

  store::ProvisionerJobRow job(const Uuid& id) { return *s.store.get_provisioner_job_by_id(id); }
  bool reaped(const Uuid& id) { return job(id).completed_at.has_value(); }

  // Starts the reaper and returns once it waits for its first tick.
  void start() {
    started = s.clock.steady_now();
    reaper.start();
    ASSERT_TRUE(s.clock.await_waiter(started + kInterval));
  }

  // Advances the clock to the reaper's next tick; returns once that tick reaped and the reaper
  // waits for the one after.
  void tick() {
    ++ticks;
    s.clock.advance(kInterval);
    ASSERT_TRUE(s.clock.await_waiter(started + (ticks + 1) * kInterval));
  }

  coderd::testing::Services s;
  store::MemoryPubsub pubsub;
  coderd::JobQueue jobs{s.store, pubsub, s.clock};
  coderd::Templates templates{s.store, jobs, s.clock};
  store::UserRow owner;
  store::OrganizationRow org;
  store::FileRow file;
  SteadyTime started;
  int ticks = 0;
  JobReaper reaper{jobs, s.clock, {kInterval, kHungAfter, kPendingAfter}};  // last: stops first
};

TEST_F(JobReaperTest, FailsAHungJobOnTheFirstTickItsHeartbeatIsOlderThanTheLimit) {
  auto older = queue_job();
  acquire(older);
  s.clock.advance(1us);
  auto newer = queue_job();
  acquire(newer);  // its heartbeat is one microsecond younger
  start();
  for (int i = 0; i < 9; ++i) tick();
  EXPECT_FALSE(reaped(older));
  EXPECT_FALSE(reaped(newer));

  tick();  // 5 min after newer's heartbeat, and a microsecond more after older's
  EXPECT_TRUE(reaped(older));
  EXPECT_FALSE(reaped(newer));  // silent for exactly the limit: not yet "older than" it
  auto row = job(older);
  EXPECT_EQ(row.completed_at, s.clock.now());
  EXPECT_EQ(row.error,
            "Berth: Build has been detected as hung for 5 minutes and has been terminated by "
            "the reaper. Its provisioner daemon \"d1\" stopped sending heartbeats.");

  tick();
  EXPECT_TRUE(reaped(newer));
}

TEST_F(JobReaperTest, AHeartbeatRestartsTheCount) {
  auto id = queue_job();
  acquire(id);
  start();
  for (int i = 0; i < 9; ++i) tick();
  jobs.heartbeat(id);  // 4.5 min in
  for (int i = 0; i < 10; ++i) tick();
  EXPECT_FALSE(reaped(id));  // exactly 5 min since the heartbeat
  tick();
  EXPECT_TRUE(reaped(id));
  EXPECT_EQ(job(id).completed_at, s.clock.now());
}

TEST_F(JobReaperTest, FailsAJobNoDaemonTookOnceItIsPendingLongerThanTheLimit) {
  auto id = queue_job();
  start();
  for (int i = 0; i < 60; ++i) tick();
  EXPECT_FALSE(reaped(id));  // pending for exactly 30 min
  tick();
  EXPECT_TRUE(reaped(id));
  EXPECT_EQ(job(id).error,
            "Berth: Build has been detected as pending for 30 minutes and has been terminated "
            "by the reaper.");
}

TEST_F(JobReaperTest, StopsWithoutWaitingForItsNextTick) {
  start();
  reaper.stop();
  EXPECT_EQ(s.clock.waiters(), 0u);
  EXPECT_EQ(s.clock.steady_now(), started);
}

// Replicas share the database: while another replica holds the reap lease, this one leaves
// the stale jobs to it, so that each is failed (and its lines written) once.
TEST_F(JobReaperTest, LeavesTheRoundToAnotherReplicaHoldingTheLease) {
  auto id = queue_job();
  acquire(id);
  s.clock.advance(kHungAfter + 1s);
  auto now = s.clock.now();
  ASSERT_TRUE(s.store.try_acquire_lease("provisioner-job-reaper", "other", now, now + 1min));
  EXPECT_EQ(jobs.reap(kHungAfter, kPendingAfter), 0u);
  EXPECT_FALSE(reaped(id));
  s.store.release_lease("provisioner-job-reaper", "other");
  EXPECT_EQ(jobs.reap(kHungAfter, kPendingAfter), 1u);
  EXPECT_TRUE(reaped(id));
}

}  // namespace
}  // namespace berth::provisioner
