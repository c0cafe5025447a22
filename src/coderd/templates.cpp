#include "coderd/templates.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "coderd/names.hpp"
#include "coderd/workspaces.hpp"
#include "common/error.hpp"

namespace berth::coderd {

namespace {

const std::set<std::string> kDays = {"monday", "tuesday",  "wednesday", "thursday",
                                     "friday", "saturday", "sunday"};

void read_duration(json::ObjectReader& body, const char* key, std::int64_t& out) {
  if (auto v = body.integer(key)) {
    if (*v < 0) body.invalid(key, "Must be a positive integer.");
    out = *v;
  }
}

std::vector<std::string> read_days(json::ObjectReader& body, const json::value& v,
                                   const std::string& field) {
  std::vector<std::string> days;
  if (!v.is_array()) {
    body.invalid(field, "Must be a list of days of the week.");
    return days;
  }
  for (const auto& d : v.get_array()) {
    std::string day = d.is_string() ? std::string(d.get_string()) : "";
    if (!kDays.count(day))
      body.invalid(field, fmt::format("\"{}\" is not a valid day of the week.", day));
    else
      days.push_back(day);
  }
  return days;
}

// A generated name no version of the template has yet: Coder's generator is retried on a
// collision, so unnamed imports never fail because a random name came up twice.
std::string unused_version_name(store::Store& tx, const std::optional<Uuid>& template_id) {
  constexpr int kAttempts = 64;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto name = random_name();
    if (!template_id || !tx.get_template_version_by_template_and_name(*template_id, name))
      return name;
  }
  return random_name() + "_" + Uuid::random_v4().to_string().substr(0, 8);
}

}  // namespace

void read_template_policy(json::ObjectReader& body, TemplatePolicy& p) {
  read_duration(body, "default_ttl_ms", p.default_ttl_ms);
  read_duration(body, "activity_bump_ms", p.activity_bump_ms);
  read_duration(body, "failure_ttl_ms", p.failure_ttl_ms);
  read_duration(body, "time_til_dormant_ms", p.time_til_dormant_ms);
  read_duration(body, "time_til_dormant_autodelete_ms", p.time_til_dormant_autodelete_ms);
  // Coder's create request names the dormancy fields differently.
  read_duration(body, "dormant_ttl_ms", p.time_til_dormant_ms);
  read_duration(body, "delete_ttl_ms", p.time_til_dormant_autodelete_ms);
  if (auto v = body.boolean("allow_user_autostart")) p.allow_user_autostart = *v;
  if (auto v = body.boolean("allow_user_autostop")) p.allow_user_autostop = *v;
  if (auto v = body.boolean("allow_user_cancel_workspace_jobs"))
    p.allow_user_cancel_workspace_jobs = *v;
  if (auto v = body.boolean("require_active_version")) p.require_active_version = *v;
  if (auto v = body.boolean("use_classic_parameter_flow")) p.use_classic_parameter_flow = *v;
  if (auto v = body.string("deprecation_message")) p.deprecation_message = *v;
  if (auto v = body.string("max_port_share_level")) {
    if (*v != "owner" && *v != "authenticated" && *v != "organization" && *v != "public")
      body.invalid("max_port_share_level", "Must be owner, authenticated, organization or public.");
    else
      p.max_port_share_level = *v;
  }
  if (const auto* stop = body.object_field("autostop_requirement")) {
    json::ObjectReader r{json::value(*stop)};
    if (auto it = stop->find("days_of_week"); it != stop->end() && !it->value().is_null())
      p.autostop_days_of_week = read_days(body, it->value(), "autostop_requirement.days_of_week");
    if (auto weeks = r.integer("weeks")) {
      if (*weeks < 0 || *weeks > 16)
        body.invalid("autostop_requirement.weeks", "Must be between 1 and 16.");
      else
        p.autostop_weeks = *weeks == 0 ? 1 : *weeks;
    }
  }
  if (const auto* start = body.object_field("autostart_requirement")) {
    if (auto it = start->find("days_of_week"); it != start->end() && !it->value().is_null())
      p.autostart_days_of_week = read_days(body, it->value(), "autostart_requirement.days_of_week");
  }
}

Object template_object(const Uuid& organization_id) {
  return Object{Resource::template_, std::nullopt, organization_id};
}

Templates::Templates(store::Store& store, JobQueue& jobs, const Clock& clock)
    : store_(store), jobs_(jobs), clock_(clock) {}

void Templates::require_admin(const Subject& actor, const Uuid& organization_id) const {
  if (!authorize(actor, Action::update, template_object(organization_id)))
    throw Error{ErrorCode::forbidden, "Forbidden.",
                "You don't have permission to view this content. If you believe this is a "
                "mistake, please contact your administrator or try signing in with different "
                "credentials."};
}

store::TemplateVersionRow Templates::create_version(const Subject& actor,
                                                    const store::OrganizationRow& org,
                                                    const CreateVersionParams& params) {
  require_admin(actor, org.id);
  if (!params.name.empty())
    if (auto problem = version_name_problem(params.name))
      throw Error{ErrorCode::invalid, "Validation failed.", {}, {{"name", *problem}}};
  store::TemplateVersionRow version;
  store::ProvisionerJobRow job;
  store_.in_tx([&](store::Store& tx) {
    auto file = tx.get_file_by_id(params.file_id);
    if (!file)
      throw Error{ErrorCode::not_found, "File not found.",
                  "No file exists with id \"" + params.file_id.to_string() + "\"."};
    if (params.template_id) {
      auto tmpl = tx.get_template_by_id(*params.template_id);
      if (!tmpl || tmpl->deleted || tmpl->organization_id != org.id)
        throw Error{ErrorCode::not_found, "Template does not exist.",
                    "No template exists with id \"" + params.template_id->to_string() + "\"."};
    }
    std::string name =
        params.name.empty() ? unused_version_name(tx, params.template_id) : params.name;
    if (params.template_id &&
        tx.get_template_version_by_template_and_name(*params.template_id, name))
      throw Error{ErrorCode::conflict,
                  fmt::format("A template version with name \"{}\" already exists for this "
                              "template.",
                              name),
                  {},
                  {{"name", "This value is already in use and should be unique."}}};
    auto now = clock_.now();
    Uuid version_id = Uuid::random_v4();
    std::map<std::string, std::string> tags{{"scope", "organization"}, {"owner", ""}};
    for (const auto& [k, v] : params.tags) tags[k] = v;
    job = store::ProvisionerJobRow{
        Uuid::random_v4(),
        now,
        now,
        std::nullopt,
        std::nullopt,
        std::nullopt,
        std::nullopt,
        "",
        org.id,
        actor.user_id,
        params.provisioner,
        "file",
        "template_version_import",
        file->id,
        store::ProvisionerJobInput{version_id, std::nullopt, params.user_variable_values},
        std::move(tags),
        std::nullopt,
        "",
        0,
        false};
    tx.insert_provisioner_job(job);
    version = store::TemplateVersionRow{};
    version.id = version_id;
    version.template_id = params.template_id;
    version.organization_id = org.id;
    version.name = name;
    version.message = params.message;
    version.job_id = job.id;
    version.created_by = actor.user_id;
    version.created_at = now;
    version.updated_at = now;
    version.user_variable_values = params.user_variable_values;
    tx.insert_template_version(version);
  });
  jobs_.announce_posted();
  return version;
}

store::TemplateRow Templates::create_template(const Subject& actor,
                                              const store::OrganizationRow& org,
                                              const CreateTemplateParams& params) {
  require_admin(actor, org.id);
  store::TemplateRow tmpl;
  store_.in_tx([&](store::Store& tx) {
    auto version = tx.get_template_version_by_id(params.version_id);
    if (!version || version->organization_id != org.id)
      throw Error{ErrorCode::not_found,
                  "Template version does not exist.",
                  "No template version exists with id \"" + params.version_id.to_string() + "\".",
                  {{"template_version_id", "template version not found"}}};
    if (version->template_id)
      throw Error{ErrorCode::conflict,
                  "The template version is already used by a template.",
                  {},
                  {{"template_version_id", "already associated with a template"}}};
    auto job = tx.get_provisioner_job_by_id(version->job_id);
    if (!job || job_status(*job) != sdk::ProvisionerJobStatus::succeeded)
      throw Error{ErrorCode::invalid,
                  "The template version has not finished importing successfully.",
                  job ? fmt::format("its import job is {}", sdk::to_string(job_status(*job))) : "",
                  {{"template_version_id", "template version import has not succeeded"}}};
    if (tx.get_template_by_organization_and_name(org.id, params.name))
      throw Error{ErrorCode::conflict,
                  fmt::format("Template with name \"{}\" already exists.", params.name),
                  {},
                  {{"name", "This value is already in use and should be unique."}}};
    auto now = clock_.now();
    tmpl = store::TemplateRow{Uuid::random_v4(),
                              org.id,
                              params.name,
                              params.display_name,
                              params.description,
                              params.icon,
                              job->provisioner,
                              version->id,
                              actor.user_id,
                              now,
                              now,
                              false,
                              params.policy};
    tx.insert_template(tmpl);
    tx.update_template_version_template_id(version->id, tmpl.id, now);
  });
  return tmpl;
}

store::TemplateRow Templates::update_template(const Subject& actor, store::TemplateRow updated) {
  require_admin(actor, updated.organization_id);
  updated.updated_at = clock_.now();
  store_.in_tx([&](store::Store& tx) {
    auto other = tx.get_template_by_organization_and_name(updated.organization_id, updated.name);
    if (other && other->id != updated.id)
      throw Error{ErrorCode::conflict,
                  fmt::format("Template with name \"{}\" already exists.", updated.name),
                  {},
                  {{"name", "This value is already in use and should be unique."}}};
    auto before = tx.get_template_by_id(updated.id);
    tx.update_template(updated);
    // A changed autostop requirement applies to running workspaces at once, as in Coder.
    auto old_policy = before ? before->policy : TemplatePolicy{};
    const auto& new_policy = updated.policy;
    if (old_policy.autostop_days_of_week != new_policy.autostop_days_of_week ||
        old_policy.autostop_weeks != new_policy.autostop_weeks)
      refresh_max_deadlines(tx, updated, updated.updated_at);
  });
  return updated;
}

store::TemplateRow Templates::promote(const Subject& actor, store::TemplateRow tmpl,
                                      const Uuid& version_id) {
  require_admin(actor, tmpl.organization_id);
  store_.in_tx([&](store::Store& tx) {
    auto version = tx.get_template_version_by_id(version_id);
    if (!version || version->template_id != tmpl.id)
      throw Error{ErrorCode::invalid,
                  "The provided template version doesn't belong to the specified template."};
    auto job = tx.get_provisioner_job_by_id(version->job_id);
    if (!job || job_status(*job) != sdk::ProvisionerJobStatus::succeeded)
      throw Error{ErrorCode::invalid, "The provided template version has not finished importing.",
                  job ? fmt::format("its import job is {}", sdk::to_string(job_status(*job))) : ""};
    if (version->archived)
      throw Error{ErrorCode::invalid, "The provided template version is archived."};
    tmpl.active_version_id = version_id;
    tmpl.updated_at = clock_.now();
    tx.update_template(tmpl);
  });
  return tmpl;
}

void Templates::delete_template(const Subject& actor, store::TemplateRow tmpl) {
  if (!authorize(actor, Action::delete_, template_object(tmpl.organization_id)))
    throw Error{ErrorCode::forbidden, "Forbidden.",
                "You don't have permission to delete templates."};
  store_.in_tx([&](store::Store& tx) {
    if (tx.count_workspaces_by_template_id(tmpl.id) > 0)
      throw Error{ErrorCode::invalid,
                  "All workspaces must be deleted before a template can be removed."};
    tmpl.deleted = true;
    tmpl.updated_at = clock_.now();
    tx.update_template(tmpl);
  });
}

store::TemplateVersionRow Templates::update_version(const Subject& actor,
                                                    store::TemplateVersionRow version,
                                                    std::optional<std::string> name,
                                                    std::optional<std::string> message) {
  require_admin(actor, version.organization_id);
  if (name) {
    if (auto problem = version_name_problem(*name))
      throw Error{ErrorCode::invalid, "Validation failed.", {}, {{"name", *problem}}};
    version.name = *name;
  }
  if (message) version.message = *message;
  store_.in_tx([&](store::Store& tx) {
    if (version.template_id) {
      auto other = tx.get_template_version_by_template_and_name(*version.template_id, version.name);
      if (other && other->id != version.id)
        throw Error{ErrorCode::conflict,
                    "A template version with that name already exists.",
                    {},
                    {{"name", "This value is already in use and should be unique."}}};
    }
    version.updated_at = clock_.now();
    tx.update_template_version_name_and_message(version.id, version.name, version.message,
                                                version.updated_at);
  });
  return version;
}

void Templates::cancel_version_job(const Subject& actor, const store::TemplateVersionRow& version) {
  require_admin(actor, version.organization_id);
  jobs_.cancel(version.job_id);
}

}  // namespace berth::coderd
