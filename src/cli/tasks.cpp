// tasks create | list | status | logs | send | pause | resume | delete: the Tasks API, with
// Coder's `coder task` verbs and flags.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/api.hpp"
#include "cli/cli.hpp"
#include "cli/jobs.hpp"
#include "cli/output.hpp"
#include "cli/prompt.hpp"
#include "common/error.hpp"

namespace berth::cli {

namespace {

// A prompt is text a person or script wrote; anything bigger is a mistake (e.g. a binary piped in).
constexpr std::size_t kMaxInputBytes = 1 << 20;
// How long send and resume wait for a task's workspace and app to come up.
constexpr std::chrono::minutes kReadyTimeout{10};
// How long send retries while the task's app answers that it is busy or not up yet.
constexpr std::chrono::minutes kAppReadyTimeout{2};
constexpr std::chrono::seconds kPollInterval{1};

struct TaskArgs {
  std::string task;
  std::vector<std::string> tasks;  // delete takes several
  std::string input;
  bool from_stdin = false;
  std::string name;
  std::string owner = "me";
  std::string template_name;
  std::string template_version;
  std::string preset;
  std::string user;
  std::string status;
  bool all = false;
  bool quiet = false;
  bool watch = false;
  bool yes = false;
  bool no_wait = false;
  OutputFormat format = OutputFormat::table;
};

std::string read_stdin() {
  std::string text;
  char buffer[8192];
  while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
    text.append(buffer, std::size_t(std::cin.gcount()));
    if (text.size() > kMaxInputBytes)
      throw Error{ErrorCode::too_large, "The input on stdin is larger than 1 MiB."};
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// The argument, else stdin when asked for (or piped in, as in `echo … | berth tasks create`).
std::string input_of(const TaskArgs& a, bool stdin_when_piped) {
  if (a.from_stdin && !a.input.empty())
    throw Error{ErrorCode::invalid, "Pass the input as an argument or with --stdin, not both."};
  std::string input = a.input;
  if (a.from_stdin || (input.empty() && stdin_when_piped && !stdin_is_terminal()))
    input = read_stdin();
  if (input.empty())
    throw Error{ErrorCode::invalid, "Missing the task's input.",
                "Pass it as an argument or pipe it in with --stdin."};
  if (input.size() > kMaxInputBytes)
    throw Error{ErrorCode::too_large, "The task's input is larger than 1 MiB."};
  return input;
}

// `name`, `owner/name` or an id; the API resolves names among `owner`'s tasks.
std::string task_target(const std::string& argument) {
  std::string owner = "me", task = argument;
  if (auto slash = argument.find('/'); slash != std::string::npos) {
    owner = argument.substr(0, slash);
    task = argument.substr(slash + 1);
  }
  if (owner.empty() || task.empty())
    throw Error{ErrorCode::invalid, "Invalid task \"" + argument + "\".",
                "Use <name>, <owner>/<name> or the task's id."};
  return "/api/v2/tasks/" + url_escape(owner) + "/" + url_escape(task);
}

json::object get_task(sdk::Client& client, const std::string& argument) {
  auto r = client.request("GET", task_target(argument));
  if (r.status == 404)
    throw Error{ErrorCode::not_found, "Task \"" + argument + "\" not found.",
                "See 'berth tasks list' for your tasks."};
  return expect_status(r, 200).as_object();
}

// Targets the task by owner and id, which stays valid if its name is reused.
std::string target_of(const json::object& task) {
  return "/api/v2/tasks/" + url_escape(str(task, "owner_name")) + "/" + str(task, "id");
}

std::string full_name(const json::object& task) {
  return str(task, "owner_name") + "/" + str(task, "name");
}

std::string state_of(const json::object& task) {
  return str(obj(task, "current_state"), "state");
}

// ---- create ----

std::string template_version_id(sdk::Client& client, const TaskArgs& a) {
  std::string template_name = a.template_name;
  if (template_name.empty()) {
    // Coder picks the only template when there is one; more need a choice.
    auto templates = get_json(client, "/api/v2/templates");
    if (templates.as_array().size() != 1)
      throw Error{ErrorCode::invalid, "Missing --template.",
                  "There are " + std::to_string(templates.as_array().size()) +
                      " templates; choose one with --template (see 'berth templates list')."};
    template_name = str(templates.as_array().front().as_object(), "name");
  }
  auto tmpl = require_template(client, default_organization_id(client), template_name);
  if (a.template_version.empty()) return tmpl.active_version_id.to_string();
  auto r = client.request("GET", "/api/v2/templates/" + tmpl.id.to_string() + "/versions/" +
                                     url_escape(a.template_version));
  if (r.status == 404)
    throw Error{
        ErrorCode::not_found,
        "Template version \"" + a.template_version + "\" of " + template_name + " not found.",
        "See 'berth templates versions list " + template_name + "'."};
  return str(expect_status(r, 200).as_object(), "id");
}

std::string preset_id(sdk::Client& client, const std::string& version_id,
                      const std::string& preset) {
  if (preset.empty() || preset == "none") return {};
  auto presets = get_json(client, "/api/v2/templateversions/" + version_id + "/presets");
  std::string names;
  for (const auto& p : presets.as_array()) {
    const auto& o = p.as_object();
    if (str(o, "name") == preset) return str(o, "id");
    names += (names.empty() ? "" : ", ") + str(o, "name");
  }
  throw Error{ErrorCode::not_found, "Preset \"" + preset + "\" not found.",
              names.empty() ? "The template version has no presets."
                            : "The template version's presets: " + names + "."};
}

void run_create(const GlobalOptions& g, const TaskArgs& a) {
  auto input = input_of(a, true);
  auto client = connect(g);
  auto version_id = template_version_id(client, a);
  json::object body{{"template_version_id", version_id}, {"input", input}};
  if (auto preset = preset_id(client, version_id, a.preset); !preset.empty())
    body["template_version_preset_id"] = preset;
  if (!a.name.empty()) body["name"] = a.name;
  auto task =
      send_json(client, "POST", "/api/v2/tasks/" + url_escape(a.owner), body, 201).as_object();
  if (a.quiet) {
    std::printf("%s\n", str(task, "id").c_str());
    return;
  }
  std::printf("The task %s has been created (workspace %s).\n", full_name(task).c_str(),
              str(task, "workspace_name").c_str());
  std::printf("Follow it with 'berth tasks status %s --watch'.\n", str(task, "name").c_str());
}

// ---- list, status ----

std::string state_changed(const json::object& task) {
  return format_ago(str(obj(task, "current_state"), "timestamp"));
}

std::string healthy(const json::object& task) {
  const auto* h = task.if_contains("workspace_agent_health");
  if (!h || !h->is_object()) return "-";
  return str(h->as_object(), "healthy") == "true" ? "yes" : "no";
}

void run_list(const GlobalOptions& g, const TaskArgs& a) {
  auto client = connect(g);
  std::string q;
  if (!a.all) q = "owner:" + (a.user.empty() ? std::string("me") : a.user);
  if (!a.status.empty()) q += (q.empty() ? "" : " ") + ("status:" + a.status);
  auto page = get_json(client, "/api/v2/tasks" + (q.empty() ? "" : "?q=" + url_escape(q)));
  const auto& tasks = page.as_object().at("tasks").as_array();
  if (a.format == OutputFormat::json) {
    std::fputs(pretty_json(tasks).c_str(), stdout);
    return;
  }
  if (a.quiet) {
    for (const auto& t : tasks) std::printf("%s\n", str(t.as_object(), "id").c_str());
    return;
  }
  if (tasks.empty()) {
    std::fprintf(stderr, "No tasks found. Create one with 'berth tasks create \"<prompt>\"'.\n");
    return;
  }
  Table table({"name", "status", "state", "state changed", "message"});
  for (const auto& item : tasks) {
    const auto& t = item.as_object();
    auto name = a.all ? full_name(t) : str(t, "name");
    table.add_row({name, str(t, "status"), state_of(t), state_changed(t),
                   str(obj(t, "current_state"), "message")});
  }
  std::fputs(table.render().c_str(), stdout);
}

std::vector<std::string> status_row(const json::object& t) {
  return {state_changed(t), str(t, "status"), healthy(t), state_of(t),
          str(obj(t, "current_state"), "message")};
}

// What --watch waits for: the agent finished its turn, or the task is no longer running.
bool settled(const json::object& t) {
  auto status = str(t, "status");
  if (status == "paused" || status == "error" || status == "unknown") return true;
  auto state = state_of(t);
  return status == "active" && (state == "idle" || state == "complete" || state == "failure");
}

void print_status(const json::object& t, OutputFormat format, bool header) {
  if (format == OutputFormat::json) {
    std::fputs(pretty_json(t).c_str(), stdout);
  } else {
    Table table({"state changed", "status", "healthy", "state", "message"});
    table.add_row(status_row(t));
    auto text = table.render();
    if (!header) text = text.substr(text.find('\n') + 1);
    std::fputs(text.c_str(), stdout);
  }
  std::fflush(stdout);
}

void run_status(const GlobalOptions& g, const TaskArgs& a) {
  auto client = connect(g);
  auto task = get_task(client, a.task);
  print_status(task, a.format, true);
  if (!a.watch) return;
  auto target = target_of(task);
  // A row is printed whenever something shown changes, so the output is a live progress log.
  auto last = status_row(task);
  while (!settled(task)) {
    std::this_thread::sleep_for(kPollInterval);
    auto r = client.request("GET", target);
    if (r.status == 404) throw Error{ErrorCode::not_found, "The task has been deleted."};
    task = expect_status(r, 200).as_object();
    auto row = status_row(task);
    row[0].clear();  // "3s ago" changes every poll
    auto previous = last;
    previous[0].clear();
    if (row == previous) continue;
    last = status_row(task);
    print_status(task, a.format, false);
  }
}

// ---- logs ----

void print_logs(const json::object& body) {
  const auto& logs = body.at("logs").as_array();
  if (str(body, "snapshot") == "true")
    std::fprintf(stderr, "The task is not running; these logs are its last snapshot%s.\n",
                 body.contains("snapshot_at")
                     ? (" (" + format_time(str(body, "snapshot_at")) + ")").c_str()
                     : "");
  if (logs.empty()) {
    std::fprintf(stderr, "No logs yet.\n");
    return;
  }
  std::printf("TYPE    CONTENT\n");
  for (const auto& item : logs) {
    const auto& log = item.as_object();
    auto type = str(log, "type");
    auto content = str(log, "content");
    // Continuation lines line up under the first, so multi-line output stays readable.
    std::string indented;
    for (char c : content) {
      indented += c;
      if (c == '\n') indented += "        ";
    }
    std::printf("%-7s %s\n", type.c_str(), indented.c_str());
  }
}

void run_logs(const GlobalOptions& g, const TaskArgs& a) {
  auto client = connect(g);
  auto task = get_task(client, a.task);
  auto body = get_json(client, target_of(task) + "/logs").as_object();
  if (a.format == OutputFormat::json) {
    std::fputs(pretty_json(body.at("logs")).c_str(), stdout);
    return;
  }
  print_logs(body);
}

// ---- pause, resume, send ----

// A workspace takes one build at a time: one still running (say, the start right after
// create) is followed to its end first. Its failure does not stop what comes next.
void finish_running_build(sdk::Client& client, const json::object& task) {
  auto workspace = str(task, "workspace_id");
  if (workspace.empty()) return;
  auto ws = sdk::workspace_from_json(get_json(client, "/api/v2/workspaces/" + workspace));
  if (!ws.latest_build || !ws.latest_build->job) return;
  const auto& build = *ws.latest_build;
  auto status = build.job->status;
  if (status != sdk::ProvisionerJobStatus::pending && status != sdk::ProvisionerJobStatus::running)
    return;
  std::fprintf(stderr, "==> Waiting for build #%lld (%s) to finish\n",
               static_cast<long long>(build.build_number),
               std::string(sdk::to_string(build.transition)).c_str());
  try {
    wait_for_build(client, build.id.to_string());
  } catch (const Error& e) {
    std::fprintf(stderr, "%s %s\n", e.message().c_str(), e.detail().c_str());
  }
}

// Follows the build a pause or resume started, with its logs.
void follow_build(sdk::Client& client, const json::value& accepted) {
  const auto& build = obj(accepted.as_object(), "workspace_build");
  wait_for_build(client, str(build, "id"));
}

// Polls until the task is active, printing each status it passes through.
json::object wait_until_active(sdk::Client& client, const json::object& task) {
  auto target = target_of(task);
  auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  std::string shown;
  for (;;) {
    auto current = get_json(client, target).as_object();
    auto status = str(current, "status");
    if (status == "active") return current;
    if (status == "error" || status == "paused")
      throw Error{ErrorCode::conflict, "The task is " + status + ".",
                  str(obj(current, "current_state"), "message")};
    if (status != shown) {
      std::fprintf(stderr, "==> Waiting for the task to become active (it is %s)…\n",
                   status.c_str());
      shown = status;
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw Error{ErrorCode::unavailable, "The task did not become active in 10 minutes.",
                  "It is " + status + "."};
    std::this_thread::sleep_for(kPollInterval);
  }
}

json::object resume(sdk::Client& client, const json::object& task, bool wait) {
  auto accepted = send_json(client, "POST", target_of(task) + "/resume", json::object{}, 202);
  follow_build(client, accepted);
  return wait ? wait_until_active(client, task) : task;
}

void run_pause(const GlobalOptions& g, const TaskArgs& a) {
  auto client = connect(g);
  auto task = get_task(client, a.task);
  confirm("Pause task " + full_name(task) + "?", a.yes);
  finish_running_build(client, task);
  follow_build(client, send_json(client, "POST", target_of(task) + "/pause", json::object{}, 202));
  std::printf("The task %s has been paused.\n", full_name(task).c_str());
}

void run_resume(const GlobalOptions& g, const TaskArgs& a) {
  auto client = connect(g);
  auto task = get_task(client, a.task);
  if (str(task, "status") != "paused")
    throw Error{ErrorCode::conflict, "The task " + full_name(task) + " is not paused.",
                "It is " + str(task, "status") + "."};
  confirm("Resume task " + full_name(task) + "?", a.yes);
  resume(client, task, !a.no_wait);
  std::printf("The task %s has been resumed.\n", full_name(task).c_str());
}

// The app refuses input while the program is busy; it settles within moments of starting.
void send_when_ready(sdk::Client& client, const json::object& task, const std::string& input) {
  auto deadline = std::chrono::steady_clock::now() + kAppReadyTimeout;
  bool told = false;
  for (;;) {
    auto r = client.request_json("POST", target_of(task) + "/send", json::object{{"input", input}});
    if (r.status != 502 || std::chrono::steady_clock::now() > deadline) {
      expect_status(r, 204);
      return;
    }
    if (!told) std::fprintf(stderr, "==> Waiting for the task's app to accept input…\n");
    told = true;
    std::this_thread::sleep_for(kPollInterval);
  }
}

void run_send(const GlobalOptions& g, const TaskArgs& a) {
  auto input = input_of(a, false);
  auto client = connect(g);
  auto task = get_task(client, a.task);
  // As in Coder: a paused task is resumed, a starting one waited for, then the input is sent.
  auto status = str(task, "status");
  if (status == "paused") {
    std::fprintf(stderr, "==> Resuming the paused task %s\n", full_name(task).c_str());
    task = resume(client, task, true);
  } else if (status == "pending" || status == "initializing") {
    task = wait_until_active(client, task);
  }
  send_when_ready(client, task, input);
  std::printf("Sent input to the task %s.\n", full_name(task).c_str());
}

// ---- delete ----

void run_delete(const GlobalOptions& g, const TaskArgs& a) {
  auto client = connect(g);
  std::vector<json::object> tasks;
  std::string names;
  for (const auto& argument : a.tasks) {
    tasks.push_back(get_task(client, argument));
    names += (names.empty() ? "" : ", ") + full_name(tasks.back());
  }
  confirm("Delete " + std::string(tasks.size() == 1 ? "task " : "tasks ") + names + "?", a.yes);
  for (const auto& task : tasks) {
    finish_running_build(client, task);
    expect_status(client.request("DELETE", target_of(task)), 202);
    // The task is gone at once; its workspace's delete build stops its processes.
    if (auto workspace = str(task, "workspace_id"); !workspace.empty()) {
      auto ws = sdk::workspace_from_json(
          get_json(client, "/api/v2/workspaces/" + workspace + "?include_deleted=true"));
      if (ws.latest_build) wait_for_build(client, ws.latest_build->id.to_string());
    }
    std::printf("The task %s has been deleted.\n", full_name(task).c_str());
  }
}

// ---- wiring ----

CLI::App* task_verb(CLI::App& parent, const char* name, const char* help,
                    std::shared_ptr<TaskArgs> a) {
  auto* cmd = parent.add_subcommand(name, help);
  cmd->add_option("task", a->task, "Task name, owner/name or id")->required();
  return cmd;
}

void add_create(CLI::App& tasks, GlobalOptions& g, std::shared_ptr<TaskArgs> a) {
  auto* create = tasks.add_subcommand("create", "Create a task: a workspace working on a prompt");
  create->add_option("input", a->input, "The prompt (or pipe it in with --stdin)");
  create->add_flag("--stdin", a->from_stdin, "Read the prompt from stdin");
  create->add_option("--name", a->name, "The task's name (generated from the prompt if not given)");
  create->add_option("--owner", a->owner, "Create the task for this user")->capture_default_str();
  create->add_option("--template", a->template_name, "Template name")
      ->envname("CODER_TASK_TEMPLATE_NAME");
  create
      ->add_option("--template-version", a->template_version,
                   "Template version name (default: the active version)")
      ->envname("CODER_TASK_TEMPLATE_VERSION");
  create->add_option("--preset", a->preset, "The template version's preset to use")
      ->envname("CODER_TASK_PRESET_NAME");
  create->add_flag("-q,--quiet", a->quiet, "Print only the created task's id");
  create->callback([&g, a] { run_create(g, *a); });
}

void add_views(CLI::App& tasks, GlobalOptions& g, std::shared_ptr<TaskArgs> a) {
  auto* list = tasks.add_subcommand("list", "List tasks");
  list->alias("ls");
  list->add_option("--status", a->status, "Only tasks with this status")
      ->check(CLI::IsMember({"pending", "initializing", "active", "paused", "error", "unknown"}));
  list->add_flag("-a,--all", a->all, "Tasks of all users you can see");
  list->add_option("--user", a->user, "Tasks of this user (username or \"me\")")->excludes("--all");
  list->add_flag("-q,--quiet", a->quiet, "Print only task ids");
  add_output_option(list, a->format);
  list->callback([&g, a] { run_list(g, *a); });

  auto* status = task_verb(tasks, "status", "Show the status of a task", a);
  status->alias("stat");
  status->add_flag("--watch", a->watch,
                   "Print each change until the task is idle or no longer running");
  add_output_option(status, a->format);
  status->callback([&g, a] { run_status(g, *a); });

  auto* logs = task_verb(tasks, "logs", "Show a task's conversation", a);
  add_output_option(logs, a->format);
  logs->callback([&g, a] { run_logs(g, *a); });
}

void add_actions(CLI::App& tasks, GlobalOptions& g, std::shared_ptr<TaskArgs> a) {
  auto* send = task_verb(tasks, "send", "Send input to a task (resuming it if paused)", a);
  send->add_option("input", a->input, "The input (or pipe it in with --stdin)");
  send->add_flag("--stdin", a->from_stdin, "Read the input from stdin");
  send->callback([&g, a] { run_send(g, *a); });

  auto* pause = task_verb(tasks, "pause", "Pause a task (stops its workspace)", a);
  pause->add_flag("-y,--yes", a->yes, "Skip the confirmation");
  pause->callback([&g, a] { run_pause(g, *a); });

  auto* resume = task_verb(tasks, "resume", "Resume a paused task", a);
  resume->add_flag("--no-wait", a->no_wait, "Return once the workspace has started");
  resume->add_flag("-y,--yes", a->yes, "Skip the confirmation");
  resume->callback([&g, a] { run_resume(g, *a); });

  auto* del = tasks.add_subcommand("delete", "Delete tasks and their workspaces");
  del->alias("rm");
  del->add_option("task", a->tasks, "Task names, owner/name or ids")->required();
  del->add_flag("-y,--yes", a->yes, "Skip the confirmation");
  del->callback([&g, a] { run_delete(g, *a); });
}

}  // namespace

void add_task_commands(CLI::App& app, GlobalOptions& options) {
  auto* tasks = app.add_subcommand("tasks", "Manage AI tasks");
  tasks->alias("task");
  tasks->require_subcommand(1);
  tasks->fallthrough();
  // One argument block: exactly one subcommand runs per invocation.
  auto args = std::make_shared<TaskArgs>();
  add_create(*tasks, options, args);
  add_views(*tasks, options, args);
  add_actions(*tasks, options, args);
}

}  // namespace berth::cli
