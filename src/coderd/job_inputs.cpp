#include "coderd/job_inputs.hpp"

#include "coderd/provisioner_jobs.hpp"
#include "common/crypto.hpp"
#include "common/error.hpp"
#include "common/json.hpp"

namespace berth::coderd {

namespace {

template <typename T>
T must(std::optional<T> value, const char* what) {
  if (!value)
    throw Error{ErrorCode::not_found, std::string("The build's ") + what + " no longer exists."};
  return std::move(*value);
}

std::map<std::string, std::string> variable_values(const store::ProvisionerJobInput& input) {
  std::map<std::string, std::string> out;
  for (const auto& v : input.user_variable_values) out[v.name] = v.value;
  return out;
}

sdk::BuildRequest build_request(store::Store& store, const store::ProvisionerJobRow& job) {
  const auto& build_id = job.input.workspace_build_id;
  auto build = must(build_id ? store.get_workspace_build_by_id(*build_id) : std::nullopt, "record");
  auto workspace = must(store.get_workspace_by_id(build.workspace_id), "workspace");
  auto tmpl = must(store.get_template_by_id(workspace.template_id), "template");
  auto version =
      must(store.get_template_version_by_id(build.template_version_id), "template version");
  auto owner = must(store.get_user_by_id(workspace.owner_id), "owner");
  sdk::BuildRequest request;
  if (auto import = store.get_provisioner_job_by_id(version.job_id))
    request.variable_values = variable_values(import->input);
  for (const auto& p : store.list_build_parameters(build.id))
    request.parameter_values[p.name] = p.value;
  request.transition = build.transition;
  request.state = build.provisioner_state;
  if (build.build_number > 1)
    if (auto previous = store.get_workspace_build_by_number(workspace.id, build.build_number - 1))
      if (auto previous_job = store.get_provisioner_job_by_id(previous->job_id))
        request.previous_build_failed =
            job_status(*previous_job) != sdk::ProvisionerJobStatus::succeeded;
  request.workspace_id = workspace.id.to_string();
  request.workspace_name = workspace.name;
  request.owner_id = owner.id.to_string();
  request.owner_name = owner.username;
  request.owner_email = owner.email;
  request.owner_full_name = owner.name;
  request.template_id = tmpl.id.to_string();
  request.template_name = tmpl.name;
  request.template_version = version.name;
  if (auto task = store.get_task_by_workspace_id(workspace.id)) {
    request.task_id = task->id.to_string();
    request.task_prompt = task->prompt;
  }
  return request;
}

std::string str(const json::object& o, const char* key) {
  return json::string_at(o, key);
}

const json::array& array_at(const json::object& o, const char* key) {
  static const json::array kEmpty;
  auto* v = o.if_contains(key);
  return v && v->is_array() ? v->get_array() : kEmpty;
}

// A resource document's coder_metadata items ({key, value, sensitive}).
std::vector<store::ResourceMetadataItem> metadata_items(const json::array& items) {
  std::vector<store::ResourceMetadataItem> out;
  for (const auto& item : items) {
    if (!item.is_object()) continue;
    const auto& o = item.get_object();
    auto* sensitive = o.if_contains("sensitive");
    out.push_back({str(o, "key"), str(o, "value"),
                   sensitive && sensitive->is_bool() && sensitive->get_bool()});
  }
  return out;
}

store::WorkspaceAgentRow agent_row(const json::object& agent, const Uuid& resource_id,
                                   const sdk::BuildResponse& response, TimePoint now) {
  auto id = str(agent, "id");
  auto token = response.tokens.find(id);
  store::WorkspaceAgentRow row;
  row.id = Uuid::parse(id).value_or(Uuid::random_v4());
  row.created_at = row.updated_at = now;
  row.resource_id = resource_id;
  row.name = str(agent, "name");
  row.auth_token_hash = to_hex(
      sha256(token == response.tokens.end() ? Uuid::random_v4().to_string() : token->second));
  row.config = json::serialize(agent);
  return row;
}

}  // namespace

sdk::AcquiredJob acquired_job(store::Store& store, const store::ProvisionerJobRow& job) {
  sdk::AcquiredJob out;
  out.id = job.id;
  out.type = job.type;
  if (job.type == "workspace_build") {
    out.build = build_request(store, job);
    out.variable_values = out.build->variable_values;
  } else {
    out.variable_values = variable_values(job.input);
  }
  auto file = store.get_file_by_id(job.file_id);
  if (!file) throw Error{ErrorCode::not_found, "The template archive no longer exists."};
  out.archive = std::move(file->data);
  return out;
}

BuildOutcome build_outcome(const sdk::BuildResponse& response,
                           const store::WorkspaceBuildRow& build, TimePoint now) {
  BuildOutcome out;
  out.state = response.state;
  out.has_ai_task = response.has_ai_task;
  out.ai_task_app_id = response.ai_task_app_id;
  out.daily_cost = response.daily_cost;
  for (const auto& item : response.resources) {
    if (!item.is_object()) continue;
    const auto& r = item.get_object();
    auto* hide = r.if_contains("hide");
    auto* cost = r.if_contains("daily_cost");
    store::WorkspaceResourceRow resource{Uuid::parse(str(r, "id")).value_or(Uuid::random_v4()),
                                         now,
                                         build.job_id,
                                         build.transition,
                                         str(r, "type"),
                                         str(r, "name"),
                                         hide && hide->is_bool() && hide->get_bool(),
                                         str(r, "icon"),
                                         cost && cost->is_int64() ? cost->get_int64() : 0,
                                         metadata_items(array_at(r, "metadata"))};
    out.resources.push_back(resource);
    for (const auto& agent : array_at(r, "agents"))
      if (agent.is_object())
        out.agents.push_back(agent_row(agent.get_object(), resource.id, response, now));
  }
  return out;
}

store::TemplateVersionImportResult to_import_result(const sdk::TemplateImportResult& r) {
  store::TemplateVersionImportResult out;
  out.readme = r.readme;
  out.has_ai_task = r.has_ai_task;
  out.has_external_agent = r.has_external_agent;
  out.parameters = r.parameters;
  out.variables = r.variables;
  out.presets = r.presets;
  out.resources = r.resources;
  out.external_auth = r.external_auth;
  return out;
}

sdk::TemplateImportResult to_wire(const store::TemplateVersionImportResult& r) {
  return sdk::TemplateImportResult{r.readme,     r.has_ai_task,  r.has_external_agent,
                                   r.parameters, r.variables,    r.presets,
                                   r.resources,  r.external_auth};
}

}  // namespace berth::coderd
