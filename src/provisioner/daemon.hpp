#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "coderd/provisioner_jobs.hpp"
#include "common/clock.hpp"
#include "provisioner/job_source.hpp"
#include "provisioner/provisioner.hpp"
#include "store/pubsub.hpp"
#include "store/store.hpp"

namespace berth::provisioner {

// Provisioner daemons: each thread acquires jobs from a JobSource in creation order, runs them
// with the provisioner, heartbeats, and completes or fails them. In-process daemons take jobs
// from the server's queue; an external daemon (`berth provisionerd start`) from a server's API.
class DaemonPool {
 public:
  // A running job's heartbeat, in the clock's time (in-process).
  static constexpr std::chrono::seconds kHeartbeatInterval = QueueJobSource::kHeartbeatInterval;
  // An idle in-process daemon looks for work at least this often.
  static constexpr std::chrono::seconds kIdleRecheck = QueueJobSource::kIdleRecheck;

  // In-process daemons. Workspaces' local files live under `workspaces_dir/<workspace id>`.
  // Daemons are named `built-in-<n><name_suffix>`: a server gives its own suffix, so that after
  // a crash it can tell its interrupted jobs from other replicas' (fail_interrupted_jobs).
  DaemonPool(coderd::JobQueue& jobs, store::Store& store, store::Pubsub& pubsub, const Clock& clock,
             Provisioner& provisioner, int count, std::string workspaces_dir,
             std::string name_suffix = {});
  // One daemon per identity, on `source` (an external daemon's RemoteJobSource).
  DaemonPool(JobSource& source, const Clock& clock, Provisioner& provisioner,
             std::vector<coderd::DaemonIdentity> daemons, std::string workspaces_dir);
  ~DaemonPool();
  DaemonPool(const DaemonPool&) = delete;
  DaemonPool& operator=(const DaemonPool&) = delete;

  // Before start(), once interrupted jobs are failed: lets the provisioner stop what builds
  // interrupted by a crash left in each workspace's directory and never recorded (in-process
  // daemons only: it reads each workspace's last state from the store).
  void reconcile_workspaces();
  void start();
  // Asks running jobs to stop (they fail as canceled), wakes idle daemons and joins them.
  void stop();
  // The start of a shutdown that loses nothing: no daemon takes another job. Returns at once.
  void begin_drain();
  // begin_drain(), then lets the running jobs finish for up to `grace` of the clock's time, then
  // stop(): what still runs after that fails as canceled.
  void drain(std::chrono::milliseconds grace);

 private:
  void run_daemon(const coderd::DaemonIdentity& identity);
  void run_job(const coderd::DaemonIdentity& identity, const sdk::AcquiredJob& job);
  void run_import(const sdk::AcquiredJob& job, JobContext& context);
  void run_build(const sdk::AcquiredJob& job, JobContext& context);
  // Fails the job, logging (not throwing) when even that cannot be recorded.
  void fail_job(const Uuid& job_id, const std::string& error, const std::string& error_code);
  bool stopping();
  bool taking_jobs();  // neither stopping nor draining

  std::unique_ptr<JobSource> owned_source_;  // the in-process queue's, when this pool made it
  JobSource& source_;
  store::Store* store_ = nullptr;  // in-process daemons only
  const Clock& clock_;
  Provisioner& provisioner_;
  std::vector<coderd::DaemonIdentity> daemons_;
  std::string workspaces_dir_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  bool draining_ = false;  // guarded by mutex_
  int running_ = 0;        // jobs running now; guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace berth::provisioner
