#include "api/jobs_json.hpp"

#include <algorithm>

#include "coderd/provisioner_daemons.hpp"
#include "coderd/provisioner_jobs.hpp"
#include "coderd/templates.hpp"
#include "sdk/templates.hpp"

namespace berth::api {

namespace {

// codersdk.MatchedProvisioners for a job: the daemons that may run it, those of them online,
// and when one was last heard from.
json::object matched_provisioners(Deps& deps, const std::optional<store::ProvisionerJobRow>& job) {
  std::int64_t count = 0;
  std::int64_t available = 0;
  std::optional<TimePoint> most_recently_seen;
  if (job) {
    auto online_after = deps.clock.now() - coderd::kProvisionerDaemonStaleInterval;
    constexpr std::int64_t kMaxDaemons = 1000;
    for (const auto& d : deps.store.list_provisioner_daemons_by_organization_id(
             job->organization_id, kMaxDaemons)) {
      if (!coderd::daemon_may_run(d.tags, job->tags)) continue;
      if (std::find(d.provisioners.begin(), d.provisioners.end(), job->provisioner) ==
          d.provisioners.end())
        continue;
      ++count;
      if (d.last_seen_at >= online_after) ++available;
      if (!most_recently_seen || d.last_seen_at > *most_recently_seen)
        most_recently_seen = d.last_seen_at;
    }
  }
  return json::object{{"count", count},
                      {"available", available},
                      {"most_recently_seen", json::time_or_null(most_recently_seen)}};
}

}  // namespace

JobContext job_context(Deps& deps, const store::ProvisionerJobInput& input) {
  JobContext context;
  // The version the job works on: an import names it; a build's is its build's.
  std::optional<Uuid> version_id = input.template_version_id;
  if (!version_id && input.workspace_build_id)
    if (auto build = deps.store.get_workspace_build_by_id(*input.workspace_build_id)) {
      version_id = build->template_version_id;
      context.workspace = deps.store.get_workspace_by_id(build->workspace_id);
    }
  if (version_id) context.version = deps.store.get_template_version_by_id(*version_id);
  if (context.version && context.version->template_id)
    context.version_template = deps.store.get_template_by_id(*context.version->template_id);
  return context;
}

json::value provisioner_job_json(Deps& deps, const store::ProvisionerJobRow& job) {
  return provisioner_job_json(deps, job, job_context(deps, job.input));
}

json::value provisioner_job_json(Deps& deps, const store::ProvisionerJobRow& job,
                                 const JobContext& context) {
  return sdk::to_json(provisioner_job(deps, job, context));
}

sdk::ProvisionerJob provisioner_job(Deps& deps, const store::ProvisionerJobRow& job,
                                    const JobContext& context) {
  sdk::ProvisionerJob out;
  out.id = job.id;
  out.created_at = job.created_at;
  out.started_at = job.started_at;
  out.completed_at = job.completed_at;
  out.canceled_at = job.canceled_at;
  out.error = job.error.value_or("");
  out.error_code = job.error_code;
  out.status = coderd::job_status(job);
  out.worker_id = job.worker_id;
  out.worker_name = job.worker_name;
  out.file_id = job.file_id;
  for (const auto& [k, v] : job.tags) out.tags[k] = v;
  if (out.status == sdk::ProvisionerJobStatus::pending)
    std::tie(out.queue_position, out.queue_size) = deps.store.get_provisioner_job_queue_position(
        job.id, deps.clock.now() - coderd::kProvisionerDaemonStaleInterval);
  out.organization_id = job.organization_id;
  out.initiator_id = job.initiator_id;
  out.type = job.type;
  out.logs_overflowed = job.logs_overflowed;
  if (const auto& id = job.input.template_version_id)
    out.input.template_version_id = id->to_string();
  if (const auto& id = job.input.workspace_build_id) out.input.workspace_build_id = id->to_string();
  if (context.workspace) {
    out.metadata.workspace_id = context.workspace->id;
    out.metadata.workspace_name = context.workspace->name;
  }
  if (context.version) out.metadata.template_version_name = context.version->name;
  if (const auto& tmpl = context.version_template) {
    out.metadata.template_id = tmpl->id;
    out.metadata.template_name = tmpl->name;
    out.metadata.template_display_name = tmpl->display_name;
    out.metadata.template_icon = tmpl->icon;
  }
  return out;
}

json::value job_log_json(const store::ProvisionerJobLogRow& log) {
  return json::object{{"id", log.id},
                      {"created_at", format_rfc3339(log.created_at)},
                      {"log_source", log.source},
                      {"log_level", log.level},
                      {"stage", log.stage},
                      {"output", log.output}};
}

json::value minimal_user_json(Deps& deps, const Uuid& user_id) {
  auto user = deps.store.get_user_by_id(user_id);
  return json::object{{"id", user_id.to_string()},
                      {"username", user ? user->username : ""},
                      {"name", user ? user->name : ""},
                      {"avatar_url", user ? user->avatar_url : ""}};
}

json::value template_version_json(Deps& deps, const store::TemplateVersionRow& v) {
  auto job = deps.store.get_provisioner_job_by_id(v.job_id);
  return json::object{{"id", v.id.to_string()},
                      {"template_id", v.template_id ? json::value(v.template_id->to_string())
                                                    : json::value(nullptr)},
                      {"organization_id", v.organization_id.to_string()},
                      {"created_at", format_rfc3339(v.created_at)},
                      {"updated_at", format_rfc3339(v.updated_at)},
                      {"name", v.name},
                      {"message", v.message},
                      {"job", job ? provisioner_job_json(deps, *job) : json::value(nullptr)},
                      {"readme", v.readme},
                      {"created_by", minimal_user_json(deps, v.created_by)},
                      {"archived", v.archived},
                      {"warnings", json::array{}},
                      {"has_external_agent", v.has_external_agent},
                      {"matched_provisioners", matched_provisioners(deps, job)}};
}

json::value template_json(Deps& deps, const store::TemplateRow& t) {
  return template_json(t, deps.store.get_organization_by_id(t.organization_id),
                       deps.store.get_user_by_id(t.created_by));
}

json::value template_json(const store::TemplateRow& t,
                          const std::optional<store::OrganizationRow>& org,
                          const std::optional<store::UserRow>& creator) {
  const auto& p = t.policy;
  sdk::Template out;
  out.id = t.id;
  out.created_at = t.created_at;
  out.updated_at = t.updated_at;
  out.organization_id = t.organization_id;
  if (org) {
    out.organization_name = org->name;
    out.organization_display_name = org->display_name;
    out.organization_icon = org->icon;
  }
  out.name = t.name;
  out.display_name = t.display_name;
  out.provisioner = t.provisioner;
  out.active_version_id = t.active_version_id;
  out.description = t.description;
  out.deprecated = !p.deprecation_message.empty();
  out.deprecation_message = p.deprecation_message;
  out.icon = t.icon;
  out.default_ttl_ms = p.default_ttl_ms;
  out.activity_bump_ms = p.activity_bump_ms;
  out.autostop_requirement = {p.autostop_days_of_week, p.autostop_weeks};
  out.autostart_days_of_week = p.autostart_days_of_week;
  out.created_by_id = t.created_by;
  out.created_by_name = creator ? creator->username : "";
  out.allow_user_autostart = p.allow_user_autostart;
  out.allow_user_autostop = p.allow_user_autostop;
  out.allow_user_cancel_workspace_jobs = p.allow_user_cancel_workspace_jobs;
  out.failure_ttl_ms = p.failure_ttl_ms;
  out.time_til_dormant_ms = p.time_til_dormant_ms;
  out.time_til_dormant_autodelete_ms = p.time_til_dormant_autodelete_ms;
  out.require_active_version = p.require_active_version;
  out.max_port_share_level = p.max_port_share_level;
  out.deleted = t.deleted;
  // Berth sends no notification before an autostop: 0 is "disabled".
  out.time_til_autostop_notify_ms = 0;
  out.use_classic_parameter_flow = p.use_classic_parameter_flow;
  return sdk::to_json(out);
}

}  // namespace berth::api
