#include "provisioner/job_source.hpp"

#include <spdlog/spdlog.h>

#include "coderd/job_inputs.hpp"
#include "common/error.hpp"

namespace berth::provisioner {

QueueJobSource::QueueJobSource(coderd::JobQueue& jobs, store::Store& store, store::Pubsub& pubsub,
                               const Clock& clock)
    : jobs_(jobs), store_(store), pubsub_(pubsub), clock_(clock) {
  subscription_ = pubsub_.subscribe(coderd::kJobPostedChannel, [this](const std::string&) {
    {
      std::lock_guard lock(mutex_);
      ++posted_;
    }
    wake_.notify_all();
  });
}

std::optional<sdk::AcquiredJob> QueueJobSource::acquire(const coderd::DaemonIdentity& daemon) {
  std::uint64_t seen;
  {
    std::lock_guard lock(mutex_);
    if (interrupted_) return std::nullopt;
    seen = posted_;
  }
  while (auto job = jobs_.acquire(daemon)) {
    try {
      return coderd::acquired_job(store_, *job);
    } catch (const Error& e) {
      // What the job works on is gone: it cannot run, and the next one may.
      jobs_.fail(job->id, e.message());
    }
  }
  std::unique_lock lock(mutex_);
  clock_.wait_for(lock, wake_, kIdleRecheck, [&] { return interrupted_ || posted_ != seen; });
  return std::nullopt;
}

void QueueJobSource::interrupt() {
  {
    std::lock_guard lock(mutex_);
    interrupted_ = true;
  }
  wake_.notify_all();
}

void QueueJobSource::append_logs(const Uuid& job_id, const std::vector<coderd::JobLogLine>& lines) {
  jobs_.append_logs(job_id, lines);
}

bool QueueJobSource::heartbeat(const Uuid& job_id) {
  return jobs_.heartbeat(job_id);
}

store::Pubsub::Subscription QueueJobSource::watch(const Uuid& job_id, std::function<void()> poke) {
  // A cancel request is published on the job's channel (and a resync may stand for a lost one).
  return pubsub_.subscribe(coderd::job_channel(job_id),
                           [poke = std::move(poke)](const std::string& message) {
                             if (message == "state" || message == store::Pubsub::kResync) poke();
                           });
}

void QueueJobSource::complete_import(const Uuid& job_id,
                                     const store::TemplateVersionImportResult& result) {
  jobs_.complete_import(job_id, result);
}

void QueueJobSource::complete_build(const Uuid& job_id, const sdk::BuildResponse& response) {
  jobs_.complete_build(job_id, response);
}

void QueueJobSource::fail(const Uuid& job_id, const std::string& error,
                          const std::string& error_code) {
  jobs_.fail(job_id, error, error_code);
}

}  // namespace berth::provisioner
