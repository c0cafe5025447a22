#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "hcl/ast.hpp"
#include "hcl/module.hpp"

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
// codersdk.WorkspaceResource[] for one transition: managed resources other than the coder_*
// bookkeeping ones, each with the agents (and their apps, scripts) that reference it and the
// coder_metadata that names it.
json::array resources_json(const hcl::ModuleResult& result, const std::string& transition);
// Whether the template declares a coder_ai_task resource.
bool has_ai_task(const hcl::ModuleResult& result);

}  // namespace berth::provisioner::local
