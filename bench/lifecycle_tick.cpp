// Times the lifecycle executor's tick on a data directory seeded by berth_bench_seed.
//
// Opens <data-dir>/berth.db, makes the latest (start) build of `--due` workspaces overdue
// (deadline an hour ago), then runs `--ticks` ticks at the same instant and prints each one's
// wall time and what it did. The first tick stops the due workspaces (queues their stop
// builds); the later ticks find nothing to do and show the cost of a quiet tick over every
// workspace. Run it on a copy of a seeded directory: it changes the database.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <chrono>

#include "coderd/lifecycle_executor.hpp"
#include "coderd/provisioner_jobs.hpp"
#include "coderd/workspaces.hpp"
#include "common/clock.hpp"
#include "store/pubsub.hpp"
#include "store/sqlite/sqlite_store.hpp"

int main(int argc, char** argv) {
  using namespace berth;
  CLI::App app{"Times lifecycle executor ticks"};
  std::string data_dir;
  int due = 10;
  int ticks = 5;
  app.add_option("--data-dir", data_dir, "A directory seeded by berth_bench_seed")->required();
  app.add_option("--due", due, "Workspaces whose deadline passed");
  app.add_option("--ticks", ticks, "Ticks to time");
  CLI11_PARSE(app, argc, argv);

  store::sqlite::SqliteStore store(data_dir + "/berth.db");
  store::MemoryPubsub pubsub;
  SystemClock clock;
  coderd::JobQueue jobs(store, pubsub, clock);
  coderd::Workspaces workspaces(store, pubsub, jobs, clock);
  coderd::LifecycleExecutor executor(store, workspaces, clock, "bench");

  auto now = clock.now();
  int made_due = 0;
  for (const auto& w : store.list_workspaces({})) {
    if (made_due == due) break;
    auto build = store.get_latest_workspace_build(w.id);
    if (!build || build->transition != sdk::WorkspaceTransition::start) continue;
    store.update_workspace_build_deadline(build->id, now - std::chrono::hours(1), now);
    ++made_due;
  }
  fmt::print("workspaces made due: {}\n", made_due);
  for (int i = 0; i < ticks; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto stats = executor.tick(now);
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
    fmt::print("tick {}: {:.1f} ms (stopped {}, started {}, dormant {}, deleted {}, errors {})\n",
               i + 1, ms.count(), stats.stopped, stats.started, stats.marked_dormant, stats.deleted,
               stats.errors);
  }
  return 0;
}
