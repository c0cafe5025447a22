#include "coderd/provisioner_jobs.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "coderd/job_inputs.hpp"
#include "coderd/workspaces.hpp"
#include "common/error.hpp"

namespace berth::coderd {

namespace {

constexpr std::size_t kMaxStageLength = 128;
constexpr std::size_t kMaxOutputLength = 1024;
constexpr std::size_t kMaxRegisteredDaemons = 10000;
constexpr auto kForgetDaemonsAfter = std::chrono::hours(7 * 24);

// "5 minutes", or "3 seconds" for a limit shorter than a minute or not a whole one.
std::string duration_text(std::chrono::seconds d) {
  auto count = d.count();
  if (count % 60 == 0 && count >= 60) return fmt::format("{} minutes", count / 60);
  return fmt::format("{} seconds", count);
}

std::string truncate(std::string s, std::size_t n) {
  if (s.size() > n) s.resize(n);
  return s;
}

}  // namespace

std::map<std::string, std::string> default_provisioner_tags() {
  return {{"scope", "organization"}, {"owner", ""}};
}

bool daemon_may_run(const std::map<std::string, std::string>& daemon_tags,
                    const std::map<std::string, std::string>& job_tags) {
  if (job_tags == default_provisioner_tags()) return daemon_tags == job_tags;
  return std::all_of(job_tags.begin(), job_tags.end(), [&](const auto& tag) {
    auto it = daemon_tags.find(tag.first);
    return it != daemon_tags.end() && it->second == tag.second;
  });
}

std::string job_channel(const Uuid& job_id) {
  return "provisioner_job:" + job_id.to_string();
}

sdk::ProvisionerJobStatus job_status(const store::ProvisionerJobRow& job) {
  using Status = sdk::ProvisionerJobStatus;
  bool has_error = job.error && !job.error->empty();
  if (job.completed_at) {
    if (has_error) return Status::failed;
    if (job.canceled_at) return Status::canceled;
    return Status::succeeded;
  }
  if (has_error) return Status::failed;
  if (job.canceled_at) return Status::canceling;
  if (!job.started_at) return Status::pending;
  return Status::running;
}

bool job_is_active(const store::ProvisionerJobRow& job) {
  auto s = job_status(job);
  using Status = sdk::ProvisionerJobStatus;
  return s == Status::pending || s == Status::running || s == Status::canceling;
}

JobQueue::JobQueue(store::Store& store, store::Pubsub& pubsub, const Clock& clock)
    : store_(store), pubsub_(pubsub), clock_(clock) {}

void JobQueue::publish(const Uuid& job_id, const std::string& message,
                       std::optional<Uuid> workspace_id) {
  pubsub_.publish(job_channel(job_id), message);
  if (message == "logs") return;
  if (!workspace_id)
    if (auto build = store_.get_workspace_build_by_job_id(job_id))
      workspace_id = build->workspace_id;
  if (workspace_id) pubsub_.publish(workspace_channel(*workspace_id), "state_change");
}

void JobQueue::announce_posted() {
  pubsub_.publish(kJobPostedChannel, "");
}

void JobQueue::register_daemon(const DaemonIdentity& daemon) {
  auto now = clock_.now();
  bool first_time;
  {
    std::lock_guard lock(registered_mutex_);
    // Bounded: forgetting only costs a lookup the next time.
    if (registered_.size() >= kMaxRegisteredDaemons) registered_.clear();
    first_time = registered_.insert(daemon.id).second;
  }
  store_.in_tx([&](store::Store& tx) {
    auto known = first_time ? tx.get_provisioner_daemon_by_id(daemon.id) : std::nullopt;
    if (first_time && !known)
      tx.delete_provisioner_daemons_by_name(daemon.organization_id, daemon.name, daemon.key_id,
                                            daemon.id);
    tx.upsert_provisioner_daemon(
        store::ProvisionerDaemonRow{.id = daemon.id,
                                    .created_at = known ? known->created_at : now,
                                    .organization_id = daemon.organization_id,
                                    .name = daemon.name,
                                    .key_id = daemon.key_id,
                                    .tags = daemon.tags,
                                    .provisioners = daemon.provisioners,
                                    .version = daemon.version,
                                    .api_version = daemon.api_version,
                                    .last_seen_at = now});
  });
}

std::optional<store::ProvisionerJobRow> JobQueue::acquire(const DaemonIdentity& daemon) {
  register_daemon(daemon);
  auto job = store_.acquire_provisioner_job(
      store::AcquireJobParams{.worker_id = daemon.id,
                              .worker_name = daemon.name,
                              .organization_id = daemon.organization_id,
                              .tags = daemon.tags,
                              .provisioners = daemon.provisioners,
                              .now = clock_.now()});
  if (!job) return job;
  store_.update_provisioner_daemon_current_job_by_id(daemon.id, job->id);
  publish(job->id, "state");
  return job;
}

void JobQueue::append_logs(const Uuid& job_id, const std::vector<JobLogLine>& lines) {
  if (lines.empty()) return;
  std::vector<store::ProvisionerJobLogRow> rows;
  auto now = clock_.now();
  for (const auto& line : lines)
    rows.push_back(store::ProvisionerJobLogRow{0, job_id, now, line.source, line.level,
                                               truncate(line.stage, kMaxStageLength),
                                               truncate(line.output, kMaxOutputLength)});
  if (!store_.insert_provisioner_job_logs(job_id, rows, kMaxJobLogBytes).empty())
    pubsub_.publish(job_channel(job_id), "logs");
}

bool JobQueue::heartbeat(const Uuid& job_id) {
  auto now = clock_.now();
  store_.update_provisioner_job_heartbeat_by_id(job_id, now);
  auto job = store_.get_provisioner_job_by_id(job_id);
  if (job && job->worker_id) store_.update_provisioner_daemon_last_seen_by_id(*job->worker_id, now);
  // A job the reaper already failed is as good as canceled for its daemon.
  return !job || job->canceled_at.has_value() || job->completed_at.has_value();
}

void JobQueue::finish(const Uuid& job_id, const std::optional<std::string>& error,
                      const std::string& error_code) {
  store_.in_tx([&](store::Store& tx) {
    tx.update_provisioner_job_completed_by_id(job_id, clock_.now(), error, error_code);
    tx.update_provisioner_daemon_job_finished(job_id);
  });
}

void JobQueue::complete_import(const Uuid& job_id,
                               const store::TemplateVersionImportResult& result) {
  store_.in_tx([&](store::Store& tx) {
    auto job = tx.get_provisioner_job_by_id(job_id);
    if (!job || job->completed_at) return;  // late: the reaper's verdict stands
    auto version = tx.get_template_version_by_job_id(job_id);
    if (!version) throw Error{ErrorCode::internal, "No template version exists for this job."};
    tx.update_template_version_import_result(version->id, result, clock_.now());
    finish(job_id, std::nullopt, "");
  });
  publish(job_id, "end");
}

void JobQueue::complete_build(const Uuid& job_id, const BuildOutcome& outcome) {
  std::optional<Uuid> workspace_id;
  store_.in_tx([&](store::Store& tx) {
    auto job = tx.get_provisioner_job_by_id(job_id);
    if (!job || job->completed_at) return;  // late: the reaper's verdict stands
    auto build = tx.get_workspace_build_by_job_id(job_id);
    if (!build) throw Error{ErrorCode::internal, "No workspace build exists for this job."};
    apply_build_outcome(tx, *build, outcome, clock_.now());
    finish(job_id, std::nullopt, "");
    workspace_id = build->workspace_id;
  });
  publish(job_id, "end", workspace_id);
}

void JobQueue::complete_build(const Uuid& job_id, const sdk::BuildResponse& response) {
  store_.in_tx([&](store::Store& tx) {
    auto job = tx.get_provisioner_job_by_id(job_id);
    if (!job || job->completed_at) return;  // late: the reaper's verdict stands
    auto build = tx.get_workspace_build_by_job_id(job_id);
    if (!build) throw Error{ErrorCode::internal, "No workspace build exists for this job."};
    auto now = clock_.now();
    apply_build_outcome(tx, *build, build_outcome(response, *build, now), now);
    finish(job_id, std::nullopt, "");
  });
  publish(job_id, "end");
}

void JobQueue::fail(const Uuid& job_id, const std::string& error, const std::string& error_code) {
  finish(job_id, error.empty() ? std::string("unknown error") : error, error_code);
  publish(job_id, "end");
}

void JobQueue::cancel(const Uuid& job_id) {
  bool finished_now = false;
  store_.in_tx([&](store::Store& tx) {
    auto job = tx.get_provisioner_job_by_id(job_id);
    if (!job) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
    if (job->completed_at) throw Error{ErrorCode::invalid, "Job has already completed!"};
    if (job->canceled_at)
      throw Error{ErrorCode::invalid, "Job has already been marked as canceled!"};
    finished_now = !job->worker_id.has_value();
    tx.update_provisioner_job_canceled_by_id(job_id, clock_.now(), finished_now);
  });
  publish(job_id, finished_now ? "end" : "state");
}

std::size_t JobQueue::reap(std::chrono::seconds hung_after, std::chrono::seconds pending_after) {
  constexpr const char* kLease = "provisioner-job-reaper";
  auto now = clock_.now();
  if (!store_.try_acquire_lease(kLease, lease_holder_, now, now + std::chrono::minutes(1)))
    return 0;  // another replica is reaping now
  struct Release {
    store::Store& store;
    const std::string& holder;
    ~Release() {
      try {
        store.release_lease(kLease, holder);
      } catch (const std::exception&) {
        // it expires on its own
      }
    }
  } release{store_, lease_holder_};
  // Daemons gone for good (replaced, decommissioned) leave the list, as Coder's do after a week.
  store_.delete_provisioner_daemons_seen_before(now - kForgetDaemonsAfter);
  auto stale = store_.list_stale_provisioner_jobs(now - hung_after, now - pending_after, 10);
  for (const auto& job : stale) {
    bool pending = !job.started_at;
    auto limit = duration_text(pending ? pending_after : hung_after);
    auto what = pending ? "pending" : "hung";
    auto line = [&](std::string text) {
      return JobLogLine{"error", "Unknown", std::move(text), "provisioner_daemon"};
    };
    append_logs(job.id, {line(""), line("===================="),
                         line(fmt::format("Berth: Build has been detected as {} for {} and will "
                                          "be terminated.",
                                          what, limit)),
                         line("===================="), line("")});
    // Which daemon went silent, for whoever looks at the failed build.
    auto daemon = pending
                      ? std::string()
                      : fmt::format(" Its provisioner daemon \"{}\" stopped sending heartbeats.",
                                    job.worker_name);
    fail(job.id, fmt::format("Berth: Build has been detected as {} for {} and has been "
                             "terminated by the reaper.{}",
                             what, limit, daemon));
  }
  return stale.size();
}

std::size_t JobQueue::fail_interrupted_jobs(std::string_view worker_suffix) {
  // Every running job is "stale" relative to a moment after now; pending ones are kept.
  auto now = clock_.now();
  auto running =
      store_.list_stale_provisioner_jobs(now + std::chrono::hours(1), TimePoint{}, 1000000);
  std::size_t failed = 0;
  for (const auto& job : running) {
    if (!job.worker_name.ends_with(worker_suffix)) continue;
    if (auto daemon =
            job.worker_id ? store_.get_provisioner_daemon_by_id(*job.worker_id) : std::nullopt;
        daemon && daemon->key_id)
      continue;  // an external daemon's: it is still running it
    append_logs(job.id, {JobLogLine{"error", "Unknown",
                                    "Berth: the server restarted while this job was running.",
                                    "provisioner_daemon"}});
    fail(job.id, "The server restarted while this job was running.");
    ++failed;
  }
  return failed;
}

}  // namespace berth::coderd
