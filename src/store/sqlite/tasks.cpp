// SqliteStore: AI tasks, their per-build apps, snapshots, and app statuses.
#include "store/sqlite/helpers.hpp"
#include "store/sqlite/sqlite_store.hpp"

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

std::vector<TaskRow> SqliteStore::list_tasks(const std::optional<Uuid>& owner_id,
                                             const std::optional<Uuid>& organization_id) {
  auto db = pool_.reader();
  Statement q(*db,
              select_from(kTaskColumns, "tasks",
                          "WHERE deleted_at IS NULL AND (?1 IS NULL OR owner_id = ?1) AND "
                          "(?2 IS NULL OR organization_id = ?2) ORDER BY created_at DESC, id"));
  bind_optional(q, 1, owner_id);
  bind_optional(q, 2, organization_id);
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
  return first<TaskWorkspaceAppRow>(q, [](const Statement& s) {
    return TaskWorkspaceAppRow{s.uuid(0), s.integer(1), optional_uuid(s, 2), optional_text(s, 3)};
  });
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
