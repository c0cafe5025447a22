#pragma once

#include "api/deps.hpp"
#include "common/json.hpp"
#include "sdk/provisioner_jobs.hpp"
#include "store/rows.hpp"

namespace berth::api {

// What a job's JSON names besides the job itself: the workspace its build belongs to, the
// version it works on, and that version's template.
struct JobContext {
  std::optional<store::WorkspaceRow> workspace;
  std::optional<store::TemplateVersionRow> version;
  std::optional<store::TemplateRow> version_template;
};

// The context of a job that works on `input`, read from the store.
JobContext job_context(Deps& deps, const store::ProvisionerJobInput& input);

// codersdk.ProvisionerJob for a job row (queue position computed for pending jobs).
json::value provisioner_job_json(Deps& deps, const store::ProvisionerJobRow& job);
// The same with its context already loaded (e.g. for a page of builds).
json::value provisioner_job_json(Deps& deps, const store::ProvisionerJobRow& job,
                                 const JobContext& context);
sdk::ProvisionerJob provisioner_job(Deps& deps, const store::ProvisionerJobRow& job,
                                    const JobContext& context);
// codersdk.ProvisionerJobLog
json::value job_log_json(const store::ProvisionerJobLogRow& log);
// codersdk.User, with the user's organizations.
json::value user_json(Deps& deps, const store::UserRow& user);
// codersdk.MinimalUser for a user id (empty fields when the user is gone).
json::value minimal_user_json(Deps& deps, const Uuid& user_id);
// codersdk.TemplateVersion
json::value template_version_json(Deps& deps, const store::TemplateVersionRow& version);
// codersdk.Template
json::value template_json(Deps& deps, const store::TemplateRow& tmpl);
// The same with its organization and creator already loaded (e.g. for a list).
json::value template_json(const store::TemplateRow& tmpl,
                          const std::optional<store::OrganizationRow>& organization,
                          const std::optional<store::UserRow>& creator);

}  // namespace berth::api
