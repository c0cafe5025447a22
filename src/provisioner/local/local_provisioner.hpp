#pragma once

#include <functional>
#include <string>

#include "provisioner/provisioner.hpp"

namespace berth::provisioner::local {

// The built-in provisioner: evaluates Terraform templates itself (HCL subset, the coder
// provider, and local resource types) instead of running Terraform.
class LocalProvisioner final : public Provisioner {
 public:
  // `access_url` and `berth_binary` are what agent init scripts point at; templates are
  // unpacked under `work_dir` while a job runs (for `file()` and `path.module`).
  LocalProvisioner(std::string access_url, std::string berth_binary, std::string work_dir);

  // The digest of the agent served to workspaces, which init scripts check after download;
  // asked for when a build needs it.
  void set_agent_sha256(std::function<std::string()> sha256) { agent_sha256_ = std::move(sha256); }
  // Where registry modules (`registry.coder.com/...`) are looked up; empty: none available.
  void set_module_dir(std::string dir) { module_dir_ = std::move(dir); }

  store::TemplateVersionImportResult import_template(const ImportRequest& request,
                                                     JobContext& context) override;
  BuildResponse build_workspace(const BuildRequest& request, JobContext& context) override;
  void reconcile_workspace(const std::string& workspace_dir, const std::string& state,
                           const std::function<void(const std::string&)>& log) override;

 private:
  std::string access_url_;
  std::string berth_binary_;
  std::string work_dir_;
  std::function<std::string()> agent_sha256_;
  std::string module_dir_;
};

}  // namespace berth::provisioner::local
