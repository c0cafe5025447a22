#include "coderd/replicas.hpp"

#include <limits.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace berth::coderd {

namespace {

std::int64_t micros_since(const Clock& clock, SteadyTime begin) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock.steady_now() - begin).count();
}

}  // namespace

std::string local_hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

Replicas::Replicas(store::Store& store, const Clock& clock, ReplicaSettings settings)
    : store_(store), clock_(clock), settings_(std::move(settings)), id_(Uuid::random_v4()) {
  if (settings_.hostname.empty()) settings_.hostname = local_hostname();
}

Replicas::~Replicas() {
  stop();
}

store::ReplicaRow Replicas::row(TimePoint now) const {
  return store::ReplicaRow{.id = id_,
                           .hostname = settings_.hostname,
                           .relay_address = settings_.relay_address,
                           .region_id = settings_.region_id,
                           .version = settings_.version,
                           .started_at = started_at_,
                           .updated_at = now,
                           .database_latency_us = latency_us_};
}

void Replicas::start() {
  auto now = clock_.now();
  started_at_ = now;
  auto begin = clock_.steady_now();
  store_.upsert_replica(row(now));
  latency_us_ = micros_since(clock_, begin);
  forget_old(now);
  // The row shows a measured latency from the start, not after the first interval.
  heartbeat();
  spdlog::info("replica {} registered (host {}, relay address {})", id_.to_string(),
               settings_.hostname, settings_.relay_address);
  std::lock_guard lock(mutex_);
  started_ = true;
  thread_ = std::thread([this] { run_heartbeats(); });
}

void Replicas::run_heartbeats() {
  std::unique_lock lock(mutex_);
  auto stopping = [this] { return stopping_; };
  while (!clock_.wait_for(lock, cv_, settings_.heartbeat_interval, stopping)) {
    lock.unlock();
    try {
      heartbeat();
    } catch (const std::exception& e) {
      // The database may be back by the next one; until then this replica ages out of the list.
      spdlog::warn("replica heartbeat: {}", e.what());
    }
    lock.lock();
  }
}

void Replicas::heartbeat() {
  auto now = clock_.now();
  auto begin = clock_.steady_now();
  bool found = store_.update_replica_heartbeat(id_, now, latency_us_, "");
  latency_us_ = micros_since(clock_, begin);
  if (!found) {
    // Another replica forgot this one while it was silent (a long pause): it is back.
    spdlog::warn("replica {} had no row: writing it again", id_.to_string());
    store_.upsert_replica(row(now));
  }
  if (now - last_cleanup_ >= settings_.forget_after) forget_old(now);
}

void Replicas::forget_old(TimePoint now) {
  last_cleanup_ = now;
  if (auto n = store_.delete_replicas_updated_before(now - settings_.forget_after))
    spdlog::info("forgot {} replica(s) not heard from since {}", n,
                 format_rfc3339(now - settings_.forget_after));
}

void Replicas::stop() {
  bool started = false;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
    started = started_;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!started) return;
  try {
    store_.update_replica_stopped(id_, clock_.now());
    spdlog::info("replica {} stopped", id_.to_string());
  } catch (const std::exception& e) {
    spdlog::warn("replica {}: could not mark it stopped: {}", id_.to_string(), e.what());
  }
}

std::vector<store::ReplicaRow> Replicas::list_alive() const {
  return store_.list_alive_replicas(clock_.now() -
                                    kReplicaAliveIntervals * settings_.heartbeat_interval);
}

}  // namespace berth::coderd
