#include "store/sqlite/migrations.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "common/error.hpp"

namespace berth::store::sqlite {

namespace {

// Times are INTEGER microseconds since the Unix epoch (UTC); UUIDs are canonical TEXT.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE site_configs (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  username TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  hashed_password TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  rbac_roles TEXT NOT NULL DEFAULT '[]',
  login_type TEXT NOT NULL,
  avatar_url TEXT NOT NULL DEFAULT '',
  last_seen_at INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX users_username_lower_idx ON users (lower(username)) WHERE deleted = 0;
CREATE UNIQUE INDEX users_email_lower_idx ON users (lower(email)) WHERE deleted = 0;

CREATE TABLE organizations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  icon TEXT NOT NULL DEFAULT '',
  is_default INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX organizations_name_lower_idx ON organizations (lower(name));
CREATE UNIQUE INDEX organizations_single_default_idx ON organizations (is_default) WHERE is_default = 1;

CREATE TABLE organization_members (
  organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  roles TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_members_user_idx ON organization_members (user_id);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  hashed_secret BLOB NOT NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  last_used INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  login_type TEXT NOT NULL,
  lifetime_seconds INTEGER NOT NULL,
  ip_address TEXT NOT NULL DEFAULT '',
  scope TEXT NOT NULL DEFAULT 'all',
  token_name TEXT NOT NULL DEFAULT ''
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);
CREATE UNIQUE INDEX api_keys_user_token_name_idx ON api_keys (user_id, token_name) WHERE token_name <> '';
)sql";

// Templates and the provisioner job queue. Documents a version's import produced (parameters,
// variables, presets, dry-run resources) are stored as JSON: they are written once by the job
// and only ever read whole.
constexpr const char* kMigration2 = R"sql(
CREATE TABLE files (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  created_by TEXT NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  mimetype TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE UNIQUE INDEX files_hash_created_by_idx ON files (hash, created_by);

CREATE TABLE provisioner_jobs (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  started_at INTEGER,
  canceled_at INTEGER,
  completed_at INTEGER,
  error TEXT,
  error_code TEXT NOT NULL DEFAULT '',
  organization_id TEXT NOT NULL REFERENCES organizations (id),
  initiator_id TEXT NOT NULL,
  provisioner TEXT NOT NULL,
  storage_method TEXT NOT NULL,
  type TEXT NOT NULL,
  file_id TEXT NOT NULL REFERENCES files (id),
  input TEXT NOT NULL,
  tags TEXT NOT NULL,
  worker_id TEXT,
  worker_name TEXT NOT NULL DEFAULT '',
  logs_length INTEGER NOT NULL DEFAULT 0,
  logs_overflowed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX provisioner_jobs_pending_idx ON provisioner_jobs (created_at) WHERE started_at IS NULL;

CREATE TABLE provisioner_job_logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL REFERENCES provisioner_jobs (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  source TEXT NOT NULL,
  level TEXT NOT NULL,
  stage TEXT NOT NULL,
  output TEXT NOT NULL
);
CREATE INDEX provisioner_job_logs_job_idx ON provisioner_job_logs (job_id, id);

CREATE TABLE templates (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations (id),
  name TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  icon TEXT NOT NULL DEFAULT '',
  provisioner TEXT NOT NULL,
  active_version_id TEXT NOT NULL,
  created_by TEXT NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  policy TEXT NOT NULL
);
CREATE UNIQUE INDEX templates_org_name_idx ON templates (organization_id, lower(name)) WHERE deleted = 0;

CREATE TABLE template_versions (
  id TEXT PRIMARY KEY,
  template_id TEXT REFERENCES templates (id),
  organization_id TEXT NOT NULL REFERENCES organizations (id),
  name TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  readme TEXT NOT NULL DEFAULT '',
  job_id TEXT NOT NULL REFERENCES provisioner_jobs (id),
  created_by TEXT NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  archived INTEGER NOT NULL DEFAULT 0,
  has_ai_task INTEGER NOT NULL DEFAULT 0,
  has_external_agent INTEGER NOT NULL DEFAULT 0,
  user_variable_values TEXT NOT NULL DEFAULT '[]',
  parameters TEXT NOT NULL DEFAULT '[]',
  variables TEXT NOT NULL DEFAULT '[]',
  presets TEXT NOT NULL DEFAULT '[]',
  resources TEXT NOT NULL DEFAULT '[]',
  external_auth TEXT NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX template_versions_template_name_idx ON template_versions (template_id, lower(name)) WHERE template_id IS NOT NULL;
CREATE INDEX template_versions_job_idx ON template_versions (job_id);
)sql";

// Workspaces, their builds, and what each build created. An agent's static configuration
// (apps, scripts, env) is one JSON document written by its build; what changes while it runs
// (connection times, lifecycle) has columns. Agent tokens are stored as SHA-256 hashes.
constexpr const char* kMigration3 = R"sql(
CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  owner_id TEXT NOT NULL REFERENCES users (id),
  organization_id TEXT NOT NULL REFERENCES organizations (id),
  template_id TEXT NOT NULL REFERENCES templates (id),
  deleted INTEGER NOT NULL DEFAULT 0,
  name TEXT NOT NULL,
  autostart_schedule TEXT,
  ttl_ms INTEGER,
  last_used_at INTEGER NOT NULL,
  dormant_at INTEGER,
  deleting_at INTEGER,
  automatic_updates TEXT NOT NULL DEFAULT 'never',
  favorite INTEGER NOT NULL DEFAULT 0,
  next_start_at INTEGER
);
CREATE UNIQUE INDEX workspaces_owner_name_idx ON workspaces (owner_id, lower(name)) WHERE deleted = 0;
CREATE INDEX workspaces_template_idx ON workspaces (template_id);

CREATE TABLE workspace_builds (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces (id),
  template_version_id TEXT NOT NULL REFERENCES template_versions (id),
  build_number INTEGER NOT NULL,
  transition TEXT NOT NULL,
  initiator_id TEXT NOT NULL,
  provisioner_state BLOB NOT NULL DEFAULT '',
  job_id TEXT NOT NULL REFERENCES provisioner_jobs (id),
  deadline INTEGER,
  max_deadline INTEGER,
  reason TEXT NOT NULL DEFAULT 'initiator',
  daily_cost INTEGER NOT NULL DEFAULT 0,
  template_version_preset_id TEXT,
  has_ai_task INTEGER NOT NULL DEFAULT 0,
  has_external_agent INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX workspace_builds_number_idx ON workspace_builds (workspace_id, build_number);
CREATE INDEX workspace_builds_job_idx ON workspace_builds (job_id);

CREATE TABLE workspace_build_parameters (
  workspace_build_id TEXT NOT NULL REFERENCES workspace_builds (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (workspace_build_id, name)
);

CREATE TABLE workspace_resources (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  job_id TEXT NOT NULL REFERENCES provisioner_jobs (id),
  transition TEXT NOT NULL,
  type TEXT NOT NULL,
  name TEXT NOT NULL,
  hide INTEGER NOT NULL DEFAULT 0,
  icon TEXT NOT NULL DEFAULT '',
  daily_cost INTEGER NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX workspace_resources_job_idx ON workspace_resources (job_id);

CREATE TABLE workspace_agents (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  resource_id TEXT NOT NULL REFERENCES workspace_resources (id),
  name TEXT NOT NULL,
  auth_token_hash TEXT NOT NULL,
  config TEXT NOT NULL,
  first_connected_at INTEGER,
  last_connected_at INTEGER,
  disconnected_at INTEGER,
  lifecycle_state TEXT NOT NULL DEFAULT 'created',
  started_at INTEGER,
  ready_at INTEGER,
  version TEXT NOT NULL DEFAULT '',
  api_version TEXT NOT NULL DEFAULT '',
  expanded_directory TEXT NOT NULL DEFAULT '',
  logs_length INTEGER NOT NULL DEFAULT 0,
  logs_overflowed INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX workspace_agents_token_idx ON workspace_agents (auth_token_hash);
CREATE INDEX workspace_agents_resource_idx ON workspace_agents (resource_id);
)sql";

// What running agents report (logs, log sources, app health, metadata, script timings, app
// statuses for tasks), and named leases so that one replica at a time runs a periodic duty.
constexpr const char* kMigration4 = R"sql(
CREATE TABLE workspace_agent_log_sources (
  id TEXT NOT NULL,
  agent_id TEXT NOT NULL REFERENCES workspace_agents (id),
  created_at INTEGER NOT NULL,
  display_name TEXT NOT NULL,
  icon TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (agent_id, id)
);

CREATE TABLE workspace_agent_logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  agent_id TEXT NOT NULL REFERENCES workspace_agents (id),
  created_at INTEGER NOT NULL,
  output TEXT NOT NULL,
  level TEXT NOT NULL DEFAULT 'info',
  log_source_id TEXT NOT NULL
);
CREATE INDEX workspace_agent_logs_agent_idx ON workspace_agent_logs (agent_id, id);

CREATE TABLE workspace_app_health (
  agent_id TEXT NOT NULL REFERENCES workspace_agents (id),
  app_id TEXT NOT NULL,
  health TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (agent_id, app_id)
);

CREATE TABLE workspace_agent_metadata (
  agent_id TEXT NOT NULL REFERENCES workspace_agents (id),
  key TEXT NOT NULL,
  value TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  collected_at INTEGER NOT NULL,
  PRIMARY KEY (agent_id, key)
);

CREATE TABLE workspace_agent_script_timings (
  agent_id TEXT NOT NULL REFERENCES workspace_agents (id),
  script_id TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  exit_code INTEGER NOT NULL,
  stage TEXT NOT NULL,
  status TEXT NOT NULL
);
CREATE INDEX workspace_agent_script_timings_agent_idx ON workspace_agent_script_timings (agent_id);

CREATE TABLE workspace_app_statuses (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  agent_id TEXT NOT NULL REFERENCES workspace_agents (id),
  workspace_id TEXT NOT NULL REFERENCES workspaces (id),
  app_id TEXT NOT NULL,
  state TEXT NOT NULL,
  message TEXT NOT NULL,
  uri TEXT NOT NULL DEFAULT ''
);
CREATE INDEX workspace_app_statuses_workspace_idx ON workspace_app_statuses (workspace_id, created_at);

CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
)sql";

// AI tasks: a prompt and a workspace, the agent/app of each of its builds, and the last
// conversation snapshot the agent uploaded.
constexpr const char* kMigration5 = R"sql(
CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations (id),
  owner_id TEXT NOT NULL REFERENCES users (id),
  name TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  workspace_id TEXT REFERENCES workspaces (id),
  template_version_id TEXT NOT NULL REFERENCES template_versions (id),
  prompt TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE UNIQUE INDEX tasks_owner_name_idx ON tasks (owner_id, lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX tasks_workspace_idx ON tasks (workspace_id);

CREATE TABLE task_workspace_apps (
  task_id TEXT NOT NULL REFERENCES tasks (id),
  build_number INTEGER NOT NULL,
  agent_id TEXT,
  app_id TEXT,
  PRIMARY KEY (task_id, build_number)
);

CREATE TABLE task_snapshots (
  task_id TEXT PRIMARY KEY REFERENCES tasks (id),
  log_snapshot TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
)sql";

// Lifecycle: the owner's quiet hours (empty = the deployment default) bound max_deadline;
// the latest stats each agent reported (sessions, traffic, its round trip to the server).
constexpr const char* kMigration6 = R"sql(
ALTER TABLE users ADD COLUMN quiet_hours_schedule TEXT NOT NULL DEFAULT '';

CREATE TABLE workspace_agent_stats (
  agent_id TEXT PRIMARY KEY REFERENCES workspace_agents (id),
  updated_at INTEGER NOT NULL,
  stats TEXT NOT NULL,
  latency_us INTEGER
);
)sql";

// The lifecycle executor's candidate query reads these instead of every workspace and build.
constexpr const char* kMigration7 = R"sql(
CREATE INDEX workspace_builds_start_deadline_idx ON workspace_builds (deadline)
  WHERE transition = 'start' AND deadline IS NOT NULL;
CREATE INDEX workspaces_autostart_idx ON workspaces (id)
  WHERE autostart_schedule IS NOT NULL;
CREATE INDEX workspaces_deleting_idx ON workspaces (deleting_at)
  WHERE deleting_at IS NOT NULL;
CREATE INDEX workspaces_last_used_idx ON workspaces (template_id, last_used_at)
  WHERE dormant_at IS NULL;
CREATE INDEX workspaces_owner_idx ON workspaces (owner_id);
CREATE INDEX provisioner_jobs_failed_idx ON provisioner_jobs (id)
  WHERE error IS NOT NULL AND error <> '';
)sql";

// The workspace list's sort keys kept on the workspace row, so that a page is read from one
// index in Coder's order instead of sorting every workspace: the latest build, whether it left
// the workspace running, and the owner's username. Triggers keep them true on every write.
constexpr const char* kMigration8 = R"sql(
ALTER TABLE workspaces ADD COLUMN latest_build_id TEXT;
ALTER TABLE workspaces ADD COLUMN running INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN owner_username TEXT NOT NULL DEFAULT '';

UPDATE workspaces SET
  owner_username = COALESCE((SELECT username FROM users WHERE users.id = workspaces.owner_id), ''),
  latest_build_id = (SELECT id FROM workspace_builds b WHERE b.workspace_id = workspaces.id
                     ORDER BY b.build_number DESC LIMIT 1);
UPDATE workspaces SET running = COALESCE((
  SELECT b.transition = 'start' AND j.completed_at IS NOT NULL AND COALESCE(j.error, '') = ''
         AND j.canceled_at IS NULL
  FROM workspace_builds b JOIN provisioner_jobs j ON j.id = b.job_id
  WHERE b.id = workspaces.latest_build_id), 0);

CREATE INDEX workspaces_list_order_idx
  ON workspaces (running DESC, lower(owner_username), lower(name), id) WHERE deleted = 0;
CREATE INDEX workspaces_latest_build_idx ON workspaces (latest_build_id);
CREATE INDEX workspaces_favorite_idx ON workspaces (owner_id) WHERE favorite = 1;

CREATE TRIGGER workspaces_owner_username AFTER INSERT ON workspaces BEGIN
  UPDATE workspaces SET owner_username = (SELECT username FROM users WHERE id = NEW.owner_id)
  WHERE id = NEW.id;
END;
CREATE TRIGGER users_username_on_workspaces AFTER UPDATE OF username ON users BEGIN
  UPDATE workspaces SET owner_username = NEW.username WHERE owner_id = NEW.id;
END;
CREATE TRIGGER workspace_builds_latest AFTER INSERT ON workspace_builds BEGIN
  UPDATE workspaces SET
    latest_build_id = NEW.id,
    running = COALESCE((SELECT NEW.transition = 'start' AND j.completed_at IS NOT NULL
                               AND COALESCE(j.error, '') = '' AND j.canceled_at IS NULL
                        FROM provisioner_jobs j WHERE j.id = NEW.job_id), 0)
  WHERE id = NEW.workspace_id AND (latest_build_id IS NULL OR NEW.build_number >
    (SELECT build_number FROM workspace_builds WHERE id = workspaces.latest_build_id));
END;
CREATE TRIGGER provisioner_jobs_running AFTER UPDATE OF completed_at, canceled_at, error
  ON provisioner_jobs BEGIN
  UPDATE workspaces SET running = COALESCE((
    SELECT b.transition = 'start' AND NEW.completed_at IS NOT NULL
           AND COALESCE(NEW.error, '') = '' AND NEW.canceled_at IS NULL
    FROM workspace_builds b WHERE b.id = workspaces.latest_build_id), 0)
  WHERE latest_build_id IN (SELECT id FROM workspace_builds WHERE job_id = NEW.id);
END;
)sql";

// What was done to what, by whom: state-changing requests, successful or not. No request or
// response bodies are kept, so no secret can land here.
constexpr const char* kMigration9 = R"sql(
CREATE TABLE audit_logs (
  id TEXT PRIMARY KEY,
  time INTEGER NOT NULL,
  user_id TEXT,
  organization_id TEXT,
  ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT '',
  resource_type TEXT NOT NULL,
  resource_id TEXT,
  resource_target TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL,
  status_code INTEGER NOT NULL,
  additional_fields TEXT NOT NULL DEFAULT '{}',
  request_id TEXT NOT NULL
);
CREATE INDEX audit_logs_time_idx ON audit_logs (time DESC, id);
)sql";

// The number of live workspaces, kept by triggers: the unfiltered list's count is then one
// read instead of a scan of every workspace.
constexpr const char* kMigration10 = R"sql(
CREATE TABLE workspace_counts (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  live INTEGER NOT NULL
);
INSERT INTO workspace_counts (id, live) SELECT 1, COUNT(*) FROM workspaces WHERE deleted = 0;
CREATE TRIGGER workspace_counts_insert AFTER INSERT ON workspaces WHEN NEW.deleted = 0 BEGIN
  UPDATE workspace_counts SET live = live + 1 WHERE id = 1;
END;
CREATE TRIGGER workspace_counts_deleted AFTER UPDATE OF deleted ON workspaces
  WHEN OLD.deleted <> NEW.deleted BEGIN
  UPDATE workspace_counts SET live = live + (CASE WHEN NEW.deleted = 0 THEN 1 ELSE -1 END)
  WHERE id = 1;
END;
CREATE TRIGGER workspace_counts_delete AFTER DELETE ON workspaces WHEN OLD.deleted = 0 BEGIN
  UPDATE workspace_counts SET live = live - 1 WHERE id = 1;
END;
)sql";

// The `berth server` processes on this database (Coder's replicas): each writes its row at
// start, bumps updated_at on every heartbeat and sets stopped_at when it shuts down; the live
// ones are those heard from lately and not stopped.
constexpr const char* kMigration11 = R"sql(
CREATE TABLE replicas (
  id TEXT PRIMARY KEY,
  hostname TEXT NOT NULL,
  relay_address TEXT NOT NULL DEFAULT '',
  region_id INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT '',
  started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  stopped_at INTEGER,
  error TEXT NOT NULL DEFAULT '',
  database_latency_us INTEGER NOT NULL DEFAULT 0
);
)sql";

// Which replica holds each agent's live connection, so that a request that must reach into a
// workspace (app, terminal, port stream, task call) arriving at another replica is relayed to
// it. Written when the agent connects, removed when it disconnects from that replica; a row
// of a replica that died stays until the agent connects elsewhere (readers check the replica
// is alive).
constexpr const char* kMigration12 = R"sql(
CREATE TABLE agent_connections (
  agent_id TEXT PRIMARY KEY,
  replica_id TEXT NOT NULL,
  connected_at INTEGER NOT NULL
);
)sql";

// Provisioner keys (secrets hashed) and the provisioner daemons heard from, built in or
// external: Coder's provisioner_keys and provisioner_daemons. A daemon row is written each time
// the daemon asks for a job or heartbeats one; it names the job it runs and the one before.
constexpr const char* kMigration13 = R"sql(
CREATE TABLE provisioner_keys (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  hashed_secret TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX provisioner_keys_organization_name_idx
  ON provisioner_keys (organization_id, lower(name));
CREATE UNIQUE INDEX provisioner_keys_hashed_secret_idx ON provisioner_keys (hashed_secret);

CREATE TABLE provisioner_daemons (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  organization_id TEXT,
  name TEXT NOT NULL,
  key_id TEXT,
  tags TEXT NOT NULL DEFAULT '{}',
  provisioners TEXT NOT NULL DEFAULT '[]',
  version TEXT NOT NULL DEFAULT '',
  api_version TEXT NOT NULL DEFAULT '',
  last_seen_at INTEGER NOT NULL,
  current_job_id TEXT,
  previous_job_id TEXT
);
CREATE INDEX provisioner_daemons_organization_idx ON provisioner_daemons (organization_id);
CREATE INDEX provisioner_daemons_current_job_idx ON provisioner_daemons (current_job_id);
)sql";

constexpr std::array kMigrations = {
    kMigration1, kMigration2, kMigration3,  kMigration4,  kMigration5,  kMigration6, kMigration7,
    kMigration8, kMigration9, kMigration10, kMigration11, kMigration12, kMigration13};

int current_version(Database& db) {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)");
  Statement q(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  q.step();
  return int(q.integer(0));
}

void apply(Database& db, int version, const char* sql) {
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(sql);
    Statement q(db, "INSERT INTO schema_migrations (version) VALUES (?)");
    q.bind(1, std::int64_t(version)).run();
    db.exec("COMMIT");
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
}

}  // namespace

int latest_schema_version() {
  return int(kMigrations.size());
}

void migrate(Database& db, int up_to) {
  int version = current_version(db);
  if (version > latest_schema_version())
    throw Error{ErrorCode::unavailable,
                fmt::format("The database was written by a newer version of Berth (schema version "
                            "{}); this binary supports up to schema version {}. Upgrade Berth.",
                            version, latest_schema_version())};
  up_to = std::min(up_to, latest_schema_version());
  for (int v = version + 1; v <= up_to; ++v) apply(db, v, kMigrations[v - 1]);
}

}  // namespace berth::store::sqlite
