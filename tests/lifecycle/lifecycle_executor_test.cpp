// The lifecycle executor with real services, a real SQLite file, real provisioner daemons and
// a ManualClock: schedules fire on the minute the clock says, never by sleeping.
#include "coderd/lifecycle_executor.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <set>

#include "archive/tar_reader.hpp"
#include "coderd/agents.hpp"
#include "coderd/api_keys.hpp"
#include "coderd/files.hpp"
#include "coderd/organizations.hpp"
#include "coderd/quiet_hours.hpp"
#include "coderd/schedule.hpp"
#include "coderd/templates.hpp"
#include "coderd/users.hpp"
#include "common/error.hpp"
#include "provisioner/daemon.hpp"
#include "provisioner/local/local_provisioner.hpp"
#include "support/tar_builder.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace berth::coderd {
namespace {

using namespace std::chrono;
using berth::testing::TempDir;

TimePoint utc(int y, int mo, int d, int h, int mi) {
  return std::chrono::sys_days{std::chrono::year{y} / mo / d} + hours(h) + minutes(mi) +
         microseconds(0);
}

constexpr const char* kQuietTemplate = R"(
data "coder_workspace" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}
)";

// An agent on a resource that does nothing, so builds have an agent row and no process.
constexpr const char* kAgentTemplate = R"(
data "coder_workspace" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}
resource "null_resource" "box" {
  triggers = { token = coder_agent.main.token }
}
)";

constexpr const char* kFailingTemplate = R"(
data "coder_workspace" "me" {}
resource "berth_process" "broken" {
  count   = data.coder_workspace.me.start_count
  command = ["/nonexistent/binary"]
}
)";

// Everything the executor works with, real, except the clock.
class Lifecycle : public ::testing::Test {
 protected:
  Lifecycle()
      : clock_(utc(2026, 3, 27, 8, 0)),
        owned_store_(berth::testing::open_test_store(dir_)),
        store_(*owned_store_),
        api_keys_(store_, clock_, TokenPolicy{}),
        users_(store_, clock_, api_keys_),
        jobs_(store_, pubsub_, clock_),
        templates_(store_, jobs_, clock_),
        workspaces_(store_, pubsub_, jobs_, clock_),
        local_("http://127.0.0.1:1", "/bin/false", make_dir("jobs")),
        daemons_(jobs_, store_, pubsub_, clock_, local_, 2, make_dir("workspaces")),
        executor_(store_, workspaces_, clock_, "test-executor") {
    initialize_deployment(store_, clock_);
    daemons_.start();
    owner_ = users_.create_first_user({"owner@example.com", "owner", "", "SomeStr0ng!Passw0rd"});
    subject_ = api_keys_.subject_for(owner_);
  }

  std::string make_dir(const std::string& name) {
    auto path = dir_.path() / name;
    std::filesystem::create_directories(path);
    return path.string();
  }

  // Waits until `done` holds, re-checking after every message on `channel`: a message that
  // comes while `done` runs is counted, not lost, so no polling is needed. The real-time bound
  // is reached only by a test that fails.
  template <typename Pred>
  void wait_on(const std::string& channel, Pred done) {
    std::mutex m;
    std::condition_variable cv;
    std::uint64_t messages = 0;  // guarded by m
    auto sub = pubsub_.subscribe(channel, [&](const std::string&) {
      {
        std::lock_guard lock(m);
        ++messages;
      }
      cv.notify_all();
    });
    auto deadline = steady_clock::now() + seconds(30);
    std::unique_lock lock(m);
    for (;;) {
      auto seen = messages;
      lock.unlock();
      if (done()) return;
      lock.lock();
      ASSERT_TRUE(cv.wait_until(lock, deadline, [&] { return messages != seen; }))
          << "condition not reached";
    }
  }

  template <typename Pred>
  void wait_until(const Uuid& workspace_id, Pred done) {
    wait_on(workspace_channel(workspace_id), done);
  }

  store::WorkspaceBuildRow latest(const Uuid& id) { return *store_.get_latest_workspace_build(id); }

  std::string status(const Uuid& id) {
    auto b = latest(id);
    return std::string(sdk::to_string(
        build_status(b.transition, job_status(*store_.get_provisioner_job_by_id(b.job_id)))));
  }

  void wait_for_build(const Uuid& id) {
    wait_until(id, [&] {
      return store_.get_provisioner_job_by_id(latest(id).job_id)->completed_at.has_value();
    });
  }

  store::TemplateVersionRow import_version(const std::string& source,
                                           std::optional<Uuid> template_id = std::nullopt) {
    auto tar = berth::testing::make_tar({{"main.tf", source, ""}});
    auto file = upload_file(store_, clock_, subject_, kTarMimeType, tar).file;
    auto org = *store_.get_default_organization();
    CreateVersionParams params;
    params.file_id = file.id;
    params.template_id = template_id;
    auto version = templates_.create_version(subject_, org, params);
    wait_on(job_channel(version.job_id), [&] {
      return store_.get_provisioner_job_by_id(version.job_id)->completed_at.has_value();
    });
    return version;
  }

  store::TemplateRow push_template(const std::string& source, TemplatePolicy policy = {}) {
    auto version = import_version(source);
    auto org = *store_.get_default_organization();
    CreateTemplateParams t;
    t.name = "t" + std::to_string(++templates_made_);
    t.version_id = version.id;
    t.policy = policy;
    return templates_.create_template(subject_, org, t);
  }

  store::WorkspaceRow create(const store::TemplateRow& tmpl, CreateWorkspaceParams params) {
    params.template_id = tmpl.id;
    if (params.name.empty()) params.name = "ws" + std::to_string(++workspaces_made_);
    auto [workspace, build] = workspaces_.create(subject_, owner_, params);
    wait_for_build(workspace.id);
    return *store_.get_workspace_by_id(workspace.id);
  }

  void manual(const store::WorkspaceRow& w, const std::string& transition) {
    BuildParams p;
    p.transition = *sdk::parse<sdk::WorkspaceTransition>(transition);
    workspaces_.build(&subject_, owner_.id, *store_.get_workspace_by_id(w.id), p);
    wait_for_build(w.id);
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<store::Store> owned_store_;
  store::Store& store_;
  store::MemoryPubsub pubsub_;
  ApiKeys api_keys_;
  Users users_;
  JobQueue jobs_;
  Templates templates_;
  Workspaces workspaces_;
  provisioner::local::LocalProvisioner local_;
  provisioner::DaemonPool daemons_;
  LifecycleExecutor executor_;
  store::UserRow owner_;
  Subject subject_;
  int templates_made_ = 0;
  int workspaces_made_ = 0;
};

// Not the executor, but this fixture has the real template service: a thousand unnamed
// versions of one template would surely draw some random name twice (25,600 of them).
TEST_F(Lifecycle, UnnamedVersionsOfATemplateNeverCollide) {
  auto tmpl = push_template(kQuietTemplate);
  auto tar = berth::testing::make_tar({{"main.tf", std::string(kQuietTemplate), ""}});
  auto file = upload_file(store_, clock_, subject_, kTarMimeType, tar).file;
  auto org = *store_.get_default_organization();
  std::set<std::string> names;
  for (int i = 0; i < 1000; ++i) {
    CreateVersionParams params;
    params.file_id = file.id;
    params.template_id = tmpl.id;
    names.insert(templates_.create_version(subject_, org, params).name);
  }
  EXPECT_EQ(names.size(), 1000u);
}

TEST_F(Lifecycle, AutostopsAtTheDeadline) {
  auto tmpl = push_template(kQuietTemplate);
  CreateWorkspaceParams p;
  p.ttl_ms = 3'600'000;
  auto w = create(tmpl, p);
  auto started = latest(w.id);
  ASSERT_TRUE(started.deadline);
  EXPECT_EQ(*started.deadline, clock_.now() + hours(1));
  EXPECT_EQ(executor_.tick(clock_.now() + minutes(59)).stopped, 0);
  EXPECT_EQ(status(w.id), "running");
  EXPECT_EQ(executor_.tick(clock_.now() + minutes(61)).stopped, 1);
  wait_for_build(w.id);
  EXPECT_EQ(latest(w.id).reason, "autostop");
  EXPECT_EQ(status(w.id), "stopped");
  EXPECT_EQ(executor_.tick(clock_.now() + minutes(120)).stopped, 0);  // nothing left to stop
}

TEST_F(Lifecycle, StopsTheWorkspacesOfASuspendedOwnerWithoutADeadline) {
  auto tmpl = push_template(kQuietTemplate);
  auto w = create(tmpl, {});
  ASSERT_FALSE(latest(w.id).deadline);
  EXPECT_EQ(executor_.tick(clock_.now()).stopped, 0);
  store_.update_user_status_by_id(owner_.id, "suspended", clock_.now());
  EXPECT_EQ(executor_.tick(clock_.now()).stopped, 1);
  wait_for_build(w.id);
  EXPECT_EQ(status(w.id), "stopped");
}

// The store's candidate query against the rules: of many workspaces, only those a rule may
// act on come back, whatever their history.
TEST_F(Lifecycle, ATickReadsOnlyTheWorkspacesThatMayBeDue) {
  TemplatePolicy dormancy;
  dormancy.time_til_dormant_ms = 3'600'000;
  auto quiet = push_template(kQuietTemplate);
  auto dormant_after_an_hour = push_template(kQuietTemplate, dormancy);
  CreateWorkspaceParams ttl;
  ttl.ttl_ms = 3'600'000;
  auto plain = create(quiet, {});
  auto with_ttl = create(quiet, ttl);
  auto unused = create(dormant_after_an_hour, {});
  CreateWorkspaceParams scheduled;
  scheduled.autostart_schedule = "CRON_TZ=UTC 0 9 * * *";
  auto with_schedule = create(quiet, scheduled);
  auto ids = [&](TimePoint at) {
    std::set<std::string> out;
    for (const auto& w : store_.list_lifecycle_candidates(at)) out.insert(w.name);
    return out;
  };
  auto now = clock_.now();
  EXPECT_EQ(ids(now), (std::set<std::string>{with_schedule.name}));
  EXPECT_EQ(ids(now + minutes(61)),
            (std::set<std::string>{with_ttl.name, unused.name, with_schedule.name}));
  // A stopped workspace is no longer due for its old build's deadline.
  manual(with_ttl, "stop");
  EXPECT_EQ(ids(now + minutes(61)), (std::set<std::string>{unused.name, with_schedule.name}));
  EXPECT_FALSE(ids(now + minutes(61)).contains(plain.name));
}

TEST_F(Lifecycle, AutostartsOnTheMinuteAcrossADaylightSavingChange) {
  auto tmpl = push_template(kQuietTemplate);
  clock_.set(utc(2026, 3, 28, 6, 0));  // Saturday 07:00 in Berlin (CET, UTC+1)
  CreateWorkspaceParams p;
  p.autostart_schedule = "CRON_TZ=Europe/Berlin 30 9 * * *";
  auto w = create(tmpl, p);
  manual(w, "stop");
  EXPECT_EQ(executor_.tick(utc(2026, 3, 28, 8, 29)).started, 0);  // 09:29 CET
  EXPECT_EQ(executor_.tick(utc(2026, 3, 28, 8, 30)).started, 1);  // 09:30 CET
  wait_for_build(w.id);
  EXPECT_EQ(latest(w.id).reason, "autostart");
  EXPECT_EQ(status(w.id), "running");
  // Stopped again on Saturday afternoon; Sunday is summer time (CEST, UTC+2): 09:30 is 07:30Z.
  clock_.set(utc(2026, 3, 28, 14, 0));
  manual(w, "stop");
  EXPECT_EQ(executor_.tick(utc(2026, 3, 29, 7, 29)).started, 0);
  EXPECT_EQ(executor_.tick(utc(2026, 3, 29, 7, 30)).started, 1);
  wait_for_build(w.id);
  EXPECT_EQ(status(w.id), "running");
}

TEST_F(Lifecycle, AutostartHonoursWeekdaysInAnotherZone) {
  auto tmpl = push_template(kQuietTemplate);
  clock_.set(utc(2026, 3, 27, 20, 0));  // Friday evening
  CreateWorkspaceParams p;
  p.autostart_schedule = "CRON_TZ=America/New_York 0 7 * * 1-5";
  auto w = create(tmpl, p);
  manual(w, "stop");
  EXPECT_EQ(executor_.tick(utc(2026, 3, 28, 11, 0)).started, 0);   // Saturday 07:00 EDT
  EXPECT_EQ(executor_.tick(utc(2026, 3, 29, 11, 0)).started, 0);   // Sunday
  EXPECT_EQ(executor_.tick(utc(2026, 3, 30, 10, 59)).started, 0);  // Monday 06:59 EDT
  EXPECT_EQ(executor_.tick(utc(2026, 3, 30, 11, 0)).started, 1);   // Monday 07:00 EDT
  wait_for_build(w.id);
  EXPECT_EQ(latest(w.id).reason, "autostart");
}

TEST_F(Lifecycle, AutostartMovesToTheActiveVersionWithAutomaticUpdates) {
  auto tmpl = push_template(kQuietTemplate);
  CreateWorkspaceParams p;
  p.autostart_schedule = "CRON_TZ=UTC 0 9 * * *";
  p.automatic_updates = "always";
  auto updating = create(tmpl, p);
  p.automatic_updates = "never";
  auto pinned = create(tmpl, p);
  auto old_version = latest(updating.id).template_version_id;
  manual(updating, "stop");
  manual(pinned, "stop");
  auto v2 = import_version(std::string(kQuietTemplate) + "locals {\n  v = 2\n}\n", tmpl.id);
  templates_.promote(subject_, *store_.get_template_by_id(tmpl.id), v2.id);
  EXPECT_EQ(executor_.tick(utc(2026, 3, 27, 9, 0)).started, 2);
  wait_for_build(updating.id);
  wait_for_build(pinned.id);
  EXPECT_EQ(latest(updating.id).template_version_id, v2.id);
  EXPECT_EQ(latest(pinned.id).template_version_id, old_version);
}

TEST_F(Lifecycle, TemplateCanForbidUserAutostart) {
  TemplatePolicy policy;
  policy.allow_user_autostart = false;
  auto tmpl = push_template(kQuietTemplate, policy);
  CreateWorkspaceParams p;
  p.autostart_schedule = "CRON_TZ=UTC 0 9 * * *";
  auto w = create(tmpl, p);
  manual(w, "stop");
  EXPECT_EQ(executor_.tick(clock_.now() + hours(30)).started, 0);
}

TEST_F(Lifecycle, StopsAFailedWorkspaceAfterTheFailureTtl) {
  TemplatePolicy policy;
  policy.failure_ttl_ms = 10 * 60'000;
  auto tmpl = push_template(kFailingTemplate, policy);
  auto w = create(tmpl, {});
  ASSERT_EQ(status(w.id), "failed");
  EXPECT_EQ(executor_.tick(clock_.now() + minutes(5)).stopped, 0);
  EXPECT_EQ(executor_.tick(clock_.now() + minutes(11)).stopped, 1);
  wait_for_build(w.id);
  EXPECT_EQ(latest(w.id).transition, sdk::WorkspaceTransition::stop);
  EXPECT_EQ(latest(w.id).reason, "autostop");
}

TEST_F(Lifecycle, MarksUnusedWorkspacesDormantThenDeletesThem) {
  TemplatePolicy policy;
  policy.time_til_dormant_ms = 3'600'000;
  policy.time_til_dormant_autodelete_ms = 2 * 3'600'000;
  auto tmpl = push_template(kQuietTemplate, policy);
  auto w = create(tmpl, {});
  std::vector<std::string> events;
  std::mutex m;
  auto sub = pubsub_.subscribe(workspace_channel(w.id), [&](const std::string& e) {
    std::lock_guard lock(m);
    events.push_back(e);
  });
  EXPECT_EQ(executor_.tick(clock_.now() + minutes(59)).marked_dormant, 0);
  auto at = clock_.now() + minutes(61);
  auto stats = executor_.tick(at);
  EXPECT_EQ(stats.marked_dormant, 1);
  EXPECT_EQ(stats.stopped, 1);
  wait_for_build(w.id);
  auto dormant = *store_.get_workspace_by_id(w.id);
  ASSERT_TRUE(dormant.dormant_at);
  EXPECT_EQ(*dormant.dormant_at, floor<minutes>(at));
  ASSERT_TRUE(dormant.deleting_at);
  EXPECT_EQ(*dormant.deleting_at, floor<minutes>(at) + hours(2));
  EXPECT_EQ(latest(w.id).reason, "dormancy");
  {
    std::lock_guard lock(m);
    EXPECT_NE(std::find(events.begin(), events.end(), "mtd_update"), events.end());
    EXPECT_NE(std::find(events.begin(), events.end(), "state_change"), events.end());
  }
  EXPECT_EQ(executor_.tick(*dormant.deleting_at - minutes(1)).deleted, 0);
  EXPECT_EQ(executor_.tick(*dormant.deleting_at).deleted, 1);
  wait_for_build(w.id);
  EXPECT_EQ(latest(w.id).reason, "autodelete");
  EXPECT_TRUE(store_.get_workspace_by_id(w.id)->deleted);
}

TEST_F(Lifecycle, UsageBumpsTheDeadlineButNeverShortensIt) {
  TemplatePolicy policy;
  policy.activity_bump_ms = 3'600'000;
  auto tmpl = push_template(kQuietTemplate, policy);
  CreateWorkspaceParams p;
  p.ttl_ms = 3'600'000;
  auto w = create(tmpl, p);
  auto original = *latest(w.id).deadline;
  clock_.advance(minutes(1));  // within 5% of the bump: no write
  workspaces_.record_usage(subject_, *store_.get_workspace_by_id(w.id), true);
  EXPECT_EQ(*latest(w.id).deadline, original);
  clock_.advance(minutes(29));
  workspaces_.record_usage(subject_, *store_.get_workspace_by_id(w.id), true);
  EXPECT_EQ(*latest(w.id).deadline, clock_.now() + hours(1));
  EXPECT_EQ(store_.get_workspace_by_id(w.id)->last_used_at, clock_.now());
}

TEST_F(Lifecycle, UsageIntoTheNextAutostartKeepsTheWorkspaceATtlPastIt) {
  auto tmpl = push_template(kQuietTemplate);  // activity bump 1 h
  CreateWorkspaceParams p;
  p.ttl_ms = 3'600'000;
  p.autostart_schedule = "CRON_TZ=UTC 0 9 * * *";
  auto w = create(tmpl, p);
  EXPECT_EQ(*latest(w.id).deadline, utc(2026, 3, 27, 9, 0));
  clock_.advance(minutes(30));
  workspaces_.record_usage(subject_, *store_.get_workspace_by_id(w.id), true);
  // 08:30 + 1 h would pass the 09:00 autostart: 30 min to it plus the 1 h TTL.
  EXPECT_EQ(*latest(w.id).deadline, utc(2026, 3, 27, 10, 0));
}

TEST_F(Lifecycle, ExtendStaysWithinBounds) {
  auto tmpl = push_template(kQuietTemplate);
  CreateWorkspaceParams p;
  p.ttl_ms = 3'600'000;
  auto w = create(tmpl, p);
  auto error_of = [&](TimePoint deadline) -> std::string {
    try {
      workspaces_.extend(subject_, *store_.get_workspace_by_id(w.id), deadline);
    } catch (const Error& e) {
      return e.message();
    }
    return "";
  };
  EXPECT_EQ(error_of(clock_.now() + minutes(10)),
            "Cannot extend workspace: new deadline must be at least 30 minutes in the future");
  EXPECT_EQ(error_of(clock_.now() + hours(3)), "");
  EXPECT_EQ(*latest(w.id).deadline, clock_.now() + hours(3));
  manual(w, "stop");
  EXPECT_EQ(error_of(clock_.now() + hours(3)), "Workspace must be started, current status: stop");
  // A workspace with no TTL shuts down manually only.
  auto manual_only = create(tmpl, {});
  try {
    workspaces_.extend(subject_, manual_only, clock_.now() + hours(3));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "Workspace shutdown is manual.");
  }
}

// Watchers re-read the workspace when told of a change (the pubsub calls them on the
// publisher's thread): extend tells them once the new deadline is written, and only then.
TEST_F(Lifecycle, ExtendTellsWatchersAfterWritingTheDeadline) {
  auto tmpl = push_template(kQuietTemplate);
  CreateWorkspaceParams p;
  p.ttl_ms = 3'600'000;
  auto w = create(tmpl, p);
  std::vector<TimePoint> seen;
  auto watcher = pubsub_.subscribe(workspace_channel(w.id), [&](const std::string& message) {
    // Only this thread's changes: the daemon may still report the finished build.
    if (message == "mtd_update") seen.push_back(*latest(w.id).deadline);
  });
  auto wanted = clock_.now() + hours(3);
  workspaces_.extend(subject_, *store_.get_workspace_by_id(w.id), wanted);
  EXPECT_EQ(seen, std::vector<TimePoint>{wanted});
  // A refused extension changes nothing and tells nobody.
  EXPECT_THROW(
      workspaces_.extend(subject_, *store_.get_workspace_by_id(w.id), clock_.now() + minutes(10)),
      Error);
  EXPECT_EQ(seen.size(), 1u);
}

TEST_F(Lifecycle, OnlyTheLeaseHolderActs) {
  auto tmpl = push_template(kQuietTemplate);
  CreateWorkspaceParams p;
  p.ttl_ms = 3'600'000;
  auto w = create(tmpl, p);
  auto lease = "lifecycle:" + w.id.to_string();
  ASSERT_TRUE(
      store_.try_acquire_lease(lease, "other-replica", clock_.now(), clock_.now() + hours(10)));
  EXPECT_EQ(executor_.tick(clock_.now() + hours(2)).stopped, 0);
  store_.release_lease(lease, "other-replica");
  EXPECT_EQ(executor_.tick(clock_.now() + hours(2)).stopped, 1);
  wait_for_build(w.id);
}

TEST_F(Lifecycle, OneWorkspacesFailureDoesNotStopTheOthers) {
  auto tmpl = push_template(kQuietTemplate);
  CreateWorkspaceParams p;
  p.ttl_ms = 3'600'000;
  auto busy = create(tmpl, p);
  auto fine = create(tmpl, p);
  // A pending manual build on `busy` makes its autostop fail with 409; `fine` still stops.
  BuildParams stop;
  stop.transition = sdk::WorkspaceTransition::stop;
  daemons_.stop();
  workspaces_.build(&subject_, owner_.id, busy, stop);
  auto stats = executor_.tick(clock_.now() + hours(2));
  EXPECT_EQ(stats.stopped, 1);
  EXPECT_EQ(latest(fine.id).reason, "autostop");
}

TEST(WeeklySchedule, RejectsMalformedSchedulesWithCodersWording) {
  auto message = [](const std::string& s) {
    try {
      WeeklySchedule::parse(s);
    } catch (const Error& e) {
      return e.message();
    }
    return std::string();
  };
  EXPECT_EQ(message("30 9 * *"),
            "validate weekly schedule: expected schedule to consist of 5 fields with an optional "
            "CRON_TZ=<timezone> prefix");
  EXPECT_EQ(message("30 9 1 * *"),
            "validate weekly schedule: expected day-of-month and month to be *");
  EXPECT_NE(message("CRON_TZ=Nowhere/Land 30 9 * * *").find("unknown time zone Nowhere/Land"),
            std::string::npos);
  EXPECT_NE(message("61 9 * * *"), "");
  EXPECT_NE(message("30 25 * * *"), "");
  EXPECT_NE(message("30 9 * * 8"), "");
  EXPECT_EQ(message("CRON_TZ=Asia/Tokyo 0,30 8-18/2 * * mon-fri"), "");
}

TEST(WeeklySchedule, SkipsWallTimesThatDoNotExist) {
  // 02:30 does not exist in Berlin on 2026-03-29 (clocks jump from 02:00 to 03:00).
  auto s = WeeklySchedule::parse("CRON_TZ=Europe/Berlin 30 2 * * *");
  auto next = s.next(utc(2026, 3, 28, 12, 0));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, utc(2026, 3, 30, 0, 30));  // Monday 02:30 CEST
}

// --- max_deadline: the template's autostop requirement in the owner's quiet hours ---

CreateWorkspaceParams with_ttl(std::int64_t ttl_ms) {
  CreateWorkspaceParams p;
  p.ttl_ms = ttl_ms;
  return p;
}

std::optional<TimePoint> requirement(const std::string& quiet, std::vector<std::string> days,
                                     std::int64_t weeks, TimePoint now) {
  return autostop_requirement_deadline(WeeklySchedule::parse_daily(quiet), days, weeks, now);
}

TEST(AutostopRequirement, StopsInTheQuietHoursOfARequiredDayInTheirZone) {
  auto friday = utc(2026, 3, 27, 8, 0);  // 09:00 in Berlin
  // Today's 02:00 has passed; Saturday 02:00 CET is 01:00 UTC.
  EXPECT_EQ(requirement("CRON_TZ=Europe/Berlin 0 2 * * *", {"saturday"}, 1, friday),
            utc(2026, 3, 28, 1, 0));
  // Sunday 29 March Berlin moves to summer time: 03:00 CEST is 01:00 UTC.
  EXPECT_EQ(requirement("CRON_TZ=Europe/Berlin 0 3 * * *", {"sunday"}, 1, friday),
            utc(2026, 3, 29, 1, 0));
  // Later the same day when it is one of the days, and more than 2 hours away.
  EXPECT_EQ(requirement("CRON_TZ=America/New_York 0 23 * * *", {"friday", "monday"}, 1, friday),
            utc(2026, 3, 28, 3, 0));
  EXPECT_EQ(requirement("CRON_TZ=UTC 0 0 * * *", {}, 1, friday), std::nullopt);
}

TEST(AutostopRequirement, EveryNWeeksCountsWeeksFromTheEpochMonday) {
  auto tuesday = utc(2026, 3, 31, 8, 0);  // week 169 since Monday 2023-01-02
  EXPECT_EQ(requirement(kDefaultQuietHoursSchedule, {"saturday"}, 1, tuesday),
            utc(2026, 4, 4, 0, 0));
  // Week 170 is the next multiple of 2, week 171 the next of 3.
  EXPECT_EQ(requirement(kDefaultQuietHoursSchedule, {"saturday"}, 2, tuesday),
            utc(2026, 4, 11, 0, 0));
  EXPECT_EQ(requirement(kDefaultQuietHoursSchedule, {"saturday"}, 3, tuesday),
            utc(2026, 4, 18, 0, 0));
}

TEST(AutostopRequirement, QuietHoursLessThanTwoHoursAwayAreSkipped) {
  // Started 21:00: midnight is 3 hours away, so tonight it is.
  EXPECT_EQ(
      requirement(kDefaultQuietHoursSchedule, {"saturday", "sunday"}, 1, utc(2026, 3, 27, 21, 0)),
      utc(2026, 3, 28, 0, 0));
  // Started 22:30: tonight's midnight is too close; the next night's.
  EXPECT_EQ(
      requirement(kDefaultQuietHoursSchedule, {"saturday", "sunday"}, 1, utc(2026, 3, 27, 22, 30)),
      utc(2026, 3, 29, 0, 0));
}

TEST(AutostopRequirement, QuietHoursMustBeDailyAtOneTime) {
  auto problem = [](const std::string& text) -> std::string {
    try {
      WeeklySchedule::parse_daily(text);
    } catch (const Error& e) {
      return e.message();
    }
    return "";
  };
  EXPECT_EQ(problem("CRON_TZ=Europe/Berlin 30 2 * * *"), "");
  EXPECT_EQ(problem("0 2 * * 1-5"),
            "parse daily schedule: expected day-of-month, month and day-of-week to be *");
  EXPECT_EQ(problem("0 1,2 * * *"),
            "parse daily schedule: schedule must have a single minute and a single hour");
  EXPECT_NE(problem("CRON_TZ=Nowhere/Atlantis 0 2 * * *").find("unknown time zone"),
            std::string::npos);
  EXPECT_EQ(WeeklySchedule::parse_daily("CRON_TZ=Asia/Tokyo 5 7 * * *").time_of_day(), "07:05");
}

TEST_F(Lifecycle, DeadlineIsClampedToTheAutostopRequirement) {
  TemplatePolicy policy;
  policy.autostop_days_of_week = {"monday", "tuesday",  "wednesday", "thursday",
                                  "friday", "saturday", "sunday"};
  auto tmpl = push_template(kQuietTemplate, policy);
  CreateWorkspaceParams p;
  p.ttl_ms = 20 * 3'600'000LL;
  // The deployment default, midnight UTC: the 20 h TTL would end 04:00 Saturday.
  auto w = create(tmpl, p);
  EXPECT_EQ(latest(w.id).max_deadline, utc(2026, 3, 28, 0, 0));
  EXPECT_EQ(latest(w.id).deadline, utc(2026, 3, 28, 0, 0));
  // The owner's own quiet hours, in New York (04:00 EDT now): Saturday 01:30 EDT.
  auto q = set_quiet_hours(store_, subject_, owner_, "CRON_TZ=America/New_York 30 1 * * *",
                           clock_.now());
  EXPECT_TRUE(q.user_set);
  manual(w, "stop");
  manual(w, "start");
  EXPECT_EQ(latest(w.id).max_deadline, utc(2026, 3, 28, 5, 30));
  EXPECT_EQ(latest(w.id).deadline, utc(2026, 3, 28, 4, 0));  // the TTL, inside it now
  // A short TTL stays as it is; max_deadline still bounds it.
  auto short_ttl = create(tmpl, with_ttl(3'600'000));
  EXPECT_EQ(latest(short_ttl.id).deadline, clock_.now() + hours(1));
  EXPECT_EQ(latest(short_ttl.id).max_deadline, utc(2026, 3, 28, 5, 30));
  // Without an autostop requirement there is no max_deadline.
  auto plain = create(push_template(kQuietTemplate), with_ttl(3'600'000));
  EXPECT_EQ(latest(plain.id).max_deadline, std::nullopt);
}

TEST_F(Lifecycle, RunningWorkspacesFollowAChangedAutostopRequirement) {
  auto tmpl = push_template(kQuietTemplate);
  auto w = create(tmpl, with_ttl(20 * 3'600'000LL));
  EXPECT_EQ(latest(w.id).deadline, utc(2026, 3, 28, 4, 0));
  EXPECT_EQ(latest(w.id).max_deadline, std::nullopt);
  auto set_days = [&](std::vector<std::string> days) {
    auto t = *store_.get_template_by_id(tmpl.id);
    t.policy.autostop_days_of_week = std::move(days);
    templates_.update_template(subject_, t);
  };
  clock_.advance(hours(1));
  // Counted from the build's completion (08:00 Friday): midnight UTC, Saturday.
  set_days({"saturday"});
  EXPECT_EQ(latest(w.id).max_deadline, utc(2026, 3, 28, 0, 0));
  EXPECT_EQ(latest(w.id).deadline, utc(2026, 3, 28, 0, 0));
  // Dropping the requirement lifts the cap but leaves the deadline.
  set_days({});
  EXPECT_EQ(latest(w.id).max_deadline, std::nullopt);
  EXPECT_EQ(latest(w.id).deadline, utc(2026, 3, 28, 0, 0));
  // Never sooner than 2 hours from now: at 23:00 a midnight cap becomes 01:00.
  clock_.set(utc(2026, 3, 27, 23, 0));
  set_days({"saturday"});
  EXPECT_EQ(latest(w.id).max_deadline, utc(2026, 3, 28, 1, 0));
  EXPECT_EQ(latest(w.id).deadline, utc(2026, 3, 28, 0, 0));
}

TEST_F(Lifecycle, ActivityNeverBumpsPastMaxDeadline) {
  TemplatePolicy policy;
  policy.activity_bump_ms = 3 * 3'600'000LL;
  policy.autostop_days_of_week = {"friday"};
  auto tmpl = push_template(kQuietTemplate, policy);
  set_quiet_hours(store_, subject_, owner_, "CRON_TZ=UTC 0 11 * * *", clock_.now());
  auto w = create(tmpl, with_ttl(3'600'000));
  EXPECT_EQ(latest(w.id).deadline, utc(2026, 3, 27, 9, 0));
  EXPECT_EQ(latest(w.id).max_deadline, utc(2026, 3, 27, 11, 0));
  clock_.advance(minutes(50));
  workspaces_.record_usage(subject_, *store_.get_workspace_by_id(w.id), true);
  EXPECT_EQ(latest(w.id).deadline, utc(2026, 3, 27, 11, 0));  // not 11:50
  // Extending past it is refused too.
  EXPECT_THROW(workspaces_.extend(subject_, w, utc(2026, 3, 27, 12, 0)), Error);
  // The executor stops the workspace at max_deadline.
  clock_.set(utc(2026, 3, 27, 11, 0));
  executor_.tick(clock_.now());
  wait_for_build(w.id);
  EXPECT_EQ(latest(w.id).transition, sdk::WorkspaceTransition::stop);
  EXPECT_EQ(latest(w.id).reason, "autostop");
}

// --- activity from what the agent reports ---

TEST_F(Lifecycle, AgentSessionsMarkUseAndBumpTheDeadline) {
  TemplatePolicy policy;
  policy.activity_bump_ms = 3'600'000;
  auto tmpl = push_template(kAgentTemplate, policy);
  auto w = create(tmpl, with_ttl(3'600'000));
  Agents agents(store_, pubsub_, clock_);
  auto build = latest(w.id);
  auto resources = store_.list_workspace_resources_by_job_id(build.job_id);
  std::optional<store::WorkspaceAgentRow> agent;
  for (const auto& r : resources)
    for (const auto& a : store_.list_workspace_agents_by_resource_id(r.id)) agent = a;
  ASSERT_TRUE(agent);
  AgentIdentity id{*agent, w.id, w.owner_id};
  auto created_used = store_.get_workspace_by_id(w.id)->last_used_at;
  auto original = *build.deadline;

  clock_.advance(minutes(30));
  // Traffic without sessions is not use.
  auto idle = read_agent_stats(json::parse(R"({"stats": {"connection_count": 2, "rx_bytes": 10,
      "connections_by_proto": {"tcp": 2}}, "latency_ms": 1.5})")
                                   .as_object());
  EXPECT_EQ(idle.sessions, 0);
  agents.update_stats(id, idle);
  EXPECT_EQ(store_.get_workspace_by_id(w.id)->last_used_at, created_used);
  EXPECT_EQ(*latest(w.id).deadline, original);
  auto stored = store_.get_workspace_agent_stats(agent->id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->latency_us, 1500);

  // An open SSH session is.
  auto busy = read_agent_stats(
      json::parse(R"({"stats": {"session_count_ssh": 1, "session_count_vscode": 1}})").as_object());
  EXPECT_EQ(busy.sessions, 2);
  agents.update_stats(id, busy);
  EXPECT_EQ(store_.get_workspace_by_id(w.id)->last_used_at, clock_.now());
  EXPECT_EQ(*latest(w.id).deadline, clock_.now() + hours(1));
  EXPECT_EQ(store_.get_workspace_agent_stats(agent->id)->latency_us, 1500);  // kept

  // Bad reports are refused with the field named.
  try {
    read_agent_stats(json::parse(R"({"stats": {"session_count_ssh": -1}})").as_object());
    FAIL();
  } catch (const Error& e) {
    ASSERT_EQ(e.validations().size(), 1u);
    EXPECT_EQ(e.validations()[0].field, "stats.session_count_ssh");
  }
  EXPECT_THROW(read_agent_stats(json::parse(R"({"stats": "lots"})").as_object()), Error);
}

// The ticker on the fixture's ManualClock: it ticks once per advanced interval, so the tick
// that acts on a deadline is known to the minute.
TEST_F(Lifecycle, TheTickerAutostopsOnTheFirstTickAtTheDeadline) {
  auto tmpl = push_template(kQuietTemplate);
  CreateWorkspaceParams p;
  p.ttl_ms = 3'600'000;
  auto w = create(tmpl, p);
  ASSERT_EQ(*latest(w.id).deadline, clock_.now() + hours(1));
  LifecycleTicker ticker(executor_, clock_, minutes(1));
  auto since = clock_.steady_now();
  ticker.start();
  ASSERT_TRUE(clock_.await_waiter(since + minutes(1)));
  for (int i = 1; i < 60; ++i) {
    clock_.advance(minutes(1));
    // Waiting for its next tick means this one is done.
    ASSERT_TRUE(clock_.await_waiter(since + minutes(i + 1)));
    ASSERT_EQ(latest(w.id).build_number, 1) << "acted " << 60 - i << " min early";
  }
  clock_.advance(minutes(1));
  ASSERT_TRUE(clock_.await_waiter(since + minutes(61)));
  auto stop = latest(w.id);
  EXPECT_EQ(stop.build_number, 2);
  EXPECT_EQ(stop.reason, "autostop");
  EXPECT_EQ(stop.created_at, clock_.now());
  ticker.stop();  // at once: no interval to wait out
  wait_for_build(w.id);
  EXPECT_FALSE(store_.get_provisioner_job_by_id(stop.job_id)->error);
}

}  // namespace
}  // namespace berth::coderd
