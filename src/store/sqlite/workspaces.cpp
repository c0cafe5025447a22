// SqliteStore: workspaces, builds, build parameters, resources and agents.
#include <algorithm>
#include <type_traits>
#include <variant>

#include "common/json.hpp"
#include "store/sqlite/helpers.hpp"
#include "store/sqlite/row_json.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/where.hpp"

namespace berth::store::sqlite {

namespace {

constexpr const char* kWorkspaceColumns =
    "id, created_at, updated_at, owner_id, organization_id, template_id, deleted, name, "
    "autostart_schedule, ttl_ms, last_used_at, dormant_at, deleting_at, automatic_updates, "
    "favorite, next_start_at";

std::optional<std::int64_t> optional_int(const Statement& q, int column) {
  if (q.is_null(column)) return std::nullopt;
  return q.integer(column);
}

WorkspaceRow read_workspace(const Statement& q) {
  return WorkspaceRow{q.uuid(0),
                      q.time(1),
                      q.time(2),
                      q.uuid(3),
                      q.uuid(4),
                      q.uuid(5),
                      q.boolean(6),
                      q.text(7),
                      optional_text(q, 8),
                      optional_int(q, 9),
                      q.time(10),
                      optional_time(q, 11),
                      optional_time(q, 12),
                      q.text(13),
                      q.boolean(14),
                      optional_time(q, 15)};
}

constexpr const char* kBuildColumns =
    "id, created_at, updated_at, workspace_id, template_version_id, build_number, transition, "
    "initiator_id, provisioner_state, job_id, deadline, max_deadline, reason, daily_cost, "
    "template_version_preset_id, has_ai_task, has_external_agent";

WorkspaceBuildRow read_build(const Statement& q) {
  return WorkspaceBuildRow{q.uuid(0),
                           q.time(1),
                           q.time(2),
                           q.uuid(3),
                           q.uuid(4),
                           q.integer(5),
                           enum_column<sdk::WorkspaceTransition>(q, 6, "build transition"),
                           q.uuid(7),
                           q.text(8),
                           q.uuid(9),
                           optional_time(q, 10),
                           optional_time(q, 11),
                           q.text(12),
                           q.integer(13),
                           optional_uuid(q, 14),
                           q.boolean(15),
                           q.boolean(16)};
}

constexpr const char* kResourceColumns =
    "id, created_at, job_id, transition, type, name, hide, icon, daily_cost, metadata";

WorkspaceResourceRow read_resource(const Statement& q) {
  return WorkspaceResourceRow{
      q.uuid(0),    q.time(1),
      q.uuid(2),    enum_column<sdk::WorkspaceTransition>(q, 3, "resource transition"),
      q.text(4),    q.text(5),
      q.boolean(6), q.text(7),
      q.integer(8), resource_metadata_from_json(q.text(9), "workspace_resources.metadata")};
}

constexpr const char* kAgentColumns =
    "id, created_at, updated_at, resource_id, name, auth_token_hash, config, first_connected_at, "
    "last_connected_at, disconnected_at, lifecycle_state, started_at, ready_at, version, "
    "api_version, expanded_directory, logs_length, logs_overflowed, deleted";

WorkspaceAgentRow read_agent(const Statement& q) {
  return WorkspaceAgentRow{
      q.uuid(0),
      q.time(1),
      q.time(2),
      q.uuid(3),
      q.text(4),
      q.text(5),
      q.text(6),
      optional_time(q, 7),
      optional_time(q, 8),
      optional_time(q, 9),
      enum_column<sdk::WorkspaceAgentLifecycle>(q, 10, "agent lifecycle state"),
      optional_time(q, 11),
      optional_time(q, 12),
      q.text(13),
      q.text(14),
      q.text(15),
      q.integer(16),
      q.boolean(17),
      q.boolean(18)};
}

void bind_workspace_mutables(Statement& q, const WorkspaceRow& r, int first) {
  q.bind(first, r.updated_at).bind(first + 1, r.deleted).bind(first + 2, r.name);
  bind_optional(q, first + 3, r.autostart_schedule);
  bind_optional(q, first + 4, r.ttl_ms);
  q.bind(first + 5, r.last_used_at);
  bind_optional(q, first + 6, r.dormant_at);
  bind_optional(q, first + 7, r.deleting_at);
  q.bind(first + 8, r.automatic_updates).bind(first + 9, r.favorite);
  bind_optional(q, first + 10, r.next_start_at);
}

}  // namespace

// Workspaces

void SqliteStore::insert_workspace(const WorkspaceRow& r) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO workspaces (id, created_at, owner_id, organization_id, template_id, "
              "updated_at, deleted, name, autostart_schedule, ttl_ms, last_used_at, dormant_at, "
              "deleting_at, automatic_updates, favorite, next_start_at) VALUES "
              "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, r.id).bind(2, r.created_at).bind(3, r.owner_id).bind(4, r.organization_id);
  q.bind(5, r.template_id);
  bind_workspace_mutables(q, r, 6);
  q.run();
}

std::optional<WorkspaceRow> SqliteStore::get_workspace_by_id(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kWorkspaceColumns, "workspaces", "WHERE id = ?"));
  q.bind(1, id);
  return first<WorkspaceRow>(q, read_workspace);
}

std::vector<WorkspaceRow> SqliteStore::list_workspaces_by_ids(const std::vector<Uuid>& ids) {
  auto db = pool_.reader();
  return collect_by_ids<WorkspaceRow>(
      *db, select_from(kWorkspaceColumns, "workspaces", std::string("WHERE id ") + in_ids(*db)),
      ids, read_workspace);
}

std::optional<WorkspaceRow> SqliteStore::get_workspace_by_owner_and_name(const Uuid& owner_id,
                                                                         const std::string& name,
                                                                         bool include_deleted) {
  auto db = pool_.reader();
  Statement q(*db,
              select_from(kWorkspaceColumns, "workspaces",
                          "WHERE owner_id = ? AND lower(name) = lower(?) AND (deleted = 0 OR ?) "
                          "ORDER BY deleted ASC, created_at DESC LIMIT 1"));
  q.bind(1, owner_id).bind(2, name).bind(3, include_deleted);
  return first<WorkspaceRow>(q, read_workspace);
}

namespace {

std::string prefixed_workspace_columns() {
  std::string out;
  std::string columns = kWorkspaceColumns;
  std::size_t start = 0;
  while (start < columns.size()) {
    auto end = columns.find(',', start);
    if (end == std::string::npos) end = columns.size();
    auto name = columns.substr(start, end - start);
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    out += (out.empty() ? "w." : ", w.") + name;
    start = end + 1;
  }
  return out;
}
// Coder's workspace status of the latest build `b` and its job `j` (coderd::build_status of
// coderd::job_status), for filtering in the query; 'pending' when there is no build.
constexpr const char* kLatestStatus =
    "(CASE WHEN b.id IS NULL THEN 'pending'"
    " WHEN j.completed_at IS NOT NULL THEN"
    "  (CASE WHEN COALESCE(j.error, '') <> '' THEN 'failed'"
    "   WHEN j.canceled_at IS NOT NULL THEN 'canceled'"
    "   WHEN b.transition = 'start' THEN 'running'"
    "   WHEN b.transition = 'stop' THEN 'stopped' ELSE 'deleted' END)"
    " WHEN COALESCE(j.error, '') <> '' THEN 'failed'"
    " WHEN j.canceled_at IS NOT NULL THEN 'canceling'"
    " WHEN j.started_at IS NULL THEN 'pending'"
    " WHEN b.transition = 'start' THEN 'starting'"
    " WHEN b.transition = 'stop' THEN 'stopping' ELSE 'deleting' END)";

// The joins that the latest-build filters and the summaries read: the build through the
// workspace's latest_build_id (kept by triggers) and its job.
constexpr const char* kLatestBuildJoins =
    " LEFT JOIN workspace_builds b ON b.id = w.latest_build_id"
    " LEFT JOIN provisioner_jobs j ON j.id = b.job_id";

using Value = Where::Value;

// A WHERE clause made of only the filters that are set, with their values in placeholder
// order, so that the planner sees conditions it can use an index for.
class WorkspaceFilter {
 public:
  explicit WorkspaceFilter(const ListWorkspacesParams& p) {
    add("w.deleted = 0");
    if (p.owner_id) add("w.owner_id = ?", {*p.owner_id});
    if (!p.name_contains.empty())
      add("lower(w.name) LIKE ? ESCAPE '!'", {contains_pattern(p.name_contains)});
    if (p.exact_name) add("lower(w.name) = lower(?)", {*p.exact_name});
    if (p.filter_templates)
      add("w.template_id IN (SELECT value FROM json_each(?))", {uuid_list(p.template_ids)});
    if (!p.ids.empty()) add("w.id IN (SELECT value FROM json_each(?))", {uuid_list(p.ids)});
    if (p.organization_id) add("w.organization_id = ?", {*p.organization_id});
    if (p.dormant && *p.dormant) add("w.dormant_at IS NOT NULL");
    if (p.last_used_after) add("w.last_used_at >= ?", {*p.last_used_after});
    if (p.last_used_before) add("w.last_used_at <= ?", {*p.last_used_before});
    if (!p.readable_all) {
      // A NULL owner matches no row: the caller owns nothing it may read.
      add("(w.owner_id = ? OR w.organization_id IN (SELECT value FROM json_each(?)))",
          {p.readable_owner_id ? Value(*p.readable_owner_id) : Value(std::monostate{}),
           uuid_list(p.readable_organization_ids)});
    }
    add_latest_build_filters(p);
  }

  // Adds a condition of the caller's (e.g. the favourites split of a page).
  void add(const std::string& clause, std::vector<Value> values = {}) {
    where_.add(clause, std::move(values));
  }

  // The FROM clause: the workspaces, joined to their latest build when a filter reads it.
  std::string from() const {
    std::string out = " FROM workspaces w";
    if (joins_latest_build_) out += kLatestBuildJoins;
    return out;
  }
  const std::string& where() const { return where_.sql(); }
  // Whether it selects every live workspace: no filter, and the caller may read them all.
  bool selects_every_live_workspace() const { return where_.sql() == " WHERE w.deleted = 0"; }
  int size() const { return where_.size(); }
  void bind(Statement& q) const { where_.bind(q); }

 private:
  void add_latest_build_filters(const ListWorkspacesParams& p) {
    if (p.status) {
      add(std::string(kLatestStatus) + " = ?", {std::string(sdk::to_string(*p.status))});
      joins_latest_build_ = true;
    }
    if (p.outdated) {
      add("(b.id IS NOT NULL AND b.template_version_id <> (SELECT active_version_id FROM "
          "templates WHERE id = w.template_id)) = ?",
          {*p.outdated});
      joins_latest_build_ = true;
    }
    if (p.has_ai_task) {
      add("COALESCE(b.has_ai_task, 0) = ?", {*p.has_ai_task});
      joins_latest_build_ = true;
    }
    if (p.has_external_agent) {
      add("b.has_external_agent = ?", {*p.has_external_agent});
      joins_latest_build_ = true;
    }
    if (!p.parameters.empty()) {
      json::array matches;
      for (const auto& m : p.parameters)
        matches.push_back(json::object{
            {"name", m.name}, {"value", m.value ? json::value(*m.value) : json::value(nullptr)}});
      add("b.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(?) m WHERE NOT EXISTS ("
          "SELECT 1 FROM workspace_build_parameters bp WHERE bp.workspace_build_id = b.id"
          " AND lower(bp.name) = lower(json_extract(m.value, '$.name'))"
          " AND (json_extract(m.value, '$.value') IS NULL"
          " OR lower(bp.value) = lower(json_extract(m.value, '$.value')))))",
          {json::serialize(matches)});
      joins_latest_build_ = true;
    }
  }

  Where where_;
  bool joins_latest_build_ = false;
};

}  // namespace

std::vector<WorkspaceRow> SqliteStore::list_workspaces(const ListWorkspacesParams& p) {
  auto db = pool_.reader();
  WorkspaceFilter filter(p);
  Statement q(*db, "SELECT " + prefixed_workspace_columns() + filter.from() + filter.where() +
                       " ORDER BY w.created_at, w.id");
  filter.bind(q);
  return collect<WorkspaceRow>(q, read_workspace);
}

std::vector<WorkspaceRow> SqliteStore::list_lifecycle_candidates(TimePoint now) {
  auto db = pool_.reader();
  // One selective part per rule, so that a quiet tick reads a few rows, not every workspace.
  // ?1 is now (unix microseconds); template policies keep durations in milliseconds.
  constexpr const char* kIsLatest =
      "b.build_number = (SELECT MAX(build_number) FROM workspace_builds"
      " WHERE workspace_id = b.workspace_id)";
  std::string latest = kIsLatest;
  std::string candidates =
      // 1. a finished start past its deadline, or any workspace of a suspended owner
      "SELECT b.workspace_id FROM workspace_builds b WHERE b.transition = 'start'"
      " AND b.deadline IS NOT NULL AND b.deadline <= ?1 AND " +
      latest +
      " UNION SELECT ws.id FROM users u JOIN workspaces ws ON ws.owner_id = u.id"
      " WHERE u.status = 'suspended'"
      // 2. an autostart schedule
      " UNION SELECT id FROM workspaces WHERE autostart_schedule IS NOT NULL"
      // 3. a failed latest build
      " UNION SELECT b.workspace_id FROM workspace_builds b WHERE b.job_id IN"
      " (SELECT id FROM provisioner_jobs WHERE error IS NOT NULL AND error <> '') AND " +
      latest +
      // 4. unused for longer than its template's time_til_dormant
      " UNION SELECT ws.id FROM templates t JOIN workspaces ws ON ws.template_id = t.id"
      // (CAST: PostgreSQL's json_extract answers text.)
      " WHERE COALESCE(CAST(json_extract(t.policy, '$.time_til_dormant_ms') AS BIGINT), 0) > 0"
      " AND ws.dormant_at IS NULL"
      " AND ws.last_used_at <= ?1 - CAST(json_extract(t.policy, '$.time_til_dormant_ms') AS "
      "BIGINT) * 1000"
      // 5. dormant and past deleting_at
      " UNION SELECT id FROM workspaces WHERE deleting_at IS NOT NULL AND deleting_at <= ?1"
      " AND dormant_at IS NOT NULL";
  Statement q(*db, "SELECT " + prefixed_workspace_columns() +
                       " FROM workspaces w WHERE w.deleted = 0 AND w.id IN (" + candidates +
                       ") ORDER BY w.created_at, w.id");
  q.bind(1, now);
  return collect<WorkspaceRow>(q, read_workspace);
}

namespace {

// Summary columns of the workspaces that `filter` selects, read through their latest build.
std::string summary_query(const WorkspaceFilter& filter, const std::string& order_and_limit) {
  return "SELECT " + prefixed_workspace_columns() +
         ", w.owner_username, b.transition, j.started_at, j.completed_at, j.canceled_at, "
         "j.error, b.has_ai_task, b.template_version_id, t.active_version_id "
         "FROM workspaces w JOIN templates t ON t.id = w.template_id" +
         std::string(kLatestBuildJoins) + filter.where() + " " + order_and_limit;
}

WorkspaceSummary read_summary(const Statement& s) {
  WorkspaceSummary out;
  out.workspace = read_workspace(s);
  out.owner_username = s.text(16);
  if (!s.is_null(17))
    out.latest_transition = enum_column<sdk::WorkspaceTransition>(s, 17, "build transition");
  out.job_started_at = optional_time(s, 18);
  out.job_completed_at = optional_time(s, 19);
  out.job_canceled_at = optional_time(s, 20);
  out.job_error = optional_text(s, 21);
  out.has_ai_task = !s.is_null(22) && s.boolean(22);
  out.latest_version_id = optional_uuid(s, 23);
  out.active_version_id = s.uuid(24);
  return out;
}

// Coder's list order after the favourites: running ones first, then owner and name; the
// index workspaces_list_order_idx serves it, so a page reads about `limit` rows.
constexpr const char* kListOrder =
    "ORDER BY w.running DESC, lower(w.owner_username), lower(w.name), w.id";

// Reads at most `limit` summaries (all with limit < 0) after skipping `offset`.
std::vector<WorkspaceSummary> read_page(Database& db, const WorkspaceFilter& filter,
                                        std::int64_t limit, std::int64_t offset) {
  Statement q(db, summary_query(filter, std::string(kListOrder) + " LIMIT ? OFFSET ?"));
  filter.bind(q);
  q.bind(filter.size() + 1, limit < 0 ? kNoLimit : limit).bind(filter.size() + 2, offset);
  return collect<WorkspaceSummary>(q, read_summary);
}

}  // namespace

std::vector<WorkspaceSummary> SqliteStore::list_workspace_summaries(const ListWorkspacesParams& p) {
  auto db = pool_.reader();
  WorkspaceFilter filter(p);
  Statement q(*db, summary_query(filter, "ORDER BY w.created_at, w.id"));
  filter.bind(q);
  return collect<WorkspaceSummary>(q, read_summary);
}

std::vector<WorkspaceSummary> SqliteStore::list_workspace_summaries_page(
    const ListWorkspacesParams& p, const Uuid& viewer, std::int64_t limit, std::int64_t offset) {
  auto db = pool_.reader();
  // The viewer's favourites come first: they are few and found through the owner index, and
  // the rest is read in index order, so neither part sorts every workspace.
  WorkspaceFilter favorites(p);
  favorites.add("w.favorite = 1 AND w.owner_id = ?", {viewer});
  std::int64_t wanted = limit > 0 ? offset + limit : -1;
  auto out = read_page(*db, favorites, wanted, 0);
  auto favorite_count = std::int64_t(out.size());
  std::int64_t skip = std::min(offset, favorite_count);
  out.erase(out.begin(), out.begin() + skip);
  if (limit > 0 && std::int64_t(out.size()) >= limit) return out;
  WorkspaceFilter others(p);
  others.add("NOT (w.favorite = 1 AND w.owner_id = ?)", {viewer});
  auto rest = read_page(*db, others, limit > 0 ? limit - std::int64_t(out.size()) : -1,
                        std::max<std::int64_t>(0, offset - favorite_count));
  out.insert(out.end(), std::make_move_iterator(rest.begin()), std::make_move_iterator(rest.end()));
  return out;
}

std::int64_t SqliteStore::count_workspaces(const ListWorkspacesParams& p) {
  auto db = pool_.reader();
  WorkspaceFilter filter(p);
  if (filter.selects_every_live_workspace()) {
    Statement q(*db, "SELECT live FROM workspace_counts WHERE id = 1");
    q.step();
    return q.integer(0);
  }
  Statement q(*db, "SELECT COUNT(*)" + filter.from() + filter.where());
  filter.bind(q);
  q.step();
  return q.integer(0);
}

std::int64_t SqliteStore::count_workspaces_by_template_id(const Uuid& template_id) {
  auto db = pool_.reader();
  Statement q(*db, "SELECT COUNT(*) FROM workspaces WHERE template_id = ? AND deleted = 0");
  q.bind(1, template_id);
  q.step();
  return q.integer(0);
}

void SqliteStore::update_workspace(const WorkspaceRow& r) {
  auto db = pool_.writer();
  Statement q(
      *db,
      "UPDATE workspaces SET updated_at = ?, deleted = ?, name = ?, autostart_schedule = ?, "
      "ttl_ms = ?, last_used_at = ?, dormant_at = ?, deleting_at = ?, automatic_updates = ?, "
      "favorite = ?, next_start_at = ? WHERE id = ?");
  bind_workspace_mutables(q, r, 1);
  q.bind(12, r.id).run();
}

// Workspace builds

void SqliteStore::insert_workspace_build(const WorkspaceBuildRow& r) {
  auto db = pool_.writer();
  Statement q(*db, "INSERT INTO workspace_builds (" + std::string(kBuildColumns) +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, r.id).bind(2, r.created_at).bind(3, r.updated_at).bind(4, r.workspace_id);
  q.bind(5, r.template_version_id).bind(6, r.build_number).bind(7, sdk::to_string(r.transition));
  q.bind(8, r.initiator_id).bind_blob(9, r.provisioner_state).bind(10, r.job_id);
  bind_optional(q, 11, r.deadline);
  bind_optional(q, 12, r.max_deadline);
  q.bind(13, r.reason).bind(14, r.daily_cost);
  bind_optional(q, 15, r.template_version_preset_id);
  q.bind(16, r.has_ai_task).bind(17, r.has_external_agent).run();
}

std::optional<WorkspaceBuildRow> SqliteStore::get_workspace_build_by_id(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kBuildColumns, "workspace_builds", "WHERE id = ?"));
  q.bind(1, id);
  return first<WorkspaceBuildRow>(q, read_build);
}

std::optional<WorkspaceBuildRow> SqliteStore::get_workspace_build_by_job_id(const Uuid& job_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kBuildColumns, "workspace_builds", "WHERE job_id = ?"));
  q.bind(1, job_id);
  return first<WorkspaceBuildRow>(q, read_build);
}

std::optional<WorkspaceBuildRow> SqliteStore::get_latest_workspace_build(const Uuid& workspace_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kBuildColumns, "workspace_builds",
                               "WHERE workspace_id = ? ORDER BY build_number DESC LIMIT 1"));
  q.bind(1, workspace_id);
  return first<WorkspaceBuildRow>(q, read_build);
}

std::vector<WorkspaceBuildRow> SqliteStore::list_latest_workspace_builds(
    const std::vector<Uuid>& workspace_ids) {
  auto db = pool_.reader();
  return collect_by_ids<WorkspaceBuildRow>(
      *db,
      select_from(kBuildColumns, "workspace_builds",
                  std::string("WHERE id IN (SELECT latest_build_id FROM workspaces WHERE id ") +
                      in_ids(*db) + ")"),
      workspace_ids, read_build);
}

std::vector<WorkspaceBuildRow> SqliteStore::list_latest_task_workspace_app_builds(
    const std::vector<Uuid>& task_ids) {
  auto db = pool_.reader();
  return collect_by_ids<WorkspaceBuildRow>(
      *db,
      select_from(kBuildColumns, "workspace_builds",
                  std::string("WHERE id IN (SELECT b.id FROM task_workspace_apps a"
                              " JOIN tasks t ON t.id = a.task_id"
                              " JOIN workspace_builds b ON b.workspace_id = t.workspace_id"
                              " AND b.build_number = a.build_number WHERE a.task_id ") +
                      in_ids(*db) +
                      " AND a.build_number = (SELECT MAX(l.build_number) FROM task_workspace_apps"
                      " l WHERE l.task_id = a.task_id))"),
      task_ids, read_build);
}

std::optional<WorkspaceBuildRow> SqliteStore::get_workspace_build_by_number(
    const Uuid& workspace_id, std::int64_t number) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kBuildColumns, "workspace_builds",
                               "WHERE workspace_id = ? AND build_number = ?"));
  q.bind(1, workspace_id).bind(2, number);
  return first<WorkspaceBuildRow>(q, read_build);
}

std::vector<WorkspaceBuildRow> SqliteStore::list_workspace_builds(const Uuid& workspace_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kBuildColumns, "workspace_builds",
                               "WHERE workspace_id = ? ORDER BY build_number DESC"));
  q.bind(1, workspace_id);
  return collect<WorkspaceBuildRow>(q, read_build);
}

std::vector<WorkspaceBuildRow> SqliteStore::list_workspace_builds_page(
    const Uuid& workspace_id, std::optional<TimePoint> created_after,
    std::optional<std::int64_t> number_after, std::int64_t limit, std::int64_t offset) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kBuildColumns, "workspace_builds",
                               "WHERE workspace_id = ?1 AND (created_at > ?2 OR ?2 IS NULL) AND "
                               "(build_number > ?3 OR ?3 IS NULL) ORDER BY build_number DESC "
                               "LIMIT ?4 OFFSET ?5"));
  q.bind(1, workspace_id);
  bind_optional(q, 2, created_after);
  bind_optional(q, 3, number_after);
  q.bind(4, limit > 0 ? limit : kNoLimit).bind(5, std::max<std::int64_t>(offset, 0));
  return collect<WorkspaceBuildRow>(q, read_build);
}

void SqliteStore::update_workspace_build_completion(const Uuid& id, const std::string& state,
                                                    std::optional<TimePoint> deadline,
                                                    std::optional<TimePoint> max_deadline,
                                                    bool has_ai_task, std::int64_t daily_cost,
                                                    TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db,
              "UPDATE workspace_builds SET provisioner_state = ?, deadline = ?, max_deadline = ?, "
              "has_ai_task = ?, daily_cost = ?, updated_at = ? WHERE id = ?");
  q.bind_blob(1, state);
  bind_optional(q, 2, deadline);
  bind_optional(q, 3, max_deadline);
  q.bind(4, has_ai_task).bind(5, daily_cost).bind(6, now).bind(7, id).run();
}

void SqliteStore::update_workspace_build_deadline(const Uuid& id, std::optional<TimePoint> deadline,
                                                  TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db, "UPDATE workspace_builds SET deadline = ?, updated_at = ? WHERE id = ?");
  bind_optional(q, 1, deadline);
  q.bind(2, now).bind(3, id).run();
}

void SqliteStore::update_workspace_build_deadlines(const Uuid& id,
                                                   std::optional<TimePoint> deadline,
                                                   std::optional<TimePoint> max_deadline,
                                                   TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db,
              "UPDATE workspace_builds SET deadline = ?, max_deadline = ?, updated_at = ? "
              "WHERE id = ?");
  bind_optional(q, 1, deadline);
  bind_optional(q, 2, max_deadline);
  q.bind(3, now).bind(4, id).run();
}

void SqliteStore::update_workspace_build_state(const Uuid& id, const std::string& state,
                                               TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db,
              "UPDATE workspace_builds SET provisioner_state = ?, updated_at = ? WHERE id = ?");
  q.bind_blob(1, state).bind(2, now).bind(3, id).run();
}

void SqliteStore::insert_build_parameters(const Uuid& build_id,
                                          const std::vector<BuildParameterRow>& parameters) {
  auto db = pool_.writer();
  for (const auto& p : parameters) {
    Statement q(*db,
                "INSERT INTO workspace_build_parameters (workspace_build_id, name, value) "
                "VALUES (?, ?, ?)");
    q.bind(1, build_id).bind(2, p.name).bind(3, p.value).run();
  }
}

std::vector<BuildParameterRow> SqliteStore::list_build_parameters(const Uuid& build_id) {
  auto db = pool_.reader();
  Statement q(*db,
              "SELECT name, value FROM workspace_build_parameters WHERE workspace_build_id = ? "
              "ORDER BY rowid");
  q.bind(1, build_id);
  return collect<BuildParameterRow>(q, [](const Statement& s) {
    return BuildParameterRow{s.text(0), s.text(1)};
  });
}

// Resources and agents

void SqliteStore::insert_workspace_resource(const WorkspaceResourceRow& r) {
  auto db = pool_.writer();
  Statement q(*db, "INSERT INTO workspace_resources (" + std::string(kResourceColumns) +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, r.id)
      .bind(2, r.created_at)
      .bind(3, r.job_id)
      .bind(4, sdk::to_string(r.transition))
      .bind(5, r.type);
  q.bind(6, r.name).bind(7, r.hide).bind(8, r.icon).bind(9, r.daily_cost);
  q.bind(10, resource_metadata_json(r.metadata));
  q.run();
}

std::vector<WorkspaceResourceRow> SqliteStore::list_workspace_resources_by_job_id(
    const Uuid& job_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kResourceColumns, "workspace_resources",
                               "WHERE job_id = ? ORDER BY created_at, rowid"));
  q.bind(1, job_id);
  return collect<WorkspaceResourceRow>(q, read_resource);
}

std::vector<WorkspaceResourceRow> SqliteStore::list_workspace_resources_by_job_ids(
    const std::vector<Uuid>& job_ids) {
  auto db = pool_.reader();
  return collect_by_ids<WorkspaceResourceRow>(
      *db,
      select_from(
          kResourceColumns, "workspace_resources",
          std::string("WHERE job_id ") + in_ids(*db) + " ORDER BY job_id, created_at, rowid"),
      job_ids, read_resource);
}

void SqliteStore::insert_workspace_agent(const WorkspaceAgentRow& r) {
  auto db = pool_.writer();
  Statement q(*db, "INSERT INTO workspace_agents (" + std::string(kAgentColumns) +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, r.id).bind(2, r.created_at).bind(3, r.updated_at).bind(4, r.resource_id);
  q.bind(5, r.name).bind(6, r.auth_token_hash).bind(7, r.config);
  bind_optional(q, 8, r.first_connected_at);
  bind_optional(q, 9, r.last_connected_at);
  bind_optional(q, 10, r.disconnected_at);
  q.bind(11, sdk::to_string(r.lifecycle_state));
  bind_optional(q, 12, r.started_at);
  bind_optional(q, 13, r.ready_at);
  q.bind(14, r.version).bind(15, r.api_version).bind(16, r.expanded_directory);
  q.bind(17, r.logs_length).bind(18, r.logs_overflowed).bind(19, r.deleted).run();
}

std::optional<WorkspaceAgentRow> SqliteStore::get_workspace_agent_by_id(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kAgentColumns, "workspace_agents", "WHERE id = ?"));
  q.bind(1, id);
  return first<WorkspaceAgentRow>(q, read_agent);
}

std::vector<WorkspaceAgentRow> SqliteStore::list_workspace_agents_by_ids(
    const std::vector<Uuid>& ids) {
  auto db = pool_.reader();
  return collect_by_ids<WorkspaceAgentRow>(
      *db, select_from(kAgentColumns, "workspace_agents", std::string("WHERE id ") + in_ids(*db)),
      ids, read_agent);
}

std::optional<WorkspaceAgentRow> SqliteStore::get_workspace_agent_by_token_hash(
    const std::string& hash) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kAgentColumns, "workspace_agents",
                               "WHERE auth_token_hash = ? AND deleted = 0"));
  q.bind(1, hash);
  return first<WorkspaceAgentRow>(q, read_agent);
}

std::vector<WorkspaceAgentRow> SqliteStore::list_workspace_agents_by_resource_ids(
    const std::vector<Uuid>& resource_ids) {
  auto db = pool_.reader();
  return collect_by_ids<WorkspaceAgentRow>(
      *db,
      select_from(kAgentColumns, "workspace_agents",
                  std::string("WHERE resource_id ") + in_ids(*db) +
                      " ORDER BY resource_id, created_at, name"),
      resource_ids, read_agent);
}

std::vector<WorkspaceAgentRow> SqliteStore::list_workspace_agents_by_resource_id(
    const Uuid& resource_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kAgentColumns, "workspace_agents",
                               "WHERE resource_id = ? ORDER BY created_at, name"));
  q.bind(1, resource_id);
  return collect<WorkspaceAgentRow>(q, read_agent);
}

}  // namespace berth::store::sqlite
