// SqliteStore: files, templates and template versions.
#include "store/sqlite/helpers.hpp"
#include "store/sqlite/row_json.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/where.hpp"

namespace berth::store::sqlite {

namespace {

constexpr const char* kFileColumns = "id, hash, created_by, created_at, mimetype, data";

FileRow read_file(const Statement& q) {
  return FileRow{q.uuid(0), q.text(1), q.uuid(2), q.time(3), q.text(4), q.text(5)};
}

constexpr const char* kTemplateColumns =
    "id, organization_id, name, display_name, description, icon, provisioner, "
    "active_version_id, created_by, created_at, updated_at, deleted, policy";

TemplateRow read_template(const Statement& q) {
  return TemplateRow{q.uuid(0),
                     q.uuid(1),
                     q.text(2),
                     q.text(3),
                     q.text(4),
                     q.text(5),
                     q.text(6),
                     q.uuid(7),
                     q.uuid(8),
                     q.time(9),
                     q.time(10),
                     q.boolean(11),
                     policy_from_json(q.text(12), "templates.policy")};
}

constexpr const char* kVersionColumns =
    "id, template_id, organization_id, name, message, readme, job_id, created_by, created_at, "
    "updated_at, archived, has_ai_task, has_external_agent, user_variable_values, parameters, "
    "variables, presets, resources, external_auth";

TemplateVersionRow read_version(const Statement& q) {
  return TemplateVersionRow{
      q.uuid(0),
      optional_uuid(q, 1),
      q.uuid(2),
      q.text(3),
      q.text(4),
      q.text(5),
      q.uuid(6),
      q.uuid(7),
      q.time(8),
      q.time(9),
      q.boolean(10),
      q.boolean(11),
      q.boolean(12),
      variable_values_from_json(q.text(13), "template_versions.user_variable_values"),
      q.text(14),
      q.text(15),
      q.text(16),
      q.text(17),
      q.text(18)};
}

}  // namespace

// Files

void SqliteStore::insert_file(const FileRow& r) {
  auto db = pool_.writer();
  Statement q(*db,
              "INSERT INTO files (" + std::string(kFileColumns) + ") VALUES (?, ?, ?, ?, ?, ?)");
  q.bind(1, r.id).bind(2, r.hash).bind(3, r.created_by).bind(4, r.created_at);
  q.bind(5, r.mimetype).bind_blob(6, r.data).run();
}

std::optional<FileRow> SqliteStore::get_file_by_id(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kFileColumns, "files", "WHERE id = ?"));
  q.bind(1, id);
  return first<FileRow>(q, read_file);
}

std::optional<FileRow> SqliteStore::get_file_by_hash_and_creator(const std::string& hash,
                                                                 const Uuid& created_by) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kFileColumns, "files", "WHERE hash = ? AND created_by = ?"));
  q.bind(1, hash).bind(2, created_by);
  return first<FileRow>(q, read_file);
}

// Templates

void SqliteStore::insert_template(const TemplateRow& r) {
  auto db = pool_.writer();
  Statement q(*db, "INSERT INTO templates (" + std::string(kTemplateColumns) +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, r.id).bind(2, r.organization_id).bind(3, r.name).bind(4, r.display_name);
  q.bind(5, r.description).bind(6, r.icon).bind(7, r.provisioner).bind(8, r.active_version_id);
  q.bind(9, r.created_by).bind(10, r.created_at).bind(11, r.updated_at).bind(12, r.deleted);
  q.bind(13, policy_json(r.policy)).run();
}

std::optional<TemplateRow> SqliteStore::get_template_by_id(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kTemplateColumns, "templates", "WHERE id = ?"));
  q.bind(1, id);
  return first<TemplateRow>(q, read_template);
}

std::vector<TemplateRow> SqliteStore::list_templates_by_ids(const std::vector<Uuid>& ids) {
  auto db = pool_.reader();
  return collect_by_ids<TemplateRow>(
      *db, select_from(kTemplateColumns, "templates", std::string("WHERE id ") + in_ids(*db)), ids,
      read_template);
}

std::optional<TemplateRow> SqliteStore::get_template_by_organization_and_name(
    const Uuid& organization_id, const std::string& name) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kTemplateColumns, "templates",
                               "WHERE organization_id = ? AND lower(name) = lower(?) AND "
                               "deleted = 0"));
  q.bind(1, organization_id).bind(2, name);
  return first<TemplateRow>(q, read_template);
}

namespace {

// Whether the template's policy has a deprecation message: a non-empty string (`> ''` in
// SQLite, which orders every number before any text, as policy_from_json reads a number as
// none). json_extract is SQLite's; PostgreSQL has a function of that name
// (store/postgres/migrations.cpp).
constexpr const char* kDeprecated =
    "(CASE WHEN json_extract(t.policy, '$.deprecation_message') > '' THEN 1 ELSE 0 END)";

Where template_filter(const ListTemplatesParams& p) {
  Where where;
  where.add("t.deleted = 0");
  if (p.organization_id) where.add("t.organization_id = ?", {*p.organization_id});
  if (!p.exact_name.empty()) where.add("lower(t.name) = lower(?)", {p.exact_name});
  if (!p.exact_display_name.empty())
    where.add("lower(t.display_name) = lower(?)", {p.exact_display_name});
  if (!p.name_contains.empty())
    where.add("lower(t.name) LIKE ? ESCAPE '!'", {contains_pattern(p.name_contains)});
  if (!p.display_name_contains.empty())
    where.add("lower(t.display_name) LIKE ? ESCAPE '!'",
              {contains_pattern(p.display_name_contains)});
  if (!p.ids.empty()) where.add(std::string("t.id ") + kInIds, {uuid_list(p.ids)});
  if (p.created_by) where.add("t.created_by = ?", {*p.created_by});
  if (p.deprecated) where.add(std::string(kDeprecated) + " = ?", {*p.deprecated});
  if (p.has_ai_task)
    where.add(
        "EXISTS (SELECT 1 FROM template_versions v WHERE v.id = t.active_version_id"
        " AND v.has_ai_task = ?)",
        {*p.has_ai_task});
  if (p.has_external_agent)
    where.add(
        "EXISTS (SELECT 1 FROM template_versions v WHERE v.id = t.active_version_id"
        " AND v.has_external_agent = ?)",
        {*p.has_external_agent});
  if (!p.readable_all)
    where.add(std::string("t.organization_id ") + kInIds, {uuid_list(p.readable_organization_ids)});
  return where;
}

}  // namespace

std::vector<TemplateRow> SqliteStore::list_templates(const ListTemplatesParams& p) {
  auto db = pool_.reader();
  auto where = template_filter(p);
  Statement q(*db, select_from(kTemplateColumns, "templates t",
                               where.sql() + " ORDER BY lower(t.name), t.id"));
  where.bind(q);
  return collect<TemplateRow>(q, read_template);
}

void SqliteStore::update_template(const TemplateRow& r) {
  auto db = pool_.writer();
  Statement q(*db,
              "UPDATE templates SET name = ?, display_name = ?, description = ?, icon = ?, "
              "active_version_id = ?, updated_at = ?, deleted = ?, policy = ? WHERE id = ?");
  q.bind(1, r.name).bind(2, r.display_name).bind(3, r.description).bind(4, r.icon);
  q.bind(5, r.active_version_id).bind(6, r.updated_at).bind(7, r.deleted);
  q.bind(8, policy_json(r.policy));
  q.bind(9, r.id).run();
}

// Template versions

void SqliteStore::insert_template_version(const TemplateVersionRow& r) {
  auto db = pool_.writer();
  Statement q(*db, "INSERT INTO template_versions (" + std::string(kVersionColumns) +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, r.id);
  bind_optional(q, 2, r.template_id);
  q.bind(3, r.organization_id).bind(4, r.name).bind(5, r.message).bind(6, r.readme);
  q.bind(7, r.job_id).bind(8, r.created_by).bind(9, r.created_at).bind(10, r.updated_at);
  q.bind(11, r.archived).bind(12, r.has_ai_task).bind(13, r.has_external_agent);
  q.bind(14, variable_values_json(r.user_variable_values))
      .bind(15, r.parameters)
      .bind(16, r.variables);
  q.bind(17, r.presets).bind(18, r.resources).bind(19, r.external_auth).run();
}

std::optional<TemplateVersionRow> SqliteStore::get_template_version_by_id(const Uuid& id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kVersionColumns, "template_versions", "WHERE id = ?"));
  q.bind(1, id);
  return first<TemplateVersionRow>(q, read_version);
}

std::vector<TemplateVersionRow> SqliteStore::list_template_versions_by_ids(
    const std::vector<Uuid>& ids) {
  auto db = pool_.reader();
  return collect_by_ids<TemplateVersionRow>(
      *db,
      select_from(kVersionColumns, "template_versions", std::string("WHERE id ") + in_ids(*db)),
      ids, read_version);
}

std::optional<TemplateVersionRow> SqliteStore::get_template_version_by_job_id(const Uuid& job_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kVersionColumns, "template_versions", "WHERE job_id = ?"));
  q.bind(1, job_id);
  return first<TemplateVersionRow>(q, read_version);
}

std::optional<TemplateVersionRow> SqliteStore::get_template_version_by_template_and_name(
    const Uuid& template_id, const std::string& name) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kVersionColumns, "template_versions",
                               "WHERE template_id = ? AND lower(name) = lower(?)"));
  q.bind(1, template_id).bind(2, name);
  return first<TemplateVersionRow>(q, read_version);
}

std::vector<TemplateVersionRow> SqliteStore::list_template_versions_by_template_id(
    const Uuid& template_id) {
  auto db = pool_.reader();
  Statement q(*db, select_from(kVersionColumns, "template_versions",
                               "WHERE template_id = ? ORDER BY created_at, id"));
  q.bind(1, template_id);
  return collect<TemplateVersionRow>(q, read_version);
}

void SqliteStore::update_template_version_name_and_message(const Uuid& id, const std::string& name,
                                                           const std::string& message,
                                                           TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db,
              "UPDATE template_versions SET name = ?, message = ?, updated_at = ? WHERE id = ?");
  q.bind(1, name).bind(2, message).bind(3, now).bind(4, id).run();
}

void SqliteStore::update_template_version_template_id(const Uuid& id, const Uuid& template_id,
                                                      TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db, "UPDATE template_versions SET template_id = ?, updated_at = ? WHERE id = ?");
  q.bind(1, template_id).bind(2, now).bind(3, id).run();
}

void SqliteStore::update_template_version_import_result(const Uuid& id,
                                                        const TemplateVersionImportResult& r,
                                                        TimePoint now) {
  auto db = pool_.writer();
  Statement q(*db,
              "UPDATE template_versions SET readme = ?, has_ai_task = ?, has_external_agent = ?, "
              "parameters = ?, variables = ?, presets = ?, resources = ?, external_auth = ?, "
              "updated_at = ? WHERE id = ?");
  q.bind(1, r.readme).bind(2, r.has_ai_task).bind(3, r.has_external_agent);
  q.bind(4, r.parameters).bind(5, r.variables).bind(6, r.presets).bind(7, r.resources);
  q.bind(8, r.external_auth).bind(9, now).bind(10, id).run();
}

}  // namespace berth::store::sqlite
