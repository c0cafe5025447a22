// templates push | list | versions list
#include <cstdio>
#include <memory>

#include "archive/tar_writer.hpp"
#include "cli/api.hpp"
#include "cli/cli.hpp"
#include "cli/jobs.hpp"
#include "cli/output.hpp"
#include "common/error.hpp"

namespace berth::cli {

namespace {

struct PushOptions {
  std::string name;
  std::string directory = ".";
  std::string version_name;
  std::string message;
  bool activate = true;
  std::vector<std::string> variables;  // name=value, Coder's --variable
};

std::string upload(sdk::Client& client, const std::string& tar) {
  auto r = client.request("POST", "/api/v2/files", tar, {{"Content-Type", "application/x-tar"}});
  // 201 for a new file, 200 when the server already had these exact bytes.
  if (r.status == 200) return str(r.json().as_object(), "hash");
  return str(expect_status(r, 201).as_object(), "hash");
}

json::object create_version(sdk::Client& client, const std::string& org,
                            const std::optional<sdk::Template>& existing, const std::string& file,
                            const PushOptions& o) {
  json::object body{{"storage_method", "file"}, {"provisioner", "terraform"}, {"file_id", file}};
  if (existing) body["template_id"] = existing->id.to_string();
  if (!o.version_name.empty()) body["name"] = o.version_name;
  if (!o.message.empty()) body["message"] = o.message;
  json::array variables;
  for (const auto& v : o.variables) {
    auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error{ErrorCode::invalid, "--variable \"" + v + "\" must be name=value"};
    variables.push_back(json::object{{"name", v.substr(0, eq)}, {"value", v.substr(eq + 1)}});
  }
  if (!variables.empty()) body["user_variable_values"] = std::move(variables);
  return send_json(client, "POST", "/api/v2/organizations/" + org + "/templateversions", body, 201)
      .as_object();
}

void run_push(const GlobalOptions& g, PushOptions o) {
  auto client = connect(g);
  if (o.name.empty())
    o.name = std::filesystem::absolute(o.directory).lexically_normal().filename().string();
  auto org = default_organization_id(client);
  auto existing = find_template(client, org, o.name);
  auto tar = archive::tar_directory(o.directory);
  std::printf("==> Uploading %s (%zu bytes)\n", o.directory.c_str(), tar.size());
  auto version = create_version(client, org, existing, upload(client, tar), o);
  auto version_id = str(version, "id");
  wait_for_template_version(client, version_id);
  if (!existing) {
    send_json(client, "POST", "/api/v2/organizations/" + org + "/templates",
              json::object{{"name", o.name}, {"template_version_id", version_id}}, 201);
    std::printf("Template %s has been created with version %s.\n", o.name.c_str(),
                str(version, "name").c_str());
  } else if (o.activate) {
    send_json(client, "PATCH", "/api/v2/templates/" + existing->id.to_string() + "/versions",
              json::object{{"id", version_id}}, 200);
    std::printf("Template %s has been updated: version %s is active.\n", o.name.c_str(),
                str(version, "name").c_str());
  } else {
    std::printf("Template %s has a new version %s (not activated).\n", o.name.c_str(),
                str(version, "name").c_str());
  }
}

void run_list(const GlobalOptions& g, OutputFormat format) {
  auto client = connect(g);
  auto templates = get_json(client, "/api/v2/templates");
  if (format == OutputFormat::json) {
    std::fputs(pretty_json(templates).c_str(), stdout);
    return;
  }
  Table table({"name", "organization", "used by", "last updated"});
  for (const auto& t : templates.as_array()) {
    const auto& o = t.as_object();
    table.add_row({str(o, "name"), str(o, "organization_name"),
                   std::to_string(int_of(o, "active_user_count")) + " developer(s)",
                   format_ago(str(o, "updated_at"))});
  }
  std::fputs(table.render().c_str(), stdout);
}

void run_versions_list(const GlobalOptions& g, const std::string& name, OutputFormat format) {
  auto client = connect(g);
  auto tmpl = require_template(client, default_organization_id(client), name);
  auto versions = get_json(client, "/api/v2/templates/" + tmpl.id.to_string() + "/versions");
  if (format == OutputFormat::json) {
    std::fputs(pretty_json(versions).c_str(), stdout);
    return;
  }
  Table table({"name", "created at", "created by", "status", "active"});
  auto active = tmpl.active_version_id.to_string();
  for (const auto& v : versions.as_array()) {
    const auto& o = v.as_object();
    table.add_row({str(o, "name"), format_time(str(o, "created_at")),
                   str(obj(o, "created_by"), "username"), str(obj(o, "job"), "status"),
                   str(o, "id") == active ? "Active" : ""});
  }
  std::fputs(table.render().c_str(), stdout);
}

void add_push(CLI::App* templates, GlobalOptions& g) {
  auto o = std::make_shared<PushOptions>();
  auto* push = templates->add_subcommand("push", "Upload a template directory as a new version");
  push->add_option("name", o->name, "Template name (default: the directory's name)");
  push->add_option("-d,--directory", o->directory, "Template directory")->capture_default_str();
  push->add_option("--name", o->version_name, "Version name (default: generated)");
  push->add_option("-m,--message", o->message, "Version message");
  push->add_option("--variable", o->variables, "A template variable's value: name=value")
      ->allow_extra_args(false);
  push->add_flag("--activate,!--no-activate", o->activate,
                 "Make the new version the active one (default true)");
  push->add_flag("-y,--yes")->description("Skip confirmations (push asks none)");
  push->callback([&g, o] { run_push(g, *o); });
}

}  // namespace

void add_template_commands(CLI::App& app, GlobalOptions& options) {
  auto* templates = app.add_subcommand("templates", "Manage templates");
  templates->alias("template");
  templates->require_subcommand(1);
  add_push(templates, options);

  auto list_format = std::make_shared<OutputFormat>(OutputFormat::table);
  auto* list = templates->add_subcommand("list", "List the templates you can use");
  list->alias("ls");
  add_output_option(list, *list_format);
  list->callback([&options, list_format] { run_list(options, *list_format); });

  auto* versions = templates->add_subcommand("versions", "Manage a template's versions");
  versions->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  auto versions_format = std::make_shared<OutputFormat>(OutputFormat::table);
  auto* vlist = versions->add_subcommand("list", "List a template's versions");
  vlist->alias("ls");
  vlist->add_option("template", *name, "Template name")->required();
  add_output_option(vlist, *versions_format);
  vlist->callback(
      [&options, name, versions_format] { run_versions_list(options, *name, *versions_format); });
}

}  // namespace berth::cli
