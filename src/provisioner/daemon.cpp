#include "provisioner/daemon.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "archive/tar_reader.hpp"
#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/json.hpp"

namespace berth::provisioner {

namespace {

// Heartbeats a running job on its own thread and records whether cancellation was requested.
class Heartbeat {
 public:
  // A cancel request is published on the job's channel: it pokes the loop to check at once
  // (and so does a resync, which may stand for a lost cancel request).
  Heartbeat(coderd::JobQueue& jobs, store::Pubsub& pubsub, const Clock& clock, Uuid job_id)
      : jobs_(jobs), clock_(clock), job_id_(job_id) {
    subscription_ = pubsub.subscribe(coderd::job_channel(job_id), [this](const std::string& m) {
      if (m != "state" && m != store::Pubsub::kResync) return;
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
      clock_.wait_for(lock, cv_, DaemonPool::kHeartbeatInterval,
                      [this] { return done_ || poked_; });
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

std::map<std::string, std::string> variable_values(const store::ProvisionerJobInput& input) {
  std::map<std::string, std::string> out;
  for (const auto& v : input.user_variable_values) out[v.name] = v.value;
  return out;
}

}  // namespace

DaemonPool::DaemonPool(coderd::JobQueue& jobs, store::Store& store, store::Pubsub& pubsub,
                       const Clock& clock, Provisioner& provisioner, int count,
                       std::string workspaces_dir, std::string name_suffix)
    : jobs_(jobs),
      name_suffix_(std::move(name_suffix)),
      store_(store),
      pubsub_(pubsub),
      clock_(clock),
      provisioner_(provisioner),
      count_(count),
      workspaces_dir_(std::move(workspaces_dir)) {}

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
        Uuid::random_v4(), "built-in-" + std::to_string(i) + name_suffix_, {}, {"terraform"}};
    threads_.emplace_back([this, identity] { run_daemon(identity); });
  }
}

void DaemonPool::reconcile_workspaces() {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(workspaces_dir_, ec), end; !ec && it != end;
       it.increment(ec)) {
    auto id = Uuid::parse(it->path().filename().string());
    if (!id || !it->is_directory()) continue;
    try {
      auto latest = store_.get_latest_workspace_build(*id);
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
    clock_.wait_for(lock, wake_, kIdleRecheck, [&] { return stopping_ || posted_ != seen; });
  }
}

void DaemonPool::run_job(const coderd::DaemonIdentity& identity,
                         const store::ProvisionerJobRow& job) {
  spdlog::info("{}: running {} job {}", identity.name, job.type, job.id.to_string());
  Heartbeat heartbeat(jobs_, pubsub_, clock_, job.id);
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
    } else if (job.type == "workspace_build") {
      run_build(job, context);
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
  ImportRequest request{archive::read_tar(file->data), variable_values(job.input)};
  auto result = provisioner_.import_template(request, context);
  if (context.canceled()) throw JobFailure("canceled", "");
  jobs_.complete_import(job.id, result);
}

namespace {

template <typename T>
T must(std::optional<T> value, const char* what) {
  if (!value) throw JobFailure(std::string("The build's ") + what + " no longer exists.", "");
  return std::move(*value);
}

std::string str(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

// A resource document's coder_metadata items ({key, value, sensitive}).
std::vector<store::ResourceMetadataItem> metadata_items(const json::value& items) {
  std::vector<store::ResourceMetadataItem> out;
  if (!items.is_array()) return out;
  for (const auto& item : items.get_array()) {
    if (!item.is_object()) continue;
    const auto& o = item.get_object();
    auto* sensitive = o.if_contains("sensitive");
    out.push_back({str(o, "key"), str(o, "value"),
                   sensitive && sensitive->is_bool() && sensitive->get_bool()});
  }
  return out;
}

// The provisioner's resource documents as rows: resources, and agents with hashed tokens.
coderd::BuildOutcome to_outcome(const BuildResponse& response,
                                const store::WorkspaceBuildRow& build, TimePoint now) {
  coderd::BuildOutcome out;
  out.state = response.state;
  out.has_ai_task = response.has_ai_task;
  out.ai_task_app_id = response.ai_task_app_id;
  out.daily_cost = response.daily_cost;
  for (const auto& item : response.resources) {
    const auto& r = item.as_object();
    auto* hide = r.if_contains("hide");
    auto* cost = r.if_contains("daily_cost");
    store::WorkspaceResourceRow resource{Uuid::parse(str(r, "id")).value_or(Uuid::random_v4()),
                                         now,
                                         build.job_id,
                                         build.transition,
                                         str(r, "type"),
                                         str(r, "name"),
                                         hide && hide->is_bool() && hide->get_bool(),
                                         str(r, "icon"),
                                         cost && cost->is_int64() ? cost->get_int64() : 0,
                                         metadata_items(r.at("metadata"))};
    out.resources.push_back(resource);
    for (const auto& a : r.at("agents").as_array()) {
      const auto& agent = a.as_object();
      auto id = str(agent, "id");
      auto token = response.tokens.find(id);
      store::WorkspaceAgentRow row;
      row.id = Uuid::parse(id).value_or(Uuid::random_v4());
      row.created_at = row.updated_at = now;
      row.resource_id = resource.id;
      row.name = str(agent, "name");
      row.auth_token_hash = to_hex(
          sha256(token == response.tokens.end() ? Uuid::random_v4().to_string() : token->second));
      row.config = json::serialize(agent);
      out.agents.push_back(std::move(row));
    }
  }
  return out;
}

}  // namespace

void DaemonPool::run_build(const store::ProvisionerJobRow& job, JobContext& context) {
  const auto& build_id = job.input.workspace_build_id;
  auto build =
      must(build_id ? store_.get_workspace_build_by_id(*build_id) : std::nullopt, "record");
  auto workspace = must(store_.get_workspace_by_id(build.workspace_id), "workspace");
  auto tmpl = must(store_.get_template_by_id(workspace.template_id), "template");
  auto version =
      must(store_.get_template_version_by_id(build.template_version_id), "template version");
  auto owner = must(store_.get_user_by_id(workspace.owner_id), "owner");
  auto file = must(store_.get_file_by_id(job.file_id), "template archive");
  auto import = store_.get_provisioner_job_by_id(version.job_id);
  context.log({"info", "Setting up", "Unpacking the template archive", "provisioner_daemon"});
  BuildRequest request;
  request.files = archive::read_tar(file.data);
  request.variable_values =
      import ? variable_values(import->input) : decltype(request.variable_values){};
  for (const auto& p : store_.list_build_parameters(build.id))
    request.parameter_values[p.name] = p.value;
  request.transition = build.transition;
  request.state = build.provisioner_state;
  if (build.build_number > 1)
    if (auto previous = store_.get_workspace_build_by_number(workspace.id, build.build_number - 1))
      if (auto previous_job = store_.get_provisioner_job_by_id(previous->job_id))
        request.previous_build_failed =
            coderd::job_status(*previous_job) != sdk::ProvisionerJobStatus::succeeded;
  request.workspace_id = workspace.id.to_string();
  request.workspace_name = workspace.name;
  request.workspace_dir = workspaces_dir_ + "/" + workspace.id.to_string();
  request.owner_id = owner.id.to_string();
  request.owner_name = owner.username;
  request.owner_email = owner.email;
  request.owner_full_name = owner.name;
  request.template_id = tmpl.id.to_string();
  request.template_name = tmpl.name;
  request.template_version = version.name;
  if (auto task = store_.get_task_by_workspace_id(workspace.id)) {
    request.task_id = task->id.to_string();
    request.task_prompt = task->prompt;
  }
  auto response = provisioner_.build_workspace(request, context);
  if (context.canceled()) throw JobFailure("canceled", "");
  jobs_.complete_build(job.id, to_outcome(response, build, clock_.now()));
}

}  // namespace berth::provisioner
