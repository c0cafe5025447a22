#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "hcl/module.hpp"
#include "sdk/workspace_enums.hpp"

namespace berth::provisioner::local {

// What the template sees of the workspace being built (`data.coder_workspace.me` and friends).
struct BuildContext {
  sdk::WorkspaceTransition transition = sdk::WorkspaceTransition::start;
  std::string workspace_id;
  std::string workspace_name;
  std::string owner_id;
  std::string owner_name;
  std::string owner_email;
  std::string owner_full_name;
  std::string owner_session_token;
  std::string template_id;
  std::string template_name;
  std::string template_version;
  std::string access_url = "http://127.0.0.1:3000";
  std::string berth_binary = "berth";  // what agent init scripts run on this host
  std::string agent_sha256;            // of the agent served at /bin/berth-linux-amd64
  std::string template_dir;            // the unpacked template (data "external" runs there)
  std::map<std::string, std::string> parameter_values;  // rich parameter name → value
  std::string task_id;
  std::string task_prompt;
  bool import = false;  // a template import: parameters take their defaults, nothing runs
};

// The `coder` Terraform provider's data sources and resources, the no-op `null_resource` and
// `terraform_data` that Coder templates use as stand-ins, and Berth's own local resource types,
// evaluated in-process.
class CoderProvider : public hcl::Provider {
 public:
  explicit CoderProvider(BuildContext context);

  bool supports(const std::string& mode, const std::string& type) const override;
  json::value plan(const std::string& mode, const std::string& type, const std::string& name,
                   std::optional<std::int64_t> index, json::value config,
                   const hcl::Position& position) override;

 private:
  json::value plan_data(const std::string& type, json::object config,
                        const hcl::Position& position);
  json::value plan_parameter(json::object config, const hcl::Position& position);
  json::value plan_agent(json::object config);
  void plan_ai_task(json::object& config) const;

  BuildContext context_;
};

// The shell script a `coder_agent`'s `init_script` holds: it runs this host's Berth binary as
// the agent when BERTH_AGENT_BINARY names it, and otherwise downloads the agent from the server.
std::string agent_init_script(const BuildContext& context, const std::string& os,
                              const std::string& arch);

}  // namespace berth::provisioner::local
