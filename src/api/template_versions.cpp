#include <charconv>

#include "api/handlers.hpp"
#include "api/job_log_stream.hpp"
#include "api/jobs_json.hpp"
#include "api/params.hpp"
#include "coderd/provisioner_daemons.hpp"
#include "coderd/templates.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

json::value stored(const std::string& document) {
  return json::parse(document);
}

// The template version's import job must have succeeded before its results mean anything.
void require_imported(Deps& deps, const store::TemplateVersionRow& version) {
  auto job = deps.store.get_provisioner_job_by_id(version.job_id);
  using Status = sdk::ProvisionerJobStatus;
  auto status = job ? std::optional(coderd::job_status(*job)) : std::nullopt;
  std::string status_text(status ? sdk::to_string(*status) : "unknown");
  if (status == Status::pending || status == Status::running) {
    std::string detail = "The template version import job is ";
    detail.append(status_text).append(".");
    throw Error{ErrorCode::invalid, "Template version job hasn't completed!", detail};
  }
  if (status != Status::succeeded)
    throw Error{ErrorCode::invalid, "Template version job failed.",
                job && job->error ? *job->error : status_text};
}

bool null_or_absent(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return !v || v->is_null();
}

// What the import found, dated by the import (Coder's types require the timestamps the stored
// documents leave empty): resources, their agents and the agents' log sources.
json::value resources_json(Deps& deps, const store::TemplateVersionRow& version) {
  auto job = deps.store.get_provisioner_job_by_id(version.job_id);
  auto when = format_rfc3339(job && job->completed_at ? *job->completed_at : version.updated_at);
  auto doc = stored(version.resources);
  if (!doc.is_array()) return doc;
  for (auto& r : doc.as_array()) {
    if (!r.is_object()) continue;
    auto& resource = r.as_object();
    if (null_or_absent(resource, "created_at")) resource["created_at"] = when;
    if (json::string_at(resource, "job_id").empty())
      resource["job_id"] = version.job_id.to_string();
    auto* agents = resource.if_contains("agents");
    if (!agents || !agents->is_array()) continue;
    for (auto& a : agents->as_array()) {
      if (!a.is_object()) continue;
      auto& agent = a.as_object();
      for (const char* key : {"created_at", "updated_at"})
        if (null_or_absent(agent, key)) agent[key] = when;
      if (null_or_absent(agent, "resource_id") && resource.contains("id"))
        agent["resource_id"] = resource.at("id");
      if (!agent.contains("parent_id")) agent["parent_id"] = nullptr;
      auto* sources = agent.if_contains("log_sources");
      if (!sources || !sources->is_array()) continue;
      for (auto& s : sources->as_array())
        if (s.is_object() && null_or_absent(s.as_object(), "created_at"))
          s.as_object()["created_at"] = when;
    }
  }
  return doc;
}

// Rich parameters as Coder sends them: `validation_monotonic` only when it is set.
json::value parameters_json(const store::TemplateVersionRow& version) {
  auto doc = stored(version.parameters);
  if (doc.is_array())
    for (auto& p : doc.as_array())
      if (p.is_object())
        if (const auto* m = p.as_object().if_contains("validation_monotonic");
            m && (m->is_null() || (m->is_string() && m->get_string().empty())))
          p.as_object().erase("validation_monotonic");
  return doc;
}

std::int64_t int_query(const Request& request, const char* name) {
  auto values = request.query_values(name);
  if (values.empty() || values[0].empty()) return 0;
  std::int64_t out = 0;
  const auto& v = values[0];
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || ptr != v.data() + v.size())
    throw Error{ErrorCode::invalid,
                "Query param \"" + std::string(name) + "\" must be an integer.",
                {},
                {{name, "must be an integer"}}};
  return out;
}

}  // namespace

Response create_template_version(Deps& deps, Request& request, const Authenticated& auth) {
  auto org = resolve_organization_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  coderd::CreateVersionParams params;
  auto storage = body.string("storage_method").value_or("");
  if (storage != "file")
    body.invalid("storage_method",
                 "Validation failed for tag \"oneof\" with value: \"" + storage + "\"");
  params.provisioner = body.string("provisioner").value_or("");
  if (params.provisioner != "terraform")
    body.invalid("provisioner",
                 "Validation failed for tag \"oneof\" with value: \"" + params.provisioner + "\"");
  auto file_id = body.uuid("file_id");
  if (body.string("example_id").value_or("") != "")
    throw Error{ErrorCode::invalid, "Berth has no built-in examples; upload the template files."};
  if (!file_id)
    body.invalid("file_id", "Validation failed for tag \"required_without\" with value: \"\"");
  params.template_id = body.uuid("template_id");
  params.name = body.string("name").value_or("");
  params.message = body.string("message").value_or("");
  if (params.message.size() > 1048576) body.invalid("message", "must be <= 1048576 characters");
  // Bounded as a provisioner key's tags: every build of the version carries them.
  if (const auto* tags = body.object_field("tags")) {
    if (tags->size() > coderd::kMaxProvisionerKeyTags)
      body.invalid("tags", "At most " + std::to_string(coderd::kMaxProvisionerKeyTags) +
                               " tags are allowed.");
    else
      for (const auto& [k, v] : *tags) {
        if (k.empty() || k.size() > coderd::kMaxProvisionerTagKeyLength)
          body.invalid("tags", "Tag keys must be 1 to " +
                                   std::to_string(coderd::kMaxProvisionerTagKeyLength) +
                                   " characters.");
        else if (v.is_string() && v.get_string().size() > coderd::kMaxProvisionerTagValueLength)
          body.invalid("tags." + std::string(k),
                       "Tag values must be at most " +
                           std::to_string(coderd::kMaxProvisionerTagValueLength) + " characters.");
        else if (v.is_string())
          params.tags[std::string(k)] = std::string(v.get_string());
      }
  }
  if (const auto* items = body.array_field("user_variable_values"))
    for (const auto& item : *items) {
      if (!item.is_object() || !item.as_object().contains("name"))
        throw Error{ErrorCode::invalid, "Request body must be valid JSON.",
                    "user_variable_values entries must be {\"name\", \"value\"} objects"};
      // As the provisioner has always read them: a name that is not a string names nothing,
      // a value that is not a string is empty.
      const auto& o = item.as_object();
      if (const auto* name = o.if_contains("name"); name->is_string())
        params.user_variable_values.push_back(
            {std::string(name->get_string()), json::string_at(o, "value")});
    }
  body.finish();
  params.file_id = *file_id;
  auto version = deps.templates.create_version(auth.subject, org, params);
  return http::json_response(201, template_version_json(deps, version));
}

Response get_template_version(Deps& deps, Request& request, const Authenticated& auth) {
  return http::json_response(
      200, template_version_json(deps, resolve_template_version_param(deps, request, auth)));
}

Response update_template_version(Deps& deps, Request& request, const Authenticated& auth) {
  auto version = resolve_template_version_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  auto name = body.string("name");
  auto message = body.string("message");
  body.finish();
  auto updated = deps.templates.update_version(auth.subject, version, name, message);
  return http::json_response(200, template_version_json(deps, updated));
}

Response cancel_template_version(Deps& deps, Request& request, const Authenticated& auth) {
  auto version = resolve_template_version_param(deps, request, auth);
  deps.templates.cancel_version_job(auth.subject, version);
  return http::json_response(200, json::object{{"message", "Job has been marked as canceled..."}});
}

Response get_template_version_logs(Deps& deps, Request& request, const Authenticated& auth) {
  auto version = resolve_template_version_param(deps, request, auth);
  auto after = int_query(request, "after");
  if (!request.query_values("follow").empty()) {
    Response r;
    r.websocket = std::make_shared<JobLogStream>(deps.store, deps.pubsub, version.job_id, after);
    return r;
  }
  json::array out;
  for (const auto& log : deps.store.list_provisioner_job_logs_after(version.job_id, after, 0))
    out.push_back(job_log_json(log));
  return http::json_response(200, out);
}

Response get_template_version_rich_parameters(Deps& deps, Request& request,
                                              const Authenticated& auth) {
  auto version = resolve_template_version_param(deps, request, auth);
  require_imported(deps, version);
  return http::json_response(200, parameters_json(version));
}

Response get_template_version_resources(Deps& deps, Request& request, const Authenticated& auth) {
  auto version = resolve_template_version_param(deps, request, auth);
  require_imported(deps, version);
  return http::json_response(200, resources_json(deps, version));
}

Response get_template_version_presets(Deps& deps, Request& request, const Authenticated& auth) {
  auto version = resolve_template_version_param(deps, request, auth);
  require_imported(deps, version);
  return http::json_response(200, stored(version.presets));
}

Response get_template_version_variables(Deps& deps, Request& request, const Authenticated& auth) {
  auto version = resolve_template_version_param(deps, request, auth);
  require_imported(deps, version);
  return http::json_response(200, stored(version.variables));
}

Response get_template_version_external_auth(Deps& deps, Request& request,
                                            const Authenticated& auth) {
  auto version = resolve_template_version_param(deps, request, auth);
  require_imported(deps, version);
  return http::json_response(200, stored(version.external_auth));
}

}  // namespace berth::api
