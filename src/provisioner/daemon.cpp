#include "provisioner/daemon.hpp"

#include <spdlog/spdlog.h>

#include "archive/tar_reader.hpp"
#include "common/error.hpp"
#include "common/json.hpp"

namespace berth::provisioner {

namespace {

// A daemon that saw no announcement still looks for work this often, in case a notification
// was lost (another replica's job, a restart).
constexpr auto kIdleRecheck = std::chrono::seconds(5);
constexpr auto kHeartbeatInterval = std::chrono::seconds(10);

// Heartbeats a running job on its own thread and records whether cancellation was requested.
class Heartbeat {
 public:
  // A cancel request is published on the job's channel: it pokes the loop to check at once.
  Heartbeat(coderd::JobQueue& jobs, store::Pubsub& pubsub, Uuid job_id)
      : jobs_(jobs), job_id_(job_id) {
    subscription_ = pubsub.subscribe(coderd::job_channel(job_id), [this](const std::string& m) {
      if (m != "state") return;
      {
        std::lock_guard lock(mutex_);
        poked_ = true;
      }
      cv_.notify_all();
    });
    thread_ = std::thread([this] { loop(); });
  }
  ~Heartbeat() {
    subscription_ = {};
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool canceled() const { return canceled_; }
  void check_now() { canceled_ = canceled_ || jobs_.heartbeat(job_id_); }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait_for(lock, kHeartbeatInterval, [this] { return done_ || poked_; });
      if (done_) return;
      poked_ = false;
      lock.unlock();
      try {
        check_now();
      } catch (const std::exception& e) {
        spdlog::warn("heartbeat for job {} failed: {}", job_id_.to_string(), e.what());
      }
      lock.lock();
    }
  }

  coderd::JobQueue& jobs_;
  Uuid job_id_;
  std::atomic<bool> canceled_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  bool poked_ = false;
  store::Pubsub::Subscription subscription_;
  std::thread thread_;
};

std::map<std::string, std::string> variable_values(const json::value& input) {
  std::map<std::string, std::string> out;
  auto* values = input.as_object().if_contains("user_variable_values");
  if (!values || !values->is_array()) return out;
  for (const auto& item : values->get_array()) {
    const auto& o = item.as_object();
    auto* name = o.if_contains("name");
    auto* value = o.if_contains("value");
    if (name && name->is_string())
      out[std::string(name->get_string())] =
          value && value->is_string() ? std::string(value->get_string()) : "";
  }
  return out;
}

}  // namespace

DaemonPool::DaemonPool(coderd::JobQueue& jobs, store::Store& store, store::Pubsub& pubsub,
                       Provisioner& provisioner, int count)
    : jobs_(jobs), store_(store), pubsub_(pubsub), provisioner_(provisioner), count_(count) {}

DaemonPool::~DaemonPool() {
  stop();
}

void DaemonPool::start() {
  subscription_ = pubsub_.subscribe(coderd::kJobPostedChannel, [this](const std::string&) {
    {
      std::lock_guard lock(mutex_);
      ++posted_;
    }
    wake_.notify_all();
  });
  for (int i = 0; i < count_; ++i) {
    coderd::DaemonIdentity identity{
        Uuid::random_v4(), "built-in-" + std::to_string(i), {}, {"terraform"}};
    threads_.emplace_back([this, identity] { run_daemon(identity); });
  }
}

void DaemonPool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  subscription_ = {};
}

void DaemonPool::run_daemon(coderd::DaemonIdentity identity) {
  // Jobs need the default scope tags to match; in-process daemons serve every organization.
  identity.tags = {{"scope", "organization"}, {"owner", ""}};
  for (;;) {
    std::uint64_t seen;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      seen = posted_;
    }
    std::optional<store::ProvisionerJobRow> job;
    try {
      job = jobs_.acquire(identity);
    } catch (const std::exception& e) {
      spdlog::error("{}: acquiring a job failed: {}", identity.name, e.what());
    }
    if (job) {
      run_job(identity, *job);
      continue;
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, kIdleRecheck, [&] { return stopping_ || posted_ != seen; });
  }
}

void DaemonPool::run_job(const coderd::DaemonIdentity& identity,
                         const store::ProvisionerJobRow& job) {
  spdlog::info("{}: running {} job {}", identity.name, job.type, job.id.to_string());
  Heartbeat heartbeat(jobs_, pubsub_, job.id);
  JobContext context{[&](coderd::JobLogLine line) { jobs_.append_logs(job.id, {std::move(line)}); },
                     [&] {
                       {
                         std::lock_guard lock(mutex_);
                         if (stopping_) return true;
                       }
                       return heartbeat.canceled();
                     }};
  try {
    if (job.type == "template_version_import") {
      run_import(job, context);
    } else {
      jobs_.fail(job.id, "Job type \"" + job.type + "\" is not supported by this provisioner.");
    }
  } catch (const JobFailure& e) {
    jobs_.fail(job.id, e.message(), e.error_code());
  } catch (const Error& e) {
    jobs_.fail(job.id, e.detail().empty() ? e.message() : e.message() + " " + e.detail());
  } catch (const std::exception& e) {
    spdlog::error("{}: job {} crashed: {}", identity.name, job.id.to_string(), e.what());
    jobs_.fail(job.id, std::string("internal error: ") + e.what());
  }
}

void DaemonPool::run_import(const store::ProvisionerJobRow& job, JobContext& context) {
  context.log({"info", "Setting up", "Unpacking the template archive", "provisioner_daemon"});
  auto file = store_.get_file_by_id(job.file_id);
  if (!file) throw JobFailure("The template archive no longer exists.", "");
  ImportRequest request{archive::read_tar(file->data), variable_values(json::parse(job.input))};
  auto result = provisioner_.import_template(request, context);
  if (context.canceled()) throw JobFailure("canceled", "");
  jobs_.complete_import(job.id, result);
}

}  // namespace berth::provisioner
