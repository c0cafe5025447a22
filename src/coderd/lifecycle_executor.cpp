#include "coderd/lifecycle_executor.hpp"

#include <spdlog/spdlog.h>

#include "coderd/provisioner_jobs.hpp"
#include "coderd/templates.hpp"
#include "common/error.hpp"

namespace berth::coderd {

namespace {

using namespace std::chrono;

// A failed delete is retried at most once a day, as Coder does.
constexpr auto kFailedDeleteRetry = hours(24);
// A lease outlives any single workspace's evaluation by far.
constexpr auto kLeaseLength = minutes(5);

using Transition = sdk::WorkspaceTransition;

// What the latest build looks like to the rules.
struct Latest {
  store::WorkspaceBuildRow build;
  store::ProvisionerJobRow job;
  sdk::ProvisionerJobStatus job_status;
};

std::optional<Latest> latest_of(store::Store& store, const Uuid& workspace_id) {
  auto build = store.get_latest_workspace_build(workspace_id);
  if (!build) return std::nullopt;
  auto job = store.get_provisioner_job_by_id(build->job_id);
  if (!job) return std::nullopt;
  return Latest{*build, *job, job_status(*job)};
}

}  // namespace

LifecycleExecutor::LifecycleExecutor(store::Store& store, Workspaces& workspaces,
                                     const Clock& clock, std::string holder)
    : store_(store), workspaces_(workspaces), clock_(clock), holder_(std::move(holder)) {}

LifecycleStats LifecycleExecutor::tick(TimePoint now) {
  now = floor<minutes>(now);
  LifecycleStats stats;
  // One query finds the few workspaces that may be due; the rules below decide exactly.
  for (const auto& workspace : store_.list_lifecycle_candidates(now)) {
    auto lease = "lifecycle:" + workspace.id.to_string();
    if (!store_.try_acquire_lease(lease, holder_, clock_.now(), clock_.now() + kLeaseLength))
      continue;
    try {
      evaluate(workspace, now, stats);
    } catch (const std::exception& e) {
      // One workspace's trouble (e.g. a build already running) must not stop the others.
      ++stats.errors;
      spdlog::warn("lifecycle: workspace {}: {}", workspace.id.to_string(), e.what());
    }
    store_.release_lease(lease, holder_);
  }
  return stats;
}

void LifecycleExecutor::evaluate(const store::WorkspaceRow& w, TimePoint now,
                                 LifecycleStats& stats) {
  auto latest = latest_of(store_, w.id);
  auto tmpl = store_.get_template_by_id(w.template_id);
  auto owner = store_.get_user_by_id(w.owner_id);
  if (!latest || !tmpl || !owner) return;
  const auto& policy = tmpl->policy;
  const auto& build = latest->build;
  bool failed = latest->job_status == sdk::ProvisionerJobStatus::failed;
  bool completed = latest->job.completed_at.has_value();
  bool dormant = w.dormant_at.has_value();
  bool is_task = store_.get_task_by_workspace_id(w.id).has_value();
  auto run = [&](Transition transition, const std::string& reason, bool active_version) {
    BuildParams params;
    params.transition = transition;
    // An idle task's workspace stopping on its deadline is a pause of the task.
    params.reason = is_task && reason == "autostop" ? "task_auto_pause" : reason;
    params.use_active_version = active_version;
    workspaces_.build(nullptr, w.owner_id, w, params);
  };

  // 1. Autostop at the deadline, or at once when the owner was suspended.
  if (!failed && !dormant && build.transition == Transition::start && completed &&
      (owner->status == "suspended" || (build.deadline && now >= *build.deadline))) {
    run(Transition::stop, "autostop", false);
    ++stats.stopped;
    return;
  }
  // 2. Autostart on the schedule (from the latest build's creation, on allowed days).
  if (owner->status == "active" && !failed && !dormant && build.transition == Transition::stop &&
      completed && policy.allow_user_autostart && w.autostart_schedule) {
    auto next =
        next_autostart(*w.autostart_schedule, policy.autostart_days_of_week, build.created_at);
    if (next && now >= *next) {
      bool active = policy.require_active_version || w.automatic_updates == "always";
      run(Transition::start, "autostart", active);
      ++stats.started;
      return;
    }
  }
  // 3. A failed start or stop is stopped once the template's failure TTL passed.
  if (policy.failure_ttl_ms > 0 && failed && completed &&
      (build.transition == Transition::start || build.transition == Transition::stop) &&
      now - *latest->job.completed_at > milliseconds(policy.failure_ttl_ms)) {
    run(Transition::stop, "autostop", false);
    ++stats.stopped;
    return;
  }
  // 4. Dormancy after time_til_dormant without use; a running workspace is also stopped.
  if (!dormant && policy.time_til_dormant_ms > 0 &&
      now - w.last_used_at > milliseconds(policy.time_til_dormant_ms)) {
    auto updated = w;
    updated.dormant_at = now;
    if (policy.time_til_dormant_autodelete_ms > 0)
      updated.deleting_at = now + milliseconds(policy.time_til_dormant_autodelete_ms);
    workspaces_.save(updated);
    ++stats.marked_dormant;
    if (build.transition == Transition::start && completed && !failed) {
      BuildParams params;
      params.transition = Transition::stop;
      params.reason = "dormancy";
      workspaces_.build(nullptr, w.owner_id, updated, params);
      ++stats.stopped;
    }
    return;
  }
  // 5. Auto-delete of a dormant workspace once deleting_at passed.
  if (dormant && w.deleting_at && now >= *w.deleting_at &&
      policy.time_til_dormant_autodelete_ms > 0) {
    bool failed_delete = build.transition == Transition::delete_ && failed;
    if (failed_delete && now - *latest->job.completed_at < kFailedDeleteRetry) return;
    if (!completed) return;
    run(Transition::delete_, "autodelete", false);
    ++stats.deleted;
  }
}

LifecycleTicker::LifecycleTicker(LifecycleExecutor& executor, const Clock& clock,
                                 std::chrono::milliseconds interval)
    : executor_(executor), clock_(clock), interval_(interval) {}

LifecycleTicker::~LifecycleTicker() {
  stop();
}

void LifecycleTicker::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!clock_.wait_for(lock, cv_, interval_, [this] { return stopping_; })) {
      lock.unlock();
      try {
        auto stats = executor_.tick(clock_.now());
        if (stats.started + stats.stopped + stats.marked_dormant + stats.deleted + stats.errors > 0)
          spdlog::info("lifecycle: started {}, stopped {}, dormant {}, deleted {}, errors {}",
                       stats.started, stats.stopped, stats.marked_dormant, stats.deleted,
                       stats.errors);
      } catch (const std::exception& e) {
        spdlog::error("lifecycle tick failed: {}", e.what());
      }
      lock.lock();
    }
  });
}

void LifecycleTicker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace berth::coderd
