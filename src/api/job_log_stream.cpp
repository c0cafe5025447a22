#include "api/job_log_stream.hpp"

#include "api/jobs_json.hpp"
#include "coderd/provisioner_jobs.hpp"

namespace berth::api {

namespace {

// Lines per wake-up: a large backlog is sent in slices so one stream cannot hog a thread.
constexpr std::int64_t kBatch = 500;

}  // namespace

JobLogStream::JobLogStream(store::Store& store, store::Pubsub& pubsub, Uuid job_id,
                           std::int64_t after)
    : store_(store), job_id_(job_id), last_id_(after) {
  // Subscribed before the first read, so that no line written in between is missed.
  subscription_ =
      pubsub.subscribe(coderd::job_channel(job_id), [this](const std::string&) { wake(); });
}

http::PushBatch JobLogStream::next() {
  http::PushBatch batch;
  auto job = store_.get_provisioner_job_by_id(job_id_);
  bool finished = !job || job->completed_at.has_value();
  auto logs = store_.list_provisioner_job_logs_after(job_id_, last_id_, kBatch);
  for (const auto& log : logs) {
    batch.messages.push_back(json::serialize(job_log_json(log)));
    last_id_ = log.id;
  }
  if (std::int64_t(logs.size()) == kBatch)
    wake();  // more are waiting
  else
    batch.done = finished;
  return batch;
}

}  // namespace berth::api
