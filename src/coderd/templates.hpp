#pragma once

#include <optional>
#include <string>
#include <vector>

#include "coderd/provisioner_jobs.hpp"
#include "coderd/rbac.hpp"
#include "common/clock.hpp"
#include "common/json.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// A template's scheduling and permission settings, as its row holds them.
using TemplatePolicy = store::TemplatePolicy;

// Reads the policy fields present in a create or update request body onto `policy`,
// recording a validation per bad field.
void read_template_policy(json::ObjectReader& body, TemplatePolicy& policy);

// What `POST /organizations/{org}/templateversions` asks for, checked for shape.
struct CreateVersionParams {
  Uuid file_id;
  std::optional<Uuid> template_id;
  std::string name;
  std::string message;
  std::string provisioner = "terraform";
  std::vector<store::VariableValue> user_variable_values;
  std::map<std::string, std::string> tags;
};

// What `POST /organizations/{org}/templates` asks for.
struct CreateTemplateParams {
  std::string name;
  std::string display_name;
  std::string description;
  std::string icon;
  Uuid version_id;
  TemplatePolicy policy;
};

// The object RBAC decides template questions about.
Object template_object(const Uuid& organization_id);

// The rules for templates and their versions.
class Templates {
 public:
  Templates(store::Store& store, JobQueue& jobs, const Clock& clock);

  // Makes a version and queues its import job.
  store::TemplateVersionRow create_version(const Subject& actor, const store::OrganizationRow& org,
                                           const CreateVersionParams& params);
  store::TemplateRow create_template(const Subject& actor, const store::OrganizationRow& org,
                                     const CreateTemplateParams& params);
  store::TemplateRow update_template(const Subject& actor, store::TemplateRow updated);
  // Makes `version_id` the active version; it must belong to the template and have imported.
  store::TemplateRow promote(const Subject& actor, store::TemplateRow tmpl, const Uuid& version_id);
  void delete_template(const Subject& actor, store::TemplateRow tmpl);
  store::TemplateVersionRow update_version(const Subject& actor, store::TemplateVersionRow version,
                                           std::optional<std::string> name,
                                           std::optional<std::string> message);
  void cancel_version_job(const Subject& actor, const store::TemplateVersionRow& version);

 private:
  void require_admin(const Subject& actor, const Uuid& organization_id) const;

  store::Store& store_;
  JobQueue& jobs_;
  const Clock& clock_;
};

}  // namespace berth::coderd
