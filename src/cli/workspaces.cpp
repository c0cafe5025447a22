// Workspace verbs: list, show, start, stop, restart, update, delete, logs, favorite,
// unfavorite, rename.
#include <cstdio>
#include <memory>

#include "cli/api.hpp"
#include "cli/build_parameters.hpp"
#include "cli/cli.hpp"
#include "cli/jobs.hpp"
#include "cli/output.hpp"
#include "cli/prompt.hpp"
#include "cli/schedule_spec.hpp"
#include "common/error.hpp"
#include "sdk/workspaces.hpp"

namespace berth::cli {

namespace {

using sdk::WorkspaceStatus;
using sdk::WorkspaceTransition;

std::string full_name(const sdk::Workspace& ws) {
  std::string out = ws.owner_name;
  out.append("/").append(ws.name);
  return out;
}

std::optional<WorkspaceStatus> status_of(const sdk::Workspace& ws) {
  if (!ws.latest_build) return std::nullopt;
  return ws.latest_build->status;
}

std::string status_text(const sdk::Workspace& ws) {
  auto status = status_of(ws);
  return status ? std::string(sdk::to_string(*status)) : std::string();
}

std::string time_text(const std::optional<TimePoint>& t) {
  return t ? format_rfc3339(*t) : std::string();
}

json::object transition_request(WorkspaceTransition transition) {
  return json::object{{"transition", sdk::to_string(transition)}};
}

// Posts a build and follows it to the end; throws with the job's error if it fails.
sdk::WorkspaceBuild build(sdk::Client& client, const sdk::Workspace& ws, json::object body) {
  auto created =
      send_json(client, "POST", "/api/v2/workspaces/" + ws.id.to_string() + "/builds", body, 201);
  return wait_for_build(client, str(created.as_object(), "id"));
}

void run_list(const GlobalOptions& g, const std::string& search, bool all, OutputFormat format) {
  auto client = connect(g);
  // Coder lists the caller's own workspaces unless told otherwise.
  auto q = !search.empty() ? search : all ? std::string() : std::string("owner:me");
  auto target = "/api/v2/workspaces" + (q.empty() ? std::string() : "?q=" + url_escape(q));
  auto page = get_json(client, target).as_object();
  const auto& workspaces = page.at("workspaces").as_array();
  if (format == OutputFormat::json) {
    std::fputs(pretty_json(workspaces).c_str(), stdout);
    return;
  }
  if (workspaces.empty()) {
    std::fprintf(stderr,
                 "No workspaces found. Create one with 'berth create <name> -t <template>'.\n");
    return;
  }
  Table table(
      {"workspace", "template", "status", "last built", "outdated", "starts at", "stops after"});
  for (const auto& item : workspaces) {
    auto ws = sdk::workspace_from_json(item);
    auto built = ws.latest_build ? std::optional(ws.latest_build->created_at) : std::nullopt;
    table.add_row({full_name(ws), ws.template_name, status_text(ws), format_ago(time_text(built)),
                   ws.outdated ? "true" : "false",
                   describe_schedule(ws.autostart_schedule.value_or("")),
                   format_duration(std::chrono::milliseconds(ws.ttl_ms.value_or(0)))});
  }
  std::fputs(table.render().c_str(), stdout);
}

void print_resources(const sdk::WorkspaceBuild& latest) {
  if (latest.resources.empty()) return;
  Table table({"resource", "type", "agents"});
  for (const auto& r : latest.resources) {
    std::string agents;
    for (const auto& a : r.agents) {
      if (!agents.empty()) agents += ", ";
      agents.append(a.name).append(" (").append(sdk::to_string(a.status)).append(")");
    }
    table.add_row({r.name, r.type, agents.empty() ? "-" : agents});
  }
  std::printf("\n%s", table.render().c_str());
}

void run_show(const GlobalOptions& g, const std::string& name, OutputFormat format) {
  auto client = connect(g);
  auto raw = resolve_workspace(client, name);
  if (format == OutputFormat::json) {
    std::fputs(pretty_json(raw).c_str(), stdout);
    return;
  }
  auto ws = sdk::workspace_from_json(raw);
  auto latest = ws.latest_build.value_or(sdk::WorkspaceBuild{});
  std::printf("Workspace:  %s\n", full_name(ws).c_str());
  std::printf("Template:   %s (version %s%s)\n", ws.template_name.c_str(),
              latest.template_version_name.c_str(), ws.outdated ? ", outdated" : "");
  std::printf("Status:     %s (build #%lld, %s)\n", status_text(ws).c_str(),
              static_cast<long long>(latest.build_number),
              ws.latest_build ? std::string(sdk::to_string(latest.transition)).c_str() : "");
  std::printf("Autostart:  %s\n", describe_schedule(ws.autostart_schedule.value_or("")).c_str());
  std::printf("Autostop:   %s\n",
              format_duration(std::chrono::milliseconds(ws.ttl_ms.value_or(0))).c_str());
  std::printf("Deadline:   %s\n", format_time(time_text(latest.deadline)).c_str());
  std::printf("Favorite:   %s\n", ws.favorite ? "yes" : "no");
  print_resources(latest);
}

// A start build's request: on `version_id` (empty: the last build's version) with the
// parameter values the flags give or a person is asked for.
json::object start_request(sdk::Client& client, const sdk::Workspace& ws,
                           const std::string& version_id, const ParameterFlags& flags) {
  std::string latest_version, latest_id;
  if (ws.latest_build) {
    latest_version = ws.latest_build->template_version_id.to_string();
    latest_id = ws.latest_build->id.to_string();
  }
  auto version = version_id.empty() ? latest_version : version_id;
  auto start = transition_request(WorkspaceTransition::start);
  if (!version_id.empty()) start["template_version_id"] = version_id;
  auto values = start_parameter_values(client, version, latest_id, flags);
  if (!values.empty()) start["rich_parameter_values"] = std::move(values);
  return start;
}

void run_start(const GlobalOptions& g, const std::string& name, const ParameterFlags& flags,
               bool no_wait) {
  auto client = connect(g);
  auto ws = sdk::workspace_from_json(resolve_workspace(client, name));
  if (status_of(ws) == WorkspaceStatus::running) {
    std::printf("The %s workspace is already running.\n", full_name(ws).c_str());
    return;
  }
  auto request = start_request(client, ws, {}, flags);
  if (no_wait) {
    send_json(client, "POST", "/api/v2/workspaces/" + ws.id.to_string() + "/builds", request, 201);
    std::printf("The %s workspace is starting.\n", full_name(ws).c_str());
    return;
  }
  build(client, ws, request);
  std::printf("The %s workspace has been started.\n", full_name(ws).c_str());
}

void run_stop(const GlobalOptions& g, const std::string& name, bool yes) {
  auto client = connect(g);
  auto ws = sdk::workspace_from_json(resolve_workspace(client, name));
  if (status_of(ws) == WorkspaceStatus::stopped) {
    std::printf("The %s workspace is already stopped.\n", full_name(ws).c_str());
    return;
  }
  // Coder asks people; scripts (no terminal) are not asked.
  if (stdin_is_terminal()) confirm("Confirm stop workspace " + full_name(ws) + "?", yes);
  build(client, ws, transition_request(WorkspaceTransition::stop));
  std::printf("The %s workspace has been stopped.\n", full_name(ws).c_str());
}

// Stop (when running) then start, optionally onto another template version. The values are
// settled before the stop, so a bad flag leaves the workspace running.
void restart(sdk::Client& client, const sdk::Workspace& ws, const std::string& version_id,
             const ParameterFlags& flags, const std::string& question, bool yes) {
  auto start = start_request(client, ws, version_id, flags);
  if (stdin_is_terminal()) confirm(question, yes);
  if (status_of(ws) == WorkspaceStatus::running)
    build(client, ws, transition_request(WorkspaceTransition::stop));
  build(client, ws, start);
}

void run_restart(const GlobalOptions& g, const std::string& name, const ParameterFlags& flags,
                 bool yes) {
  auto client = connect(g);
  auto ws = sdk::workspace_from_json(resolve_workspace(client, name));
  restart(client, ws, {}, flags, "Restart workspace " + full_name(ws) + "?", yes);
  std::printf("The %s workspace has been restarted.\n", full_name(ws).c_str());
}

// The local provisioner's processes belong to the old version, so a running workspace is
// stopped before it starts on the active one.
void run_update(const GlobalOptions& g, const std::string& name, const ParameterFlags& flags,
                bool yes) {
  auto client = connect(g);
  auto ws = sdk::workspace_from_json(resolve_workspace(client, name));
  // As in Coder, --always-prompt and --build-options rebuild an up-to-date workspace too.
  if (!ws.outdated && !flags.always_prompt && !flags.prompt_build_options) {
    std::printf("The %s workspace is up to date.\n", full_name(ws).c_str());
    return;
  }
  auto active = ws.template_active_version_id;
  restart(client, ws, active ? active->to_string() : std::string(), flags,
          "Update workspace " + full_name(ws) + "?", yes);
  std::printf("The %s workspace has been updated.\n", full_name(ws).c_str());
}

void run_delete(const GlobalOptions& g, const std::string& name, bool orphan, bool yes) {
  auto client = connect(g);
  auto ws = sdk::workspace_from_json(resolve_workspace(client, name));
  confirm("Delete workspace " + full_name(ws) + "?", yes);
  auto body = transition_request(WorkspaceTransition::delete_);
  if (orphan) body["orphan"] = true;
  build(client, ws, body);
  std::printf("The %s workspace has been deleted.\n", full_name(ws).c_str());
}

void run_logs(const GlobalOptions& g, const std::string& name, bool follow) {
  auto client = connect(g);
  auto ws = sdk::workspace_from_json(resolve_workspace(client, name));
  auto build_id = ws.latest_build ? ws.latest_build->id.to_string() : std::string();
  auto target = "/api/v2/workspacebuilds/" + build_id + "/logs";
  LogPrinter printer;
  if (follow) {
    client.follow_websocket(target + "?follow", [&](const std::string& message) {
      auto v = json::parse(message);
      if (v.is_object()) printer.print(v.as_object());
      return true;
    });
    return;
  }
  auto logs = get_json(client, target);
  for (const auto& log : logs.as_array()) printer.print(log.as_object());
}

void run_favorite(const GlobalOptions& g, const std::string& name, bool favorite) {
  auto client = connect(g);
  auto ws = sdk::workspace_from_json(resolve_workspace(client, name));
  auto target = "/api/v2/workspaces/" + ws.id.to_string() + "/favorite";
  expect_status(client.request(favorite ? "PUT" : "DELETE", target), 204);
  std::printf("The %s workspace is %s a favorite.\n", full_name(ws).c_str(),
              favorite ? "now" : "no longer");
}

void run_rename(const GlobalOptions& g, const std::string& name, const std::string& new_name) {
  auto client = connect(g);
  auto ws = sdk::workspace_from_json(resolve_workspace(client, name));
  send_json(client, "PATCH", "/api/v2/workspaces/" + ws.id.to_string(),
            json::object{{"name", new_name}}, 204);
  std::printf("The %s workspace is now called %s.\n", full_name(ws).c_str(), new_name.c_str());
}

// One required workspace positional, shared by most verbs.
CLI::App* verb(CLI::App& app, const char* name, const char* help, std::string& workspace) {
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("workspace", workspace, "Workspace name (or owner/name)")->required();
  return cmd;
}

struct WorkspaceArgs {
  std::string workspace;
  std::string new_name;
  std::string search;
  bool all = false;
  bool yes = false;
  bool orphan = false;
  bool follow = false;
  bool no_wait = false;
  ParameterFlags parameters;
  OutputFormat format = OutputFormat::table;
};

void add_listing(CLI::App& app, GlobalOptions& g, std::shared_ptr<WorkspaceArgs> a) {
  auto* list = app.add_subcommand("list", "List workspaces");
  list->alias("ls");
  list->add_option("--search", a->search, "Search query, as the web UI's (default owner:me)");
  list->add_flag("-a,--all", a->all, "All workspaces you can see, not just yours");
  add_output_option(list, a->format);
  list->callback([&g, a] { run_list(g, a->search, a->all, a->format); });

  auto* show = verb(app, "show", "Show a workspace's status, schedule and resources", a->workspace);
  add_output_option(show, a->format);
  show->callback([&g, a] { run_show(g, a->workspace, a->format); });

  auto* logs = verb(app, "logs", "Print the latest build's logs", a->workspace);
  logs->add_flag("-f,--follow", a->follow, "Keep following until the build ends");
  logs->callback([&g, a] { run_logs(g, a->workspace, a->follow); });
}

void add_transitions(CLI::App& app, GlobalOptions& g, std::shared_ptr<WorkspaceArgs> a) {
  // Coder's flags and variables: -y/--yes on every verb, the parameter flags of Coder's
  // cli/parameter.go on start, restart and update, and start's --no-wait.
  auto yes_flag = [&](CLI::App* cmd) {
    cmd->add_flag("-y,--yes", a->yes, "Bypass confirmation prompts");
  };
  auto* start = verb(app, "start", "Start a workspace", a->workspace);
  yes_flag(start);
  add_parameter_flags(start, a->parameters);
  start->add_flag("--no-wait", a->no_wait, "Return once the start build is queued");
  start->callback([&g, a] { run_start(g, a->workspace, a->parameters, a->no_wait); });
  auto* stop = verb(app, "stop", "Stop a workspace", a->workspace);
  yes_flag(stop);
  stop->callback([&g, a] { run_stop(g, a->workspace, a->yes); });
  auto* restart = verb(app, "restart", "Stop, then start a workspace", a->workspace);
  yes_flag(restart);
  add_parameter_flags(restart, a->parameters);
  restart->callback([&g, a] { run_restart(g, a->workspace, a->parameters, a->yes); });
  auto* update =
      verb(app, "update", "Restart a workspace on its template's active version", a->workspace);
  yes_flag(update);
  add_parameter_flags(update, a->parameters);
  update->callback([&g, a] { run_update(g, a->workspace, a->parameters, a->yes); });
  auto* del = verb(app, "delete", "Delete a workspace", a->workspace);
  del->alias("rm");
  del->add_flag("--orphan", a->orphan, "Delete without destroying its resources");
  del->add_flag("-y,--yes", a->yes, "Bypass confirmation prompts");
  del->callback([&g, a] { run_delete(g, a->workspace, a->orphan, a->yes); });
}

void add_settings(CLI::App& app, GlobalOptions& g, std::shared_ptr<WorkspaceArgs> a) {
  verb(app, "favorite", "Mark a workspace as a favorite", a->workspace)->callback([&g, a] {
    run_favorite(g, a->workspace, true);
  });
  verb(app, "unfavorite", "Unmark a favorite workspace", a->workspace)->callback([&g, a] {
    run_favorite(g, a->workspace, false);
  });
  auto* rename = verb(app, "rename", "Rename a workspace", a->workspace);
  rename->add_option("new-name", a->new_name, "The new name")->required();
  rename->add_flag("-y,--yes", a->yes, "Skip confirmations (rename asks none)");
  rename->callback([&g, a] { run_rename(g, a->workspace, a->new_name); });
}

}  // namespace

void add_workspace_commands(CLI::App& app, GlobalOptions& options) {
  // One argument block: exactly one subcommand runs per invocation.
  auto args = std::make_shared<WorkspaceArgs>();
  add_listing(app, options, args);
  add_transitions(app, options, args);
  add_settings(app, options, args);
}

}  // namespace berth::cli
