// SqliteStore: the audit log.
#include <algorithm>

#include "store/sqlite/helpers.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace berth::store::sqlite {

namespace {

constexpr const char* kAuditColumns =
    "id, time, user_id, organization_id, ip, user_agent, resource_type, resource_id, "
    "resource_target, action, status_code, additional_fields, request_id";

AuditLogRow read_audit_log(const Statement& q) {
  return AuditLogRow{q.uuid(0),     q.time(1),  optional_uuid(q, 2), optional_uuid(q, 3), q.text(4),
                     q.text(5),     q.text(6),  optional_uuid(q, 7), q.text(8),           q.text(9),
                     q.integer(10), q.text(11), q.uuid(12)};
}

// The WHERE clause for `p` (placeholders ?1..?9). Each optional value is compared before it is
// tested for NULL: PostgreSQL takes a parameter's type from its first use.
constexpr const char* kAuditFilter =
    "WHERE (resource_type = ?1 OR ?1 IS NULL) AND (resource_id = ?2 OR ?2 IS NULL)"
    " AND (action = ?3 OR ?3 IS NULL) AND (user_id = ?4 OR ?4 IS NULL)"
    " AND (organization_id = ?5 OR ?5 IS NULL) AND (time >= ?6 OR ?6 IS NULL)"
    " AND (time < ?7 OR ?7 IS NULL)"
    " AND (?8 = 1 OR organization_id IN (SELECT value FROM json_each(?9)))";

void bind_audit_filter(Statement& q, const ListAuditLogsParams& p) {
  bind_optional(q, 1, p.resource_type);
  bind_optional(q, 2, p.resource_id);
  bind_optional(q, 3, p.action);
  bind_optional(q, 4, p.user_id);
  bind_optional(q, 5, p.organization_id);
  bind_optional(q, 6, p.time_from);
  bind_optional(q, 7, p.time_to);
  q.bind(8, p.readable_all).bind(9, uuid_list(p.readable_organization_ids));
}

}  // namespace

void SqliteStore::insert_audit_log(const AuditLogRow& r) {
  auto db = pool_.writer();
  Statement q(*db, std::string("INSERT INTO audit_logs (") + kAuditColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, r.id).bind(2, r.time);
  bind_optional(q, 3, r.user_id);
  bind_optional(q, 4, r.organization_id);
  q.bind(5, r.ip).bind(6, r.user_agent).bind(7, r.resource_type);
  bind_optional(q, 8, r.resource_id);
  q.bind(9, r.resource_target).bind(10, r.action).bind(11, r.status_code);
  q.bind(12, r.additional_fields).bind(13, r.request_id).run();
}

std::vector<AuditLogRow> SqliteStore::list_audit_logs(const ListAuditLogsParams& p,
                                                      std::int64_t limit, std::int64_t offset) {
  auto db = pool_.reader();
  Statement q(
      *db, select_from(kAuditColumns, "audit_logs",
                       std::string(kAuditFilter) + " ORDER BY time DESC, id LIMIT ?10 OFFSET ?11"));
  bind_audit_filter(q, p);
  q.bind(10, limit > 0 ? limit : kNoLimit).bind(11, std::max<std::int64_t>(offset, 0));
  return collect<AuditLogRow>(q, read_audit_log);
}

std::int64_t SqliteStore::count_audit_logs(const ListAuditLogsParams& p) {
  auto db = pool_.reader();
  Statement q(*db, std::string("SELECT COUNT(*) FROM audit_logs ") + kAuditFilter);
  bind_audit_filter(q, p);
  q.step();
  return q.integer(0);
}

}  // namespace berth::store::sqlite
