#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "hcl/ast.hpp"
#include "hcl/module.hpp"
#include "sdk/workspace_enums.hpp"

namespace berth::provisioner::local {

// The JSON documents a template version keeps, in codersdk shapes, built from what the module
// evaluation produced.

// codersdk.TemplateVersionParameter[], ordered by `order` then declaration.
json::array parameters_json(const hcl::ModuleResult& result);
// codersdk.Preset[]
json::array presets_json(const hcl::ModuleResult& result);
// codersdk.TemplateVersionExternalAuth[]
json::array external_auth_json(const hcl::ModuleResult& result);
// codersdk.TemplateVersionVariable[] from the `variable` blocks and their resolved values.
json::array variables_json(const std::vector<hcl::File>& files, const hcl::ModuleResult& result,
                           const std::map<std::string, std::string>& provided);
// codersdk.WorkspaceResource[] for one transition, as Coder's provisioner builds them from
// Terraform's dependency graph: every managed resource but coder_agent, coder_app,
// coder_script, coder_metadata and coder_agent_instance; each coder_agent attached to the
// nearest resource that depends on it (ties: smallest address); each coder_metadata to the
// nearest resource it depends on; apps, scripts and env to the agent their agent_id names.
// Agents carry, besides codersdk.WorkspaceAgent's fields, `order`, `metadata` (the
// WorkspaceAgentMetadataDescription list, with `order`) and `motd_file`; apps carry `order`.
// Throws Error{invalid} when two coder_metadata describe the same resource.
json::array resources_json(const hcl::ModuleResult& result, sdk::WorkspaceTransition transition);
// Whether the template declares a coder_ai_task resource.
bool has_ai_task(const hcl::ModuleResult& result);
// Whether the template declares a coder_external_agent resource.
bool has_external_agent(const hcl::ModuleResult& result);

}  // namespace berth::provisioner::local
