// SqliteStore: AI tasks, their per-build apps, snapshots, and app statuses.
#include "store/sqlite/helpers.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/where.hpp"

namespace berth::store::sqlite {

namespace {

constexpr const char* kTaskColumns =
    "id, organization_id, owner_id, name, display_name, workspace_id, template_version_id, prompt, "
    "created_at, deleted_at";

TaskRow read_task(const Statement& q) {
  return TaskRow{q.uuid(0),           q.uuid(1), q.uuid(2), q.text(3), q.text(4),
                 optional_uuid(q, 5), q.uuid(6), q.text(7), q.time(8), optional_time(q, 9)};
}

constexpr const char* kStatusColumns =
    "id, created_at, agent_id, workspace_id, app_id, state, message, uri";

WorkspaceAppStatusRow read_status(const Statement& q) {
  return WorkspaceAppStatusRow{q.uuid(0), q.time(1), q.uuid(2), q.uuid(3),
                               q.text(4), q.text(5), q.text(6), q.text(7)};
}

TaskWorkspaceAppRow read_task_app(const Statement& s) {
  return TaskWorkspaceAppRow{s.uuid(0), s.integer(1), optional_uuid(s, 2), optional_text(s, 3)};
}

// A task's latest task_workspace_apps row `a` (as get_latest_task_workspace_app).
constexpr const char* kIsLatestTaskApp =
    "a.build_number = (SELECT MAX(l.build_number) FROM task_workspace_apps l"
    " WHERE l.task_id = a.task_id)";

// What coderd::Tasks::view derives a task's status from, one column each: the status of the
// job of the build its latest app row names (coderd::job_status), that build's transition,
// the row's agent and its lifecycle, and the health of the row's app (reported, else as the
// agent's definition gives it, else "disabled"; NULL without an agent or app). The definition's
// apps are a JSON array, read with json_each(text) and json_extract, which PostgreSQL has as
// functions of the same names (store/postgres/migrations.cpp); a later app of the same id wins,
// and `>= ''` keeps string healths only (SQLite orders every number before any text).
constexpr const char* kTaskStatusInputs =
    "(CASE WHEN j.id IS NULL THEN NULL"
    " WHEN j.completed_at IS NOT NULL THEN"
    "  (CASE WHEN COALESCE(j.error, '') <> '' THEN 'failed'"
    "   WHEN j.canceled_at IS NOT NULL THEN 'canceled' ELSE 'succeeded' END)"
    " WHEN COALESCE(j.error, '') <> '' THEN 'failed'"
    " WHEN j.canceled_at IS NOT NULL THEN 'canceling'"
    " WHEN j.started_at IS NULL THEN 'pending' ELSE 'running' END) AS job_status,"
    " b.transition AS transition, ag.id AS agent_id, ag.lifecycle_state AS lifecycle_state,"
    " (CASE WHEN ag.id IS NULL OR a.app_id IS NULL THEN NULL"
    "  ELSE COALESCE(h.health, (SELECT json_extract(e.value, '$.health')"
    "   FROM json_each(json_extract(ag.config, '$.apps')) e"
    "   WHERE json_extract(e.value, '$.id') = a.app_id"
    "   AND json_extract(e.value, '$.health') >= ''"
    "   ORDER BY CAST(e.key AS INTEGER) DESC LIMIT 1), 'disabled') END) AS app_health";

constexpr const char* kTaskStatusJoins =
    " LEFT JOIN task_workspace_apps a ON a.task_id = t.id AND a.build_number ="
    " (SELECT MAX(l.build_number) FROM task_workspace_apps l WHERE l.task_id = t.id)"
    " LEFT JOIN workspace_builds b ON b.workspace_id = t.workspace_id"
    " AND b.build_number = a.build_number"
    " LEFT JOIN provisioner_jobs j ON j.id = b.job_id"
    " LEFT JOIN workspace_agents ag ON ag.id = a.agent_id"
    " LEFT JOIN workspace_app_health h ON h.agent_id = a.agent_id AND h.app_id = a.app_id";

// The status of `x`, a row of the inputs above, by coderd::Tasks::view's rules: the build's
// part unless it is active, then the agent's unless it is active, then the app's.
constexpr const char* kTaskStatus =
    "(CASE WHEN x.job_status IS NULL THEN 'pending'"
    " WHEN x.job_status IN ('failed', 'canceling', 'canceled') THEN 'error'"
    " WHEN x.transition <> 'start' AND x.job_status = 'succeeded' THEN 'paused'"
    " WHEN x.transition = 'start' AND x.job_status = 'pending' THEN 'pending'"
    " WHEN NOT (x.transition = 'start' AND x.job_status IN ('running', 'succeeded'))"
    "  THEN 'unknown'"
    " WHEN x.agent_id IS NULL OR x.lifecycle_state IN ('created', 'starting')"
    "  THEN 'initializing'"
    " WHEN x.lifecycle_state NOT IN ('ready', 'start_timeout', 'start_error') THEN 'unknown'"
    " WHEN x.app_health = 'initializing' THEN 'initializing'"
    " WHEN x.app_health = 'unhealthy' THEN 'error'"
    " WHEN x.app_health IN ('healthy', 'disabled') THEN 'active'"
    " ELSE 'unknown' END)";

// Live tasks with a workspace, by the filters and authorization of `p` (not the status).
Where task_filter(const ListTasksParams& p) {
  Where where;
  where.add("t.deleted_at IS NULL");
  if (p.owner_id) where.add("t.owner_id = ?", {*p.owner_id});
  if (p.organization_id) where.add("t.organization_id = ?", {*p.organization_id});
  if (!p.readable_all) {
    // A NULL owner matches no row: the caller owns nothing it may read.
    where.add(std::string("(w.owner_id = ? OR w.organization_id ") + kInIds + ")",
              {p.readable_owner_id ? Where::Value(*p.readable_owner_id) : Where::Value(),
               uuid_list(p.readable_organization_ids)});
  }
  return where;
}

std::string prefixed(const char* prefix, const char* columns) {
  std::string out;
  std::string all = columns;
  for (std::size_t start = 0; start < all.size();) {
    auto end = all.find(',', start);
    if (end == std::string::npos) end = all.size();
    auto name = all.substr(start, end - start);
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    out += (out.empty() ? "" : ", ") + std::string(prefix) + name;
    start = end + 1;
  }
  return out;
}

}  // namespace

void SqliteStore::insert_task(const TaskRow& r) {
  auto db = pool_.writer();
  Statement q(*db, "INSERT INTO tasks (" + std::string(kTaskColumns) +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, r.id).bind(2, r.organization_id).bind(3, r.owner_id).bind(4, r.name);
  q.bind(5, r.display_name);
  bind_optional(q, 6, r.workspace_id);
  q.bind(7, r.template_version_id).bind(8, r.prompt).bind(9, r.created_at);
  bind_optional(q, 10, r.deleted_at);
  q.run();
}

std::optional<TaskRow> SqliteStore::get_task_by_id(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kTaskColumns, "tasks", "WHERE id = ? AND deleted_at IS NULL"));
  q.bind(1, id);
  return first<TaskRow>(q, read_task);
}

std::optional<TaskRow> SqliteStore::get_task_by_owner_and_name(const Uuid& owner_id,
                                                               const std::string& name) {
  auto db = pool_.reader();
  Statement q(*db,
              select_from(kTaskColumns, "tasks",
                          "WHERE owner_id = ? AND lower(name) = lower(?) AND deleted_at IS NULL"));
  q.bind(1, owner_id).bind(2, name);
  return first<TaskRow>(q, read_task);
}

std::optional<TaskRow> SqliteStore::get_task_by_workspace_id(const Uuid& workspace_id) {
  auto db = pool_.reader();
  Statement q(*db,
              select_from(kTaskColumns, "tasks", "WHERE workspace_id = ? AND deleted_at IS NULL"));
  q.bind(1, workspace_id);
  return first<TaskRow>(q, read_task);
}

std::vector<TaskRow> SqliteStore::list_tasks(const ListTasksParams& p) {
  auto db = pool_.reader();
  auto where = task_filter(p);
  std::string from = " FROM tasks t JOIN workspaces w ON w.id = t.workspace_id";
  if (!p.status) {
    Statement q(*db, "SELECT " + prefixed("t.", kTaskColumns) + from + where.sql() +
                         " ORDER BY t.created_at DESC, t.id");
    where.bind(q);
    return collect<TaskRow>(q, read_task);
  }
  // The status is derived from the task's latest app row, its build, job, agent and app
  // health, read through joins that the rows without a status filter do without.
  Statement q(*db, "SELECT " + prefixed("x.", kTaskColumns) + " FROM (SELECT " +
                       prefixed("t.", kTaskColumns) + ", " + kTaskStatusInputs + from +
                       kTaskStatusJoins + where.sql() + ") x WHERE " + kTaskStatus +
                       " = ? ORDER BY x.created_at DESC, x.id");
  where.bind(q);
  q.bind(where.size() + 1, *p.status);
  return collect<TaskRow>(q, read_task);
}

void SqliteStore::update_task_workspace_id(const Uuid& id, const Uuid& workspace_id) {
  auto db = pool_.writer();
  Statement q(*db, "UPDATE tasks SET workspace_id = ? WHERE id = ?");
  q.bind(1, workspace_id).bind(2, id).run();
}

void SqliteStore::update_task_prompt(const Uuid& id, const std::string& prompt) {
  auto db = pool_.writer();
  Statement q(*db, "UPDATE tasks SET prompt = ? WHERE id = ?");
  q.bind(1, prompt).bind(2, id).run();
}

void SqliteStore::delete_task(const Uuid& id, TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db, "UPDATE tasks SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL");
  q.bind(1, now).bind(2, id).run();
  Statement s(*db, "DELETE FROM task_snapshots WHERE task_id = ?");
  s.bind(1, id).run();
}

void SqliteStore::upsert_task_workspace_app(const TaskWorkspaceAppRow& r) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO task_workspace_apps (task_id, build_number, agent_id, app_id) VALUES "
              "(?, ?, ?, ?) ON CONFLICT (task_id, build_number) DO UPDATE SET agent_id = "
              "excluded.agent_id, app_id = excluded.app_id");
  q.bind(1, r.task_id).bind(2, r.build_number);
  bind_optional(q, 3, r.agent_id);
  bind_optional(q, 4, r.app_id);
  q.run();
}

std::optional<TaskWorkspaceAppRow> SqliteStore::get_latest_task_workspace_app(const Uuid& task_id) {
  auto db = pool_.reader();
  Statement q(*db,
              "SELECT task_id, build_number, agent_id, app_id FROM task_workspace_apps WHERE "
              "task_id = ? ORDER BY build_number DESC LIMIT 1");
  q.bind(1, task_id);
  return first<TaskWorkspaceAppRow>(q, read_task_app);
}

std::vector<TaskWorkspaceAppRow> SqliteStore::list_latest_task_workspace_apps(
    const std::vector<Uuid>& task_ids) {
  auto db = pool_.reader();
  return collect_by_ids<TaskWorkspaceAppRow>(
      *db,
      std::string("SELECT a.task_id, a.build_number, a.agent_id, a.app_id FROM "
                  "task_workspace_apps a WHERE a.task_id ") +
          in_ids(*db) + " AND " + kIsLatestTaskApp,
      task_ids, read_task_app);
}

void SqliteStore::upsert_task_snapshot(const TaskSnapshotRow& r) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO task_snapshots (task_id, log_snapshot, created_at) VALUES (?, ?, ?) "
              "ON CONFLICT (task_id) DO UPDATE SET log_snapshot = excluded.log_snapshot, "
              "created_at = excluded.created_at");
  q.bind(1, r.task_id).bind(2, r.log_snapshot).bind(3, r.created_at).run();
}

std::optional<TaskSnapshotRow> SqliteStore::get_task_snapshot(const Uuid& task_id) {
  auto db = pool_.reader();
  Statement q(*db,
              "SELECT task_id, log_snapshot, created_at FROM task_snapshots WHERE task_id = ?");
  q.bind(1, task_id);
  return first<TaskSnapshotRow>(q, [](const Statement& s) {
    return TaskSnapshotRow{s.uuid(0), s.text(1), s.time(2)};
  });
}

void SqliteStore::insert_workspace_app_status(const WorkspaceAppStatusRow& r) {
  auto db = pool_.writer();
  Statement q(*db, "INSERT INTO workspace_app_statuses (" + std::string(kStatusColumns) +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, r.id).bind(2, r.created_at).bind(3, r.agent_id).bind(4, r.workspace_id);
  q.bind(5, r.app_id).bind(6, r.state).bind(7, r.message).bind(8, r.uri).run();
}

std::optional<WorkspaceAppStatusRow> SqliteStore::get_latest_workspace_app_status(
    const Uuid& workspace_id) {
  auto db = pool_.reader();
  Statement q(*db,
              select_from(kStatusColumns, "workspace_app_statuses",
                          "WHERE workspace_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1"));
  q.bind(1, workspace_id);
  return first<WorkspaceAppStatusRow>(q, read_status);
}

std::vector<WorkspaceAppStatusRow> SqliteStore::list_latest_workspace_app_statuses(
    const std::vector<Uuid>& workspace_ids) {
  auto db = pool_.reader();
  // One index seek per workspace (workspace_app_statuses_workspace_idx), not its whole history.
  // Ties on created_at go to the later insert (rowid), as get_latest_workspace_app_status.
  return collect_by_ids<WorkspaceAppStatusRow>(
      *db,
      select_from(kStatusColumns, "workspace_app_statuses",
                  std::string("WHERE id IN (SELECT (SELECT s.id FROM workspace_app_statuses s"
                              " WHERE s.workspace_id = w.id ORDER BY s.created_at DESC,"
                              " s.rowid DESC LIMIT 1) FROM workspaces w WHERE w.id ") +
                      in_ids(*db) + ")"),
      workspace_ids, read_status);
}

std::optional<WorkspaceAppStatusRow> SqliteStore::get_latest_app_status_by_app(
    const Uuid& agent_id, const std::string& app_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kStatusColumns, "workspace_app_statuses",
                               "WHERE agent_id = ? AND app_id = ? ORDER BY created_at DESC, rowid "
                               "DESC LIMIT 1"));
  q.bind(1, agent_id).bind(2, app_id);
  return first<WorkspaceAppStatusRow>(q, read_status);
}

}  // namespace berth::store::sqlite
