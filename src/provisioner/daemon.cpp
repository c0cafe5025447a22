#include "provisioner/daemon.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "archive/tar_reader.hpp"
#include "common/error.hpp"

namespace berth::provisioner {

namespace {

// After a heartbeat that could not be sent, the next waits at least this long.
constexpr std::chrono::seconds kHeartbeatRetry{1};
constexpr std::chrono::seconds kCanceledHeartbeat = QueueJobSource::kHeartbeatInterval;
// A daemon that cannot reach its source tries again after a delay that doubles up to this.
constexpr std::chrono::milliseconds kFirstRetry{500};
constexpr std::chrono::milliseconds kMaxRetry{10000};

// Heartbeats a running job on its own thread and records whether cancellation was requested.
class Heartbeat {
 public:
  Heartbeat(JobSource& source, const Clock& clock, Uuid job_id)
      : source_(source), clock_(clock), job_id_(job_id) {
    // A poke (a cancel request, or what may stand for one) makes the loop check at once.
    subscription_ = source.watch(job_id, [this] {
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

 private:
  void loop() {
    auto pause = source_.heartbeat_pause();
    bool failed = false;
    std::unique_lock lock(mutex_);
    for (;;) {
      std::chrono::milliseconds wait = pause;
      if (failed) wait = std::max<std::chrono::milliseconds>(wait, kHeartbeatRetry);
      // A canceled job still heartbeats while its daemon tears it down, but a source whose
      // heartbeat waits answers at once now: pause as in-process daemons do.
      if (canceled_) wait = std::max<std::chrono::milliseconds>(wait, kCanceledHeartbeat);
      clock_.wait_for(lock, cv_, wait, [this] { return done_ || poked_; });
      if (done_) return;
      poked_ = false;
      lock.unlock();
      try {
        if (!canceled_ && source_.heartbeat(job_id_)) {
          canceled_ = true;
          spdlog::info("job {}: canceled (or ended elsewhere); stopping it", job_id_.to_string());
        } else if (canceled_) {
          source_.heartbeat(job_id_);
        }
        failed = false;
      } catch (const std::exception& e) {
        spdlog::warn("heartbeat for job {} failed: {}", job_id_.to_string(), e.what());
        failed = true;
      }
      lock.lock();
    }
  }

  JobSource& source_;
  const Clock& clock_;
  Uuid job_id_;
  std::atomic<bool> canceled_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  bool poked_ = false;
  store::Pubsub::Subscription subscription_;
  std::thread thread_;
};

std::string error_text(const Error& e) {
  return e.detail().empty() ? e.message() : e.message() + " " + e.detail();
}

}  // namespace

DaemonPool::DaemonPool(coderd::JobQueue& jobs, store::Store& store, store::Pubsub& pubsub,
                       const Clock& clock, Provisioner& provisioner, int count,
                       std::string workspaces_dir, std::string name_suffix)
    : owned_source_(std::make_unique<QueueJobSource>(jobs, store, pubsub, clock)),
      source_(*owned_source_),
      store_(&store),
      clock_(clock),
      provisioner_(provisioner),
      workspaces_dir_(std::move(workspaces_dir)) {
  // In-process daemons have the default tags only: they take untagged jobs, of every
  // organization.
  for (int i = 0; i < count; ++i)
    daemons_.push_back(coderd::DaemonIdentity{.id = Uuid::random_v4(),
                                              .name = "built-in-" + std::to_string(i) + name_suffix,
                                              .tags = coderd::default_provisioner_tags(),
                                              .provisioners = {"terraform"},
                                              .api_version = sdk::kProvisionerDaemonApiVersion});
}

DaemonPool::DaemonPool(JobSource& source, const Clock& clock, Provisioner& provisioner,
                       std::vector<coderd::DaemonIdentity> daemons, std::string workspaces_dir)
    : source_(source),
      clock_(clock),
      provisioner_(provisioner),
      daemons_(std::move(daemons)),
      workspaces_dir_(std::move(workspaces_dir)) {}

DaemonPool::~DaemonPool() {
  stop();
}

void DaemonPool::start() {
  for (const auto& identity : daemons_)
    threads_.emplace_back([this, identity] { run_daemon(identity); });
}

void DaemonPool::reconcile_workspaces() {
  if (!store_) return;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(workspaces_dir_, ec), end; !ec && it != end;
       it.increment(ec)) {
    auto id = Uuid::parse(it->path().filename().string());
    if (!id || !it->is_directory()) continue;
    try {
      auto latest = store_->get_latest_workspace_build(*id);
      provisioner_.reconcile_workspace(it->path().string(), latest ? latest->provisioner_state : "",
                                       [&](const std::string& line) {
                                         spdlog::warn("workspace {}: {}", id->to_string(), line);
                                       });
    } catch (const std::exception& e) {
      spdlog::error("workspace {}: cannot reconcile its processes: {}", id->to_string(), e.what());
    }
  }
}

void DaemonPool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  source_.interrupt();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void DaemonPool::begin_drain() {
  {
    std::lock_guard lock(mutex_);
    if (draining_) return;
    draining_ = true;
  }
  wake_.notify_all();
  source_.interrupt();  // ends idle daemons' waits for a job
}

void DaemonPool::drain(std::chrono::milliseconds grace) {
  begin_drain();
  {
    std::unique_lock lock(mutex_);
    if (running_ > 0) spdlog::info("waiting for {} running provisioner job(s) to finish", running_);
    if (!clock_.wait_for(lock, wake_, grace, [&] { return running_ == 0; }))
      spdlog::warn("{} provisioner job(s) still running after {} ms; canceling them", running_,
                   grace.count());
  }
  stop();
}

bool DaemonPool::stopping() {
  std::lock_guard lock(mutex_);
  return stopping_;
}

bool DaemonPool::taking_jobs() {
  std::lock_guard lock(mutex_);
  return !stopping_ && !draining_;
}

void DaemonPool::run_daemon(const coderd::DaemonIdentity& identity) {
  auto retry = kFirstRetry;
  while (taking_jobs()) {
    std::optional<sdk::AcquiredJob> job;
    try {
      job = source_.acquire(identity);
      retry = kFirstRetry;
    } catch (const std::exception& e) {
      spdlog::error("{}: acquiring a job failed (trying again in {} ms): {}", identity.name,
                    retry.count(), e.what());
      std::unique_lock lock(mutex_);
      clock_.wait_for(lock, wake_, retry, [&] { return stopping_ || draining_; });
      retry = std::min(retry * 2, kMaxRetry);
      continue;
    }
    if (!job) continue;
    {
      std::lock_guard lock(mutex_);
      ++running_;
    }
    run_job(identity, *job);
    {
      std::lock_guard lock(mutex_);
      --running_;
    }
    wake_.notify_all();  // drain() waits for the count to reach 0
  }
}

void DaemonPool::fail_job(const Uuid& job_id, const std::string& error,
                          const std::string& error_code) {
  try {
    source_.fail(job_id, error, error_code);
  } catch (const std::exception& e) {
    spdlog::error("job {}: cannot record its failure ({}): {}", job_id.to_string(), error,
                  e.what());
  }
}

void DaemonPool::run_job(const coderd::DaemonIdentity& identity, const sdk::AcquiredJob& job) {
  spdlog::info("{}: running {} job {}", identity.name, job.type, job.id.to_string());
  Heartbeat heartbeat(source_, clock_, job.id);
  JobContext context{
      [&](coderd::JobLogLine line) { source_.append_logs(job.id, {std::move(line)}); },
      [&] { return stopping() || heartbeat.canceled(); }};
  try {
    if (job.type == "template_version_import") {
      run_import(job, context);
    } else if (job.type == "workspace_build") {
      run_build(job, context);
    } else {
      fail_job(job.id, "Job type \"" + job.type + "\" is not supported by this provisioner.", "");
    }
  } catch (const JobFailure& e) {
    fail_job(job.id, e.message(), e.error_code());
  } catch (const Error& e) {
    fail_job(job.id, error_text(e), "");
  } catch (const std::exception& e) {
    spdlog::error("{}: job {} crashed: {}", identity.name, job.id.to_string(), e.what());
    fail_job(job.id, std::string("internal error: ") + e.what(), "");
  }
}

void DaemonPool::run_import(const sdk::AcquiredJob& job, JobContext& context) {
  context.log({"info", "Setting up", "Unpacking the template archive", "provisioner_daemon"});
  ImportRequest request{archive::read_tar(job.archive), job.variable_values};
  auto result = provisioner_.import_template(request, context);
  if (context.canceled()) throw JobFailure("canceled", "");
  source_.complete_import(job.id, result);
}

void DaemonPool::run_build(const sdk::AcquiredJob& job, JobContext& context) {
  if (!job.build) throw JobFailure("The build's record no longer exists.", "");
  context.log({"info", "Setting up", "Unpacking the template archive", "provisioner_daemon"});
  BuildRequest request = *job.build;
  request.files = archive::read_tar(job.archive);
  request.workspace_dir = workspaces_dir_ + "/" + request.workspace_id;
  auto response = provisioner_.build_workspace(request, context);
  if (context.canceled()) throw JobFailure("canceled", "");
  source_.complete_build(job.id, response);
}

}  // namespace berth::provisioner
