#include "cli/jobs.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/api.hpp"
#include "common/error.hpp"

namespace berth::cli {

namespace {

// Longer than the reaper's 5-minute silence limit, so the server fails a stuck job first and
// we report its error rather than a broken stream.
constexpr std::chrono::seconds kLogIdleTimeout{6 * 60};

using sdk::ProvisionerJobStatus;

// The job of a version or build document, when it has one.
std::optional<sdk::ProvisionerJob> job_of(const json::object& document) {
  const auto* job = document.if_contains("job");
  if (!job || !job->is_object()) return std::nullopt;
  return sdk::provisioner_job_from_json(*job);
}

bool finished(const std::optional<sdk::ProvisionerJob>& job) {
  if (!job) return false;
  auto s = job->status;
  return s == ProvisionerJobStatus::succeeded || s == ProvisionerJobStatus::failed ||
         s == ProvisionerJobStatus::canceled;
}

void follow_logs(sdk::Client& client, const std::string& target) {
  LogPrinter printer;
  client.follow_websocket(
      target + "/logs?follow",
      [&](const std::string& message) {
        auto v = json::parse(message);
        if (v.is_object()) printer.print(v.as_object());
        return true;
      },
      kLogIdleTimeout);
}

// The stream ends when the job does; a few re-reads cover a status written just after.
json::object read_finished(sdk::Client& client, const std::string& target) {
  for (int attempt = 0;; ++attempt) {
    auto current = get_json(client, target).as_object();
    if (finished(job_of(current)) || attempt >= 50) return current;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// The progress line a wait starts with: what runs, and where it stands in the queue.
void announce(const std::string& what, const std::optional<sdk::ProvisionerJob>& job) {
  std::string where(job ? sdk::to_string(job->status) : "");
  if (job && job->status == ProvisionerJobStatus::pending && job->queue_position > 0)
    where += ", position " + std::to_string(job->queue_position) + " of " +
             std::to_string(job->queue_size) + " in the queue";
  std::printf("==> %s (%s)\n", what.c_str(), where.c_str());
  std::fflush(stdout);
}

std::string elapsed_since(std::chrono::steady_clock::time_point start) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start);
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", double(ms.count()) / 1000.0);
  return text;
}

void check_job(const std::optional<sdk::ProvisionerJob>& job, const std::string& what) {
  if (job && job->status == ProvisionerJobStatus::succeeded) return;
  std::string message = what;
  message.append(" ").append(job ? sdk::to_string(job->status) : "did not finish").append(".");
  throw Error{ErrorCode::invalid, message, job ? job->error : std::string()};
}

}  // namespace

void LogPrinter::print(const json::object& log) {
  auto stage = str(log, "stage");
  if (!stage.empty() && stage != stage_) {
    std::printf("==> %s\n", stage.c_str());
    stage_ = stage;
  }
  std::printf("%s\n", str(log, "output").c_str());
  std::fflush(stdout);
}

json::object wait_for_template_version(sdk::Client& client, const std::string& version_id) {
  auto target = "/api/v2/templateversions/" + version_id;
  auto start = std::chrono::steady_clock::now();
  auto initial = get_json(client, target).as_object();
  announce("Importing template version " + str(initial, "name"), job_of(initial));
  follow_logs(client, target);
  auto version = read_finished(client, target);
  check_job(job_of(version), "The template version import");
  std::printf("==> Template version %s imported in %s.\n", str(version, "name").c_str(),
              elapsed_since(start).c_str());
  return version;
}

sdk::WorkspaceBuild wait_for_build(sdk::Client& client, const std::string& build_id) {
  auto target = "/api/v2/workspacebuilds/" + build_id;
  auto start = std::chrono::steady_clock::now();
  auto initial = sdk::workspace_build_from_json(get_json(client, target));
  std::string what = "Build #" + std::to_string(initial.build_number);
  what.append(" (").append(sdk::to_string(initial.transition)).append(") of ");
  announce(what + initial.workspace_name, initial.job);
  follow_logs(client, target);
  auto build = sdk::workspace_build_from_json(read_finished(client, target));
  std::string transition(sdk::to_string(build.transition));
  check_job(build.job, "The " + transition + " build");
  std::printf("==> Build #%lld (%s) succeeded in %s: the workspace is %s.\n",
              static_cast<long long>(build.build_number), transition.c_str(),
              elapsed_since(start).c_str(), std::string(sdk::to_string(build.status)).c_str());
  std::fflush(stdout);
  return build;
}

}  // namespace berth::cli
