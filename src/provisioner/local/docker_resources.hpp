#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "hcl/module.hpp"
#include "provisioner/provisioner.hpp"

namespace berth::provisioner::local {

// The kreuzwerker/docker provider's resources (docker_image, docker_volume, docker_network,
// docker_container), planned in-process and applied over the Docker Engine API.

// True for the resource types this file plans and applies.
bool is_docker_resource(const std::string& type);

// Fills the provider's defaults and the computed attributes known before apply (ids are
// known only after apply; names stand in for them, as Docker accepts either).
json::value plan_docker_resource(const std::string& type, json::object config);

// One object a build created on an engine, as the workspace's state records it.
struct DockerObject {
  std::string address;  // docker_container.workspace[0]
  std::string type;
  std::string id;    // container/network/image id, volume name
  std::string name;  // for messages
  std::string host;  // the engine address it lives on
  std::string cert_path;
  std::string fingerprint;  // of the configuration it was created from
  bool prevent_destroy = false;
  bool keep_locally = false;  // images
  // Containers: destroy_grace_seconds; 0 (the provider's default) removes them at once.
  int grace_seconds = 0;
};

json::value to_json(const DockerObject& object);
// Throws Error{invalid} when `v` is not what to_json writes.
DockerObject docker_object_from(const json::value& v);

// What applying needs besides the plan.
struct DockerApplyRequest {
  std::string workspace_id;
  sdk::WorkspaceTransition transition = sdk::WorkspaceTransition::start;
  std::string default_host;            // provider "docker" host, or DOCKER_HOST, or the socket
  std::string default_cert_path;       // provider cert_path or DOCKER_CERT_PATH
  std::string template_dir;            // image build contexts are read below it
  std::vector<DockerObject> previous;  // what the last successful build left
  // The last build failed or was interrupted: look for objects it created but never recorded.
  bool look_for_leftovers = false;
};

// Brings the engine to the plan: destroys what the previous build left and the plan no longer
// has (or has changed), creates what is new, and (after a failed build, and on every delete)
// removes leftovers labeled with the workspace that no state records (an interrupted build's).
// A delete destroys everything. On failure the
// objects this build created are removed again before the JobFailure propagates. Returns what
// exists afterwards.
std::vector<DockerObject> apply_docker_resources(const hcl::ModuleResult& plan,
                                                 const DockerApplyRequest& request,
                                                 JobContext& context);

// The label every object Berth creates carries, so that it can always be found again.
inline constexpr const char* kWorkspaceLabel = "berth.workspace_id";

}  // namespace berth::provisioner::local
