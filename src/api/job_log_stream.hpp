#pragma once

#include <cstdint>

#include "common/uuid.hpp"
#include "http/push.hpp"
#include "store/pubsub.hpp"
#include "store/store.hpp"

namespace berth::api {

// `logs?follow`: sends a job's log lines after `after`, then each new line as the job writes
// it (woken by the job's pubsub channel), and ends once the job has finished and every line
// was sent.
class JobLogStream final : public http::PushSource {
 public:
  JobLogStream(store::Store& store, store::Pubsub& pubsub, Uuid job_id, std::int64_t after);
  http::PushBatch next() override;

 private:
  store::Store& store_;
  Uuid job_id_;
  std::int64_t last_id_;
  store::Pubsub::Subscription subscription_;
};

}  // namespace berth::api
