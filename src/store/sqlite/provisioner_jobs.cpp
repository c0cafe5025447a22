// SqliteStore: the provisioner job queue and job logs.
#include "common/json.hpp"
#include "store/sqlite/helpers.hpp"
#include "store/sqlite/row_json.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace berth::store::sqlite {

namespace {

constexpr const char* kJobColumns =
    "id, created_at, updated_at, started_at, canceled_at, completed_at, error, error_code, "
    "organization_id, initiator_id, provisioner, storage_method, type, file_id, input, tags, "
    "worker_id, worker_name, logs_length, logs_overflowed";

ProvisionerJobRow read_job(const Statement& q) {
  return ProvisionerJobRow{q.uuid(0),
                           q.time(1),
                           q.time(2),
                           optional_time(q, 3),
                           optional_time(q, 4),
                           optional_time(q, 5),
                           optional_text(q, 6),
                           q.text(7),
                           q.uuid(8),
                           q.uuid(9),
                           q.text(10),
                           q.text(11),
                           q.text(12),
                           q.uuid(13),
                           job_input_from_json(q.text(14), "provisioner_jobs.input"),
                           tags_from_json(q.text(15), "provisioner_jobs.tags"),
                           optional_uuid(q, 16),
                           q.text(17),
                           q.integer(18),
                           q.boolean(19)};
}

constexpr const char* kLogColumns = "id, job_id, created_at, source, level, stage, output";

// The default tags every job and daemon has (Coder's untagged set), as tags_json writes them.
const std::string& untagged_json() {
  static const std::string text = tags_json({{"scope", "organization"}, {"owner", ""}});
  return text;
}

// Whether a daemon with the tags document `daemon` may run a job with the tags document `job`
// (SQL expressions; `untagged` is a placeholder bound to untagged_json()): Coder's rule, an
// untagged job only on an untagged daemon, any other when all its tags are the daemon's.
// Tags documents are written by tags_json, keys in order, so equal sets are equal texts.
std::string tags_match(const std::string& daemon, const std::string& job,
                       const std::string& untagged) {
  return "(CASE WHEN " + job + " = " + untagged + " THEN " + daemon + " = " + untagged +
         " ELSE NOT EXISTS (SELECT 1 FROM json_each(" + job +
         ") jt WHERE NOT EXISTS (SELECT 1 FROM json_each(" + daemon +
         ") dt WHERE dt.key = jt.key AND dt.value = jt.value)) END)";
}

ProvisionerJobLogRow read_log(const Statement& q) {
  return ProvisionerJobLogRow{q.integer(0), q.uuid(1), q.time(2), q.text(3),
                              q.text(4),    q.text(5), q.text(6)};
}

}  // namespace

void SqliteStore::insert_provisioner_job(const ProvisionerJobRow& r) {
  auto db = pool_.writer();
  Statement q(*db, "INSERT INTO provisioner_jobs (" + std::string(kJobColumns) +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, r.id).bind(2, r.created_at).bind(3, r.updated_at);
  bind_optional(q, 4, r.started_at);
  bind_optional(q, 5, r.canceled_at);
  bind_optional(q, 6, r.completed_at);
  bind_optional(q, 7, r.error);
  q.bind(8, r.error_code).bind(9, r.organization_id).bind(10, r.initiator_id);
  q.bind(11, r.provisioner).bind(12, r.storage_method).bind(13, r.type).bind(14, r.file_id);
  q.bind(15, job_input_json(r.input)).bind(16, tags_json(r.tags));
  bind_optional(q, 17, r.worker_id);
  q.bind(18, r.worker_name).bind(19, r.logs_length).bind(20, r.logs_overflowed);
  q.run();
}

std::optional<ProvisionerJobRow> SqliteStore::get_provisioner_job_by_id(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kJobColumns, "provisioner_jobs", "WHERE id = ?"));
  q.bind(1, id);
  return first<ProvisionerJobRow>(q, read_job);
}

std::vector<ProvisionerJobRow> SqliteStore::list_provisioner_jobs_by_ids(
    const std::vector<Uuid>& ids) {
  auto db = pool_.reader();
  return collect_by_ids<ProvisionerJobRow>(
      *db, select_from(kJobColumns, "provisioner_jobs", std::string("WHERE id ") + in_ids(*db)),
      ids, read_job);
}

std::optional<ProvisionerJobRow> SqliteStore::acquire_provisioner_job(const AcquireJobParams& p) {
  auto db = pool_.writer();
  // One statement picks and claims the job, so two workers of this process can never take the
  // same one. Other processes on the same PostgreSQL database (replicas) skip the row this one
  // has locked instead of claiming it again after it commits.
  bool postgres = (*db).dialect() == Dialect::postgres;
  Statement q(*db,
              "UPDATE provisioner_jobs SET started_at = ?1, updated_at = ?1, worker_id = ?2, "
              "worker_name = ?3 WHERE id = (SELECT j.id FROM provisioner_jobs j "
              "WHERE j.started_at IS NULL AND j.canceled_at IS NULL AND j.completed_at IS NULL "
              "AND (?6 = '' OR j.organization_id = ?6) "
              "AND j.provisioner IN (SELECT value FROM json_each(?5)) AND " +
                  tags_match("?4", "j.tags", "?7") + " ORDER BY j.created_at, j.id LIMIT 1" +
                  std::string(postgres ? " FOR UPDATE SKIP LOCKED" : "") + ") RETURNING " +
                  kJobColumns);
  json::array names;
  for (const auto& provisioner : p.provisioners) names.emplace_back(provisioner);
  q.bind(1, p.now).bind(2, p.worker_id).bind(3, p.worker_name).bind(4, tags_json(p.tags));
  q.bind(5, json::serialize(names));
  q.bind(6, p.organization_id ? p.organization_id->to_string() : std::string());
  q.bind(7, untagged_json());
  auto job = first<ProvisionerJobRow>(q, read_job);
  // Drain a claimed row's statement to its end; after "no row" it is already done, and
  // stepping it again would run the UPDATE again and claim a job nobody then runs.
  if (job)
    while (q.step()) {
    }
  return job;
}

void SqliteStore::update_provisioner_job_heartbeat_by_id(const Uuid& id, TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db, "UPDATE provisioner_jobs SET updated_at = ? WHERE id = ?");
  q.bind(1, now).bind(2, id).run();
}

void SqliteStore::update_provisioner_job_completed_by_id(const Uuid& id, TimePoint now,
                                                         const std::optional<std::string>& error,
                                                         const std::string& error_code) {
  auto db = pool_.writer();
  Statement q(*db,
              "UPDATE provisioner_jobs SET completed_at = ?, updated_at = ?, error = ?, "
              "error_code = ? WHERE id = ? AND completed_at IS NULL");
  q.bind(1, now).bind(2, now);
  bind_optional(q, 3, error);
  q.bind(4, error_code).bind(5, id).run();
}

void SqliteStore::update_provisioner_job_canceled_by_id(const Uuid& id, TimePoint now,
                                                        bool complete) {
  auto db = pool_.writer();
  Statement q(*db,
              "UPDATE provisioner_jobs SET canceled_at = ?1, updated_at = ?1, "
              "completed_at = CASE WHEN ?2 THEN ?1 ELSE completed_at END WHERE id = ?3");
  q.bind(1, now).bind(2, complete).bind(3, id).run();
}

std::vector<ProvisionerJobRow> SqliteStore::list_stale_provisioner_jobs(TimePoint before,
                                                                        TimePoint pending_before,
                                                                        std::int64_t limit) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kJobColumns, "provisioner_jobs",
                               "WHERE completed_at IS NULL AND ((started_at IS NOT NULL AND "
                               "updated_at < ?) OR (started_at IS NULL AND updated_at < ?)) "
                               "ORDER BY created_at LIMIT ?"));
  q.bind(1, before).bind(2, pending_before).bind(3, limit);
  return collect<ProvisionerJobRow>(q, read_job);
}

std::pair<std::int64_t, std::int64_t> SqliteStore::get_provisioner_job_queue_position(
    const Uuid& id, TimePoint daemons_seen_after) {
  auto db = pool_.reader();
  // Coder's rule: per daemon that may run the job, the pending jobs it may run that were queued
  // before it; the best of those positions. A daemon serves its organization, or (built in)
  // every one. Jobs queued at the same moment go in id order, as acquire takes them.
  constexpr const char* kPending =
      "started_at IS NULL AND completed_at IS NULL AND canceled_at IS NULL";
  std::string serves =
      "(d.organization_id IS NULL OR d.organization_id = %.organization_id) AND "
      "%.provisioner IN (SELECT value FROM json_each(d.provisioners)) AND ";
  auto serves_job = [&](const std::string& job) {
    std::string out = serves;
    for (std::size_t at; (at = out.find('%')) != std::string::npos;) out.replace(at, 1, job);
    return out + tags_match("d.tags", job + ".tags", "?3");
  };
  Statement q(
      *db,
      std::string("WITH me AS (SELECT id, created_at, organization_id, provisioner, tags FROM "
                  "provisioner_jobs WHERE id = ?1 AND ") +
          kPending +
          "), pending AS (SELECT id, created_at, organization_id, provisioner, tags FROM "
          "provisioner_jobs WHERE " +
          kPending +
          "), eligible AS (SELECT d.id, d.organization_id, d.provisioners, d.tags FROM "
          "provisioner_daemons d JOIN me ON " +
          serves_job("me") +
          " WHERE d.last_seen_at >= ?2), per_daemon AS (SELECT d.id, SUM(CASE WHEN "
          "p.created_at < me.created_at OR (p.created_at = me.created_at AND p.id <= me.id) "
          "THEN 1 ELSE 0 END) AS position, COUNT(*) AS size FROM eligible d JOIN pending p ON " +
          serves_job("p") +
          " CROSS JOIN me GROUP BY d.id), same_tags AS (SELECT p.id, p.created_at FROM pending p "
          "JOIN me ON p.tags = me.tags AND p.organization_id = me.organization_id) "
          "SELECT CASE WHEN EXISTS (SELECT 1 FROM per_daemon) THEN (SELECT MIN(position) FROM "
          "per_daemon) ELSE (SELECT COUNT(*) FROM same_tags p, me WHERE p.created_at < "
          "me.created_at OR (p.created_at = me.created_at AND p.id <= me.id)) END, "
          "CASE WHEN EXISTS (SELECT 1 FROM per_daemon) THEN (SELECT MAX(size) FROM per_daemon) "
          "ELSE (SELECT COUNT(*) FROM same_tags) END");
  q.bind(1, id).bind(2, daemons_seen_after).bind(3, untagged_json());
  q.step();
  std::pair<std::int64_t, std::int64_t> out{q.integer(0), q.integer(1)};
  while (q.step()) {
  }
  return out;
}

std::vector<std::int64_t> SqliteStore::insert_provisioner_job_logs(
    const Uuid& job_id, const std::vector<ProvisionerJobLogRow>& logs, std::int64_t max_bytes) {
  auto db = pool_.writer();
  std::vector<std::int64_t> ids;
  in_tx([&](Store&) {
    auto job = get_provisioner_job_by_id(job_id);
    if (!job || job->logs_overflowed) return;
    std::int64_t length = job->logs_length;
    bool overflowed = false;
    for (const auto& log : logs) {
      if (length + std::int64_t(log.output.size()) > max_bytes) {
        overflowed = true;
        break;
      }
      Statement q(*db,
                  "INSERT INTO provisioner_job_logs (job_id, created_at, source, level, stage, "
                  "output) VALUES (?, ?, ?, ?, ?, ?) RETURNING id");
      q.bind(1, job_id).bind(2, log.created_at).bind(3, log.source).bind(4, log.level);
      q.bind(5, log.stage).bind(6, log.output);
      q.step();
      ids.push_back(q.integer(0));
      while (q.step()) {
      }
      length += std::int64_t(log.output.size());
    }
    Statement update(
        *db, "UPDATE provisioner_jobs SET logs_length = ?, logs_overflowed = ? WHERE id = ?");
    update.bind(1, length).bind(2, overflowed).bind(3, job_id).run();
  });
  return ids;
}

std::vector<ProvisionerJobLogRow> SqliteStore::list_provisioner_job_logs_after(
    const Uuid& job_id, std::int64_t after_id, std::int64_t limit) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kLogColumns, "provisioner_job_logs",
                               "WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?"));
  q.bind(1, job_id).bind(2, after_id).bind(3, limit > 0 ? limit : kNoLimit);
  return collect<ProvisionerJobLogRow>(q, read_log);
}

}  // namespace berth::store::sqlite
