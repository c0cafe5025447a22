#include "coderd/provisioner_jobs.hpp"

#include <fmt/format.h>

#include "coderd/workspaces.hpp"
#include "common/error.hpp"

namespace berth::coderd {

namespace {

constexpr std::size_t kMaxStageLength = 128;
constexpr std::size_t kMaxOutputLength = 1024;

std::string truncate(std::string s, std::size_t n) {
  if (s.size() > n) s.resize(n);
  return s;
}

}  // namespace

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

void JobQueue::publish(const Uuid& job_id, const std::string& message) {
  pubsub_.publish(job_channel(job_id), message);
  if (message == "logs") return;
  if (auto build = store_.get_workspace_build_by_job_id(job_id))
    pubsub_.publish(workspace_channel(build->workspace_id), "state_change");
}

void JobQueue::announce_posted() {
  pubsub_.publish(kJobPostedChannel, "");
}

std::optional<store::ProvisionerJobRow> JobQueue::acquire(const DaemonIdentity& daemon) {
  auto job = store_.acquire_provisioner_job(daemon.id, daemon.name, daemon.tags,
                                            daemon.provisioners, clock_.now());
  if (job) publish(job->id, "state");
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
  store_.update_provisioner_job_heartbeat_by_id(job_id, clock_.now());
  auto job = store_.get_provisioner_job_by_id(job_id);
  // A job the reaper already failed is as good as canceled for its daemon.
  return !job || job->canceled_at.has_value() || job->completed_at.has_value();
}

void JobQueue::finish(const Uuid& job_id, const std::optional<std::string>& error,
                      const std::string& error_code) {
  store_.update_provisioner_job_completed_by_id(job_id, clock_.now(), error, error_code);
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
  store_.in_tx([&](store::Store& tx) {
    auto job = tx.get_provisioner_job_by_id(job_id);
    if (!job || job->completed_at) return;  // late: the reaper's verdict stands
    auto build = tx.get_workspace_build_by_job_id(job_id);
    if (!build) throw Error{ErrorCode::internal, "No workspace build exists for this job."};
    apply_build_outcome(tx, *build, outcome, clock_.now());
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
  auto now = clock_.now();
  auto stale = store_.list_stale_provisioner_jobs(now - hung_after, now - pending_after, 10);
  for (const auto& job : stale) {
    bool pending = !job.started_at;
    auto minutes =
        std::chrono::duration_cast<std::chrono::minutes>(pending ? pending_after : hung_after)
            .count();
    auto what = pending ? "pending" : "hung";
    auto line = [&](std::string text) {
      return JobLogLine{"error", "Unknown", std::move(text), "provisioner_daemon"};
    };
    append_logs(job.id, {line(""), line("===================="),
                         line(fmt::format("Berth: Build has been detected as {} for {} minutes "
                                          "and will be terminated.",
                                          what, minutes)),
                         line("===================="), line("")});
    fail(job.id, fmt::format("Berth: Build has been detected as {} for {} minutes and has been "
                             "terminated by the reaper.",
                             what, minutes));
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
    append_logs(job.id, {JobLogLine{"error", "Unknown",
                                    "Berth: the server restarted while this job was running.",
                                    "provisioner_daemon"}});
    fail(job.id, "The server restarted while this job was running.");
    ++failed;
  }
  return failed;
}

}  // namespace berth::coderd
