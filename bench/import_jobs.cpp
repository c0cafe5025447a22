// Import jobs through the provisioner job queue: throughput and pick-up latency.
//
// A real SQLite store in a temporary directory, the real JobQueue, Templates and DaemonPool,
// and a trivial Provisioner that returns a fixed result at once. Two phases per daemon count:
//   burst: create N template versions back to back (Templates::create_version: insert the
//          job and version in one transaction, then announce), wait until every job ended;
//          jobs/s over the whole run, and the queueing delay each job saw.
//   paced: create one version, wait until its job ended, repeat; with idle daemons this is
//          the wake-up path alone (announce → condition variable → acquire).
// Latency is the job's started_at − created_at (both from the store, microseconds).
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "coderd/api_keys.hpp"
#include "coderd/files.hpp"
#include "coderd/organizations.hpp"
#include "coderd/provisioner_jobs.hpp"
#include "coderd/templates.hpp"
#include "coderd/users.hpp"
#include "common/clock.hpp"
#include "provisioner/daemon.hpp"
#include "provisioner/provisioner.hpp"
#include "store/pubsub.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace {

using namespace berth;
using Steady = std::chrono::steady_clock;

// The in-process Pubsub, counting the jobs that ended so the bench can wait on a condition.
class CountingPubsub final : public store::Pubsub {
 public:
  void publish(const std::string& channel, const std::string& message) override {
    inner_.publish(channel, message);
    if (message != "end") return;
    {
      std::lock_guard lock(mutex_);
      ++ended_;
    }
    cv_.notify_all();
  }
  Subscription subscribe(const std::string& channel, Listener listener) override {
    return inner_.subscribe(channel, std::move(listener));
  }
  // Waits until `count` jobs ended in total, or the deadline; returns whether they did.
  bool wait_ended(std::uint64_t count, Steady::time_point deadline) {
    std::unique_lock lock(mutex_);
    return cv_.wait_until(lock, deadline, [&] { return ended_ >= count; });
  }
  std::uint64_t ended() {
    std::lock_guard lock(mutex_);
    return ended_;
  }

 private:
  store::MemoryPubsub inner_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t ended_ = 0;
};

class TrivialProvisioner final : public provisioner::Provisioner {
 public:
  store::TemplateVersionImportResult import_template(const provisioner::ImportRequest&,
                                                     provisioner::JobContext&) override {
    store::TemplateVersionImportResult r;
    r.readme = "# bench";
    r.resources = R"([{"type":"null_resource","name":"a"}])";
    return r;
  }
  provisioner::BuildResponse build_workspace(const provisioner::BuildRequest&,
                                             provisioner::JobContext&) override {
    throw provisioner::JobFailure("The bench provisioner only imports templates.", "");
  }
};

// A small template: one ustar entry (main.tf) and the end-of-archive blocks.
std::string small_template() {
  std::string body = "resource \"null_resource\" \"a\" {}\n";
  std::string h(512, '\0');
  std::memcpy(&h[0], "main.tf", 7);
  std::snprintf(&h[100], 8, "%07o", 0644);
  std::snprintf(&h[108], 8, "%07o", 0);
  std::snprintf(&h[116], 8, "%07o", 0);
  std::snprintf(&h[124], 12, "%011o", unsigned(body.size()));
  std::snprintf(&h[136], 12, "%011o", 1'700'000'000u);
  h[156] = '0';
  std::memcpy(&h[257], "ustar", 6);
  std::memcpy(&h[263], "00", 2);
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(&h[148], 8, "%06o", sum);
  std::string out = h + body;
  out.append((512 - body.size() % 512) % 512, '\0');
  out.append(1024, '\0');
  return out;
}

struct TempDir {
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "berth-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path path;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = std::size_t(p * double(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct Result {
  std::string phase;
  int daemons = 0;
  std::size_t jobs = 0;
  std::size_t succeeded = 0;
  double seconds = 0;
  std::vector<double> latency_ms;
};

// One fresh deployment per run, so that runs do not see each other's rows.
Result run(const std::string& phase, int daemons, std::size_t n, Steady::duration budget) {
  TempDir dir;
  SystemClock clock;
  store::sqlite::SqliteStore store((dir.path / "berth.db").string());
  CountingPubsub pubsub;
  coderd::initialize_deployment(store, clock);
  coderd::ApiKeys api_keys(store, clock, coderd::TokenPolicy{});
  coderd::Users users(store, clock, api_keys);
  auto owner = users.create_first_user({"owner@example.com", "owner", "", "SomeStr0ng!Passw0rd"});
  auto subject = api_keys.subject_for(owner);
  auto org = *store.get_default_organization();
  auto file = coderd::upload_file(store, clock, subject, coderd::kTarMimeType, small_template());
  coderd::JobQueue jobs(store, pubsub, clock);
  coderd::Templates templates(store, jobs, clock);
  TrivialProvisioner provisioner;
  provisioner::DaemonPool pool(jobs, store, pubsub, clock, provisioner, daemons,
                               (dir.path / "workspaces").string());
  pool.start();

  coderd::CreateVersionParams params;
  params.file_id = file.file.id;
  std::vector<Uuid> ids;
  auto deadline = Steady::now() + budget;
  auto t0 = Steady::now();
  for (std::size_t i = 0; i < n && Steady::now() < deadline; ++i) {
    ids.push_back(templates.create_version(subject, org, params).job_id);
    if (phase == "paced" && !pubsub.wait_ended(ids.size(), deadline)) break;
  }
  pubsub.wait_ended(ids.size(), deadline + std::chrono::seconds(10));
  auto seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  pool.stop();

  Result r{phase, daemons, ids.size(), 0, seconds, {}};
  for (const auto& id : ids) {
    auto job = store.get_provisioner_job_by_id(id);
    if (!job) continue;
    if (coderd::job_status(*job) == sdk::ProvisionerJobStatus::succeeded) ++r.succeeded;
    if (job->started_at)
      r.latency_ms.push_back(double((*job->started_at - job->created_at).count()) / 1000.0);
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Import jobs through Berth's provisioner job queue"};
  std::size_t burst = 2000;
  std::size_t paced = 300;
  std::vector<int> daemon_counts = {1, 3};
  double max_seconds = 20;
  app.add_option("--burst", burst, "jobs queued back to back per run")
      ->check(CLI::Range(1, 100000));
  app.add_option("--paced", paced, "jobs queued one at a time per run")
      ->check(CLI::Range(0, 100000));
  app.add_option("--daemons", daemon_counts, "in-process daemon counts to run")
      ->check(CLI::Range(1, 64));
  app.add_option("--max-seconds", max_seconds, "time allowed for creating each run's jobs")
      ->check(CLI::Range(1.0, 120.0));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);  // the daemons log every job at info

  auto budget =
      std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(max_seconds));
  std::vector<Result> results;
  for (int d : daemon_counts) {
    results.push_back(run("burst", d, burst, budget));
    if (paced > 0) results.push_back(run("paced", d, paced, budget));
  }

  fmt::print(
      "| phase | daemons | jobs | succeeded | seconds | jobs/s | pickup p50 ms | p99 ms | max ms "
      "|\n");
  fmt::print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  bool ok = true;
  for (const auto& r : results) {
    ok = ok && r.succeeded == r.jobs;
    double max =
        r.latency_ms.empty() ? 0 : *std::max_element(r.latency_ms.begin(), r.latency_ms.end());
    fmt::print("| {} | {} | {} | {} | {:.2f} | {:.0f} | {:.3f} | {:.3f} | {:.3f} |\n", r.phase,
               r.daemons, r.jobs, r.succeeded, r.seconds, double(r.succeeded) / r.seconds,
               percentile(r.latency_ms, 0.50), percentile(r.latency_ms, 0.99), max);
  }
  return ok ? 0 : 1;
}
