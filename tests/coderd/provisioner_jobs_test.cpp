#include "coderd/provisioner_jobs.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "coderd/files.hpp"
#include "coderd/fixtures.hpp"
#include "coderd/provisioner_daemons.hpp"
#include "coderd/templates.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "store/pubsub.hpp"
#include "support/ustar.hpp"

namespace berth::coderd {
namespace {

using namespace std::chrono_literals;
using store::ProvisionerJobRow;
using testing::Services;

// ---- job_status: every combination of the timestamps (and error) ----

struct StatusCase {
  bool started, canceled, completed, error;
  const char* want;
};

class JobStatusTable : public ::testing::TestWithParam<StatusCase> {};

TEST_P(JobStatusTable, FollowsCoder) {
  const auto& c = GetParam();
  ProvisionerJobRow job;
  auto t = testing::start_time();
  if (c.started) job.started_at = t;
  if (c.canceled) job.canceled_at = t;
  if (c.completed) job.completed_at = t;
  if (c.error) job.error = "boom";
  EXPECT_EQ(sdk::to_string(job_status(job)), c.want);
  bool active = std::string(c.want) == "pending" || std::string(c.want) == "running" ||
                std::string(c.want) == "canceling";
  EXPECT_EQ(job_is_active(job), active);
}

// Coder's generated column (all 16 combinations): completed → failed (error) / canceled /
// succeeded; otherwise failed (error) / canceling (canceled_at) / pending (no started_at) /
// running.
INSTANTIATE_TEST_SUITE_P(
    AllTimestamps, JobStatusTable,
    ::testing::Values(StatusCase{false, false, false, false, "pending"},
                      StatusCase{true, false, false, false, "running"},
                      StatusCase{false, true, false, false, "canceling"},
                      StatusCase{true, true, false, false, "canceling"},
                      StatusCase{false, false, true, false, "succeeded"},
                      StatusCase{true, false, true, false, "succeeded"},
                      StatusCase{false, true, true, false, "canceled"},
                      StatusCase{true, true, true, false, "canceled"},
                      StatusCase{false, false, true, true, "failed"},
                      StatusCase{true, false, true, true, "failed"},
                      StatusCase{false, true, true, true, "failed"},
                      StatusCase{true, true, true, true, "failed"},
                      // "should never happen" in Coder, but an error always means failed
                      StatusCase{false, false, false, true, "failed"},
                      StatusCase{true, false, false, true, "failed"},
                      StatusCase{false, true, false, true, "failed"},
                      StatusCase{true, true, false, true, "failed"}),
    [](const auto& info) {
      const auto& c = info.param;
      return std::string(c.started ? "Started" : "") + (c.canceled ? "Canceled" : "") +
             (c.completed ? "Completed" : "") + (c.error ? "Error" : "") +
             (!c.started && !c.canceled && !c.completed && !c.error ? "Nothing" : "");
    });

TEST(JobStatus, EmptyErrorIsNotAFailure) {
  ProvisionerJobRow job;
  job.started_at = job.completed_at = testing::start_time();
  job.error = "";
  EXPECT_EQ(job_status(job), sdk::ProvisionerJobStatus::succeeded);
}

// ---- JobQueue on a real SQLite file ----

// Records every message on one channel.
struct ChannelLog {
  ChannelLog(store::Pubsub& pubsub, const std::string& channel)
      : subscription(pubsub.subscribe(channel, [this](const std::string& m) {
          std::lock_guard lock(mutex);
          messages.push_back(m);
        })) {}
  std::vector<std::string> take() {
    std::lock_guard lock(mutex);
    return std::exchange(messages, {});
  }
  std::mutex mutex;
  std::vector<std::string> messages;
  store::Pubsub::Subscription subscription;
};

const std::map<std::string, std::string> kDefaultTags = {{"scope", "organization"}, {"owner", ""}};

class JobQueueTest : public ::testing::Test {
 protected:
  JobQueueTest() {
    owner = s.make_owner();
    org = *s.store.get_default_organization();
    file = upload_file(s.store, s.clock, s.api_keys.subject_for(owner), kTarMimeType,
                       berth::testing::make_ustar({{"main.tf", "# empty\n", '0', ""}}))
               .file;
  }

  // Inserts a pending job directly, as the services that queue jobs do, and announces it.
  ProvisionerJobRow insert_job(std::map<std::string, std::string> tags = kDefaultTags,
                               std::string provisioner = "terraform") {
    auto now = s.clock.now();
    ProvisionerJobRow job{Uuid::random_v4(),
                          now,
                          now,
                          std::nullopt,
                          std::nullopt,
                          std::nullopt,
                          std::nullopt,
                          "",
                          org.id,
                          owner.id,
                          std::move(provisioner),
                          "file",
                          "template_version_import",
                          file.id,
                          {},
                          std::move(tags),
                          std::nullopt,
                          "",
                          0,
                          false};
    s.store.insert_provisioner_job(job);
    jobs.announce_posted();
    return job;
  }

  // A template version and its import job, queued the way the API does.
  store::TemplateVersionRow create_version() {
    CreateVersionParams p;
    p.file_id = file.id;
    return templates.create_version(s.api_keys.subject_for(owner), org, p);
  }

  ProvisionerJobRow job(const Uuid& id) { return *s.store.get_provisioner_job_by_id(id); }
  // Where a pending job stands among those the daemons seen lately may run.
  std::pair<std::int64_t, std::int64_t> position(const Uuid& id) {
    return s.store.get_provisioner_job_queue_position(
        id, s.clock.now() - kProvisionerDaemonStaleInterval);
  }
  sdk::ProvisionerJobStatus status(const Uuid& id) { return job_status(job(id)); }
  std::vector<store::ProvisionerJobLogRow> logs(const Uuid& id) {
    return s.store.list_provisioner_job_logs_after(id, 0, 0);
  }

  DaemonIdentity daemon(std::string name = "d1",
                        std::map<std::string, std::string> tags = kDefaultTags) {
    return DaemonIdentity{Uuid::random_v4(), std::move(name), std::move(tags), {"terraform"}};
  }

  void expect_invalid(const std::function<void()>& fn, const std::string& message) {
    try {
      fn();
      ADD_FAILURE() << "no error; wanted \"" << message << "\"";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid);
      EXPECT_EQ(e.message(), message);
    }
  }

  Services s;
  store::MemoryPubsub pubsub;
  JobQueue jobs{s.store, pubsub, s.clock};
  Templates templates{s.store, jobs, s.clock};
  store::UserRow owner;
  store::OrganizationRow org;
  store::FileRow file;
};

TEST_F(JobQueueTest, AcquireTakesTheOldestPendingJobFirst) {
  auto first = insert_job();
  s.clock.advance(1s);
  auto second = insert_job();
  s.clock.advance(1s);
  auto third = insert_job();
  s.clock.advance(1s);
  auto d = daemon();

  auto got = jobs.acquire(d);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, first.id);
  EXPECT_EQ(got->started_at, s.clock.now());
  EXPECT_EQ(got->updated_at, s.clock.now());
  EXPECT_EQ(got->worker_id, d.id);
  EXPECT_EQ(got->worker_name, "d1");
  EXPECT_EQ(status(first.id), sdk::ProvisionerJobStatus::running);
  EXPECT_EQ(jobs.acquire(d)->id, second.id);
  EXPECT_EQ(jobs.acquire(d)->id, third.id);
  EXPECT_FALSE(jobs.acquire(d));
}

TEST_F(JobQueueTest, AcquireOrdersByCreationNotInsertion) {
  auto now = s.clock.now();
  auto later = insert_job();
  // Inserted second but created earlier (e.g. by another replica whose clock ran behind).
  auto earlier = later;
  earlier.id = Uuid::random_v4();
  earlier.created_at = earlier.updated_at = now - 1min;
  s.store.insert_provisioner_job(earlier);
  auto d = daemon();
  EXPECT_EQ(jobs.acquire(d)->id, earlier.id);
  EXPECT_EQ(jobs.acquire(d)->id, later.id);
}

TEST_F(JobQueueTest, TwoDaemonsRacingAcquireEachJobOnce) {
  constexpr int kJobs = 200;
  std::set<Uuid> queued;
  for (int i = 0; i < kJobs; ++i) queued.insert(insert_job().id);

  std::atomic<bool> go{false};
  std::vector<Uuid> taken[2];
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      auto d = daemon("racer-" + std::to_string(t));
      while (!go) std::this_thread::yield();
      while (auto job = jobs.acquire(d)) {
        EXPECT_EQ(job->worker_id, d.id);
        taken[t].push_back(job->id);
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();

  std::multiset<Uuid> all(taken[0].begin(), taken[0].end());
  all.insert(taken[1].begin(), taken[1].end());
  EXPECT_EQ(all.size(), std::size_t(kJobs));
  EXPECT_EQ(std::set<Uuid>(all.begin(), all.end()), queued);
  for (const auto& id : queued) {
    auto row = job(id);
    bool by_zero = std::find(taken[0].begin(), taken[0].end(), id) != taken[0].end();
    EXPECT_EQ(row.worker_name, by_zero ? "racer-0" : "racer-1");
  }
}

TEST_F(JobQueueTest, JobTagsMustBeASubsetOfTheDaemonTags) {
  auto plain = insert_job();  // default scope tags only
  auto prod = insert_job({{"scope", "organization"}, {"owner", ""}, {"env", "prod"}});

  // A daemon without the default scope tags serves nothing.
  EXPECT_FALSE(jobs.acquire(daemon("untagged", {})));
  EXPECT_FALSE(jobs.acquire(daemon("user-scoped", {{"scope", "user"}, {"owner", ""}})));
  // A daemon tagged env=dev serves neither: the plain job runs only on an untagged daemon
  // (Coder's rule), the prod one needs env=prod.
  auto dev = daemon("dev", {{"scope", "organization"}, {"owner", ""}, {"env", "dev"}});
  EXPECT_FALSE(jobs.acquire(dev));
  // A plain daemon takes the plain job, not the prod one; a superset of its tags takes that.
  auto plain_daemon = daemon("plain");
  EXPECT_EQ(jobs.acquire(plain_daemon)->id, plain.id);
  EXPECT_FALSE(jobs.acquire(plain_daemon));
  auto prod_daemon =
      daemon("prod", {{"scope", "organization"}, {"owner", ""}, {"env", "prod"}, {"x", "y"}});
  EXPECT_EQ(jobs.acquire(prod_daemon)->id, prod.id);
}

TEST_F(JobQueueTest, DaemonMayRunFollowsTheSameRules) {
  auto plain = default_provisioner_tags();
  auto prod = plain;
  prod["env"] = "prod";
  auto more = prod;
  more["x"] = "y";
  EXPECT_TRUE(daemon_may_run(plain, plain));
  EXPECT_FALSE(daemon_may_run(prod, plain));
  EXPECT_FALSE(daemon_may_run(plain, prod));
  EXPECT_TRUE(daemon_may_run(prod, prod));
  EXPECT_TRUE(daemon_may_run(more, prod));
  EXPECT_TRUE(daemon_may_run({}, {}));
}

TEST_F(JobQueueTest, AcquireRegistersTheDaemonAndItsJobs) {
  auto first = insert_job();
  auto d = daemon("registered");
  d.version = "v9";
  ASSERT_EQ(jobs.acquire(d)->id, first.id);
  auto row = *s.store.get_provisioner_daemon_by_id(d.id);
  EXPECT_EQ(row.name, "registered");
  EXPECT_EQ(row.version, "v9");
  EXPECT_EQ(row.last_seen_at, s.clock.now());
  EXPECT_EQ(row.current_job_id, first.id);
  EXPECT_EQ(daemon_status(row, job(first.id), s.clock.now()), sdk::ProvisionerDaemonStatus::busy);

  s.clock.advance(30s);
  jobs.heartbeat(first.id);
  EXPECT_EQ(s.store.get_provisioner_daemon_by_id(d.id)->last_seen_at, s.clock.now());
  jobs.fail(first.id, "boom");
  row = *s.store.get_provisioner_daemon_by_id(d.id);
  EXPECT_FALSE(row.current_job_id);
  EXPECT_EQ(row.previous_job_id, first.id);
  EXPECT_EQ(daemon_status(row, std::nullopt, s.clock.now()), sdk::ProvisionerDaemonStatus::idle);
  s.clock.advance(kProvisionerDaemonStaleInterval + 1s);
  EXPECT_EQ(daemon_status(row, std::nullopt, s.clock.now()), sdk::ProvisionerDaemonStatus::offline);

  // The same name under a new id (the daemon restarted) replaces the old row.
  auto restarted = daemon("registered");
  EXPECT_FALSE(jobs.acquire(restarted));
  EXPECT_FALSE(s.store.get_provisioner_daemon_by_id(d.id));
  EXPECT_TRUE(s.store.get_provisioner_daemon_by_id(restarted.id));
  // A week of silence, and the reaper forgets it.
  s.clock.advance(std::chrono::hours(7 * 24) - 1s);
  jobs.reap(5min, 30min);
  EXPECT_TRUE(s.store.get_provisioner_daemon_by_id(restarted.id));
  s.clock.advance(2s);
  jobs.reap(5min, 30min);
  EXPECT_FALSE(s.store.get_provisioner_daemon_by_id(restarted.id));
}

// An external daemon's job outlives a server restart: the daemon still runs it.
TEST_F(JobQueueTest, FailInterruptedJobsLeavesExternalDaemonsJobs) {
  auto built_in = insert_job();
  ASSERT_EQ(jobs.acquire(daemon("built-in-0"))->id, built_in.id);
  auto external = insert_job();
  auto d = daemon("outside");
  d.organization_id = org.id;
  d.key_id = Uuid::random_v4();
  ASSERT_EQ(jobs.acquire(d)->id, external.id);
  EXPECT_EQ(jobs.fail_interrupted_jobs(), 1u);
  EXPECT_EQ(status(built_in.id), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(status(external.id), sdk::ProvisionerJobStatus::running);
}

TEST_F(JobQueueTest, JobsWithoutTagsMatchAnyDaemon) {
  auto untagged = insert_job({});
  EXPECT_EQ(jobs.acquire(daemon("untagged", {}))->id, untagged.id);
}

TEST_F(JobQueueTest, ProvisionerTypeMustMatch) {
  auto echo = insert_job(kDefaultTags, "echo");
  EXPECT_FALSE(jobs.acquire(daemon()));  // serves terraform only
  auto both = daemon("both");
  both.provisioners = {"terraform", "echo"};
  EXPECT_EQ(jobs.acquire(both)->id, echo.id);
}

TEST_F(JobQueueTest, CreateVersionQueuesAnImportWithDefaultTags) {
  ChannelLog posted(pubsub, kJobPostedChannel);
  auto version = create_version();
  EXPECT_EQ(posted.take(), std::vector<std::string>{""});
  auto row = job(version.job_id);
  EXPECT_EQ(status(row.id), sdk::ProvisionerJobStatus::pending);
  EXPECT_EQ(row.type, "template_version_import");
  EXPECT_EQ(row.tags,
            (std::map<std::string, std::string>{{"scope", "organization"}, {"owner", ""}}));
  EXPECT_FALSE(jobs.acquire(daemon("untagged", {})));
  EXPECT_EQ(jobs.acquire(daemon())->id, row.id);
}

TEST_F(JobQueueTest, AppendLogsTruncatesStageAndOutput) {
  auto j = insert_job();
  jobs.acquire(daemon());
  jobs.append_logs(
      j.id, {JobLogLine{"warn", std::string(200, 's'), std::string(2000, 'o'), "provisioner"},
             JobLogLine{"info", "Planning", "ok", "provisioner_daemon"}});
  auto got = logs(j.id);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].stage, std::string(128, 's'));
  EXPECT_EQ(got[0].output, std::string(1024, 'o'));
  EXPECT_EQ(got[0].level, "warn");
  EXPECT_EQ(got[0].source, "provisioner");
  EXPECT_EQ(got[0].created_at, s.clock.now());
  EXPECT_EQ(got[1].stage, "Planning");
  EXPECT_EQ(got[1].source, "provisioner_daemon");
  EXPECT_LT(got[0].id, got[1].id);
  EXPECT_EQ(job(j.id).logs_length, 1026);
  EXPECT_FALSE(job(j.id).logs_overflowed);
  jobs.append_logs(j.id, {});  // nothing to do
  EXPECT_EQ(logs(j.id).size(), 2u);
}

TEST_F(JobQueueTest, AppendLogsStopsAtTheByteCapAndMarksOverflow) {
  auto j = insert_job();
  jobs.acquire(daemon());
  ChannelLog channel(pubsub, job_channel(j.id));
  const std::string kilobyte(1024, 'k');
  std::vector<JobLogLine> batch(std::size_t(kMaxJobLogBytes / 1024),
                                JobLogLine{"info", "s", kilobyte});
  jobs.append_logs(j.id, batch);  // exactly the cap
  EXPECT_EQ(job(j.id).logs_length, kMaxJobLogBytes);
  EXPECT_FALSE(job(j.id).logs_overflowed);
  EXPECT_EQ(channel.take(), std::vector<std::string>{"logs"});

  jobs.append_logs(j.id, {JobLogLine{"info", "s", "one byte too many"}});
  auto row = job(j.id);
  EXPECT_TRUE(row.logs_overflowed);
  EXPECT_EQ(row.logs_length, kMaxJobLogBytes);
  EXPECT_EQ(logs(j.id).size(), batch.size());
  EXPECT_TRUE(channel.take().empty());  // nothing was added, nothing announced

  jobs.append_logs(j.id, {JobLogLine{"info", "s", "x"}});  // overflowed jobs take no more
  EXPECT_EQ(logs(j.id).size(), batch.size());
}

TEST_F(JobQueueTest, AppendLogsKeepsTheLinesThatFitInABatchThatOverflows) {
  auto j = insert_job();
  jobs.acquire(daemon());
  std::vector<JobLogLine> batch(std::size_t(kMaxJobLogBytes / 1024) + 5,
                                JobLogLine{"info", "s", std::string(1024, 'k')});
  jobs.append_logs(j.id, batch);
  EXPECT_TRUE(job(j.id).logs_overflowed);
  EXPECT_EQ(job(j.id).logs_length, kMaxJobLogBytes);
  EXPECT_EQ(logs(j.id).size(), std::size_t(kMaxJobLogBytes / 1024));
}

TEST_F(JobQueueTest, CompleteImportWritesTheResultAndSucceeds) {
  auto version = create_version();
  auto acquired = jobs.acquire(daemon());
  ASSERT_TRUE(acquired);
  ASSERT_EQ(acquired->id, version.job_id);
  ChannelLog channel(pubsub, job_channel(version.job_id));
  s.clock.advance(3s);

  store::TemplateVersionImportResult result;
  result.readme = "# Hello";
  result.has_ai_task = true;
  result.parameters = R"([{"name":"region"}])";
  result.variables = R"([{"name":"token","sensitive":true}])";
  result.resources = R"([{"type":"null_resource"}])";
  jobs.complete_import(version.job_id, result);

  auto row = job(version.job_id);
  EXPECT_EQ(job_status(row), sdk::ProvisionerJobStatus::succeeded);
  EXPECT_EQ(row.completed_at, s.clock.now());
  EXPECT_FALSE(row.error);
  auto v = *s.store.get_template_version_by_id(version.id);
  EXPECT_EQ(v.readme, "# Hello");
  EXPECT_TRUE(v.has_ai_task);
  EXPECT_FALSE(v.has_external_agent);
  EXPECT_EQ(v.parameters, result.parameters);
  EXPECT_EQ(v.variables, result.variables);
  EXPECT_EQ(v.resources, result.resources);
  EXPECT_EQ(channel.take(), std::vector<std::string>{"end"});
}

TEST_F(JobQueueTest, CompleteImportWithoutAVersionFailsAndChangesNothing) {
  auto j = insert_job();  // no template version points at it
  jobs.acquire(daemon());
  try {
    jobs.complete_import(j.id, {});
    FAIL() << "completed a job with no version";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::internal);
  }
  EXPECT_EQ(status(j.id), sdk::ProvisionerJobStatus::running);  // the transaction rolled back
}

TEST_F(JobQueueTest, FailRecordsErrorAndCode) {
  auto j = insert_job();
  jobs.acquire(daemon());
  ChannelLog channel(pubsub, job_channel(j.id));
  s.clock.advance(2s);
  jobs.fail(j.id, "Required variables are missing.", "REQUIRED_TEMPLATE_VARIABLES");
  auto row = job(j.id);
  EXPECT_EQ(job_status(row), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(row.error, "Required variables are missing.");
  EXPECT_EQ(row.error_code, "REQUIRED_TEMPLATE_VARIABLES");
  EXPECT_EQ(row.completed_at, s.clock.now());
  EXPECT_EQ(channel.take(), std::vector<std::string>{"end"});
}

TEST_F(JobQueueTest, FailWithAnEmptyErrorStillFails) {
  auto j = insert_job();
  jobs.acquire(daemon());
  jobs.fail(j.id, "");
  EXPECT_EQ(status(j.id), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(job(j.id).error, "unknown error");
}

TEST_F(JobQueueTest, CancelPendingCompletesAtOnce) {
  auto j = insert_job();
  ChannelLog channel(pubsub, job_channel(j.id));
  s.clock.advance(1s);
  jobs.cancel(j.id);
  auto row = job(j.id);
  EXPECT_EQ(job_status(row), sdk::ProvisionerJobStatus::canceled);
  EXPECT_EQ(row.canceled_at, s.clock.now());
  EXPECT_EQ(row.completed_at, s.clock.now());
  EXPECT_EQ(channel.take(), std::vector<std::string>{"end"});
  EXPECT_FALSE(jobs.acquire(daemon()));  // a canceled job is never picked up
}

TEST_F(JobQueueTest, CancelRunningIsCancelingUntilTheDaemonFails) {
  auto j = insert_job();
  jobs.acquire(daemon());
  ChannelLog channel(pubsub, job_channel(j.id));
  EXPECT_FALSE(jobs.heartbeat(j.id));

  jobs.cancel(j.id);
  auto row = job(j.id);
  EXPECT_EQ(job_status(row), sdk::ProvisionerJobStatus::canceling);
  EXPECT_FALSE(row.completed_at);
  EXPECT_EQ(channel.take(), std::vector<std::string>{"state"});
  EXPECT_TRUE(jobs.heartbeat(j.id));  // the daemon learns of it

  jobs.fail(j.id, "canceled");
  row = job(j.id);
  EXPECT_EQ(job_status(row), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(row.error, "canceled");
  EXPECT_EQ(channel.take(), std::vector<std::string>{"end"});
}

TEST_F(JobQueueTest, CancelTwiceIsRefused) {
  auto j = insert_job();
  jobs.acquire(daemon());
  jobs.cancel(j.id);
  expect_invalid([&] { jobs.cancel(j.id); }, "Job has already been marked as canceled!");
  EXPECT_EQ(status(j.id), sdk::ProvisionerJobStatus::canceling);
}

TEST_F(JobQueueTest, CancelCompletedIsRefused) {
  auto a = insert_job();
  jobs.acquire(daemon());
  jobs.fail(a.id, "boom");
  expect_invalid([&] { jobs.cancel(a.id); }, "Job has already completed!");

  auto b = insert_job();
  jobs.cancel(b.id);  // pending → canceled, which is completed
  expect_invalid([&] { jobs.cancel(b.id); }, "Job has already completed!");
}

TEST_F(JobQueueTest, CancelUnknownJobIsNotFound) {
  try {
    jobs.cancel(Uuid::random_v4());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
}

TEST_F(JobQueueTest, HeartbeatMovesUpdatedAt) {
  auto j = insert_job();
  jobs.acquire(daemon());
  s.clock.advance(42s);
  EXPECT_FALSE(jobs.heartbeat(j.id));
  EXPECT_EQ(job(j.id).updated_at, s.clock.now());
  EXPECT_TRUE(jobs.heartbeat(Uuid::random_v4()));  // a vanished job: stop working on it
}

TEST_F(JobQueueTest, ReapFailsHungAndLongPendingJobsOnly) {
  constexpr auto kHung = std::chrono::seconds(5min);
  constexpr auto kPending = std::chrono::seconds(30min);
  auto hung = insert_job();
  auto alive = insert_job();
  auto d = daemon();
  jobs.acquire(d);
  jobs.acquire(d);
  auto pending = insert_job();
  auto done = insert_job();
  jobs.cancel(done.id);

  s.clock.advance(4min);
  jobs.heartbeat(alive.id);
  s.clock.advance(2min);  // hung: 6 min silent; alive: 2 min; pending: 6 min old

  ChannelLog channel(pubsub, job_channel(hung.id));
  EXPECT_EQ(jobs.reap(kHung, kPending), 1u);
  auto row = job(hung.id);
  EXPECT_EQ(job_status(row), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(row.error,
            "Berth: Build has been detected as hung for 5 minutes and has been terminated by "
            "the reaper. Its provisioner daemon \"d1\" stopped sending heartbeats.");
  EXPECT_EQ(row.completed_at, s.clock.now());
  auto lines = logs(hung.id);
  ASSERT_EQ(lines.size(), 5u);
  for (const auto& l : lines) {
    EXPECT_EQ(l.level, "error");
    EXPECT_EQ(l.source, "provisioner_daemon");
  }
  EXPECT_EQ(lines[2].output,
            "Berth: Build has been detected as hung for 5 minutes and will be terminated.");
  EXPECT_EQ(channel.take(), (std::vector<std::string>{"logs", "end"}));
  EXPECT_EQ(status(alive.id), sdk::ProvisionerJobStatus::running);
  EXPECT_EQ(status(pending.id), sdk::ProvisionerJobStatus::pending);
  EXPECT_EQ(status(done.id), sdk::ProvisionerJobStatus::canceled);

  EXPECT_EQ(jobs.reap(kHung, kPending), 0u);  // nothing left to reap yet

  s.clock.advance(25min);  // pending: 31 min old; alive: 27 min silent
  EXPECT_EQ(jobs.reap(kHung, kPending), 2u);
  row = job(pending.id);
  EXPECT_EQ(job_status(row), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(row.error,
            "Berth: Build has been detected as pending for 30 minutes and has been terminated "
            "by the reaper.");
  EXPECT_EQ(logs(pending.id).size(), 5u);
  EXPECT_EQ(status(alive.id), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(status(done.id), sdk::ProvisionerJobStatus::canceled);
  EXPECT_EQ(logs(done.id).size(), 0u);
  EXPECT_FALSE(jobs.acquire(d));  // the reaped pending job is gone from the queue
}

TEST_F(JobQueueTest, ReapTakesACancelingJobWhoseDaemonWentSilent) {
  auto j = insert_job();
  jobs.acquire(daemon());
  jobs.cancel(j.id);
  s.clock.advance(6min);
  EXPECT_EQ(jobs.reap(5min, 30min), 1u);
  EXPECT_EQ(status(j.id), sdk::ProvisionerJobStatus::failed);
}

// Known gap (reported, not fixed): finishing does not check that the job is still open, so a
// daemon that outlives the reaper turns the reaped job into "succeeded" and writes its import
// result. Coder's CompleteJob/FailJob refuse a job that already completed. Enable once fixed.
TEST_F(JobQueueTest, CompletingAReapedJobKeepsTheReaperVerdict) {
  auto version = create_version();
  jobs.acquire(daemon());
  s.clock.advance(6min);
  ASSERT_EQ(jobs.reap(5min, 30min), 1u);
  store::TemplateVersionImportResult late;
  late.readme = "late";
  try {
    jobs.complete_import(version.job_id, late);
  } catch (const Error&) {
    // refusing is fine too
  }
  EXPECT_EQ(status(version.job_id), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(s.store.get_template_version_by_id(version.id)->readme, "");
}

// A replica restarting on a shared database fails the jobs its own daemons were running, not
// the ones another replica's daemons are running now.
TEST_F(JobQueueTest, FailInterruptedJobsFailsOnlyThoseOfTheNamedDaemons) {
  auto mine = insert_job();
  ASSERT_EQ(jobs.acquire(daemon("built-in-0@this"))->id, mine.id);
  auto theirs = insert_job();
  ASSERT_EQ(jobs.acquire(daemon("built-in-0@other"))->id, theirs.id);
  EXPECT_EQ(jobs.fail_interrupted_jobs("@this"), 1u);
  EXPECT_EQ(status(mine.id), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(status(theirs.id), sdk::ProvisionerJobStatus::running);
}

TEST_F(JobQueueTest, FailInterruptedJobsFailsRunningAndKeepsPending) {
  auto running = insert_job();
  auto canceling = insert_job();
  auto d = daemon();
  jobs.acquire(d);
  jobs.acquire(d);
  jobs.cancel(canceling.id);
  auto finished = insert_job();
  ASSERT_EQ(jobs.acquire(d)->id, finished.id);
  jobs.fail(finished.id, "earlier failure");
  auto pending = insert_job();

  EXPECT_EQ(jobs.fail_interrupted_jobs(), 2u);
  EXPECT_EQ(status(running.id), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(job(running.id).error, "The server restarted while this job was running.");
  ASSERT_EQ(logs(running.id).size(), 1u);
  EXPECT_EQ(logs(running.id)[0].level, "error");
  EXPECT_EQ(status(canceling.id), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(status(pending.id), sdk::ProvisionerJobStatus::pending);
  EXPECT_EQ(job(finished.id).error, "earlier failure");
  EXPECT_EQ(jobs.acquire(d)->id, pending.id);  // still served after the restart
}

TEST_F(JobQueueTest, QueuePositionCountsPendingJobs) {
  auto a = insert_job();
  s.clock.advance(1s);
  auto b = insert_job();
  s.clock.advance(1s);
  auto c = insert_job();
  using Pos = std::pair<std::int64_t, std::int64_t>;
  EXPECT_EQ(position(a.id), Pos(1, 3));
  EXPECT_EQ(position(b.id), Pos(2, 3));
  EXPECT_EQ(position(c.id), Pos(3, 3));

  jobs.acquire(daemon());  // takes a
  EXPECT_EQ(position(b.id), Pos(1, 2));
  EXPECT_EQ(position(c.id), Pos(2, 2));
  EXPECT_EQ(position(a.id).first, 0);

  jobs.cancel(b.id);
  EXPECT_EQ(position(c.id), Pos(1, 1));
}

TEST_F(JobQueueTest, QueuePositionBreaksTiesLikeAcquire) {
  auto a = insert_job();
  auto b = insert_job();  // same created_at
  auto pa = position(a.id).first;
  auto pb = position(b.id).first;
  EXPECT_EQ(std::set<std::int64_t>({pa, pb}), std::set<std::int64_t>({1, 2}));
  auto first = jobs.acquire(daemon());
  EXPECT_EQ(first->id, pa == 1 ? a.id : b.id);
}

TEST_F(JobQueueTest, JobChannelCarriesStateLogsAndEnd) {
  auto j = insert_job();
  ChannelLog channel(pubsub, job_channel(j.id));
  ChannelLog other(pubsub, job_channel(Uuid::random_v4()));
  jobs.acquire(daemon());
  jobs.append_logs(j.id, {JobLogLine{"info", "Init", "hello"}});
  jobs.heartbeat(j.id);  // silent
  jobs.cancel(j.id);
  jobs.append_logs(j.id, {JobLogLine{"info", "Init", "stopping"}});
  jobs.fail(j.id, "canceled");
  EXPECT_EQ(channel.take(), (std::vector<std::string>{"state", "logs", "state", "logs", "end"}));
  EXPECT_TRUE(other.take().empty());
}

TEST_F(JobQueueTest, AnnouncePostedWakesTheJobPostedChannel) {
  ChannelLog posted(pubsub, kJobPostedChannel);
  insert_job();
  insert_job();
  EXPECT_EQ(posted.take().size(), 2u);
}

}  // namespace
}  // namespace berth::coderd
