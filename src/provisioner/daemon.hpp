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
#include "provisioner/provisioner.hpp"
#include "store/pubsub.hpp"
#include "store/store.hpp"

namespace berth::provisioner {

// In-process provisioner daemons: each thread acquires jobs from the queue in creation order,
// runs them with the provisioner, heartbeats, and completes or fails them.
class DaemonPool {
 public:
  // A running job's heartbeat, in the clock's time.
  static constexpr std::chrono::seconds kHeartbeatInterval{10};
  // An idle daemon that saw no announcement still looks for work this often, in case a
  // notification was lost (another replica's job, a restart).
  static constexpr std::chrono::seconds kIdleRecheck{5};

  // Workspaces' local files live under `workspaces_dir/<workspace id>`. Daemons are named
  // `built-in-<n><name_suffix>`: a server gives its own suffix, so that after a crash it can
  // tell its interrupted jobs from other replicas' (JobQueue::fail_interrupted_jobs).
  DaemonPool(coderd::JobQueue& jobs, store::Store& store, store::Pubsub& pubsub, const Clock& clock,
             Provisioner& provisioner, int count, std::string workspaces_dir,
             std::string name_suffix = {});
  ~DaemonPool();
  DaemonPool(const DaemonPool&) = delete;
  DaemonPool& operator=(const DaemonPool&) = delete;

  // Before start(), once interrupted jobs are failed: lets the provisioner stop what builds
  // interrupted by a crash left in each workspace's directory and never recorded.
  void reconcile_workspaces();
  void start();
  // Asks running jobs to stop, wakes idle daemons and joins them.
  void stop();

 private:
  void run_daemon(coderd::DaemonIdentity identity);
  void run_job(const coderd::DaemonIdentity& identity, const store::ProvisionerJobRow& job);
  void run_import(const store::ProvisionerJobRow& job, JobContext& context);
  void run_build(const store::ProvisionerJobRow& job, JobContext& context);

  coderd::JobQueue& jobs_;
  std::string name_suffix_;
  store::Store& store_;
  store::Pubsub& pubsub_;
  const Clock& clock_;
  Provisioner& provisioner_;
  int count_;
  std::string workspaces_dir_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::uint64_t posted_ = 0;  // bumped on every announcement; guarded by mutex_
  bool stopping_ = false;     // guarded by mutex_
  store::Pubsub::Subscription subscription_;
  std::vector<std::thread> threads_;
};

}  // namespace berth::provisioner
