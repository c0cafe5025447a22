#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "coderd/build_outcome.hpp"
#include "common/clock.hpp"
#include "store/pubsub.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// Pubsub channel announcing that a job was posted (daemons wake and try to acquire).
inline constexpr const char* kJobPostedChannel = "provisioner_job_posted";
// Pubsub channel of one job: "logs" when lines were added, "end" when the job finished.
std::string job_channel(const Uuid& job_id);

// A job's status derived from its timestamps, as Coder's generated column computes it.
sdk::ProvisionerJobStatus job_status(const store::ProvisionerJobRow& job);
bool job_is_active(const store::ProvisionerJobRow& job);  // pending, running or canceling

// Who is asking for work: a daemon's id, name, tags and the provisioners it runs.
struct DaemonIdentity {
  Uuid id;
  std::string name;
  std::map<std::string, std::string> tags;
  std::vector<std::string> provisioners = {"terraform"};
};

// A line of output from a running job.
struct JobLogLine {
  std::string level = "info";
  std::string stage;
  std::string output;
  std::string source = "provisioner";
};

// Per-job log cap and line limits, as Coder's.
inline constexpr std::int64_t kMaxJobLogBytes = 1 << 20;

// The contract between the server and provisioner daemons: acquire a job, stream its logs,
// heartbeat, then complete or fail it. In-process daemons call it directly; an external
// daemon will reach the same calls over the API.
class JobQueue {
 public:
  JobQueue(store::Store& store, store::Pubsub& pubsub, const Clock& clock);

  // Wakes daemons after a job was inserted (call after the inserting transaction commits).
  void announce_posted();

  std::optional<store::ProvisionerJobRow> acquire(const DaemonIdentity& daemon);
  void append_logs(const Uuid& job_id, const std::vector<JobLogLine>& lines);
  // Records that the job's daemon is alive; returns true when cancellation was requested.
  bool heartbeat(const Uuid& job_id);
  // Completes an import: writes what it found onto the template version, then the job.
  void complete_import(const Uuid& job_id, const store::TemplateVersionImportResult& result);
  // Completes a workspace build: stores what it produced and, for a delete, ends the
  // workspace, in the same transaction that marks the job succeeded.
  void complete_build(const Uuid& job_id, const BuildOutcome& outcome);
  void fail(const Uuid& job_id, const std::string& error, const std::string& error_code = {});

  // A user's request: a pending job is canceled at once; a running one becomes canceling
  // and its daemon interrupts it. Throws Error{invalid} when it already finished.
  void cancel(const Uuid& job_id);

  // Fails running jobs silent for `hung_after` and pending jobs older than `pending_after`,
  // with log lines that say why; returns how many.
  std::size_t reap(std::chrono::seconds hung_after, std::chrono::seconds pending_after);
  // At start-up, the daemons of this server's previous process are gone: fails every running
  // job whose worker name ends with `worker_suffix` (every running job when it is empty: an
  // embedded database has no other server). Another replica's jobs are left to the reaper.
  std::size_t fail_interrupted_jobs(std::string_view worker_suffix = {});

 private:
  void finish(const Uuid& job_id, const std::optional<std::string>& error,
              const std::string& error_code);
  // Tells the job's followers, and the workspace's watchers when the job is a build.
  void publish(const Uuid& job_id, const std::string& message);

  store::Store& store_;
  store::Pubsub& pubsub_;
  const Clock& clock_;
};

}  // namespace berth::coderd
