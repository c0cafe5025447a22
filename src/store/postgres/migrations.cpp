#include "store/postgres/migrations.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

#include "common/error.hpp"

namespace berth::store::postgres {

using sqlite::Database;
using sqlite::Statement;

namespace {

// The schema of store/sqlite/migrations.cpp, migration for migration, so that the store's SQL
// runs unchanged on either engine:
// - The same tables, columns, indexes, constraints and defaults. INTEGER is BIGINT (times are
//   microseconds; flags stay 0/1 integers, since the shared SQL compares `deleted = 0` and binds
//   0/1), BLOB is BYTEA, and an auto-numbered INTEGER PRIMARY KEY is an identity column.
// - Every TEXT column is COLLATE "C": SQLite compares and sorts text by bytes (its BINARY
//   collation), and so must the listings here, whatever the database's default locale. (lower()
//   under "C" folds ASCII only, like SQLite's.)
// - SQLite numbers every row of an ordinary table (rowid) and the store orders some listings by
//   it (insertion order). Those tables get a column literally named `rowid`, numbered by
//   PostgreSQL, so that the same `ORDER BY ... rowid` works.
// - A trigger is a PL/pgSQL function of the same name and a FOR EACH ROW trigger with the same
//   event, columns and WHEN condition. SQLite's boolean expressions are 0/1 integers; here they
//   are booleans, made 0/1 with CASE.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE site_configs (
  key TEXT COLLATE "C" PRIMARY KEY,
  value TEXT COLLATE "C" NOT NULL
);

CREATE TABLE users (
  id TEXT COLLATE "C" PRIMARY KEY,
  email TEXT COLLATE "C" NOT NULL,
  username TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL DEFAULT '',
  hashed_password TEXT COLLATE "C" NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  status TEXT COLLATE "C" NOT NULL,
  rbac_roles TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  login_type TEXT COLLATE "C" NOT NULL,
  avatar_url TEXT COLLATE "C" NOT NULL DEFAULT '',
  last_seen_at BIGINT NOT NULL,
  deleted BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX users_username_lower_idx ON users (lower(username)) WHERE deleted = 0;
CREATE UNIQUE INDEX users_email_lower_idx ON users (lower(email)) WHERE deleted = 0;

CREATE TABLE organizations (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL,
  display_name TEXT COLLATE "C" NOT NULL DEFAULT '',
  description TEXT COLLATE "C" NOT NULL DEFAULT '',
  icon TEXT COLLATE "C" NOT NULL DEFAULT '',
  is_default BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX organizations_name_lower_idx ON organizations (lower(name));
CREATE UNIQUE INDEX organizations_single_default_idx ON organizations (is_default) WHERE is_default = 1;

CREATE TABLE organization_members (
  organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  roles TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_members_user_idx ON organization_members (user_id);

CREATE TABLE api_keys (
  id TEXT COLLATE "C" PRIMARY KEY,
  hashed_secret BYTEA NOT NULL,
  user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  last_used BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  login_type TEXT COLLATE "C" NOT NULL,
  lifetime_seconds BIGINT NOT NULL,
  ip_address TEXT COLLATE "C" NOT NULL DEFAULT '',
  scope TEXT COLLATE "C" NOT NULL DEFAULT 'all',
  token_name TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);
CREATE UNIQUE INDEX api_keys_user_token_name_idx ON api_keys (user_id, token_name) WHERE token_name <> '';
)sql";

constexpr const char* kMigration2 = R"sql(
CREATE TABLE files (
  id TEXT COLLATE "C" PRIMARY KEY,
  hash TEXT COLLATE "C" NOT NULL,
  created_by TEXT COLLATE "C" NOT NULL REFERENCES users (id),
  created_at BIGINT NOT NULL,
  mimetype TEXT COLLATE "C" NOT NULL,
  data BYTEA NOT NULL
);
CREATE UNIQUE INDEX files_hash_created_by_idx ON files (hash, created_by);

CREATE TABLE provisioner_jobs (
  id TEXT COLLATE "C" PRIMARY KEY,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  started_at BIGINT,
  canceled_at BIGINT,
  completed_at BIGINT,
  error TEXT COLLATE "C",
  error_code TEXT COLLATE "C" NOT NULL DEFAULT '',
  organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
  initiator_id TEXT COLLATE "C" NOT NULL,
  provisioner TEXT COLLATE "C" NOT NULL,
  storage_method TEXT COLLATE "C" NOT NULL,
  type TEXT COLLATE "C" NOT NULL,
  file_id TEXT COLLATE "C" NOT NULL REFERENCES files (id),
  input TEXT COLLATE "C" NOT NULL,
  tags TEXT COLLATE "C" NOT NULL,
  worker_id TEXT COLLATE "C",
  worker_name TEXT COLLATE "C" NOT NULL DEFAULT '',
  logs_length BIGINT NOT NULL DEFAULT 0,
  logs_overflowed BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX provisioner_jobs_pending_idx ON provisioner_jobs (created_at) WHERE started_at IS NULL;

CREATE TABLE provisioner_job_logs (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  job_id TEXT COLLATE "C" NOT NULL REFERENCES provisioner_jobs (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  source TEXT COLLATE "C" NOT NULL,
  level TEXT COLLATE "C" NOT NULL,
  stage TEXT COLLATE "C" NOT NULL,
  output TEXT COLLATE "C" NOT NULL
);
CREATE INDEX provisioner_job_logs_job_idx ON provisioner_job_logs (job_id, id);

CREATE TABLE templates (
  id TEXT COLLATE "C" PRIMARY KEY,
  organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
  name TEXT COLLATE "C" NOT NULL,
  display_name TEXT COLLATE "C" NOT NULL DEFAULT '',
  description TEXT COLLATE "C" NOT NULL DEFAULT '',
  icon TEXT COLLATE "C" NOT NULL DEFAULT '',
  provisioner TEXT COLLATE "C" NOT NULL,
  active_version_id TEXT COLLATE "C" NOT NULL,
  created_by TEXT COLLATE "C" NOT NULL REFERENCES users (id),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  deleted BIGINT NOT NULL DEFAULT 0,
  policy TEXT COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX templates_org_name_idx ON templates (organization_id, lower(name)) WHERE deleted = 0;

CREATE TABLE template_versions (
  id TEXT COLLATE "C" PRIMARY KEY,
  template_id TEXT COLLATE "C" REFERENCES templates (id),
  organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
  name TEXT COLLATE "C" NOT NULL,
  message TEXT COLLATE "C" NOT NULL DEFAULT '',
  readme TEXT COLLATE "C" NOT NULL DEFAULT '',
  job_id TEXT COLLATE "C" NOT NULL REFERENCES provisioner_jobs (id),
  created_by TEXT COLLATE "C" NOT NULL REFERENCES users (id),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  archived BIGINT NOT NULL DEFAULT 0,
  has_ai_task BIGINT NOT NULL DEFAULT 0,
  has_external_agent BIGINT NOT NULL DEFAULT 0,
  user_variable_values TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  parameters TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  variables TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  presets TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  resources TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  external_auth TEXT COLLATE "C" NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX template_versions_template_name_idx ON template_versions (template_id, lower(name)) WHERE template_id IS NOT NULL;
CREATE INDEX template_versions_job_idx ON template_versions (job_id);
)sql";

// workspace_build_parameters and workspace_resources are listed in insertion order: rowid.
constexpr const char* kMigration3 = R"sql(
CREATE TABLE workspaces (
  id TEXT COLLATE "C" PRIMARY KEY,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  owner_id TEXT COLLATE "C" NOT NULL REFERENCES users (id),
  organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
  template_id TEXT COLLATE "C" NOT NULL REFERENCES templates (id),
  deleted BIGINT NOT NULL DEFAULT 0,
  name TEXT COLLATE "C" NOT NULL,
  autostart_schedule TEXT COLLATE "C",
  ttl_ms BIGINT,
  last_used_at BIGINT NOT NULL,
  dormant_at BIGINT,
  deleting_at BIGINT,
  automatic_updates TEXT COLLATE "C" NOT NULL DEFAULT 'never',
  favorite BIGINT NOT NULL DEFAULT 0,
  next_start_at BIGINT
);
CREATE UNIQUE INDEX workspaces_owner_name_idx ON workspaces (owner_id, lower(name)) WHERE deleted = 0;
CREATE INDEX workspaces_template_idx ON workspaces (template_id);

CREATE TABLE workspace_builds (
  id TEXT COLLATE "C" PRIMARY KEY,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces (id),
  template_version_id TEXT COLLATE "C" NOT NULL REFERENCES template_versions (id),
  build_number BIGINT NOT NULL,
  transition TEXT COLLATE "C" NOT NULL,
  initiator_id TEXT COLLATE "C" NOT NULL,
  provisioner_state BYTEA NOT NULL DEFAULT '',
  job_id TEXT COLLATE "C" NOT NULL REFERENCES provisioner_jobs (id),
  deadline BIGINT,
  max_deadline BIGINT,
  reason TEXT COLLATE "C" NOT NULL DEFAULT 'initiator',
  daily_cost BIGINT NOT NULL DEFAULT 0,
  template_version_preset_id TEXT COLLATE "C",
  has_ai_task BIGINT NOT NULL DEFAULT 0,
  has_external_agent BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX workspace_builds_number_idx ON workspace_builds (workspace_id, build_number);
CREATE INDEX workspace_builds_job_idx ON workspace_builds (job_id);

CREATE TABLE workspace_build_parameters (
  workspace_build_id TEXT COLLATE "C" NOT NULL REFERENCES workspace_builds (id) ON DELETE CASCADE,
  name TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL,
  rowid BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (workspace_build_id, name)
);

CREATE TABLE workspace_resources (
  id TEXT COLLATE "C" PRIMARY KEY,
  created_at BIGINT NOT NULL,
  job_id TEXT COLLATE "C" NOT NULL REFERENCES provisioner_jobs (id),
  transition TEXT COLLATE "C" NOT NULL,
  type TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  hide BIGINT NOT NULL DEFAULT 0,
  icon TEXT COLLATE "C" NOT NULL DEFAULT '',
  daily_cost BIGINT NOT NULL DEFAULT 0,
  metadata TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  rowid BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX workspace_resources_job_idx ON workspace_resources (job_id);

CREATE TABLE workspace_agents (
  id TEXT COLLATE "C" PRIMARY KEY,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  resource_id TEXT COLLATE "C" NOT NULL REFERENCES workspace_resources (id),
  name TEXT COLLATE "C" NOT NULL,
  auth_token_hash TEXT COLLATE "C" NOT NULL,
  config TEXT COLLATE "C" NOT NULL,
  first_connected_at BIGINT,
  last_connected_at BIGINT,
  disconnected_at BIGINT,
  lifecycle_state TEXT COLLATE "C" NOT NULL DEFAULT 'created',
  started_at BIGINT,
  ready_at BIGINT,
  version TEXT COLLATE "C" NOT NULL DEFAULT '',
  api_version TEXT COLLATE "C" NOT NULL DEFAULT '',
  expanded_directory TEXT COLLATE "C" NOT NULL DEFAULT '',
  logs_length BIGINT NOT NULL DEFAULT 0,
  logs_overflowed BIGINT NOT NULL DEFAULT 0,
  deleted BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX workspace_agents_token_idx ON workspace_agents (auth_token_hash);
CREATE INDEX workspace_agents_resource_idx ON workspace_agents (resource_id);
)sql";

// Log sources, script timings and app statuses are listed in insertion order: rowid.
constexpr const char* kMigration4 = R"sql(
CREATE TABLE workspace_agent_log_sources (
  id TEXT COLLATE "C" NOT NULL,
  agent_id TEXT COLLATE "C" NOT NULL REFERENCES workspace_agents (id),
  created_at BIGINT NOT NULL,
  display_name TEXT COLLATE "C" NOT NULL,
  icon TEXT COLLATE "C" NOT NULL DEFAULT '',
  rowid BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (agent_id, id)
);

CREATE TABLE workspace_agent_logs (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  agent_id TEXT COLLATE "C" NOT NULL REFERENCES workspace_agents (id),
  created_at BIGINT NOT NULL,
  output TEXT COLLATE "C" NOT NULL,
  level TEXT COLLATE "C" NOT NULL DEFAULT 'info',
  log_source_id TEXT COLLATE "C" NOT NULL
);
CREATE INDEX workspace_agent_logs_agent_idx ON workspace_agent_logs (agent_id, id);

CREATE TABLE workspace_app_health (
  agent_id TEXT COLLATE "C" NOT NULL REFERENCES workspace_agents (id),
  app_id TEXT COLLATE "C" NOT NULL,
  health TEXT COLLATE "C" NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (agent_id, app_id)
);

CREATE TABLE workspace_agent_metadata (
  agent_id TEXT COLLATE "C" NOT NULL REFERENCES workspace_agents (id),
  key TEXT COLLATE "C" NOT NULL,
  value TEXT COLLATE "C" NOT NULL DEFAULT '',
  error TEXT COLLATE "C" NOT NULL DEFAULT '',
  collected_at BIGINT NOT NULL,
  PRIMARY KEY (agent_id, key)
);

CREATE TABLE workspace_agent_script_timings (
  agent_id TEXT COLLATE "C" NOT NULL REFERENCES workspace_agents (id),
  script_id TEXT COLLATE "C" NOT NULL,
  display_name TEXT COLLATE "C" NOT NULL DEFAULT '',
  started_at BIGINT NOT NULL,
  ended_at BIGINT NOT NULL,
  exit_code BIGINT NOT NULL,
  stage TEXT COLLATE "C" NOT NULL,
  status TEXT COLLATE "C" NOT NULL,
  rowid BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX workspace_agent_script_timings_agent_idx ON workspace_agent_script_timings (agent_id);

CREATE TABLE workspace_app_statuses (
  id TEXT COLLATE "C" PRIMARY KEY,
  created_at BIGINT NOT NULL,
  agent_id TEXT COLLATE "C" NOT NULL REFERENCES workspace_agents (id),
  workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces (id),
  app_id TEXT COLLATE "C" NOT NULL,
  state TEXT COLLATE "C" NOT NULL,
  message TEXT COLLATE "C" NOT NULL,
  uri TEXT COLLATE "C" NOT NULL DEFAULT '',
  rowid BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX workspace_app_statuses_workspace_idx ON workspace_app_statuses (workspace_id, created_at);

CREATE TABLE leases (
  name TEXT COLLATE "C" PRIMARY KEY,
  holder TEXT COLLATE "C" NOT NULL,
  expires_at BIGINT NOT NULL
);
)sql";

constexpr const char* kMigration5 = R"sql(
CREATE TABLE tasks (
  id TEXT COLLATE "C" PRIMARY KEY,
  organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id),
  owner_id TEXT COLLATE "C" NOT NULL REFERENCES users (id),
  name TEXT COLLATE "C" NOT NULL,
  display_name TEXT COLLATE "C" NOT NULL DEFAULT '',
  workspace_id TEXT COLLATE "C" REFERENCES workspaces (id),
  template_version_id TEXT COLLATE "C" NOT NULL REFERENCES template_versions (id),
  prompt TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL,
  deleted_at BIGINT
);
CREATE UNIQUE INDEX tasks_owner_name_idx ON tasks (owner_id, lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX tasks_workspace_idx ON tasks (workspace_id);

CREATE TABLE task_workspace_apps (
  task_id TEXT COLLATE "C" NOT NULL REFERENCES tasks (id),
  build_number BIGINT NOT NULL,
  agent_id TEXT COLLATE "C",
  app_id TEXT COLLATE "C",
  PRIMARY KEY (task_id, build_number)
);

CREATE TABLE task_snapshots (
  task_id TEXT COLLATE "C" PRIMARY KEY REFERENCES tasks (id),
  log_snapshot TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL
);
)sql";

constexpr const char* kMigration6 = R"sql(
ALTER TABLE users ADD COLUMN quiet_hours_schedule TEXT COLLATE "C" NOT NULL DEFAULT '';

CREATE TABLE workspace_agent_stats (
  agent_id TEXT COLLATE "C" PRIMARY KEY REFERENCES workspace_agents (id),
  updated_at BIGINT NOT NULL,
  stats TEXT COLLATE "C" NOT NULL,
  latency_us BIGINT
);
)sql";

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

// The workspace list's sort keys on the workspace row, kept by triggers (see SQLite's).
// owner_username is set BEFORE INSERT rather than by SQLite's AFTER INSERT update of the new
// row: the same value, without writing the row twice. (COALESCE: an unknown owner then fails
// the foreign key, as it must, rather than NOT NULL.)
constexpr const char* kMigration8 = R"sql(
ALTER TABLE workspaces ADD COLUMN latest_build_id TEXT COLLATE "C";
ALTER TABLE workspaces ADD COLUMN running BIGINT NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN owner_username TEXT COLLATE "C" NOT NULL DEFAULT '';

UPDATE workspaces SET
  owner_username = COALESCE((SELECT username FROM users WHERE users.id = workspaces.owner_id), ''),
  latest_build_id = (SELECT id FROM workspace_builds b WHERE b.workspace_id = workspaces.id
                     ORDER BY b.build_number DESC LIMIT 1);
UPDATE workspaces SET running = COALESCE((
  SELECT CASE WHEN b.transition = 'start' AND j.completed_at IS NOT NULL
                   AND COALESCE(j.error, '') = '' AND j.canceled_at IS NULL THEN 1 ELSE 0 END
  FROM workspace_builds b JOIN provisioner_jobs j ON j.id = b.job_id
  WHERE b.id = workspaces.latest_build_id), 0);

CREATE INDEX workspaces_list_order_idx
  ON workspaces (running DESC, lower(owner_username), lower(name), id) WHERE deleted = 0;
CREATE INDEX workspaces_latest_build_idx ON workspaces (latest_build_id);
CREATE INDEX workspaces_favorite_idx ON workspaces (owner_id) WHERE favorite = 1;

CREATE FUNCTION workspaces_owner_username() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.owner_username := COALESCE((SELECT username FROM users WHERE id = NEW.owner_id), '');
  RETURN NEW;
END $$;
CREATE TRIGGER workspaces_owner_username BEFORE INSERT ON workspaces
  FOR EACH ROW EXECUTE FUNCTION workspaces_owner_username();

CREATE FUNCTION users_username_on_workspaces() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE workspaces SET owner_username = NEW.username WHERE owner_id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER users_username_on_workspaces AFTER UPDATE OF username ON users
  FOR EACH ROW EXECUTE FUNCTION users_username_on_workspaces();

CREATE FUNCTION workspace_builds_latest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE workspaces SET
    latest_build_id = NEW.id,
    running = COALESCE((SELECT CASE WHEN NEW.transition = 'start' AND j.completed_at IS NOT NULL
                                         AND COALESCE(j.error, '') = ''
                                         AND j.canceled_at IS NULL THEN 1 ELSE 0 END
                        FROM provisioner_jobs j WHERE j.id = NEW.job_id), 0)
  WHERE id = NEW.workspace_id AND (latest_build_id IS NULL OR NEW.build_number >
    (SELECT build_number FROM workspace_builds WHERE id = workspaces.latest_build_id));
  RETURN NULL;
END $$;
CREATE TRIGGER workspace_builds_latest AFTER INSERT ON workspace_builds
  FOR EACH ROW EXECUTE FUNCTION workspace_builds_latest();

CREATE FUNCTION provisioner_jobs_running() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE workspaces SET running = COALESCE((
    SELECT CASE WHEN b.transition = 'start' AND NEW.completed_at IS NOT NULL
                     AND COALESCE(NEW.error, '') = '' AND NEW.canceled_at IS NULL
                THEN 1 ELSE 0 END
    FROM workspace_builds b WHERE b.id = workspaces.latest_build_id), 0)
  WHERE latest_build_id IN (SELECT id FROM workspace_builds WHERE job_id = NEW.id);
  RETURN NULL;
END $$;
CREATE TRIGGER provisioner_jobs_running AFTER UPDATE OF completed_at, canceled_at, error
  ON provisioner_jobs FOR EACH ROW EXECUTE FUNCTION provisioner_jobs_running();
)sql";

constexpr const char* kMigration9 = R"sql(
CREATE TABLE audit_logs (
  id TEXT COLLATE "C" PRIMARY KEY,
  time BIGINT NOT NULL,
  user_id TEXT COLLATE "C",
  organization_id TEXT COLLATE "C",
  ip TEXT COLLATE "C" NOT NULL DEFAULT '',
  user_agent TEXT COLLATE "C" NOT NULL DEFAULT '',
  resource_type TEXT COLLATE "C" NOT NULL,
  resource_id TEXT COLLATE "C",
  resource_target TEXT COLLATE "C" NOT NULL DEFAULT '',
  action TEXT COLLATE "C" NOT NULL,
  status_code BIGINT NOT NULL,
  additional_fields TEXT COLLATE "C" NOT NULL DEFAULT '{}',
  request_id TEXT COLLATE "C" NOT NULL
);
CREATE INDEX audit_logs_time_idx ON audit_logs (time DESC, id);
)sql";

// The number of live workspaces, kept by triggers. (Its one row is written by every
// transaction that creates or deletes a workspace: they take turns on its row lock.)
constexpr const char* kMigration10 = R"sql(
CREATE TABLE workspace_counts (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  live BIGINT NOT NULL
);
INSERT INTO workspace_counts (id, live) SELECT 1, COUNT(*) FROM workspaces WHERE deleted = 0;

CREATE FUNCTION workspace_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE workspace_counts SET live = live + 1 WHERE id = 1;
  RETURN NULL;
END $$;
CREATE TRIGGER workspace_counts_insert AFTER INSERT ON workspaces
  FOR EACH ROW WHEN (NEW.deleted = 0) EXECUTE FUNCTION workspace_counts_insert();

CREATE FUNCTION workspace_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE workspace_counts SET live = live + (CASE WHEN NEW.deleted = 0 THEN 1 ELSE -1 END)
  WHERE id = 1;
  RETURN NULL;
END $$;
CREATE TRIGGER workspace_counts_deleted AFTER UPDATE OF deleted ON workspaces
  FOR EACH ROW WHEN (OLD.deleted <> NEW.deleted) EXECUTE FUNCTION workspace_counts_deleted();

CREATE FUNCTION workspace_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE workspace_counts SET live = live - 1 WHERE id = 1;
  RETURN NULL;
END $$;
CREATE TRIGGER workspace_counts_delete AFTER DELETE ON workspaces
  FOR EACH ROW WHEN (OLD.deleted = 0) EXECUTE FUNCTION workspace_counts_delete();
)sql";

// The `berth server` processes on this database (Coder's replicas).
constexpr const char* kMigration11 = R"sql(
CREATE TABLE replicas (
  id TEXT COLLATE "C" PRIMARY KEY,
  hostname TEXT COLLATE "C" NOT NULL,
  relay_address TEXT COLLATE "C" NOT NULL DEFAULT '',
  region_id BIGINT NOT NULL DEFAULT 0,
  version TEXT COLLATE "C" NOT NULL DEFAULT '',
  started_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  stopped_at BIGINT,
  error TEXT COLLATE "C" NOT NULL DEFAULT '',
  database_latency_us BIGINT NOT NULL DEFAULT 0
);
)sql";

// Which replica holds each agent's live connection.
constexpr const char* kMigration12 = R"sql(
CREATE TABLE agent_connections (
  agent_id TEXT COLLATE "C" PRIMARY KEY,
  replica_id TEXT COLLATE "C" NOT NULL,
  connected_at BIGINT NOT NULL
);
)sql";

// Provisioner keys and the provisioner daemons heard from.
constexpr const char* kMigration13 = R"sql(
CREATE TABLE provisioner_keys (
  id TEXT COLLATE "C" PRIMARY KEY,
  created_at BIGINT NOT NULL,
  organization_id TEXT COLLATE "C" NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name TEXT COLLATE "C" NOT NULL,
  hashed_secret TEXT COLLATE "C" NOT NULL,
  tags TEXT COLLATE "C" NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX provisioner_keys_organization_name_idx
  ON provisioner_keys (organization_id, lower(name));
CREATE UNIQUE INDEX provisioner_keys_hashed_secret_idx ON provisioner_keys (hashed_secret);

CREATE TABLE provisioner_daemons (
  id TEXT COLLATE "C" PRIMARY KEY,
  created_at BIGINT NOT NULL,
  organization_id TEXT COLLATE "C",
  name TEXT COLLATE "C" NOT NULL,
  key_id TEXT COLLATE "C",
  tags TEXT COLLATE "C" NOT NULL DEFAULT '{}',
  provisioners TEXT COLLATE "C" NOT NULL DEFAULT '[]',
  version TEXT COLLATE "C" NOT NULL DEFAULT '',
  api_version TEXT COLLATE "C" NOT NULL DEFAULT '',
  last_seen_at BIGINT NOT NULL,
  current_job_id TEXT COLLATE "C",
  previous_job_id TEXT COLLATE "C"
);
CREATE INDEX provisioner_daemons_organization_idx ON provisioner_daemons (organization_id);
CREATE INDEX provisioner_daemons_current_job_idx ON provisioner_daemons (current_job_id);
)sql";

// SQLite's functions that the shared SQL calls, as PostgreSQL functions of the same names and
// results. Not part of the numbered schema: replaced on every start, so that a fix ships with
// the binary.
// - instr(text, text): where the second starts in the first (from 1), else 0.
// - json_each(text): a (key, value) row per element of an array (key: its index) or member of
//   an object; none for NULL.
// - json_extract(text, path): one value, NULL when missing. Paths: '$', '$.a.b', '$.a[0]'.
// - json_type(text[, path]): 'object', 'array', 'text', 'integer', 'real', 'true', 'false' or
//   'null'; NULL when missing.
// A JSON string, number or boolean comes as its text (SQLite gives 1 for true, and writes the
// real 1e3 as 1000.0), an object or array as its JSON, null as NULL.
constexpr const char* kSqliteFunctions = R"sql(
CREATE OR REPLACE FUNCTION instr(haystack text, needle text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT strpos(haystack, needle)
$$;

CREATE OR REPLACE FUNCTION berth_json_path(path text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT string_to_array(substr(regexp_replace(path, '\[(\d+)\]', '.\1', 'g'), 3), '.')
$$;

CREATE OR REPLACE FUNCTION json_each(document text) RETURNS TABLE (key text, value text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT o.key, o.value #>> '{}'
  FROM json_each(CASE WHEN json_typeof(document::json) = 'object' THEN document::json END) o
  UNION ALL
  SELECT (a.n - 1)::text, a.value #>> '{}'
  FROM json_array_elements(CASE WHEN json_typeof(document::json) = 'array' THEN document::json END)
    WITH ORDINALITY a (value, n)
$$;

CREATE OR REPLACE FUNCTION json_extract(document text, path text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT document::json #>> berth_json_path(path)
$$;

CREATE OR REPLACE FUNCTION json_type(document text, path text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE json_typeof(v)
    WHEN 'string' THEN 'text'
    WHEN 'number' THEN CASE WHEN v::text ~ '[.eE]' THEN 'real' ELSE 'integer' END
    WHEN 'boolean' THEN v::text
    ELSE json_typeof(v) END
  FROM (SELECT document::json #> berth_json_path(path)) AS found (v)
$$;

CREATE OR REPLACE FUNCTION json_type(document text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT json_type(document, '$')
$$;
)sql";

constexpr std::array kMigrations = {
    kMigration1, kMigration2, kMigration3,  kMigration4,  kMigration5,  kMigration6, kMigration7,
    kMigration8, kMigration9, kMigration10, kMigration11, kMigration12, kMigration13};
// One schema, two engines: a migration added to SQLite's list is added here with the same
// number (tests/store/postgres_migrations_test.cpp compares the two).
static_assert(kMigrations.size() == 13);

// The advisory lock that serializes migrations of one database: FNV-1a of "berth-migrations".
constexpr std::int64_t lock_key(std::string_view name) {
  std::uint64_t hash = 14695981039346656037ull;
  for (char c : name) {
    hash ^= std::uint8_t(c);
    hash *= 1099511628211ull;
  }
  return std::int64_t(hash);
}
constexpr std::int64_t kMigrationLock = lock_key("berth-migrations");

// Holds the session-level advisory lock while alive, so that replicas starting together apply
// each migration once: the second waits, then finds nothing left to do.
class MigrationLock {
 public:
  explicit MigrationLock(Database& db) : db_(db) { call(db, "SELECT pg_advisory_lock(?)"); }
  ~MigrationLock() {
    try {
      call(db_, "SELECT pg_advisory_unlock(?)");
    } catch (...) {
      // The connection is gone: so is its session, and the lock with it.
    }
  }
  MigrationLock(const MigrationLock&) = delete;
  MigrationLock& operator=(const MigrationLock&) = delete;

 private:
  static void call(Database& db, const char* sql) {
    Statement q(db, sql);
    q.bind(1, kMigrationLock);
    while (q.step()) {
    }
  }
  Database& db_;
};

int current_version(Database& db) {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)");
  Statement q(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  q.step();
  auto version = int(q.integer(0));
  while (q.step()) {
  }
  return version;
}

// Runs `fn` in a transaction: committed when it returns, rolled back when it throws.
template <typename Fn>
void in_transaction(Database& db, Fn fn) {
  db.exec("BEGIN");
  try {
    fn();
    db.exec("COMMIT");
  } catch (...) {
    try {
      db.exec("ROLLBACK");
    } catch (...) {
      // The first error is the one to report.
    }
    throw;
  }
}

void apply(Database& db, int version, const char* sql) {
  in_transaction(db, [&] {
    db.exec(sql);
    Statement q(db, "INSERT INTO schema_migrations (version) VALUES (?)");
    q.bind(1, std::int64_t(version)).run();
  });
}

}  // namespace

int latest_schema_version() {
  return int(kMigrations.size());
}

void migrate(Database& db, int up_to) {
  // Everything under the lock, the schema_migrations table's creation included: two sessions
  // racing through CREATE TABLE IF NOT EXISTS can both try to create it, and one fails.
  MigrationLock lock(db);
  int version = current_version(db);
  if (version > latest_schema_version())
    throw Error{ErrorCode::unavailable,
                fmt::format("The database was written by a newer version of Berth (schema version "
                            "{}); this binary supports up to schema version {}. Upgrade Berth.",
                            version, latest_schema_version())};
  in_transaction(db, [&] { db.exec(kSqliteFunctions); });
  up_to = std::min(up_to, latest_schema_version());
  for (int v = version + 1; v <= up_to; ++v) apply(db, v, kMigrations[v - 1]);
}

}  // namespace berth::store::postgres
