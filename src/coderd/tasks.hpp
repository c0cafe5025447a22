#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coderd/rbac.hpp"
#include "coderd/workspaces.hpp"
#include "common/clock.hpp"
#include "common/json.hpp"
#include "store/pubsub.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// A plain HTTP answer from an app inside a workspace.
struct AppHttpResponse {
  int status = 0;
  std::string body;
};

// What became of one request to an app: its answer, or why the app could not be reached.
struct AppHttpResult {
  std::optional<AppHttpResponse> response;
  std::string error;  // set when there is no response: the agent is gone, no answer in time, ...
};

// One request under way; cancel() gives it up (its stream closes, its callback never runs).
class AppHttpCall {
 public:
  virtual ~AppHttpCall() = default;
  virtual void cancel() = 0;
};

// Reaches an HTTP app inside a workspace (agentapi for tasks) by its configured URL, e.g.
// http://localhost:3284/status, through the agent that serves it, without holding the caller's
// thread while the agent relays the exchange.
class AppHttpClient {
 public:
  using Done = std::function<void(AppHttpResult)>;
  virtual ~AppHttpClient() = default;
  // Starts a request and returns at once. `done` runs exactly once, unless the call is cancelled
  // first: on whichever thread learns the outcome (an agent connection's, a timer's, or this
  // one when the request fails at once). Throws Error{invalid} for a URL it cannot serve.
  virtual std::shared_ptr<AppHttpCall> start(const Uuid& agent_id, const std::string& method,
                                             const std::string& url, const std::string& body,
                                             Done done) = 0;
};

// What `POST /tasks/{user}` asks for.
struct CreateTaskParams {
  Uuid template_version_id;
  std::optional<Uuid> preset_id;
  std::string input;
  std::string name;
  std::string display_name;
};

// A task with everything its status is derived from (Coder's tasks_with_status view).
struct TaskView {
  store::TaskRow task;
  std::optional<store::WorkspaceRow> workspace;
  std::optional<store::TaskWorkspaceAppRow> app;        // the task's latest app row
  std::optional<store::WorkspaceBuildRow> build;        // the build that row names
  std::optional<sdk::ProvisionerJobStatus> job_status;  // of that build's job
  std::optional<store::WorkspaceAgentRow> agent;        // that row's agent
  std::string app_health;                               // of the task's app, empty when unknown
  std::string status = "pending";  // pending | initializing | active | paused | error | unknown
};

// A task with what its JSON shows besides its view.
struct TaskDetails {
  TaskView view;
  std::optional<store::UserRow> owner;
  std::optional<store::TemplateRow> template_;  // of the task's workspace
  json::value current_state;                    // codersdk.TaskStateEntry or null
};

// The rules of Tasks::view on rows already read: sets the view's app health (from the agent's
// definition, overridden by what it reported in `reported`) and its status.
void derive_task_status(TaskView& view, const std::vector<store::WorkspaceAppHealthRow>& reported);
// The rules of Tasks::current_state on rows already read: the workspace's latest build, the
// status of that build's job (needed only while the task initializes) and its latest app status.
json::value task_current_state(const TaskView& view,
                               const std::optional<store::WorkspaceBuildRow>& latest_build,
                               std::optional<sdk::ProvisionerJobStatus> latest_job_status,
                               const std::optional<store::WorkspaceAppStatusRow>& app_status);

// Name and display name made from a prompt (Coder's fallback when neither is given).
std::pair<std::string, std::string> task_names_from_prompt(const std::string& prompt);

// The rules for AI tasks: a prompt and a workspace built from a template with coder_ai_task.
class Tasks {
 public:
  Tasks(store::Store& store, store::Pubsub& pubsub, Workspaces& workspaces, const Clock& clock);

  store::TaskRow create(const Subject& actor, const store::UserRow& owner, CreateTaskParams params);
  TaskView view(const store::TaskRow& task);
  // The current_state entry (codersdk.TaskStateEntry) or null.
  json::value current_state(const TaskView& view);
  // The view with its owner, template and current state.
  TaskDetails details(TaskView view);
  // The tasks `params` selects (filtered, authorized and ordered by the store), with their
  // details: a fixed number of queries in one read transaction, however many there are.
  std::vector<TaskDetails> list(const store::ListTasksParams& params);

  store::WorkspaceBuildRow pause(const Subject& actor, const store::TaskRow& task);
  store::WorkspaceBuildRow resume(const Subject& actor, const store::TaskRow& task);
  // Deletes the task's workspace (a delete build) and the task.
  void remove(const Subject& actor, const store::TaskRow& task);
  void update_input(const Subject& actor, const store::TaskRow& task, const std::string& input);

  // `PATCH /workspaceagents/me/app-status`: validates and records an app's state.
  void record_app_status(const store::WorkspaceAgentRow& agent, const Uuid& workspace_id,
                         const std::string& slug, const std::string& state,
                         const std::string& message, const std::string& uri);
  // The agent's upload of the task's conversation (bounded by the caller).
  void save_snapshot(const store::WorkspaceAgentRow& agent, const Uuid& workspace_id,
                     const Uuid& task_id, const std::string& snapshot);

 private:
  store::WorkspaceRow task_workspace(const store::TaskRow& task);

  store::Store& store_;
  store::Pubsub& pubsub_;
  Workspaces& workspaces_;
  const Clock& clock_;
};

}  // namespace berth::coderd
