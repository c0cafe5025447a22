// Seeds a Berth data directory with N workspaces for the workspace read benchmarks.
//
// Opens (creating and migrating) `<data-dir>/berth.db` directly, as `berth server` would, and
// writes what a deployment that has been used for a while holds: the first user
// (owner@example.com), a few members, one template archive, an imported template version and
// its template, and N workspaces spread over the users, each with 1–3 finished builds
// (start, stop, start...). Every build has a succeeded workspace_build job and a resource;
// start builds also have an agent (never connected). Rows go in through the Store's insert
// methods, in transactions of --batch workspaces. Run it before the server starts: the store
// is not meant to be shared between processes that both write.
//
// Nothing here schedules work for the server: no autostart schedule, TTL or deadline, and the
// template policy is the default, so the lifecycle executor leaves the rows alone.
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "coderd/api_keys.hpp"
#include "coderd/files.hpp"
#include "coderd/organizations.hpp"
#include "coderd/templates.hpp"
#include "coderd/users.hpp"
#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/json.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace {

using namespace berth;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kPassword = "SomeStr0ng!Passw0rd";

// A one-file ustar archive: main.tf with `body`, then the end-of-archive blocks.
std::string tar_of_main_tf(const std::string& body) {
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

// What the local provisioner stores for an agent with default settings (see
// provisioner/local/import_documents.cpp, agent_json).
std::string agent_config(const Uuid& agent_id) {
  return json::serialize(json::object{
      {"id", agent_id.to_string()},
      {"name", "main"},
      {"status", "connecting"},
      {"lifecycle_state", "created"},
      {"operating_system", "linux"},
      {"architecture", "amd64"},
      {"directory", "/home/coder"},
      {"environment_variables", json::object{}},
      {"apps", json::array{}},
      {"scripts", json::array{}},
      {"display_apps",
       json::array{"vscode", "web_terminal", "ssh_helper", "port_forwarding_helper"}},
      {"metadata", json::array{}},
      {"order", 0},
      {"instance_id", ""},
      {"connection_timeout_seconds", 120},
      {"troubleshooting_url", ""},
      {"motd_file", ""},
      {"startup_script_behavior", "non-blocking"},
      {"log_sources", json::array{}},
      {"logs_length", 0},
      {"logs_overflowed", false},
      {"health", json::object{{"healthy", false}, {"reason", "agent is not connected"}}},
      {"version", ""},
      {"api_version", ""},
      {"subsystems", json::array{}},
      {"created_at", nullptr},
      {"updated_at", nullptr}});
}

store::ProvisionerJobRow finished_job(const Uuid& org, const Uuid& initiator, const Uuid& file,
                                      const std::string& type, store::ProvisionerJobInput input,
                                      TimePoint created) {
  store::ProvisionerJobRow job;
  job.id = Uuid::random_v4();
  job.created_at = created;
  job.started_at = created + std::chrono::milliseconds(40);
  job.completed_at = created + seconds(3);
  job.updated_at = *job.completed_at;
  job.organization_id = org;
  job.initiator_id = initiator;
  job.provisioner = "terraform";
  job.storage_method = "file";
  job.type = type;
  job.file_id = file;
  job.input = std::move(input);
  job.tags = {{"owner", ""}, {"scope", "organization"}};
  job.worker_id = Uuid::random_v4();
  job.worker_name = "berth-bench-seed";
  job.logs_length = 0;
  return job;
}

struct Seeded {
  std::size_t users = 0;
  std::size_t workspaces = 0;
  std::size_t builds = 0;
  std::size_t agents = 0;
};

struct Options {
  std::string data_dir;
  std::size_t workspaces = 1000;
  std::size_t members = 4;
  std::size_t batch = 1000;
  bool agents = true;
  unsigned seed = 1;
  std::string postgres_url;  // seed this PostgreSQL database instead of berth.db
};

int seed_data_dir(const Options& o) {
  const auto& data_dir = o.data_dir;
  const auto workspaces = o.workspaces;
  const auto members = o.members;
  const auto batch = o.batch;
  const bool agents = o.agents;
  auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    fmt::print(stderr, "cannot create {}: {}\n", data_dir, ec.message());
    return 1;
  }
  SystemClock clock;
  auto owned_store = o.postgres_url.empty()
                         ? std::unique_ptr<store::Store>(
                               std::make_unique<store::sqlite::SqliteStore>(data_dir + "/berth.db"))
                         : store::postgres::open_store(o.postgres_url);
  store::Store& store = *owned_store;
  coderd::initialize_deployment(store, clock);
  if (store.count_users() > 0) {
    fmt::print(stderr, "{} already has users; seed an empty data directory\n", data_dir);
    return 1;
  }
  coderd::ApiKeys api_keys(store, clock, coderd::TokenPolicy{});
  coderd::Users users(store, clock, api_keys);
  auto owner = users.create_first_user({"owner@example.com", "owner", "Bench Owner", kPassword});
  auto subject = api_keys.subject_for(owner);
  auto org = *store.get_default_organization();

  Seeded seeded;
  std::vector<store::UserRow> people{owner};
  for (std::size_t i = 1; i <= members; ++i) {
    coderd::CreateUserParams p;
    p.email = fmt::format("member{}@example.com", i);
    p.username = fmt::format("member{}", i);
    p.name = fmt::format("Member {}", i);
    p.password = kPassword;
    p.status = "active";
    p.organization_ids = {org.id};
    people.push_back(users.create_user(subject, p));
  }
  seeded.users = people.size();

  auto file = coderd::upload_file(store, clock, subject, coderd::kTarMimeType,
                                  tar_of_main_tf("locals {}\n"))
                  .file;

  // The imported version and its template, as a succeeded import leaves them.
  auto now = clock.now();
  auto epoch = now - hours(24 * 30);
  store::TemplateVersionRow version;
  store::TemplateRow tmpl;
  store.in_tx([&](store::Store& tx) {
    version.id = Uuid::random_v4();
    auto job =
        finished_job(org.id, owner.id, file.id, "template_version_import",
                     store::ProvisionerJobInput{version.id, std::nullopt, {}}, epoch - hours(1));
    tx.insert_provisioner_job(job);
    tmpl.id = Uuid::random_v4();
    version.organization_id = org.id;
    version.name = "bench-v1";
    version.readme = "# bench\n";
    version.job_id = job.id;
    version.created_by = owner.id;
    version.created_at = job.created_at;
    version.updated_at = *job.completed_at;
    version.parameters = "[]";
    version.resources = "[]";
    tx.insert_template_version(version);
    tmpl.organization_id = org.id;
    tmpl.name = "bench";
    tmpl.display_name = "Bench";
    tmpl.description = "Seeded by berth_bench_seed";
    tmpl.provisioner = "terraform";
    tmpl.active_version_id = version.id;
    tmpl.created_by = owner.id;
    tmpl.created_at = *job.completed_at;
    tmpl.updated_at = *job.completed_at;
    tx.insert_template(tmpl);
    // As Templates::create_template does: the version exists first, then joins its template.
    tx.update_template_version_template_id(version.id, tmpl.id, tmpl.created_at);
    version.template_id = tmpl.id;
  });

  std::mt19937 rng(o.seed);
  std::uniform_int_distribution<int> build_count(1, 3);
  std::uniform_int_distribution<long> minute_of_month(0, 30L * 24 * 60 - 4 * 60);
  for (std::size_t start = 0; start < workspaces; start += batch) {
    std::size_t end = std::min(workspaces, start + batch);
    store.in_tx([&](store::Store& tx) {
      for (std::size_t i = start; i < end; ++i) {
        const auto& person = people[i % people.size()];
        auto created = epoch + minutes(minute_of_month(rng));
        store::WorkspaceRow w;
        w.id = Uuid::random_v4();
        w.created_at = created;
        w.owner_id = person.id;
        w.organization_id = org.id;
        w.template_id = tmpl.id;
        w.name = fmt::format("ws-{:06}", i);
        int builds = build_count(rng);
        w.updated_at = created + hours(builds);  // builds an hour apart, the last just ended
        w.last_used_at = w.updated_at;
        tx.insert_workspace(w);
        auto at = created;
        for (int b = 1; b <= builds; ++b) {
          auto transition =
              b % 2 == 1 ? sdk::WorkspaceTransition::start : sdk::WorkspaceTransition::stop;
          auto build_id = Uuid::random_v4();
          auto job = finished_job(org.id, person.id, file.id, "workspace_build",
                                  store::ProvisionerJobInput{std::nullopt, build_id, {}}, at);
          store::WorkspaceBuildRow build;
          build.id = build_id;
          build.created_at = at;
          build.updated_at = *job.completed_at;
          build.workspace_id = w.id;
          build.template_version_id = version.id;
          build.build_number = b;
          build.transition = transition;
          build.initiator_id = person.id;
          build.provisioner_state = "{}";
          build.job_id = job.id;
          tx.insert_provisioner_job(job);
          tx.insert_workspace_build(build);
          store::WorkspaceResourceRow home{Uuid::random_v4(),
                                           *job.completed_at,
                                           job.id,
                                           transition,
                                           "null_resource",
                                           "home",
                                           false,
                                           "",
                                           0,
                                           {}};
          tx.insert_workspace_resource(home);
          if (transition == sdk::WorkspaceTransition::start && agents) {
            store::WorkspaceResourceRow dev = home;
            dev.id = Uuid::random_v4();
            dev.name = "dev";
            tx.insert_workspace_resource(dev);
            store::WorkspaceAgentRow agent;
            agent.id = Uuid::random_v4();
            agent.created_at = *job.completed_at;
            agent.updated_at = *job.completed_at;
            agent.resource_id = dev.id;
            agent.name = "main";
            agent.auth_token_hash = to_hex(sha256(agent.id.to_string()));
            agent.config = agent_config(agent.id);
            tx.insert_workspace_agent(agent);
            ++seeded.agents;
          }
          ++seeded.builds;
          at += hours(1);
        }
        ++seeded.workspaces;
      }
    });
  }
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("seeded {}: {} users, 1 template, {} workspaces, {} builds, {} agents in {:.2f} s\n",
             data_dir, seeded.users, seeded.workspaces, seeded.builds, seeded.agents, elapsed);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Seed a Berth data directory with workspaces (for bench/run_workspaces.sh)"};
  Options o;
  app.add_option("--data-dir", o.data_dir, "data directory (berth.db is created in it)")
      ->required();
  app.add_option("-n,--workspaces", o.workspaces, "workspaces to create")
      ->check(CLI::Range(1, 200000));
  app.add_option("--members", o.members, "member users besides the owner")
      ->check(CLI::Range(0, 100));
  app.add_option("--batch", o.batch, "workspaces per transaction")->check(CLI::Range(1, 100000));
  app.add_flag("!--no-agents", o.agents, "give start builds no agent");
  app.add_option("--seed", o.seed, "random seed (build counts, dates)");
  app.add_option("--postgres-url", o.postgres_url,
                 "seed this PostgreSQL database (as berth server --postgres-url) instead");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  try {
    return seed_data_dir(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "berth_bench_seed: {}\n", e.what());
    return 1;
  }
}
