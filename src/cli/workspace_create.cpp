// create: resolves rich parameter values (flags, a file, prompts), then waits for the build.
#include <cstdio>
#include <map>
#include <memory>

#include "cli/api.hpp"
#include "cli/build_parameters.hpp"
#include "cli/cli.hpp"
#include "cli/jobs.hpp"
#include "cli/prompt.hpp"
#include "cli/schedule_spec.hpp"
#include "common/error.hpp"

namespace berth::cli {

namespace {

struct CreateOptions {
  std::string name;
  std::string template_name;
  std::vector<std::string> parameters;
  std::string parameter_file;
  std::vector<std::string> defaults;  // --parameter-default name=value
  std::string template_version;
  std::string start_at;
  std::string stop_after;
  std::string automatic_updates;
  bool yes = false;
};

using Values = std::map<std::string, std::string>;

Values given_values(const CreateOptions& o) {
  Values values;
  if (!o.parameter_file.empty()) read_parameter_file(o.parameter_file, values);
  // Flags win over the file, as in Coder.
  for (const auto& p : o.parameters) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error{ErrorCode::invalid, "Invalid --parameter \"" + p + "\".", "Use name=value."};
    values[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return values;
}

std::string ask_parameter(const json::object& p, const std::string& suggested) {
  auto label = str(p, "display_name").empty() ? str(p, "name") : str(p, "display_name");
  if (auto description = str(p, "description"); !description.empty())
    std::fprintf(stderr, "%s: %s\n", label.c_str(), description.c_str());
  if (const auto* options = p.if_contains("options"); options && options->is_array())
    for (const auto& opt : options->as_array())
      std::fprintf(stderr, "  - %s (%s)\n", str(opt.as_object(), "value").c_str(),
                   str(opt.as_object(), "name").c_str());
  if (!stdin_is_terminal())
    return value_or_prompt("", "--parameter " + str(p, "name") + "=…", label);
  return prompt(label, suggested);
}

// Values given (flags over the file), asked for, or taken from --parameter-default.
json::array resolve_parameters(const json::array& rich, Values values, const Values& defaults) {
  json::array out;
  std::vector<std::string> missing;
  for (const auto& item : rich) {
    const auto& p = item.as_object();
    auto name = str(p, "name");
    auto given = values.find(name);
    if (given != values.end()) {
      out.push_back(json::object{{"name", name}, {"value", given->second}});
      values.erase(given);
    } else if (str(p, "required") == "true") {
      auto fallback = defaults.find(name);
      if (stdin_is_terminal())
        out.push_back(json::object{
            {"name", name},
            {"value", ask_parameter(p, fallback == defaults.end() ? "" : fallback->second)}});
      else if (fallback != defaults.end())
        out.push_back(json::object{{"name", name}, {"value", fallback->second}});
      else
        missing.push_back(name);
    }
  }
  if (!values.empty())
    throw Error{ErrorCode::invalid,
                "Parameter \"" + values.begin()->first + "\" is not defined by the template."};
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    throw Error{ErrorCode::invalid, "Missing values for required parameters: " + names + ".",
                "Pass them with --parameter name=value or --rich-parameter-file."};
  }
  return out;
}

void run_create(const GlobalOptions& g, const CreateOptions& o) {
  auto client = connect(g);
  std::string owner = "me", name = o.name;
  if (auto slash = o.name.find('/'); slash != std::string::npos) {
    owner = o.name.substr(0, slash);
    name = o.name.substr(slash + 1);
  }
  auto tmpl = require_template(client, default_organization_id(client), o.template_name);
  auto version_id = tmpl.active_version_id.to_string();
  json::object body{{"name", name}};
  if (o.template_version.empty()) {
    body["template_id"] = tmpl.id.to_string();
  } else {
    // A named version of the template instead of its active one (Coder's --template-version).
    auto version = get_json(client, "/api/v2/templates/" + tmpl.id.to_string() + "/versions/" +
                                        url_escape(o.template_version));
    version_id = str(version.as_object(), "id");
    body["template_version_id"] = version_id;
  }
  Values defaults;
  for (const auto& d : o.defaults) {
    auto eq = d.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error{ErrorCode::invalid, "Invalid --parameter-default \"" + d + "\".",
                  "format key=value expected, but got " + d};
    defaults[d.substr(0, eq)] = d.substr(eq + 1);
  }
  auto rich = get_json(client, "/api/v2/templateversions/" + version_id + "/rich-parameters");
  body["rich_parameter_values"] = resolve_parameters(rich.as_array(), given_values(o), defaults);
  if (!o.automatic_updates.empty()) body["automatic_updates"] = o.automatic_updates;
  if (!o.start_at.empty()) body["autostart_schedule"] = parse_start_at(o.start_at);
  if (!o.stop_after.empty()) body["ttl_ms"] = parse_duration(o.stop_after).count();
  // Creating loses nothing, so scripts (no terminal) are not asked; people are, as in Coder.
  if (stdin_is_terminal()) confirm("Create workspace " + name + "?", o.yes);
  auto ws = sdk::workspace_from_json(
      send_json(client, "POST", "/api/v2/users/" + url_escape(owner) + "/workspaces", body, 201));
  if (ws.latest_build) wait_for_build(client, ws.latest_build->id.to_string());
  std::printf("The %s workspace has been created.\n", name.c_str());
}

}  // namespace

void add_create_command(CLI::App& app, GlobalOptions& options) {
  auto o = std::make_shared<CreateOptions>();
  auto* create = app.add_subcommand("create", "Create a workspace from a template");
  // Coder's flags and environment variables (cli/create.go).
  create->add_option("name", o->name, "Workspace name (or owner/name)")->required();
  create->add_option("-t,--template", o->template_name, "Template name")
      ->required()
      ->envname("CODER_TEMPLATE_NAME");
  create->add_option("--template-version", o->template_version, "Template version name")
      ->envname("CODER_TEMPLATE_VERSION");
  create->add_option("--parameter", o->parameters, "Rich parameter value, name=value (repeatable)")
      ->envname("CODER_RICH_PARAMETER");
  create
      ->add_option("--rich-parameter-file", o->parameter_file,
                   "File of `name: value` lines with rich parameter values")
      ->envname("CODER_RICH_PARAMETER_FILE");
  create
      ->add_option("--parameter-default", o->defaults,
                   "Default for a required parameter, name=value (offered when asking)")
      ->envname("CODER_RICH_PARAMETER_DEFAULT");
  create
      ->add_option("--start-at", o->start_at,
                   "Autostart schedule, e.g. \"Mon-Fri 09:00 Europe/Berlin\" or a CRON_TZ string")
      ->envname("CODER_WORKSPACE_START_AT");
  create->add_option("--stop-after", o->stop_after, "Stop this long after a start, e.g. 8h")
      ->envname("CODER_WORKSPACE_STOP_AFTER");
  create
      ->add_option("--automatic-updates", o->automatic_updates,
                   "Start on the template's active version each time: always or never")
      ->check(CLI::IsMember({"always", "never"}))
      ->envname("CODER_WORKSPACE_AUTOMATIC_UPDATES");
  create->add_flag("-y,--yes", o->yes, "Bypass confirmation prompts");
  create->callback([&options, o] { run_create(options, *o); });
}

}  // namespace berth::cli
