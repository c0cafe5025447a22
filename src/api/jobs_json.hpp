#pragma once

#include "api/deps.hpp"
#include "common/json.hpp"
#include "store/rows.hpp"

namespace berth::api {

// codersdk.ProvisionerJob for a job row (queue position computed for pending jobs).
json::value provisioner_job_json(Deps& deps, const store::ProvisionerJobRow& job);
// codersdk.ProvisionerJobLog
json::value job_log_json(const store::ProvisionerJobLogRow& log);
// codersdk.MinimalUser for a user id (empty fields when the user is gone).
json::value minimal_user_json(Deps& deps, const Uuid& user_id);
// codersdk.TemplateVersion
json::value template_version_json(Deps& deps, const store::TemplateVersionRow& version);
// codersdk.Template
json::value template_json(Deps& deps, const store::TemplateRow& tmpl);

}  // namespace berth::api
