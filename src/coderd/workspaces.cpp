#include "coderd/workspaces.hpp"

#include <fmt/format.h>

#include "coderd/build_outcome.hpp"
#include "coderd/names.hpp"
#include "coderd/parameters.hpp"
#include "coderd/quiet_hours.hpp"
#include "coderd/schedule.hpp"
#include "coderd/templates.hpp"
#include "common/error.hpp"
#include "common/json.hpp"

namespace berth::coderd {

namespace {

using namespace std::chrono;
using Transition = sdk::WorkspaceTransition;
using JobStatus = sdk::ProvisionerJobStatus;

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kMaxTtlMs = 30LL * 24 * 3600 * 1000;
constexpr const char* kForbiddenDetail =
    "You don't have permission to view this content. If you believe this is a mistake, please "
    "contact your administrator or try signing in with different credentials.";

std::vector<std::string> weekday_names() {
  return {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
}

std::string action_verb(Transition transition, bool dormant) {
  if (transition == Transition::start && dormant) return "update";
  return std::string(sdk::to_string(transition));
}

store::TemplateRow load_template(store::Store& tx, const Uuid& id) {
  auto t = tx.get_template_by_id(id);
  if (!t) throw Error{ErrorCode::internal, "The workspace's template is missing."};
  return *t;
}

}  // namespace

std::string workspace_channel(const Uuid& workspace_id) {
  return "workspace:" + workspace_id.to_string();
}

sdk::WorkspaceStatus build_status(Transition transition, JobStatus job) {
  using Status = sdk::WorkspaceStatus;
  switch (job) {
    case JobStatus::pending:
      return Status::pending;
    case JobStatus::canceling:
      return Status::canceling;
    case JobStatus::canceled:
      return Status::canceled;
    case JobStatus::failed:
      return Status::failed;
    case JobStatus::running:
      return transition == Transition::start  ? Status::starting
             : transition == Transition::stop ? Status::stopping
                                              : Status::deleting;
    case JobStatus::succeeded:
      return transition == Transition::start  ? Status::running
             : transition == Transition::stop ? Status::stopped
                                              : Status::deleted;
  }
  return Status::failed;
}

Object workspace_object(const store::WorkspaceRow& w) {
  return Object{Resource::workspace, w.owner_id, w.organization_id};
}

std::optional<std::string> ttl_problem(std::int64_t ttl_ms) {
  if (ttl_ms < kMinuteMs) return "time until shutdown must be at least one minute";
  if (ttl_ms > kMaxTtlMs) return "time until shutdown must be less than 30 days";
  return std::nullopt;
}

std::optional<TimePoint> next_autostart(const std::string& schedule,
                                        const std::vector<std::string>& allowed_days,
                                        TimePoint after) {
  std::optional<WeeklySchedule> parsed;
  try {
    parsed = WeeklySchedule::parse(schedule);
  } catch (const Error&) {
    return std::nullopt;
  }
  auto names = weekday_names();
  auto limit = after + hours(24 * 7);
  // Occurrences on days the template does not allow are skipped; the weekday that counts is
  // the one in the schedule's own time zone.
  for (auto t = after; t < limit;) {
    auto next = parsed->next(t, hours(24 * 7));
    if (!next || *next > limit) return std::nullopt;
    const auto& day = names[std::size_t(parsed->weekday_at(*next))];
    if (allowed_days.empty() ||
        std::find(allowed_days.begin(), allowed_days.end(), day) != allowed_days.end())
      return next;
    t = *next;
  }
  return std::nullopt;
}

Workspaces::Workspaces(store::Store& store, store::Pubsub& pubsub, JobQueue& jobs,
                       const Clock& clock)
    : store_(store), pubsub_(pubsub), jobs_(jobs), clock_(clock) {}

void Workspaces::require(const Subject& actor, Action action, const store::WorkspaceRow& w,
                         const std::string& verb) const {
  if (authorize(actor, action, workspace_object(w))) return;
  if (authorize(actor, Action::read, workspace_object(w)))
    throw Error{ErrorCode::forbidden,
                fmt::format("You do not have permission to {} this workspace.", verb),
                kForbiddenDetail};
  throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
}

void Workspaces::save(store::WorkspaceRow w) {
  w.updated_at = clock_.now();
  store_.update_workspace(w);
  pubsub_.publish(workspace_channel(w.id), "mtd_update");
}

std::pair<store::WorkspaceRow, store::WorkspaceBuildRow> Workspaces::create(
    const Subject& actor, const store::UserRow& owner, const CreateWorkspaceParams& p) {
  std::optional<Uuid> template_id = p.template_id;
  if (p.template_version_id && !template_id) {
    auto version = store_.get_template_version_by_id(*p.template_version_id);
    if (!version || !version->template_id)
      throw Error{
          ErrorCode::invalid,
          fmt::format("Template version \"{}\" doesn't exist.", p.template_version_id->to_string()),
          {},
          {{"template_version_id", "template not found"}}};
    if (version->archived)
      throw Error{ErrorCode::internal,
                  "Archived template versions cannot be used to make a workspace.",
                  {},
                  {{"template_version_id", "template version archived"}}};
    template_id = version->template_id;
  }
  auto tmpl = template_id ? store_.get_template_by_id(*template_id) : std::nullopt;
  if (!tmpl || !authorize(actor, Action::read, template_object(tmpl->organization_id)))
    throw Error{
        ErrorCode::invalid,
        fmt::format("Template \"{}\" doesn't exist.", template_id ? template_id->to_string() : ""),
        {},
        {{"template_id", "template not found"}}};
  if (tmpl->deleted)
    throw Error{ErrorCode::not_found, fmt::format("Template \"{}\" has been deleted!", tmpl->name)};
  bool owner_in_org = false;
  for (const auto& m : store_.list_organization_members_by_user_id(owner.id))
    if (m.organization_id == tmpl->organization_id) owner_in_org = true;
  if (!owner_in_org || !authorize(actor, Action::create,
                                  Object{Resource::workspace, owner.id, tmpl->organization_id}))
    throw Error{ErrorCode::forbidden, "Unauthorized to create workspace.",
                "You are unable to create a workspace in this organization. It is possible to have "
                "access to the template, but not be able to create a workspace. Please contact an "
                "administrator about your permissions if you feel this is an error."};
  if (!authorize(actor, Action::use, template_object(tmpl->organization_id)))
    throw Error{ErrorCode::forbidden,
                fmt::format("Unauthorized access to use the template \"{}\".", tmpl->name),
                "Although you are able to view the template, you are unable to create a workspace "
                "using it. Please contact an administrator about your permissions if you feel this "
                "is an error."};
  const auto& policy = tmpl->policy;
  if (!policy.deprecation_message.empty())
    throw Error{
        ErrorCode::invalid,
        fmt::format("Template \"{}\" has been deprecated, and cannot be used to create a new "
                    "workspace.",
                    tmpl->name),
        policy.deprecation_message};
  auto now = clock_.now();
  std::optional<TimePoint> next_start;
  if (!p.autostart_schedule.empty()) {
    try {
      WeeklySchedule::parse(p.autostart_schedule);
    } catch (const Error& e) {
      throw Error{
          ErrorCode::invalid, "Invalid Autostart Schedule.", {}, {{"schedule", e.message()}}};
    }
    next_start = next_autostart(p.autostart_schedule, policy.autostart_days_of_week, now);
  }
  std::optional<std::int64_t> ttl;
  if (p.ttl_ms && *p.ttl_ms != 0) {
    if (auto problem = ttl_problem(*p.ttl_ms))
      throw Error{
          ErrorCode::invalid, "Invalid Workspace Time to Shutdown.", {}, {{"ttl_ms", *problem}}};
    ttl = *p.ttl_ms / kMinuteMs * kMinuteMs;
  } else if (policy.default_ttl_ms > 0) {
    ttl = policy.default_ttl_ms;
  }
  auto updates = p.automatic_updates.empty() ? std::string("never") : p.automatic_updates;
  if (updates != "always" && updates != "never")
    throw Error{ErrorCode::invalid,
                "Invalid Workspace Automatic Updates setting.",
                {},
                {{"automatic_updates", "Automatic updates must be always or never"}}};
  store::WorkspaceRow workspace;
  store::WorkspaceBuildRow build;
  store_.in_tx([&](store::Store& tx) {
    if (tx.get_workspace_by_owner_and_name(owner.id, p.name, false))
      throw Error{ErrorCode::conflict,
                  fmt::format("Workspace \"{}\" already exists.", p.name),
                  {},
                  {{"name", "This value is already in use and should be unique."}}};
    workspace = store::WorkspaceRow{
        Uuid::random_v4(),
        now,
        now,
        owner.id,
        tmpl->organization_id,
        tmpl->id,
        false,
        p.name,
        p.autostart_schedule.empty() ? std::nullopt : std::optional(p.autostart_schedule),
        ttl,
        now,
        std::nullopt,
        std::nullopt,
        updates,
        false,
        next_start};
    tx.insert_workspace(workspace);
    BuildParams params;
    params.transition = Transition::start;
    params.template_version_id =
        p.template_version_id ? p.template_version_id : tmpl->active_version_id;
    params.parameters = p.parameters;
    params.preset_id = p.preset_id;
    build = this->build(&actor, actor.user_id, workspace, params);
  });
  return {workspace, build};
}

store::WorkspaceBuildRow Workspaces::build(const Subject* actor, const Uuid& initiator,
                                           const store::WorkspaceRow& workspace_in,
                                           const BuildParams& p) {
  const auto t = p.transition;
  store::WorkspaceRow workspace = workspace_in;
  if (workspace.deleted && t != Transition::delete_)
    throw Error{ErrorCode::conflict,
                fmt::format("Cannot {} a deleted workspace!", sdk::to_string(t)),
                "This workspace has been deleted and cannot be modified."};
  if (p.orphan && t != Transition::delete_)
    throw Error{ErrorCode::invalid, "Orphan is only permitted when deleting a workspace."};
  if (p.orphan && p.state && !p.state->empty())
    throw Error{ErrorCode::invalid,
                "ProvisionerState cannot be set alongside Orphan since state intent is unclear."};
  store::WorkspaceBuildRow build;
  store::ProvisionerJobRow job;
  store_.in_tx([&](store::Store& tx) {
    auto tmpl = load_template(tx, workspace.template_id);
    const auto& policy = tmpl.policy;
    if (actor) {
      bool dormant = workspace.dormant_at.has_value();
      auto action = t == Transition::delete_ ? Action::delete_ : Action::update;
      require(*actor, action, workspace, action_verb(t, dormant));
      if ((p.orphan || p.state) &&
          !authorize(*actor, Action::update, template_object(tmpl.organization_id)))
        throw Error{ErrorCode::forbidden, "Only template managers may provide custom state"};
    }
    auto now = clock_.now();
    if (workspace.dormant_at && t == Transition::start) {
      workspace.dormant_at.reset();
      workspace.deleting_at.reset();
      workspace.last_used_at = now;
      workspace.updated_at = now;
      tx.update_workspace(workspace);
    }
    auto previous = tx.get_latest_workspace_build(workspace.id);
    Uuid version_id = p.template_version_id  ? *p.template_version_id
                      : p.use_active_version ? tmpl.active_version_id
                      : previous             ? previous->template_version_id
                                             : tmpl.active_version_id;
    auto version = tx.get_template_version_by_id(version_id);
    if (!version) throw Error{ErrorCode::invalid, "template version does not exist"};
    if (version->template_id != tmpl.id)
      throw Error{ErrorCode::invalid, "template version doesn't match template"};
    auto import = tx.get_provisioner_job_by_id(version->job_id);
    auto import_status = import ? job_status(*import) : JobStatus::failed;
    if (import_status == JobStatus::pending || import_status == JobStatus::running)
      throw Error{
          ErrorCode::not_ready,
          fmt::format("The provided template version is {}. Wait for it to complete importing!",
                      sdk::to_string(import_status))};
    if (import_status != JobStatus::succeeded)
      throw Error{
          ErrorCode::invalid,
          fmt::format("The provided template version \"{}\" has failed to import: \"{}\". You "
                      "cannot build workspaces with it!",
                      version->name,
                      import && import->error ? *import->error
                                              : std::string(sdk::to_string(import_status)))};
    if (previous) {
      auto previous_job = tx.get_provisioner_job_by_id(previous->job_id);
      if (previous_job && job_is_active(*previous_job))
        throw Error{ErrorCode::conflict, "A workspace build is already active."};
    }
    if (actor && t == Transition::start && policy.require_active_version &&
        version_id != tmpl.active_version_id &&
        !authorize(*actor, Action::update, template_object(tmpl.organization_id)))
      throw Error{ErrorCode::forbidden,
                  "The template requires the active version for workspace builds.",
                  "Start the workspace with the template's active version."};
    std::vector<store::BuildParameterRow> preset_values;
    if (p.preset_id) {
      auto presets = json::parse(version->presets);
      bool found = false;
      for (const auto& preset : presets.as_array()) {
        const auto& o = preset.as_object();
        if (o.at("id").as_string() != p.preset_id->to_string()) continue;
        found = true;
        for (const auto& kv : o.at("parameters").as_array())
          preset_values.push_back({std::string(kv.as_object().at("name").as_string()),
                                   std::string(kv.as_object().at("value").as_string())});
      }
      if (!found)
        throw Error{ErrorCode::invalid,
                    "The preset does not belong to this template version.",
                    {},
                    {{"template_version_preset_id", "preset not found"}}};
    }
    auto previous_values =
        previous ? tx.list_build_parameters(previous->id) : std::vector<store::BuildParameterRow>{};
    auto definitions = json::parse(version->parameters);
    auto values = resolve_parameters(definitions.as_array(), previous_values, p.parameters,
                                     preset_values, !previous.has_value());
    Uuid build_id = Uuid::random_v4();
    // A build runs where its version was imported: the import's tags (Coder's).
    job = store::ProvisionerJobRow{Uuid::random_v4(),
                                   now,
                                   now,
                                   std::nullopt,
                                   std::nullopt,
                                   std::nullopt,
                                   std::nullopt,
                                   "",
                                   workspace.organization_id,
                                   initiator,
                                   tmpl.provisioner,
                                   "file",
                                   "workspace_build",
                                   import->file_id,
                                   store::ProvisionerJobInput{std::nullopt, build_id, {}},
                                   import->tags,
                                   std::nullopt,
                                   "",
                                   0,
                                   false};
    tx.insert_provisioner_job(job);
    std::string state = p.orphan   ? ""
                        : p.state  ? *p.state
                        : previous ? previous->provisioner_state
                                   : "";
    build = store::WorkspaceBuildRow{build_id,
                                     now,
                                     now,
                                     workspace.id,
                                     version_id,
                                     previous ? previous->build_number + 1 : 1,
                                     t,
                                     initiator,
                                     state,
                                     job.id,
                                     std::nullopt,
                                     std::nullopt,
                                     p.reason,
                                     0,
                                     p.preset_id,
                                     false,
                                     false};
    tx.insert_workspace_build(build);
    tx.insert_build_parameters(build.id, values);
    if (auto task = tx.get_task_by_workspace_id(workspace.id))
      tx.upsert_task_workspace_app({task->id, build.build_number, std::nullopt, std::nullopt});
  });
  jobs_.announce_posted();
  pubsub_.publish(workspace_channel(workspace.id), "state_change");
  return build;
}

void Workspaces::cancel_build(const Subject& actor, const store::WorkspaceBuildRow& build,
                              const std::optional<std::string>& expect_status) {
  if (expect_status && *expect_status != "running" && *expect_status != "pending")
    throw Error{
        ErrorCode::invalid,
        fmt::format("Invalid expect_status \"{}\". Only 'running' or 'pending' are allowed.",
                    *expect_status)};
  auto workspace = store_.get_workspace_by_id(build.workspace_id);
  if (!workspace) throw Error{ErrorCode::internal, "No workspace exists for this job."};
  require(actor, Action::update, *workspace, "update");
  auto policy = load_template(store_, workspace->template_id).policy;
  bool is_owner = std::find(actor.site_roles.begin(), actor.site_roles.end(), "owner") !=
                  actor.site_roles.end();
  if (!(expect_status == "pending" || policy.allow_user_cancel_workspace_jobs || is_owner))
    throw Error{ErrorCode::forbidden,
                "User is not allowed to cancel workspace builds. Owner role is required."};
  auto job = store_.get_provisioner_job_by_id(build.job_id);
  if (job && expect_status && sdk::to_string(job_status(*job)) != *expect_status)
    throw Error{ErrorCode::conflict, "Job is not in the expected state."};
  jobs_.cancel(build.job_id);
  pubsub_.publish(workspace_channel(build.workspace_id), "state_change");
}

void Workspaces::rename(const Subject& actor, store::WorkspaceRow w, const std::string& name) {
  require(actor, Action::update, w, "update");
  if (w.deleted)
    throw Error{ErrorCode::invalid,
                fmt::format("Workspace \"{}\" is deleted and cannot be updated.", w.name)};
  if (name.empty() || name == w.name) return;
  if (auto problem = name_problem(name))
    throw Error{
        ErrorCode::invalid,
        "Validation failed.",
        {},
        {{"name",
          fmt::format("Validation failed for tag \"workspace_name\" with value: \"{}\"", name)}}};
  store_.in_tx([&](store::Store& tx) {
    auto other = tx.get_workspace_by_owner_and_name(w.owner_id, name, false);
    if (other && other->id != w.id)
      throw Error{ErrorCode::conflict,
                  fmt::format("Workspace \"{}\" already exists.", name),
                  {},
                  {{"name", "This value is already in use and should be unique."}}};
    w.name = name;
    w.updated_at = clock_.now();
    tx.update_workspace(w);
  });
  pubsub_.publish(workspace_channel(w.id), "mtd_update");
}

void Workspaces::set_autostart(const Subject& actor, store::WorkspaceRow w,
                               const std::optional<std::string>& schedule) {
  require(actor, Action::update, w, "update");
  auto policy = load_template(store_, w.template_id).policy;
  if (!policy.allow_user_autostart)
    throw Error{ErrorCode::invalid,
                "Autostart is not allowed for workspaces using this template.",
                {},
                {{"schedule", "Autostart is not allowed for workspaces using this template."}}};
  if (!schedule || schedule->empty()) {
    w.autostart_schedule.reset();
    w.next_start_at.reset();
  } else {
    try {
      WeeklySchedule::parse(*schedule);
    } catch (const Error& e) {
      throw Error{
          ErrorCode::invalid, "Invalid autostart schedule.", {}, {{"schedule", e.message()}}};
    }
    w.autostart_schedule = *schedule;
    w.next_start_at = next_autostart(*schedule, policy.autostart_days_of_week, clock_.now());
    if (!w.next_start_at)
      throw Error{ErrorCode::internal, "Internal error calculating workspace autostart schedule.",
                  "no allowed autostart time within the next week"};
  }
  save(w);
}

void Workspaces::set_ttl(const Subject& actor, store::WorkspaceRow w,
                         std::optional<std::int64_t> ttl_ms) {
  require(actor, Action::update, w, "update");
  auto policy = load_template(store_, w.template_id).policy;
  const char* message = "Error updating workspace time until shutdown.";
  if (!policy.allow_user_autostop)
    throw Error{
        ErrorCode::invalid,
        message,
        {},
        {{"ttl_ms", "Custom autostop TTL is not allowed for workspaces using this template."}}};
  if (!ttl_ms || *ttl_ms == 0) {
    w.ttl_ms.reset();
    if (auto latest = store_.get_latest_workspace_build(w.id);
        latest && latest->transition == Transition::start)
      store_.update_workspace_build_deadline(latest->id, latest->max_deadline, clock_.now());
  } else {
    if (auto problem = ttl_problem(*ttl_ms))
      throw Error{ErrorCode::invalid, message, {}, {{"ttl_ms", *problem}}};
    w.ttl_ms = *ttl_ms / kMinuteMs * kMinuteMs;
  }
  save(w);
}

void Workspaces::set_automatic_updates(const Subject& actor, store::WorkspaceRow w,
                                       const std::string& mode) {
  require(actor, Action::update, w, "update");
  if (mode != "always" && mode != "never")
    throw Error{ErrorCode::invalid,
                "Invalid request",
                {},
                {{"automatic_updates", "Automatic updates must be always or never"}}};
  w.automatic_updates = mode;
  save(w);
}

void Workspaces::set_dormant(const Subject& actor, store::WorkspaceRow w, bool dormant) {
  require(actor, Action::update, w, "update");
  auto policy = load_template(store_, w.template_id).policy;
  auto now = clock_.now();
  if (dormant && !w.dormant_at) {
    w.dormant_at = now;
    if (policy.time_til_dormant_autodelete_ms > 0)
      w.deleting_at = now + milliseconds(policy.time_til_dormant_autodelete_ms);
  } else if (!dormant) {
    w.dormant_at.reset();
    w.deleting_at.reset();
    w.last_used_at = now;
  }
  save(w);
}

TimePoint Workspaces::extend(const Subject& actor, const store::WorkspaceRow& w,
                             TimePoint deadline) {
  require(actor, Action::update, w, "update");
  auto build = store_.get_latest_workspace_build(w.id);
  if (!build || build->transition != Transition::start)
    throw Error{ErrorCode::conflict,
                fmt::format("Workspace must be started, current status: {}",
                            build ? sdk::to_string(build->transition) : "none")};
  auto job = store_.get_provisioner_job_by_id(build->job_id);
  if (!job || !job->completed_at) throw Error{ErrorCode::conflict, "Workspace is still building!"};
  if (!build->deadline) throw Error{ErrorCode::conflict, "Workspace shutdown is manual."};
  auto now = clock_.now();
  if (deadline < now + minutes(29))
    throw Error{ErrorCode::invalid,
                "Cannot extend workspace: new deadline must be at least 30 minutes in the future"};
  if (deadline < *job->completed_at)
    throw Error{ErrorCode::invalid,
                "Cannot extend workspace: new deadline must be before workspace start time"};
  if (build->max_deadline && deadline > *build->max_deadline)
    throw Error{ErrorCode::invalid, "Cannot extend workspace beyond max deadline."};
  store_.update_workspace_build_deadline(build->id, deadline, now);
  // After the write, so that a watcher woken by it reads the new deadline.
  pubsub_.publish(workspace_channel(w.id), "mtd_update");
  return deadline;
}

void Workspaces::set_favorite(const Subject& actor, store::WorkspaceRow w, bool favorite) {
  if (actor.user_id != w.owner_id)
    throw Error{ErrorCode::forbidden, favorite
                                          ? "You can only favorite workspaces that you own."
                                          : "You can only un-favorite workspaces that you own."};
  w.favorite = favorite;
  save(w);
}

void Workspaces::record_usage(const Subject& actor, store::WorkspaceRow w, bool bump) {
  if (!authorize(actor, Action::update, workspace_object(w)))
    throw Error{ErrorCode::forbidden, "Forbidden.", kForbiddenDetail};
  auto now = clock_.now();
  w.last_used_at = now;
  store_.update_workspace(w);
  if (bump) bump_activity(w);
  pubsub_.publish(workspace_channel(w.id), "stats_update");
}

void Workspaces::bump_activity(const store::WorkspaceRow& w) {
  bump_workspace_activity(store_, w, clock_.now());
}

void bump_workspace_activity(store::Store& store, const store::WorkspaceRow& w, TimePoint now) {
  auto policy = load_template(store, w.template_id).policy;
  auto build = store.get_latest_workspace_build(w.id);
  auto job = build ? store.get_provisioner_job_by_id(build->job_id) : std::nullopt;
  if (!build || !job || build->transition != Transition::start || !job->completed_at ||
      !build->deadline || policy.activity_bump_ms <= 0)
    return;
  microseconds bump_by = milliseconds(policy.activity_bump_ms);
  // Use that runs into the next autostart keeps the workspace a full TTL past that start,
  // as the deadline computed at build time would have.
  if (w.autostart_schedule) {
    auto next = next_autostart(*w.autostart_schedule, policy.autostart_days_of_week, now);
    std::int64_t ttl = policy.allow_user_autostop ? w.ttl_ms.value_or(0) : policy.default_ttl_ms;
    if (next && *next > now && now + bump_by > *next) bump_by = (*next - now) + milliseconds(ttl);
  }
  if (*build->deadline - bump_by * 95 / 100 >= now) return;
  auto deadline = std::max(*build->deadline, now + bump_by);
  if (build->max_deadline) deadline = std::min(deadline, *build->max_deadline);
  if (deadline == *build->deadline) return;
  store.update_workspace_build_deadline(build->id, deadline, now);
}

void refresh_max_deadlines(store::Store& tx, const store::TemplateRow& tmpl, TimePoint now) {
  const auto& policy = tmpl.policy;
  store::ListWorkspacesParams params;
  params.template_ids = {tmpl.id};
  params.filter_templates = true;
  for (const auto& w : tx.list_workspaces(params)) {
    auto build = tx.get_latest_workspace_build(w.id);
    if (w.deleted || !build || build->transition != Transition::start) continue;
    if (build->max_deadline && *build->max_deadline < now + hours(2)) continue;
    auto job = tx.get_provisioner_job_by_id(build->job_id);
    if (!job || !job->completed_at || job_status(*job) != JobStatus::succeeded) continue;
    std::optional<TimePoint> max_deadline;
    if (!policy.autostop_days_of_week.empty())
      max_deadline = autostop_requirement_deadline(quiet_hours_of(tx, w.owner_id).schedule,
                                                   policy.autostop_days_of_week,
                                                   policy.autostop_weeks, *job->completed_at);
    if (max_deadline && *max_deadline < now + hours(2)) max_deadline = now + hours(2);
    auto deadline = build->deadline;
    if (max_deadline && (!deadline || *max_deadline < *deadline)) deadline = max_deadline;
    if (deadline == build->deadline && max_deadline == build->max_deadline) continue;
    tx.update_workspace_build_deadlines(build->id, deadline, max_deadline, now);
  }
}

void apply_build_outcome(store::Store& tx, const store::WorkspaceBuildRow& build,
                         const BuildOutcome& outcome, TimePoint now) {
  for (const auto& r : outcome.resources) tx.insert_workspace_resource(r);
  for (const auto& a : outcome.agents) tx.insert_workspace_agent(a);
  auto workspace = tx.get_workspace_by_id(build.workspace_id);
  if (!workspace) throw Error{ErrorCode::internal, "No workspace exists for this build."};
  std::optional<TimePoint> deadline;
  std::optional<TimePoint> max_deadline;
  if (build.transition == Transition::start) {
    auto tmpl = tx.get_template_by_id(workspace->template_id);
    auto policy = tmpl ? tmpl->policy : TemplatePolicy{};
    std::int64_t ttl =
        policy.allow_user_autostop ? workspace->ttl_ms.value_or(0) : policy.default_ttl_ms;
    if (ttl > 0) {
      deadline = now + milliseconds(ttl);
      if (workspace->autostart_schedule)
        if (auto next =
                next_autostart(*workspace->autostart_schedule, policy.autostart_days_of_week, now);
            next && *next < *deadline)
          deadline = *next + milliseconds(ttl);
    }
    // The template's autostop requirement caps the build in the owner's quiet hours.
    if (!policy.autostop_days_of_week.empty()) {
      auto quiet = quiet_hours_of(tx, workspace->owner_id);
      max_deadline = autostop_requirement_deadline(quiet.schedule, policy.autostop_days_of_week,
                                                   policy.autostop_weeks, now);
    }
    if (max_deadline && (!deadline || *max_deadline < *deadline)) deadline = max_deadline;
    if (workspace->autostart_schedule)
      workspace->next_start_at =
          next_autostart(*workspace->autostart_schedule, policy.autostart_days_of_week, now);
  }
  tx.update_workspace_build_completion(build.id, outcome.state, deadline, max_deadline,
                                       outcome.has_ai_task, outcome.daily_cost, now);
  if (build.transition == Transition::delete_) workspace->deleted = true;
  workspace->updated_at = now;
  tx.update_workspace(*workspace);
  if (auto task = tx.get_task_by_workspace_id(workspace->id)) {
    // The task's app in this build: the agent that has the coder_ai_task's app.
    store::TaskWorkspaceAppRow row{task->id, build.build_number, std::nullopt, std::nullopt};
    if (!outcome.ai_task_app_id.empty())
      for (const auto& agent : outcome.agents)
        if (agent.config.find("\"" + outcome.ai_task_app_id + "\"") != std::string::npos) {
          row.agent_id = agent.id;
          row.app_id = outcome.ai_task_app_id;
        }
    tx.upsert_task_workspace_app(row);
    if (build.transition == Transition::delete_) tx.delete_task(task->id, now);
  }
}

}  // namespace berth::coderd
