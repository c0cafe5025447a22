#include "coderd/tasks.hpp"

#include <fmt/format.h>

#include <cctype>

#include "coderd/names.hpp"
#include "coderd/provisioner_jobs.hpp"
#include "coderd/templates.hpp"
#include "common/crypto.hpp"
#include "common/error.hpp"

namespace berth::coderd {

namespace {

constexpr std::size_t kNameBudget = 27;  // leaves room for "-abcd" within 32
constexpr std::size_t kMaxDisplayName = 64;
constexpr std::size_t kMaxStatusMessage = 160;

std::string random_hex4() {
  std::uint8_t bytes[2];
  fill_random(bytes, sizeof bytes);
  return fmt::format("{:02x}{:02x}", bytes[0], bytes[1]);
}

std::string normalize_whitespace(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  return out;
}

// Cuts at a word boundary so that the result has at most `n` bytes.
std::string truncate_words(const std::string& s, std::size_t n) {
  if (s.size() <= n) return s;
  auto cut = s.rfind(' ', n);
  return s.substr(0, cut == std::string::npos || cut == 0 ? n : cut);
}

std::string capitalize(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (!s.empty()) s[0] = char(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

std::string slug_of(const std::string& text) {
  std::string out;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isspace(u))
      out += '-';
    else if (std::isalnum(u))
      out += char(std::tolower(u));
    else if (c == '-')
      out += '-';
  }
  std::string collapsed;
  for (char c : out)
    if (!(c == '-' && !collapsed.empty() && collapsed.back() == '-')) collapsed += c;
  while (!collapsed.empty() && collapsed.front() == '-') collapsed.erase(collapsed.begin());
  while (!collapsed.empty() && collapsed.back() == '-') collapsed.pop_back();
  return collapsed;
}

std::string build_part(const TaskView& v) {
  using Job = sdk::ProvisionerJobStatus;
  using Transition = sdk::WorkspaceTransition;
  if (!v.build || !v.job_status) return "pending";
  auto job = *v.job_status;
  if (job == Job::failed || job == Job::canceling || job == Job::canceled) return "error";
  auto t = v.build->transition;
  if (t != Transition::start && job == Job::succeeded) return "paused";
  if (t == Transition::start && job == Job::pending) return "pending";
  if (t == Transition::start && (job == Job::running || job == Job::succeeded)) return "active";
  return "unknown";
}

std::string agent_part(const TaskView& v) {
  using Lifecycle = sdk::WorkspaceAgentLifecycle;
  if (!v.agent) return "initializing";
  auto s = v.agent->lifecycle_state;
  if (s == Lifecycle::created || s == Lifecycle::starting) return "initializing";
  if (s == Lifecycle::ready || s == Lifecycle::start_timeout || s == Lifecycle::start_error)
    return "active";
  return "unknown";
}

std::string app_part(const std::string& health) {
  if (health == "initializing") return "initializing";
  if (health == "unhealthy") return "error";
  if (health == "healthy" || health == "disabled") return "active";
  return "unknown";
}

}  // namespace

std::pair<std::string, std::string> task_names_from_prompt(const std::string& prompt) {
  auto text = normalize_whitespace(prompt);
  auto base = slug_of(truncate_words(text, kNameBudget));
  if (base.size() > kNameBudget) base.resize(kNameBudget);
  while (!base.empty() && base.back() == '-') base.pop_back();
  std::string display;
  if (base.empty()) {
    base = random_name();  // adjective_name1
    for (auto& c : base)
      if (c == '_') c = '-';
    std::string digits_free;
    for (char c : base)
      if (!std::isdigit(static_cast<unsigned char>(c))) digits_free += c;
    base = digits_free.substr(0, kNameBudget);
    while (!base.empty() && base.back() == '-') base.pop_back();
    display = base;
    for (auto& c : display)
      if (c == '-') c = ' ';
  } else {
    display =
        text.size() > kMaxDisplayName ? truncate_words(text, kMaxDisplayName - 1) + "…" : text;
  }
  return {base + "-" + random_hex4(), capitalize(display)};
}

Tasks::Tasks(store::Store& store, store::Pubsub& pubsub, Workspaces& workspaces, const Clock& clock)
    : store_(store), pubsub_(pubsub), workspaces_(workspaces), clock_(clock) {}

store::TaskRow Tasks::create(const Subject& actor, const store::UserRow& owner,
                             CreateTaskParams p) {
  auto version = store_.get_template_version_by_id(p.template_version_id);
  if (!version || !version->template_id ||
      !authorize(actor, Action::read, template_object(version->organization_id)))
    throw Error{ErrorCode::invalid,
                "Template version not found or you do not have access to this resource"};
  if (!version->has_ai_task)
    throw Error{ErrorCode::invalid, "Template does not have a valid \"coder_ai_task\" resource."};
  if (!p.name.empty())
    if (auto problem = name_problem(p.name))
      throw Error{ErrorCode::invalid, "Unable to create a Task with the provided name.", *problem};
  auto trim = [](std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
  };
  p.display_name = trim(p.display_name);
  if (p.display_name.size() > kMaxDisplayName)
    throw Error{ErrorCode::invalid, "Display name must be 64 characters or less."};
  if (p.name.empty() || p.display_name.empty()) {
    auto [name, display] = task_names_from_prompt(p.input);
    if (p.name.empty()) p.name = name;
    if (p.display_name.empty()) p.display_name = display;
  }
  store::TaskRow task{Uuid::random_v4(), version->organization_id,
                      owner.id,          p.name,
                      p.display_name,    std::nullopt,
                      version->id,       p.input,
                      clock_.now(),      std::nullopt};
  store_.in_tx([&](store::Store& tx) {
    if (tx.get_task_by_owner_and_name(owner.id, p.name))
      throw Error{ErrorCode::conflict,
                  fmt::format("Task \"{}\" already exists.", p.name),
                  {},
                  {{"name", "This value is already in use and should be unique."}}};
    tx.insert_task(task);
    CreateWorkspaceParams ws;
    ws.name = p.name;
    ws.template_version_id = version->id;
    ws.preset_id = p.preset_id;
    // One transaction: the workspace, its first build and the task's link to both commit
    // together, so the build's job (run after commit) finds the task and its prompt.
    auto [workspace, build] = workspaces_.create(actor, owner, ws);
    tx.update_task_workspace_id(task.id, workspace.id);
    tx.upsert_task_workspace_app({task.id, build.build_number, std::nullopt, std::nullopt});
    task.workspace_id = workspace.id;
  });
  return task;
}

void derive_task_status(TaskView& v, const std::vector<store::WorkspaceAppHealthRow>& reported) {
  v.app_health.clear();
  if (v.agent && v.app && v.app->app_id) {
    const auto& app_id = *v.app->app_id;
    // Health as the agent reported it; an app without a health check counts as "disabled".
    v.app_health = "disabled";
    auto config = json::parse(v.agent->config);
    if (auto* apps = config.as_object().if_contains("apps"); apps && apps->is_array())
      for (const auto& a : apps->get_array())
        if (a.as_object().at("id").as_string() == app_id)
          if (auto* h = a.as_object().if_contains("health"); h && h->is_string())
            v.app_health = std::string(h->get_string());
    for (const auto& h : reported)
      if (h.agent_id == v.agent->id && h.app_id == app_id) v.app_health = h.health;
  }
  auto b = build_part(v);
  if (b != "active")
    v.status = b;
  else if (agent_part(v) != "active")
    v.status = agent_part(v);
  else
    v.status = app_part(v.app_health);
}

TaskView Tasks::view(const store::TaskRow& task) {
  TaskView v;
  v.task = task;
  if (!task.workspace_id) return v;
  v.workspace = store_.get_workspace_by_id(*task.workspace_id);
  v.app = store_.get_latest_task_workspace_app(task.id);
  if (v.app)
    v.build = store_.get_workspace_build_by_number(*task.workspace_id, v.app->build_number);
  if (v.build)
    if (auto job = store_.get_provisioner_job_by_id(v.build->job_id))
      v.job_status = job_status(*job);
  if (v.app && v.app->agent_id) v.agent = store_.get_workspace_agent_by_id(*v.app->agent_id);
  std::vector<store::WorkspaceAppHealthRow> reported;
  if (v.agent && v.app->app_id) reported = store_.list_workspace_app_health(v.agent->id);
  derive_task_status(v, reported);
  return v;
}

json::value Tasks::current_state(const TaskView& v) {
  if (!v.workspace) return nullptr;
  auto latest = store_.get_latest_workspace_build(v.workspace->id);
  auto status = store_.get_latest_workspace_app_status(v.workspace->id);
  std::optional<sdk::ProvisionerJobStatus> latest_job;
  if (latest && v.status == "initializing")
    if (auto job = store_.get_provisioner_job_by_id(latest->job_id)) latest_job = job_status(*job);
  return task_current_state(v, latest, latest_job, status);
}

TaskDetails Tasks::details(TaskView view) {
  TaskDetails out;
  out.owner = store_.get_user_by_id(view.task.owner_id);
  if (view.workspace) out.template_ = store_.get_template_by_id(view.workspace->template_id);
  out.current_state = current_state(view);
  out.view = std::move(view);
  return out;
}

json::value task_current_state(const TaskView& v,
                               const std::optional<store::WorkspaceBuildRow>& latest,
                               std::optional<sdk::ProvisionerJobStatus> latest_job,
                               const std::optional<store::WorkspaceAppStatusRow>& status) {
  if (!v.workspace) return nullptr;
  if (status && latest &&
      (latest->transition != sdk::WorkspaceTransition::start ||
       status->created_at > latest->created_at))
    return json::object{{"timestamp", format_rfc3339(status->created_at)},
                        {"state", status->state},
                        {"message", status->message},
                        {"uri", status->uri}};
  if (v.status != "initializing" || !latest) return nullptr;
  auto ws_status =
      latest_job ? std::optional(build_status(latest->transition, *latest_job)) : std::nullopt;
  using Lifecycle = sdk::WorkspaceAgentLifecycle;
  std::string message;
  if (ws_status == sdk::WorkspaceStatus::pending)
    message = "Workspace is pending";
  else if (ws_status == sdk::WorkspaceStatus::starting)
    message = "Workspace is starting";
  else if (!v.agent)
    message = "Initializing workspace";
  else if (v.agent->lifecycle_state == Lifecycle::created)
    message = "Agent is connecting";
  else if (v.agent->lifecycle_state == Lifecycle::starting)
    message = "Agent is starting";
  else if (v.agent->lifecycle_state == Lifecycle::ready)
    message = v.app_health == "initializing" ? "App is initializing"
                                             : "Initializing workspace applications";
  else
    message = "Initializing workspace agent";
  return json::object{{"timestamp", format_rfc3339(latest->created_at)},
                      {"state", "working"},
                      {"message", message},
                      {"uri", ""}};
}

store::WorkspaceRow Tasks::task_workspace(const store::TaskRow& task) {
  auto w = task.workspace_id ? store_.get_workspace_by_id(*task.workspace_id) : std::nullopt;
  if (!w) throw Error{ErrorCode::conflict, "Task has no workspace."};
  return *w;
}

store::WorkspaceBuildRow Tasks::pause(const Subject& actor, const store::TaskRow& task) {
  BuildParams p;
  p.transition = sdk::WorkspaceTransition::stop;
  p.reason = "task_manual_pause";
  return workspaces_.build(&actor, actor.user_id, task_workspace(task), p);
}

store::WorkspaceBuildRow Tasks::resume(const Subject& actor, const store::TaskRow& task) {
  BuildParams p;
  p.transition = sdk::WorkspaceTransition::start;
  p.reason = "task_resume";
  return workspaces_.build(&actor, actor.user_id, task_workspace(task), p);
}

void Tasks::remove(const Subject& actor, const store::TaskRow& task) {
  if (task.workspace_id) {
    auto w = store_.get_workspace_by_id(*task.workspace_id);
    if (w && !w->deleted) {
      BuildParams p;
      p.transition = sdk::WorkspaceTransition::delete_;
      workspaces_.build(&actor, actor.user_id, *w, p);
    }
  }
  store_.delete_task(task.id, clock_.now());
}

void Tasks::update_input(const Subject& actor, const store::TaskRow& task,
                         const std::string& input) {
  auto trimmed = input;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
    trimmed.pop_back();
  if (trimmed.empty()) throw Error{ErrorCode::invalid, "Task input is required."};
  auto w = task_workspace(task);
  if (!authorize(actor, Action::update, workspace_object(w)))
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  if (view(task).status != "paused")
    throw Error{ErrorCode::conflict, "Unable to update task input, task must be paused.",
                "Please stop the task's workspace before updating the input."};
  store_.update_task_prompt(task.id, input);
  pubsub_.publish(workspace_channel(w.id), "mtd_update");
}

void Tasks::record_app_status(const store::WorkspaceAgentRow& agent, const Uuid& workspace_id,
                              const std::string& slug, const std::string& state,
                              const std::string& message, const std::string& uri) {
  if (message.size() > kMaxStatusMessage)
    throw Error{ErrorCode::invalid,
                "Message is too long.",
                "Message must be less than 160 characters.",
                {{"message", "Message must be less than 160 characters."}}};
  if (state != "working" && state != "idle" && state != "complete" && state != "failure")
    throw Error{ErrorCode::invalid,
                "Invalid state provided.",
                {},
                {{"state", "State must be one of: complete, failure, working, idle."}}};
  std::string app_id;
  auto config = json::parse(agent.config);
  if (auto* apps = config.as_object().if_contains("apps"); apps && apps->is_array())
    for (const auto& a : apps->get_array())
      if (a.as_object().at("slug").as_string() == slug)
        app_id = std::string(a.as_object().at("id").as_string());
  if (app_id.empty())
    throw Error{ErrorCode::invalid, "Failed to get workspace app.",
                fmt::format("No app found with slug \"{}\"", slug)};
  auto previous = store_.get_latest_app_status_by_app(agent.id, app_id);
  store_.insert_workspace_app_status(
      {Uuid::random_v4(), clock_.now(), agent.id, workspace_id, app_id, state, message, uri});
  // Work in progress keeps the workspace alive, as Coder's activity bump does.
  if (state == "working" || (previous && previous->state == "working"))
    if (auto w = store_.get_workspace_by_id(workspace_id)) workspaces_.bump_activity(*w);
  pubsub_.publish(workspace_channel(workspace_id), "agt_app_status_update");
}

void Tasks::save_snapshot(const store::WorkspaceAgentRow&, const Uuid& workspace_id,
                          const Uuid& task_id, const std::string& snapshot) {
  auto task = store_.get_task_by_id(task_id);
  if (!task || task->workspace_id != workspace_id)
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  store_.upsert_task_snapshot({task_id, snapshot, clock_.now()});
}

}  // namespace berth::coderd
