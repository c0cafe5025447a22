#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coderd/provisioner_jobs.hpp"
#include "common/clock.hpp"
#include "sdk/provisioner_daemons.hpp"
#include "store/pubsub.hpp"
#include "store/rows.hpp"
#include "store/store.hpp"

namespace berth::provisioner {

// Where a daemon's jobs come from and where their logs and outcomes go: the server's own
// queue (in-process daemons, QueueJobSource) or a server's API (an external daemon,
// RemoteJobSource). The daemon loop (DaemonPool) is the same for both. Thread-safe.
class JobSource {
 public:
  virtual ~JobSource() = default;

  // Claims the next job `daemon` may run, with all it needs; nullopt when there is none yet.
  // May wait for one a while first; interrupt() ends the wait. Throws when the source cannot
  // be reached (the daemon retries later).
  virtual std::optional<sdk::AcquiredJob> acquire(const coderd::DaemonIdentity& daemon) = 0;
  // Ends the waits in acquire() and gives up retries: the daemons are stopping.
  virtual void interrupt() = 0;

  virtual void append_logs(const Uuid& job_id, const std::vector<coderd::JobLogLine>& lines) = 0;
  // Records that the job is alive; true when it was canceled (or ended elsewhere).
  virtual bool heartbeat(const Uuid& job_id) = 0;
  // How long a running job's daemon pauses between heartbeats (zero: heartbeat() itself waits).
  virtual std::chrono::milliseconds heartbeat_pause() const = 0;
  // Calls `poke` whenever the job may have been canceled, so that the daemon heartbeats at
  // once; empty when the source has no such signal.
  virtual store::Pubsub::Subscription watch(const Uuid& job_id, std::function<void()> poke) = 0;

  virtual void complete_import(const Uuid& job_id,
                               const store::TemplateVersionImportResult& result) = 0;
  virtual void complete_build(const Uuid& job_id, const sdk::BuildResponse& response) = 0;
  virtual void fail(const Uuid& job_id, const std::string& error,
                    const std::string& error_code) = 0;
};

// The server's own queue, for the daemons that run inside it: jobs are claimed and finished in
// the store, and their inputs read from it, as the API does for external daemons.
class QueueJobSource final : public JobSource {
 public:
  // An idle daemon that saw no announcement still looks for work this often, in case a
  // notification was lost (another replica's job, a restart).
  static constexpr std::chrono::seconds kIdleRecheck{5};
  // A running job's heartbeat, in the clock's time.
  static constexpr std::chrono::seconds kHeartbeatInterval{10};

  QueueJobSource(coderd::JobQueue& jobs, store::Store& store, store::Pubsub& pubsub,
                 const Clock& clock);

  std::optional<sdk::AcquiredJob> acquire(const coderd::DaemonIdentity& daemon) override;
  void interrupt() override;
  void append_logs(const Uuid& job_id, const std::vector<coderd::JobLogLine>& lines) override;
  bool heartbeat(const Uuid& job_id) override;
  std::chrono::milliseconds heartbeat_pause() const override { return kHeartbeatInterval; }
  store::Pubsub::Subscription watch(const Uuid& job_id, std::function<void()> poke) override;
  void complete_import(const Uuid& job_id,
                       const store::TemplateVersionImportResult& result) override;
  void complete_build(const Uuid& job_id, const sdk::BuildResponse& response) override;
  void fail(const Uuid& job_id, const std::string& error, const std::string& error_code) override;

 private:
  coderd::JobQueue& jobs_;
  store::Store& store_;
  store::Pubsub& pubsub_;
  const Clock& clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::uint64_t posted_ = 0;                  // bumped on every announcement; guarded by mutex_
  bool interrupted_ = false;                  // guarded by mutex_
  store::Pubsub::Subscription subscription_;  // last: ends before what it touches
};

}  // namespace berth::provisioner
