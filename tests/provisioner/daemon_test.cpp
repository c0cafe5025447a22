#include "provisioner/daemon.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "coderd/files.hpp"
#include "coderd/fixtures.hpp"
#include "coderd/templates.hpp"
#include "common/json.hpp"
#include "store/pubsub.hpp"
#include "support/ustar.hpp"

namespace berth::provisioner {
namespace {

using namespace std::chrono_literals;

// Generous: these bound waits for other threads, they are not the expected durations.
constexpr auto kWaitLimit = 20s;

// A provisioner whose behaviour each test sets; it records what it was asked.
class FakeProvisioner final : public Provisioner {
 public:
  using Behaviour =
      std::function<store::TemplateVersionImportResult(const ImportRequest&, JobContext&)>;

  store::TemplateVersionImportResult import_template(const ImportRequest& request,
                                                     JobContext& context) override {
    Behaviour b;
    {
      std::lock_guard lock(mutex_);
      ++calls_;
      last_ = request;
      entered_ = true;
      b = behaviour_;
    }
    cv_.notify_all();
    return b ? b(request, context) : store::TemplateVersionImportResult{};
  }

  BuildResponse build_workspace(const BuildRequest&, JobContext&) override {
    throw JobFailure("This test provisioner only imports templates.", "");
  }

  void set(Behaviour b) {
    std::lock_guard lock(mutex_);
    behaviour_ = std::move(b);
  }
  // Waits until a job reached the provisioner.
  bool wait_entered() {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kWaitLimit, [&] { return entered_; });
  }
  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  ImportRequest last() {
    std::lock_guard lock(mutex_);
    return last_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  Behaviour behaviour_;
  int calls_ = 0;
  bool entered_ = false;
  ImportRequest last_;
};

// Blocks the calling job until it is canceled (or the pool stops), checking on each tick:
// the JobContext offers a flag, not a notification, so this is a bounded condition wait.
store::TemplateVersionImportResult wait_for_cancel(const ImportRequest&, JobContext& context) {
  std::mutex m;
  std::condition_variable cv;
  std::unique_lock lock(m);
  auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (!context.canceled() && std::chrono::steady_clock::now() < deadline) cv.wait_for(lock, 2ms);
  return {};
}

class DaemonPoolTest : public ::testing::Test {
 protected:
  DaemonPoolTest() {
    owner = s.make_owner();
    org = *s.store.get_default_organization();
    file =
        coderd::upload_file(s.store, s.clock, s.api_keys.subject_for(owner), coderd::kTarMimeType,
                            berth::testing::make_ustar(
                                {{"./main.tf", "# tf\n", '0', ""}, {"mod/x.tf", "# x\n", '0', ""}}))
            .file;
  }
  ~DaemonPoolTest() override {
    if (pool) pool->stop();
  }

  void start(int daemons) {
    pool = std::make_unique<DaemonPool>(jobs, s.store, pubsub, s.clock, provisioner, daemons,
                                        s.dir.file("workspaces"));
    pool->start();
  }

  store::TemplateVersionRow create_version(std::vector<store::VariableValue> variables = {}) {
    coderd::CreateVersionParams p;
    p.file_id = file.id;
    p.user_variable_values = std::move(variables);
    return templates.create_version(s.api_keys.subject_for(owner), org, p);
  }

  // Waits, on the job's channel, until the job has completed; returns it.
  store::ProvisionerJobRow wait_completed(const Uuid& job_id) {
    std::mutex m;
    std::condition_variable cv;
    std::uint64_t events = 0;
    auto sub = pubsub.subscribe(coderd::job_channel(job_id), [&](const std::string&) {
      {
        std::lock_guard lock(m);
        ++events;
      }
      cv.notify_all();
    });
    auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
    std::unique_lock lock(m);
    for (;;) {
      auto seen = events;
      lock.unlock();
      auto job = *s.store.get_provisioner_job_by_id(job_id);
      lock.lock();
      if (job.completed_at) return job;
      if (!cv.wait_until(lock, deadline, [&] { return events != seen; })) {
        ADD_FAILURE() << "job " << job_id.to_string() << " did not complete; status "
                      << coderd::job_status(job);
        return job;
      }
    }
  }

  std::vector<std::string> log_outputs(const Uuid& job_id) {
    std::vector<std::string> out;
    for (const auto& l : s.store.list_provisioner_job_logs_after(job_id, 0, 0))
      out.push_back(l.output);
    return out;
  }

  coderd::testing::Services s;
  store::MemoryPubsub pubsub;
  coderd::JobQueue jobs{s.store, pubsub, s.clock};
  coderd::Templates templates{s.store, jobs, s.clock};
  FakeProvisioner provisioner;
  store::UserRow owner;
  store::OrganizationRow org;
  store::FileRow file;
  std::unique_ptr<DaemonPool> pool;  // last: stopped before what it uses goes away
};

TEST_F(DaemonPoolTest, CompletesAQueuedImport) {
  provisioner.set([](const ImportRequest&, JobContext& context) {
    context.log({"info", "Parsing", "found main.tf", "provisioner"});
    store::TemplateVersionImportResult r;
    r.readme = "# imported";
    r.variables = R"([{"name":"region"}])";
    return r;
  });
  start(1);
  auto version = create_version({{"region", "eu-west"}});
  auto job = wait_completed(version.job_id);

  EXPECT_EQ(coderd::job_status(job), sdk::ProvisionerJobStatus::succeeded);
  EXPECT_EQ(job.worker_name, "built-in-0");
  auto v = *s.store.get_template_version_by_id(version.id);
  EXPECT_EQ(v.readme, "# imported");
  EXPECT_EQ(v.variables, R"([{"name":"region"}])");
  auto request = provisioner.last();
  EXPECT_EQ(request.files,
            (std::map<std::string, std::string>{{"main.tf", "# tf\n"}, {"mod/x.tf", "# x\n"}}));
  EXPECT_EQ(request.variable_values, (std::map<std::string, std::string>{{"region", "eu-west"}}));
  auto logs = log_outputs(version.job_id);
  EXPECT_EQ(logs, (std::vector<std::string>{"Unpacking the template archive", "found main.tf"}));
}

TEST_F(DaemonPoolTest, PicksUpJobsQueuedBeforeItStarted) {
  auto a = create_version();
  auto b = create_version();
  start(2);
  EXPECT_EQ(coderd::job_status(wait_completed(a.job_id)), sdk::ProvisionerJobStatus::succeeded);
  EXPECT_EQ(coderd::job_status(wait_completed(b.job_id)), sdk::ProvisionerJobStatus::succeeded);
}

TEST_F(DaemonPoolTest, EveryJobRunsOnceAcrossThreeDaemons) {
  start(3);
  std::vector<Uuid> ids;
  for (int i = 0; i < 30; ++i) ids.push_back(create_version().job_id);
  for (const auto& id : ids)
    EXPECT_EQ(coderd::job_status(wait_completed(id)), sdk::ProvisionerJobStatus::succeeded);
  EXPECT_EQ(provisioner.calls(), 30);
}

TEST_F(DaemonPoolTest, JobFailureGivesFailedWithItsCode) {
  provisioner.set([](const ImportRequest&, JobContext&) -> store::TemplateVersionImportResult {
    throw JobFailure("Required template variables are missing: region.",
                     "REQUIRED_TEMPLATE_VARIABLES");
  });
  start(1);
  auto version = create_version();
  auto job = wait_completed(version.job_id);
  EXPECT_EQ(coderd::job_status(job), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(job.error, "Required template variables are missing: region.");
  EXPECT_EQ(job.error_code, "REQUIRED_TEMPLATE_VARIABLES");
}

TEST_F(DaemonPoolTest, OtherExceptionsFailTheJobAndTheDaemonCarriesOn) {
  bool first = true;
  provisioner.set([&](const ImportRequest&, JobContext&) -> store::TemplateVersionImportResult {
    if (std::exchange(first, false)) throw std::runtime_error("kaboom");
    return {};
  });
  start(1);
  auto bad = create_version();
  auto job = wait_completed(bad.job_id);
  EXPECT_EQ(coderd::job_status(job), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(job.error, "internal error: kaboom");
  EXPECT_EQ(job.error_code, "");
  auto good = create_version();
  EXPECT_EQ(coderd::job_status(wait_completed(good.job_id)), sdk::ProvisionerJobStatus::succeeded);
}

TEST_F(DaemonPoolTest, CancelWhileRunningEndsFailedWithCanceled) {
  provisioner.set(wait_for_cancel);
  start(1);
  auto version = create_version();
  ASSERT_TRUE(provisioner.wait_entered());
  EXPECT_EQ(coderd::job_status(*s.store.get_provisioner_job_by_id(version.job_id)),
            sdk::ProvisionerJobStatus::running);

  jobs.cancel(version.job_id);
  auto job = wait_completed(version.job_id);
  EXPECT_EQ(coderd::job_status(job), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(job.error, "canceled");
  EXPECT_TRUE(job.canceled_at);
  // The version keeps what it had: the import result was never written.
  EXPECT_EQ(s.store.get_template_version_by_id(version.id)->readme, "");
}

TEST_F(DaemonPoolTest, StopInterruptsARunningJob) {
  provisioner.set(wait_for_cancel);
  start(1);
  auto version = create_version();
  ASSERT_TRUE(provisioner.wait_entered());
  pool->stop();
  auto job = *s.store.get_provisioner_job_by_id(version.job_id);
  EXPECT_EQ(coderd::job_status(job), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(job.error, "canceled");
}

// A server shutting down: the running job finishes and is recorded, and no daemon takes the
// job queued after the drain began (another replica, or the next start, runs it).
TEST_F(DaemonPoolTest, DrainLetsTheRunningJobFinishAndTakesNoNewOne) {
  std::mutex m;
  std::condition_variable cv;
  bool released = false;
  provisioner.set([&](const ImportRequest&, JobContext&) {
    std::unique_lock lock(m);
    cv.wait_for(lock, kWaitLimit, [&] { return released; });
    store::TemplateVersionImportResult r;
    r.readme = "# finished";
    return r;
  });
  start(2);
  auto running = create_version();
  ASSERT_TRUE(provisioner.wait_entered());
  pool->begin_drain();
  auto queued = create_version();
  std::thread drainer([&] { pool->drain(1h); });
  {
    std::lock_guard lock(m);
    released = true;
  }
  cv.notify_all();
  drainer.join();
  auto job = *s.store.get_provisioner_job_by_id(running.job_id);
  EXPECT_EQ(coderd::job_status(job), sdk::ProvisionerJobStatus::succeeded);
  EXPECT_EQ(s.store.get_template_version_by_id(running.id)->readme, "# finished");
  EXPECT_EQ(coderd::job_status(*s.store.get_provisioner_job_by_id(queued.job_id)),
            sdk::ProvisionerJobStatus::pending);
  EXPECT_EQ(provisioner.calls(), 1);
}

TEST_F(DaemonPoolTest, DrainCancelsAJobThatOutlastsTheGracePeriod) {
  provisioner.set(wait_for_cancel);
  start(1);
  auto version = create_version();
  ASSERT_TRUE(provisioner.wait_entered());
  auto began = s.clock.steady_now();
  std::thread drainer([&] { pool->drain(17s); });  // not 10 s: the heartbeat waits that long
  ASSERT_TRUE(s.clock.await_waiter(began + 17s));
  s.clock.advance(17s);
  drainer.join();
  auto job = *s.store.get_provisioner_job_by_id(version.job_id);
  EXPECT_EQ(coderd::job_status(job), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(job.error, "canceled");
}

TEST_F(DaemonPoolTest, UnsupportedJobTypesFail) {
  start(1);
  auto now = s.clock.now();
  store::ProvisionerJobRow row{Uuid::random_v4(),
                               now,
                               now,
                               std::nullopt,
                               std::nullopt,
                               std::nullopt,
                               std::nullopt,
                               "",
                               org.id,
                               owner.id,
                               "terraform",
                               "file",
                               "template_version_dry_run",
                               file.id,
                               {},
                               {{"scope", "organization"}, {"owner", ""}},
                               std::nullopt,
                               "",
                               0,
                               false};
  s.store.insert_provisioner_job(row);
  jobs.announce_posted();
  auto job = wait_completed(row.id);
  EXPECT_EQ(coderd::job_status(job), sdk::ProvisionerJobStatus::failed);
  EXPECT_EQ(job.error,
            "Job type \"template_version_dry_run\" is not supported by this provisioner.");
  EXPECT_EQ(provisioner.calls(), 0);
}

TEST_F(DaemonPoolTest, APendingJobCanceledBeforeADaemonStartsIsNeverRun) {
  auto version = create_version();
  jobs.cancel(version.job_id);
  auto after = create_version();
  start(1);
  EXPECT_EQ(coderd::job_status(wait_completed(after.job_id)), sdk::ProvisionerJobStatus::succeeded);
  EXPECT_EQ(coderd::job_status(*s.store.get_provisioner_job_by_id(version.job_id)),
            sdk::ProvisionerJobStatus::canceled);
  EXPECT_EQ(provisioner.calls(), 1);
}

// Time below is the ManualClock's: a heartbeat or a recheck happens when the test advances it.
TEST_F(DaemonPoolTest, HeartbeatsARunningJobOncePerInterval) {
  provisioner.set(wait_for_cancel);
  start(1);
  auto version = create_version();
  ASSERT_TRUE(provisioner.wait_entered());
  auto acquired = s.clock.now();
  auto since = s.clock.steady_now();
  ASSERT_TRUE(s.clock.await_waiter(since + DaemonPool::kHeartbeatInterval));
  auto heartbeat = [&] { return s.store.get_provisioner_job_by_id(version.job_id)->updated_at; };
  EXPECT_EQ(heartbeat(), acquired);
  for (int i = 1; i <= 3; ++i) {
    s.clock.advance(DaemonPool::kHeartbeatInterval - 1us);
    EXPECT_EQ(heartbeat(), acquired + (i - 1) * DaemonPool::kHeartbeatInterval);
    s.clock.advance(1us);
    ASSERT_TRUE(s.clock.await_waiter(since + (i + 1) * DaemonPool::kHeartbeatInterval));
    EXPECT_EQ(heartbeat(), acquired + i * DaemonPool::kHeartbeatInterval);
  }
  jobs.cancel(version.job_id);
  EXPECT_EQ(wait_completed(version.job_id).error, "canceled");
}

TEST_F(DaemonPoolTest, AJobNobodyAnnouncedIsFoundAtTheNextIdleRecheck) {
  start(1);
  auto idle_since = s.clock.steady_now();
  ASSERT_TRUE(s.clock.await_waiter(idle_since + DaemonPool::kIdleRecheck));
  // Queued through another replica's queue: its announcement never reaches this pool.
  store::MemoryPubsub elsewhere;
  coderd::JobQueue other_jobs{s.store, elsewhere, s.clock};
  coderd::Templates other_templates{s.store, other_jobs, s.clock};
  coderd::CreateVersionParams p;
  p.file_id = file.id;
  auto version = other_templates.create_version(s.api_keys.subject_for(owner), org, p);

  s.clock.advance(DaemonPool::kIdleRecheck - 1us);
  EXPECT_FALSE(s.store.get_provisioner_job_by_id(version.job_id)->started_at);
  s.clock.advance(1us);
  auto job = wait_completed(version.job_id);
  EXPECT_EQ(job.started_at, s.clock.now());
  EXPECT_FALSE(job.error);
  EXPECT_EQ(provisioner.calls(), 1);
}

}  // namespace
}  // namespace berth::provisioner
