// schedule show | start | stop | extend: a workspace's autostart and autostop.
#include <cstdio>
#include <memory>

#include "cli/api.hpp"
#include "cli/cli.hpp"
#include "cli/output.hpp"
#include "cli/schedule_spec.hpp"
#include "common/error.hpp"
#include "common/time.hpp"
#include "sdk/workspaces.hpp"

namespace berth::cli {

namespace {

struct ScheduleArgs {
  std::string workspace;
  std::vector<std::string> spec;
  std::string duration;
  OutputFormat format = OutputFormat::table;
};

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

json::value field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v ? *v : json::value(nullptr);
}

void print_schedule(const json::object& ws, OutputFormat format) {
  const auto& latest = obj(ws, "latest_build");
  if (format == OutputFormat::json) {
    std::fputs(
        pretty_json(json::object{{"workspace", str(ws, "owner_name") + "/" + str(ws, "name")},
                                 {"autostart_schedule", field(ws, "autostart_schedule")},
                                 {"next_start_at", field(ws, "next_start_at")},
                                 {"ttl_ms", field(ws, "ttl_ms")},
                                 {"deadline", field(latest, "deadline")}})
            .c_str(),
        stdout);
    return;
  }
  auto w = sdk::workspace_from_json(ws);
  auto time_text = [](const std::optional<TimePoint>& t) {
    return t ? format_time(format_rfc3339(*t)) : format_time("");
  };
  bool running = w.latest_build && w.latest_build->status == sdk::WorkspaceStatus::running;
  Table table({"workspace", "starts at", "starts next", "stops after", "stops next"});
  table.add_row({str(ws, "owner_name") + "/" + str(ws, "name"),
                 describe_schedule(w.autostart_schedule.value_or("")), time_text(w.next_start_at),
                 format_duration(std::chrono::milliseconds(w.ttl_ms.value_or(0))),
                 running ? time_text(w.latest_build->deadline) : "-"});
  std::fputs(table.render().c_str(), stdout);
}

// Each change answers 204 or a message; the new state is read back and shown, as Coder does.
void update_and_show(const GlobalOptions& g, const std::string& name, const std::string& suffix,
                     const json::object& body, int expected) {
  auto client = connect(g);
  auto ws = resolve_workspace(client, name);
  send_json(client, "PUT", "/api/v2/workspaces/" + str(ws, "id") + suffix, body, expected);
  print_schedule(get_json(client, "/api/v2/workspaces/" + str(ws, "id")).as_object(),
                 OutputFormat::table);
}

void run_start(const GlobalOptions& g, const ScheduleArgs& a) {
  auto cron = parse_start_at(joined(a.spec));
  json::value schedule = cron.empty() ? json::value(nullptr) : json::value(cron);
  update_and_show(g, a.workspace, "/autostart", json::object{{"schedule", schedule}}, 204);
}

void run_stop(const GlobalOptions& g, const ScheduleArgs& a) {
  json::value ttl = nullptr;
  if (a.duration != "manual") ttl = parse_duration(a.duration).count();
  update_and_show(g, a.workspace, "/ttl", json::object{{"ttl_ms", ttl}}, 204);
}

// The new deadline counts from now, as Coder's `schedule extend` does.
void run_extend(const GlobalOptions& g, const ScheduleArgs& a) {
  auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
  auto deadline = now + parse_duration(a.duration);
  update_and_show(g, a.workspace, "/extend", json::object{{"deadline", format_rfc3339(deadline)}},
                  200);
}

CLI::App* verb(CLI::App* schedule, const char* name, const char* help, ScheduleArgs& a) {
  auto* cmd = schedule->add_subcommand(name, help);
  cmd->add_option("workspace", a.workspace, "Workspace name (or owner/name)")->required();
  return cmd;
}

}  // namespace

void add_schedule_commands(CLI::App& app, GlobalOptions& options) {
  auto a = std::make_shared<ScheduleArgs>();
  auto* schedule = app.add_subcommand("schedule", "Show or change a workspace's schedule");
  schedule->require_subcommand(1);

  auto* show = verb(schedule, "show", "Show a workspace's schedule", *a);
  add_output_option(show, a->format);
  show->callback([&options, a] {
    auto client = connect(options);
    print_schedule(resolve_workspace(client, a->workspace), a->format);
  });

  auto* start = verb(schedule, "start", "Set the autostart schedule (or \"manual\")", *a);
  start
      ->add_option("schedule", a->spec,
                   "e.g. \"Mon-Fri 09:00 Europe/Berlin\", a CRON_TZ string, or manual")
      ->required();
  start->callback([&options, a] { run_start(options, *a); });

  auto* stop = verb(schedule, "stop", "Set how long after a start it stops (or \"manual\")", *a);
  stop->add_option("duration", a->duration, "e.g. 8h, 1h30m, or manual")->required();
  stop->callback([&options, a] { run_stop(options, *a); });

  auto* extend = verb(schedule, "extend", "Move the running workspace's stop time", *a);
  extend->alias("override-stop");
  extend->add_option("duration", a->duration, "Stop this long from now, e.g. 2h")->required();
  extend->callback([&options, a] { run_extend(options, *a); });
}

}  // namespace berth::cli
