#include "provisioner/remote_job_source.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>

#include "coderd/job_inputs.hpp"
#include "common/error.hpp"

namespace berth::provisioner {

namespace {

constexpr const char* kApi = "/api/v2/provisionerdaemons/jobs/";
// Lines are sent this often, or sooner when this many are waiting; a job keeps at most
// kMaxPendingLines unsent (a server away for long loses the oldest).
constexpr std::chrono::milliseconds kLogFlushInterval{250};
constexpr std::size_t kLogBatchLines = 500;
constexpr std::size_t kMaxPendingLines = 20000;
constexpr std::chrono::milliseconds kFirstRetry{250};
constexpr std::chrono::milliseconds kMaxRetry{5000};

// The server's answer as an Error: its message and detail, with the status.
Error error_from(const sdk::HttpResponse& r) {
  std::string message = "The server answered " + std::to_string(r.status) + ".";
  std::string detail;
  try {
    auto body = r.json();
    if (body.is_object()) {
      auto text = json::string_at(body.as_object(), "message");
      if (!text.empty()) message = text + " (" + std::to_string(r.status) + ")";
      detail = json::string_at(body.as_object(), "detail");
    }
  } catch (const Error&) {
    detail = r.body.substr(0, 200);
  }
  // Any 5xx is worth retrying: the server (or the proxy before it) is away for now.
  auto code = r.status >= 500 ? ErrorCode::unavailable : error_code_for_status(r.status);
  return Error{code, message, detail};
}

json::object daemon_body(const Uuid& daemon_id) {
  return json::object{{"daemon_id", daemon_id.to_string()}};
}

}  // namespace

struct RemoteJobSource::PendingLogs {
  std::mutex sending;  // one batch of a job in flight at a time, so that lines stay in order
  std::deque<sdk::ProvisionerJobLogLine> lines;  // guarded by the source's mutex_
  std::uint64_t first = 0;  // the number of lines.front() in the job's output; mutex_
  std::size_t dropped = 0;  // lines lost to the cap, not yet reported; mutex_
};

RemoteJobSource::RemoteJobSource(Settings settings, const Clock& clock)
    : settings_(std::move(settings)), clock_(clock), flusher_([this] { run_flusher(); }) {}

RemoteJobSource::~RemoteJobSource() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  cv_.notify_all();
  flusher_.join();
}

sdk::HttpResponse RemoteJobSource::post(const std::string& target, const json::object& body,
                                        std::initializer_list<int> ok) {
  std::unique_ptr<sdk::Client> client;
  {
    std::lock_guard lock(mutex_);
    if (!idle_clients_.empty()) {
      client = std::move(idle_clients_.back());
      idle_clients_.pop_back();
    }
  }
  if (!client) {
    client = std::make_unique<sdk::Client>(settings_.url);
    client->set_timeout(settings_.request_timeout + settings_.acquire_wait);
  }
  auto response = client->request(
      "POST", target, json::serialize(body),
      {{"Content-Type", "application/json"}, {sdk::kProvisionerKeyHeader, settings_.key}});
  {
    std::lock_guard lock(mutex_);
    idle_clients_.push_back(std::move(client));
  }
  if (std::find(ok.begin(), ok.end(), response.status) == ok.end()) throw error_from(response);
  return response;
}

void RemoteJobSource::deliver(const std::string& target, const json::object& body) {
  auto give_up = clock_.steady_now() + settings_.result_retry_for;
  auto retry = kFirstRetry;
  for (;;) {
    try {
      post(target, body, {200, 204});
      return;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::unavailable || clock_.steady_now() >= give_up) throw;
      spdlog::warn("{}: {} {} (trying again in {} ms)", target, e.message(), e.detail(),
                   retry.count());
    }
    std::unique_lock lock(mutex_);
    // A stopping daemon still tries while the server answers, but does not wait for one that
    // is away.
    if (clock_.wait_for(lock, cv_, retry, [&] { return interrupted_; }))
      throw Error{ErrorCode::unavailable, "The server cannot be reached; giving up: stopping."};
    retry = std::min(retry * 2, kMaxRetry);
  }
}

std::optional<sdk::AcquiredJob> RemoteJobSource::acquire(const coderd::DaemonIdentity& daemon) {
  {
    std::lock_guard lock(mutex_);
    if (interrupted_) return std::nullopt;
    acquiring_.insert(daemon.id);
  }
  sdk::AcquireJobRequest request{daemon.id, daemon.name, daemon.version, daemon.provisioners,
                                 settings_.acquire_wait.count()};
  std::optional<sdk::HttpResponse> response;
  try {
    response = post(std::string(kApi) + "acquire", sdk::to_json(request).as_object(), {200, 204});
  } catch (...) {
    std::lock_guard lock(mutex_);
    acquiring_.erase(daemon.id);
    throw;
  }
  std::lock_guard lock(mutex_);
  acquiring_.erase(daemon.id);
  if (response->status == 204) return std::nullopt;
  auto job = sdk::acquired_job_from_json(response->json());
  holders_[job.id] = daemon.id;
  return job;
}

void RemoteJobSource::interrupt() {
  std::set<Uuid> waiting;
  {
    std::lock_guard lock(mutex_);
    interrupted_ = true;
    waiting = acquiring_;
  }
  cv_.notify_all();
  // The server ends each waiting request without a job; one that already took a job answers
  // with it, and that job runs to its end (or is failed) like any other.
  for (const auto& daemon_id : waiting) {
    try {
      post(std::string(kApi) + "acquire/cancel", daemon_body(daemon_id), {200, 204});
    } catch (const std::exception& e) {
      spdlog::debug("ending the wait for a job: {}", e.what());
    }
  }
}

Uuid RemoteJobSource::holder_of(const Uuid& job_id) {
  std::lock_guard lock(mutex_);
  auto it = holders_.find(job_id);
  if (it == holders_.end())
    throw Error{ErrorCode::internal, "This daemon holds no job " + job_id.to_string() + "."};
  return it->second;
}

void RemoteJobSource::forget(const Uuid& job_id) {
  std::lock_guard lock(mutex_);
  holders_.erase(job_id);
  logs_.erase(job_id);
}

void RemoteJobSource::append_logs(const Uuid& job_id,
                                  const std::vector<coderd::JobLogLine>& lines) {
  std::lock_guard lock(mutex_);
  auto& pending = logs_[job_id];
  if (!pending) pending = std::make_shared<PendingLogs>();
  for (const auto& line : lines) {
    if (pending->lines.size() >= kMaxPendingLines) {
      pending->lines.pop_front();
      ++pending->first;
      ++pending->dropped;
    }
    pending->lines.push_back({line.level, line.stage, line.output, line.source});
  }
  if (pending->lines.size() >= kLogBatchLines) cv_.notify_all();
}

bool RemoteJobSource::flush_logs(const Uuid& job_id) {
  std::shared_ptr<PendingLogs> pending;
  Uuid daemon_id;
  {
    std::lock_guard lock(mutex_);
    auto it = logs_.find(job_id);
    auto holder = holders_.find(job_id);
    if (it == logs_.end() || holder == holders_.end()) return true;
    pending = it->second;
    daemon_id = holder->second;
  }
  std::lock_guard sending(pending->sending);
  for (;;) {
    std::vector<sdk::ProvisionerJobLogLine> batch;
    std::size_t dropped;
    std::uint64_t end;  // the number of the first line after the batch
    {
      std::lock_guard lock(mutex_);
      auto n = std::min(pending->lines.size(), kLogBatchLines);
      batch.assign(pending->lines.begin(), pending->lines.begin() + std::ptrdiff_t(n));
      end = pending->first + n;
      dropped = std::exchange(pending->dropped, 0);
    }
    if (dropped)
      batch.insert(batch.begin(),
                   {"warn", "",
                    std::to_string(dropped) + " log lines were lost while the server could "
                                              "not be reached.",
                    "provisioner_daemon"});
    if (batch.empty()) return true;
    json::array lines;
    for (const auto& line : batch) lines.push_back(sdk::to_json(line));
    auto body = daemon_body(daemon_id);
    body["logs"] = std::move(lines);
    try {
      post(kApi + job_id.to_string() + "/logs", body, {200, 204});
    } catch (const Error& e) {
      if (e.code() == ErrorCode::unavailable) {  // kept for the next try
        std::lock_guard lock(mutex_);
        pending->dropped += dropped;
        return false;
      }
      spdlog::warn("job {}: the server refused its logs: {} {}", job_id.to_string(), e.message(),
                   e.detail());
    }
    std::lock_guard lock(mutex_);
    // Lines may have been dropped from the front meanwhile: remove by number, not by count.
    while (!pending->lines.empty() && pending->first < end) {
      pending->lines.pop_front();
      ++pending->first;
    }
  }
}

void RemoteJobSource::run_flusher() {
  std::unique_lock lock(mutex_);
  for (;;) {
    clock_.wait_for(lock, cv_, kLogFlushInterval, [&] {
      return closing_ || std::any_of(logs_.begin(), logs_.end(), [](const auto& entry) {
               return entry.second->lines.size() >= kLogBatchLines;
             });
    });
    if (closing_) return;
    std::vector<Uuid> jobs;
    for (const auto& [job_id, pending] : logs_)
      if (!pending->lines.empty() || pending->dropped) jobs.push_back(job_id);
    lock.unlock();
    for (const auto& job_id : jobs) flush_logs(job_id);
    lock.lock();
  }
}

bool RemoteJobSource::heartbeat(const Uuid& job_id) {
  auto body = daemon_body(holder_of(job_id));
  body["wait_ms"] = settings_.heartbeat_wait.count();
  auto response = post(kApi + job_id.to_string() + "/heartbeat", body, {200});
  auto answer = response.json();
  auto* canceled = answer.is_object() ? answer.as_object().if_contains("canceled") : nullptr;
  return canceled && canceled->is_bool() && canceled->get_bool();
}

void RemoteJobSource::complete_import(const Uuid& job_id,
                                      const store::TemplateVersionImportResult& result) {
  flush_logs(job_id);
  auto body = daemon_body(holder_of(job_id));
  body["import"] = sdk::to_json(coderd::to_wire(result));
  deliver(kApi + job_id.to_string() + "/complete", body);
  forget(job_id);
}

void RemoteJobSource::complete_build(const Uuid& job_id, const sdk::BuildResponse& response) {
  flush_logs(job_id);
  auto body = daemon_body(holder_of(job_id));
  body["build"] = sdk::to_json(response);
  deliver(kApi + job_id.to_string() + "/complete", body);
  forget(job_id);
}

void RemoteJobSource::fail(const Uuid& job_id, const std::string& error,
                           const std::string& error_code) {
  flush_logs(job_id);
  auto body = daemon_body(holder_of(job_id));
  body["error"] = error;
  body["error_code"] = error_code;
  try {
    deliver(kApi + job_id.to_string() + "/fail", body);
  } catch (...) {
    forget(job_id);
    throw;
  }
  forget(job_id);
}

}  // namespace berth::provisioner
