#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "provisioner/job_source.hpp"
#include "sdk/client.hpp"

namespace berth::provisioner {

// A server's job queue reached over its API with a provisioner key: what an external daemon
// (`berth provisionerd start`) runs on. Acquiring and heartbeating are long polls the server
// answers as soon as there is a job or a cancellation; logs are sent in batches from a thread
// of their own; results are retried while the server is unreachable (a restart), so that a
// finished job is not lost to it.
class RemoteJobSource final : public JobSource {
 public:
  struct Settings {
    std::string url;  // http://host:port
    std::string key;  // the provisioner key
    std::chrono::milliseconds acquire_wait{10000};
    std::chrono::milliseconds heartbeat_wait{10000};
    // A request the server neither takes nor answers for this long (beyond its wait) failed.
    std::chrono::milliseconds request_timeout{60000};
    // How long a result (complete, fail) is retried while the server cannot be reached.
    std::chrono::milliseconds result_retry_for{std::chrono::minutes(10)};
  };

  RemoteJobSource(Settings settings, const Clock& clock);
  ~RemoteJobSource() override;
  RemoteJobSource(const RemoteJobSource&) = delete;
  RemoteJobSource& operator=(const RemoteJobSource&) = delete;

  std::optional<sdk::AcquiredJob> acquire(const coderd::DaemonIdentity& daemon) override;
  void interrupt() override;
  void append_logs(const Uuid& job_id, const std::vector<coderd::JobLogLine>& lines) override;
  bool heartbeat(const Uuid& job_id) override;
  std::chrono::milliseconds heartbeat_pause() const override { return {}; }
  store::Pubsub::Subscription watch(const Uuid&, std::function<void()>) override { return {}; }
  void complete_import(const Uuid& job_id,
                       const store::TemplateVersionImportResult& result) override;
  void complete_build(const Uuid& job_id, const sdk::BuildResponse& response) override;
  void fail(const Uuid& job_id, const std::string& error, const std::string& error_code) override;

 private:
  struct PendingLogs;

  // One request on a connection of its own for the call (sdk::Client is not thread-safe);
  // throws Error{unavailable} when the server cannot be reached or answers 5xx, and the
  // error it answered (401, 403, 404, ...) otherwise, unless it is `ok`.
  sdk::HttpResponse post(const std::string& target, const json::object& body,
                         std::initializer_list<int> ok);
  // post(), retried while the server is unreachable, for up to result_retry_for.
  void deliver(const std::string& target, const json::object& body);
  Uuid holder_of(const Uuid& job_id);
  void forget(const Uuid& job_id);
  // Sends what the job logged so far; false when the server could not be reached.
  bool flush_logs(const Uuid& job_id);
  void run_flusher();

  Settings settings_;
  const Clock& clock_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<sdk::Client>> idle_clients_;  // guarded by mutex_
  std::map<Uuid, Uuid> holders_;                            // job → daemon; mutex_
  std::set<Uuid> acquiring_;                                // daemons asking; mutex_
  std::map<Uuid, std::shared_ptr<PendingLogs>> logs_;       // guarded by mutex_
  bool interrupted_ = false;                                // guarded by mutex_
  bool closing_ = false;                                    // guarded by mutex_
  std::thread flusher_;  // last: starts once the members it uses exist
};

}  // namespace berth::provisioner
