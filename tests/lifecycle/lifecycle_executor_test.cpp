// The lifecycle executor with real services, a real SQLite file, real provisioner daemons and
// a ManualClock: schedules fire on the minute the clock says, never by sleeping.
#include "coderd/lifecycle_executor.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>

#include "archive/tar_reader.hpp"
#include "coderd/api_keys.hpp"
#include "coderd/files.hpp"
#include "coderd/organizations.hpp"
#include "coderd/schedule.hpp"
#include "coderd/templates.hpp"
#include "coderd/users.hpp"
#include "common/error.hpp"
#include "provisioner/daemon.hpp"
#include "provisioner/local/local_provisioner.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/tar_builder.hpp"
#include "support/temp_dir.hpp"

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
        store_(dir_.file("berth.db")),
        api_keys_(store_, clock_, TokenPolicy{}),
        users_(store_, clock_, api_keys_),
        jobs_(store_, pubsub_, clock_),
        templates_(store_, jobs_, clock_),
        workspaces_(store_, pubsub_, jobs_, clock_),
        local_("http://127.0.0.1:1", "/bin/false", make_dir("jobs")),
        daemons_(jobs_, store_, pubsub_, local_, 2, make_dir("workspaces")),
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

  // Waits (bounded) until `done` holds, re-checking on every workspace or job notification.
  template <typename Pred>
  void wait_until(const Uuid& workspace_id, Pred done) {
    std::mutex m;
    std::condition_variable cv;
    auto sub = pubsub_.subscribe(workspace_channel(workspace_id),
                                 [&](const std::string&) { cv.notify_all(); });
    std::unique_lock lock(m);
    auto deadline = steady_clock::now() + seconds(30);
    while (!done()) {
      ASSERT_LT(steady_clock::now(), deadline) << "condition not reached";
      cv.wait_for(lock, milliseconds(50));
    }
  }

  store::WorkspaceBuildRow latest(const Uuid& id) { return *store_.get_latest_workspace_build(id); }

  std::string status(const Uuid& id) {
    auto b = latest(id);
    return build_status(b.transition, job_status(*store_.get_provisioner_job_by_id(b.job_id)));
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
    std::mutex m;
    std::condition_variable cv;
    auto sub = pubsub_.subscribe(job_channel(version.job_id),
                                 [&](const std::string&) { cv.notify_all(); });
    std::unique_lock lock(m);
    auto deadline = steady_clock::now() + seconds(30);
    while (!store_.get_provisioner_job_by_id(version.job_id)->completed_at) {
      EXPECT_LT(steady_clock::now(), deadline);
      cv.wait_for(lock, milliseconds(50));
    }
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
    p.transition = transition;
    workspaces_.build(&subject_, owner_.id, *store_.get_workspace_by_id(w.id), p);
    wait_for_build(w.id);
  }

  TempDir dir_;
  ManualClock clock_;
  store::sqlite::SqliteStore store_;
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
  EXPECT_EQ(latest(w.id).transition, "stop");
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
  stop.transition = "stop";
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

}  // namespace
}  // namespace berth::coderd
