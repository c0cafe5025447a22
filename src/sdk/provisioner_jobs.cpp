#include "sdk/provisioner_jobs.hpp"

#include "sdk/json_fields.hpp"

namespace berth::sdk {

namespace {

template <typename T>
void put_if(json::object& out, std::string_view key, const std::optional<T>& v) {
  if (!v) return;
  if constexpr (std::is_same_v<T, Uuid>)
    out[key] = v->to_string();
  else if constexpr (std::is_same_v<T, TimePoint>)
    out[key] = format_rfc3339(*v);
  else
    out[key] = *v;
}

json::object input_json(const ProvisionerJobInput& in) {
  json::object out;
  put_if(out, "template_version_id", in.template_version_id);
  put_if(out, "workspace_build_id", in.workspace_build_id);
  return out;
}

json::object metadata_json(const ProvisionerJobMetadata& m) {
  json::object out;
  put_if(out, "workspace_id", m.workspace_id);
  put_if(out, "workspace_name", m.workspace_name);
  put_if(out, "template_version_name", m.template_version_name);
  put_if(out, "template_id", m.template_id);
  put_if(out, "template_name", m.template_name);
  put_if(out, "template_display_name", m.template_display_name);
  put_if(out, "template_icon", m.template_icon);
  return out;
}

}  // namespace

json::value to_json(const ProvisionerJob& job) {
  json::object out{{"id", job.id.to_string()},
                   {"created_at", format_rfc3339(job.created_at)},
                   {"status", to_string(job.status)},
                   {"file_id", job.file_id.to_string()},
                   {"tags", job.tags},
                   {"queue_position", job.queue_position},
                   {"queue_size", job.queue_size},
                   {"organization_id", job.organization_id.to_string()},
                   {"initiator_id", job.initiator_id.to_string()},
                   {"type", job.type},
                   {"available_workers", json::array{}},
                   {"logs_overflowed", job.logs_overflowed}};
  put_if(out, "started_at", job.started_at);
  put_if(out, "completed_at", job.completed_at);
  put_if(out, "canceled_at", job.canceled_at);
  if (!job.error.empty()) out["error"] = job.error;
  if (!job.error_code.empty()) out["error_code"] = job.error_code;
  put_if(out, "worker_id", job.worker_id);
  if (!job.worker_name.empty()) out["worker_name"] = job.worker_name;
  out["input"] = input_json(job.input);
  out["metadata"] = metadata_json(job.metadata);
  return out;
}

ProvisionerJob provisioner_job_from_json(const json::value& v) {
  namespace f = fields;
  const auto& o = v.as_object();
  ProvisionerJob job;
  job.id = f::uuid(o, "id");
  job.created_at = f::time(o, "created_at");
  job.started_at = f::optional_time(o, "started_at");
  job.completed_at = f::optional_time(o, "completed_at");
  job.canceled_at = f::optional_time(o, "canceled_at");
  job.error = f::string(o, "error");
  job.error_code = f::string(o, "error_code");
  job.status = f::enumeration(o, "status", ProvisionerJobStatus::pending);
  job.worker_id = f::optional_uuid(o, "worker_id");
  job.worker_name = f::string(o, "worker_name");
  job.file_id = f::uuid(o, "file_id");
  job.tags = f::object(o, "tags");
  job.queue_position = f::integer(o, "queue_position");
  job.queue_size = f::integer(o, "queue_size");
  job.organization_id = f::uuid(o, "organization_id");
  job.initiator_id = f::uuid(o, "initiator_id");
  job.type = f::string(o, "type");
  job.logs_overflowed = f::boolean(o, "logs_overflowed");
  const auto& in = f::object(o, "input");
  job.input.template_version_id = f::optional_string(in, "template_version_id");
  job.input.workspace_build_id = f::optional_string(in, "workspace_build_id");
  const auto& m = f::object(o, "metadata");
  job.metadata.workspace_id = f::optional_uuid(m, "workspace_id");
  job.metadata.workspace_name = f::optional_string(m, "workspace_name");
  job.metadata.template_version_name = f::optional_string(m, "template_version_name");
  job.metadata.template_id = f::optional_uuid(m, "template_id");
  job.metadata.template_name = f::optional_string(m, "template_name");
  job.metadata.template_display_name = f::optional_string(m, "template_display_name");
  job.metadata.template_icon = f::optional_string(m, "template_icon");
  return job;
}

}  // namespace berth::sdk
