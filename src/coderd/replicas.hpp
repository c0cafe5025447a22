#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/uuid.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// How often a replica heartbeats: Coder's default (replicasync's UpdateInterval).
inline constexpr std::chrono::milliseconds kReplicaHeartbeatInterval{5000};
// A replica is alive while its last heartbeat is at most this many intervals old (Coder's rule).
inline constexpr int kReplicaAliveIntervals = 3;
// The region Coder gives a deployment's own relay (its --derp-server-region-id default).
inline constexpr std::int64_t kPrimaryRegionId = 999;

struct ReplicaSettings {
  std::string hostname;       // empty: this machine's (gethostname)
  std::string relay_address;  // where the other replicas reach this one
  std::string version;
  std::int64_t region_id = kPrimaryRegionId;
  std::chrono::milliseconds heartbeat_interval = kReplicaHeartbeatInterval;
  // Replicas silent (or stopped) for this long are deleted from the table (Coder's cleanup).
  std::chrono::milliseconds forget_after = std::chrono::minutes(30);
};

// This `berth server` as one of the replicas sharing the database (Coder's replicasync): it
// writes its row at start, heartbeats every interval of the clock's time on its own thread
// (each heartbeat records the database round trip of the one before), and marks itself stopped
// on shutdown. A replica killed without a shutdown drops out of the list once it has been
// silent for kReplicaAliveIntervals intervals.
class Replicas {
 public:
  Replicas(store::Store& store, const Clock& clock, ReplicaSettings settings);
  ~Replicas();  // stop()
  Replicas(const Replicas&) = delete;
  Replicas& operator=(const Replicas&) = delete;

  // This replica's id: random, new on every start.
  const Uuid& id() const { return id_; }
  std::chrono::milliseconds heartbeat_interval() const { return settings_.heartbeat_interval; }

  // Registers this replica (started now), forgets long-gone ones, then starts heartbeating.
  // Throws when the database cannot be written.
  void start();
  // Stops heartbeating and marks this replica stopped, so that it leaves the list at once.
  // Idempotent; a database error is logged.
  void stop();
  // One heartbeat, as the thread runs it: updated_at, the latency last measured; writes the
  // row again when it is gone (deleted while this replica was silent).
  void heartbeat();

  // The replicas alive now (this one included while it runs), oldest first.
  std::vector<store::ReplicaRow> list_alive() const;

 private:
  void run_heartbeats();  // the thread: a heartbeat every interval until stop()
  store::ReplicaRow row(TimePoint now) const;
  void forget_old(TimePoint now);

  store::Store& store_;
  const Clock& clock_;
  ReplicaSettings settings_;
  Uuid id_;
  TimePoint started_at_{};
  TimePoint last_cleanup_{};
  std::int64_t latency_us_ = 0;  // the last database round trip; only the heartbeat's thread
  std::mutex mutex_;
  std::condition_variable cv_;
  bool started_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

// This machine's host name; "localhost" when it cannot be read.
std::string local_hostname();

}  // namespace berth::coderd
