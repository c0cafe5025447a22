#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coderd/build_outcome.hpp"
#include "common/clock.hpp"
#include "sdk/provisioner_daemons.hpp"
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

// The tags every job and every daemon carries (Coder's): an untagged job has exactly these.
std::map<std::string, std::string> default_provisioner_tags();

// Coder's tag rule, as acquiring applies it: a job with only the default tags runs only on a
// daemon with only those; any other job on a daemon that has all of its tags.
bool daemon_may_run(const std::map<std::string, std::string>& daemon_tags,
                    const std::map<std::string, std::string>& job_tags);

// Who is asking for work: a daemon's id, name, tags and the provisioners it runs, and for an
// external daemon the organization and provisioner key it belongs to.
struct DaemonIdentity {
  Uuid id{};
  std::string name{};
  std::map<std::string, std::string> tags{};
  std::vector<std::string> provisioners = {"terraform"};
  std::optional<Uuid> organization_id{};  // none: built in, runs every organization's jobs
  std::optional<Uuid> key_id{};           // the provisioner key it presented; none: built in
  std::string version{};
  std::string api_version{};
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
// daemon reaches the same calls over the API (api/provisioner_daemons.cpp).
class JobQueue {
 public:
  JobQueue(store::Store& store, store::Pubsub& pubsub, const Clock& clock);

  // Wakes daemons after a job was inserted (call after the inserting transaction commits).
  void announce_posted();

  // Records the daemon as seen now (the daemon list), then claims the next job it may run.
  std::optional<store::ProvisionerJobRow> acquire(const DaemonIdentity& daemon);
  void append_logs(const Uuid& job_id, const std::vector<JobLogLine>& lines);
  // Records that the job and its daemon are alive; returns true when cancellation was
  // requested (or the job already ended, e.g. failed by the reaper).
  bool heartbeat(const Uuid& job_id);
  // Completes an import: writes what it found onto the template version, then the job.
  void complete_import(const Uuid& job_id, const store::TemplateVersionImportResult& result);
  // Completes a workspace build: stores what it produced and, for a delete, ends the
  // workspace, in the same transaction that marks the job succeeded.
  void complete_build(const Uuid& job_id, const BuildOutcome& outcome);
  // The same from what the provisioner answered: its resources and agents become rows.
  void complete_build(const Uuid& job_id, const sdk::BuildResponse& response);
  void fail(const Uuid& job_id, const std::string& error, const std::string& error_code = {});

  // A user's request: a pending job is canceled at once; a running one becomes canceling
  // and its daemon interrupts it. Throws Error{invalid} when it already finished.
  void cancel(const Uuid& job_id);

  // Fails running jobs silent for `hung_after` and pending jobs older than `pending_after`,
  // with log lines that say why; returns how many. Also forgets daemons silent for a week. One
  // replica at a time reaps (a lease), so that a job is failed, and its lines written, once.
  std::size_t reap(std::chrono::seconds hung_after, std::chrono::seconds pending_after);
  // At start-up, the daemons of this server's previous process are gone: fails every running
  // job whose worker name ends with `worker_suffix` (every running job when it is empty: an
  // embedded database has no other server). Another replica's jobs are left to the reaper, and
  // so are external daemons' (they keep running through a server restart).
  std::size_t fail_interrupted_jobs(std::string_view worker_suffix = {});

 private:
  // Writes the daemon's row; the first time this process sees its id, also forgets an earlier
  // daemon of the same name (the same daemon, restarted).
  void register_daemon(const DaemonIdentity& daemon);

  void finish(const Uuid& job_id, const std::optional<std::string>& error,
              const std::string& error_code);
  // Tells the job's followers, and the workspace's watchers when the job is a build (its
  // workspace looked up unless the caller knows it: a read less between the two notifications).
  void publish(const Uuid& job_id, const std::string& message,
               std::optional<Uuid> workspace_id = std::nullopt);

  store::Store& store_;
  store::Pubsub& pubsub_;
  const Clock& clock_;
  std::mutex registered_mutex_;
  std::set<Uuid> registered_;  // daemons whose row this process wrote; guarded by the mutex
  std::string lease_holder_ = Uuid::random_v4().to_string();  // this process, for the reap lease
};

}  // namespace berth::coderd
