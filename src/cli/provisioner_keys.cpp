// provisioner keys create | list | delete, and provisioner list (Coder's `coder provisioner`).
#include <cstdio>
#include <memory>

#include "cli/api.hpp"
#include "cli/cli.hpp"
#include "cli/output.hpp"
#include "common/error.hpp"

namespace berth::cli {

namespace {

struct KeyOptions {
  std::string name;
  std::vector<std::string> tags;  // key=value
  bool yes = false;
  OutputFormat format = OutputFormat::table;
};

std::string keys_path(const std::string& org) {
  return "/api/v2/organizations/" + org + "/provisionerkeys";
}

std::string tags_text(const json::object& tags) {
  std::string out;
  for (const auto& [k, v] : tags)
    out += (out.empty() ? "" : " ") + std::string(k) + "=" +
           (v.is_string() ? std::string(v.get_string()) : "");
  return out.empty() ? "-" : out;
}

void run_create(const GlobalOptions& g, const KeyOptions& o) {
  auto client = connect(g);
  json::object tags;
  for (const auto& t : o.tags) {
    auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error{ErrorCode::invalid, "--tag \"" + t + "\" must be key=value."};
    tags[t.substr(0, eq)] = t.substr(eq + 1);
  }
  auto org = default_organization_id(client);
  auto created = send_json(client, "POST", keys_path(org),
                           json::object{{"name", o.name}, {"tags", tags}}, 201);
  std::printf(
      "Successfully created provisioner key %s! Save this authentication token, it will "
      "not be shown again.\n\n%s\n",
      o.name.c_str(), str(created.as_object(), "key").c_str());
}

void run_list(const GlobalOptions& g, const KeyOptions& o) {
  auto client = connect(g);
  auto keys = get_json(client, keys_path(default_organization_id(client)));
  if (o.format == OutputFormat::json) {
    std::printf("%s", pretty_json(keys).c_str());
    return;
  }
  Table table({"created at", "name", "tags"});
  for (const auto& key : keys.as_array()) {
    const auto& k = key.as_object();
    table.add_row({format_time(str(k, "created_at")), str(k, "name"), tags_text(obj(k, "tags"))});
  }
  std::printf("%s", table.render().c_str());
}

void run_delete(const GlobalOptions& g, const KeyOptions& o) {
  auto client = connect(g);
  auto org = default_organization_id(client);
  auto r = client.request("DELETE", keys_path(org) + "/" + url_escape(o.name));
  expect_status(r, 204);
  std::printf("Successfully deleted provisioner key %s!\n", o.name.c_str());
}

void run_list_daemons(const GlobalOptions& g, const KeyOptions& o) {
  auto client = connect(g);
  auto org = default_organization_id(client);
  auto daemons = get_json(client, "/api/v2/organizations/" + org + "/provisionerdaemons");
  if (o.format == OutputFormat::json) {
    std::printf("%s", pretty_json(daemons).c_str());
    return;
  }
  Table table({"name", "key name", "status", "last seen", "version", "tags"});
  for (const auto& daemon : daemons.as_array()) {
    const auto& d = daemon.as_object();
    table.add_row({str(d, "name"), str(d, "key_name"), str(d, "status"),
                   format_ago(str(d, "last_seen_at")), str(d, "version"),
                   tags_text(obj(d, "tags"))});
  }
  std::printf("%s", table.render().c_str());
}

}  // namespace

void add_provisioner_commands(CLI::App& app, GlobalOptions& options) {
  auto* provisioner =
      app.add_subcommand("provisioner", "Manage provisioner daemons and their keys");
  provisioner->require_subcommand(1);
  auto o = std::make_shared<KeyOptions>();

  auto* list = provisioner->add_subcommand("list", "List the organization's provisioner daemons");
  add_output_option(list, o->format);
  list->callback([&options, o] { run_list_daemons(options, *o); });

  auto* keys = provisioner->add_subcommand("keys", "Manage provisioner keys");
  keys->require_subcommand(1);
  auto* create = keys->add_subcommand("create", "Create a provisioner key");
  create->add_option("name", o->name, "The key's name")->required();
  create->add_option("--tag,-t", o->tags, "key=value tags the key's daemons run with");
  create->callback([&options, o] { run_create(options, *o); });

  auto* keys_list = keys->add_subcommand("list", "List provisioner keys");
  add_output_option(keys_list, o->format);
  keys_list->callback([&options, o] { run_list(options, *o); });

  auto* del = keys->add_subcommand("delete", "Delete a provisioner key");
  del->add_option("name", o->name, "The key's name")->required();
  // Coder asks first; deleting here is explicit, so -y is accepted and not needed.
  del->add_flag("--yes,-y", o->yes, "Do not ask for confirmation");
  del->callback([&options, o] { run_delete(options, *o); });
}

}  // namespace berth::cli
