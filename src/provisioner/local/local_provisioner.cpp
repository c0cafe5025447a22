#include "provisioner/local/local_provisioner.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "common/uuid.hpp"

#include "docker/engine_client.hpp"
#include "provisioner/local/coder_provider.hpp"
#include "provisioner/local/docker_resources.hpp"
#include "provisioner/local/import_documents.hpp"
#include "provisioner/local/process_markers.hpp"
#include "provisioner/local/process_resource.hpp"

namespace berth::provisioner::local {

namespace {

// Terraform reads the *.tf files of the module's root directory.
std::map<std::string, std::string> root_tf_files(const std::map<std::string, std::string>& files) {
  std::map<std::string, std::string> out;
  for (const auto& [path, contents] : files)
    if (path.find('/') == std::string::npos && path.size() > 3 &&
        path.compare(path.size() - 3, 3, ".tf") == 0)
      out[path] = contents;
  return out;
}

std::string readme_of(const std::map<std::string, std::string>& files) {
  auto it = files.find("README.md");
  return it == files.end() ? "" : it->second;
}

// Variables without a default need a value from the version's creator, or the import fails
// with Coder's REQUIRED_TEMPLATE_VARIABLES code.
std::map<std::string, json::value> resolve_variables(
    const std::vector<hcl::File>& files, const std::map<std::string, std::string>& given) {
  std::map<std::string, json::value> values;
  std::vector<std::string> missing;
  for (const auto& file : files)
    for (const auto& block : file.blocks) {
      if (block.type != "variable" || block.labels.empty()) continue;
      const auto& name = block.labels[0];
      auto it = given.find(name);
      if (it == given.end()) {
        if (!block.attribute("default")) missing.push_back(name);
        continue;
      }
      std::string type;
      if (auto* t = block.attribute("type");
          t && t->expression->kind == hcl::ExpressionKind::variable)
        type = t->expression->name;
      if (type == "number") {
        try {
          std::size_t used = 0;
          double d = std::stod(it->second, &used);
          if (used != it->second.size()) throw std::invalid_argument("trailing");
          values[name] =
              d == double(std::int64_t(d)) ? json::value(std::int64_t(d)) : json::value(d);
        } catch (const std::exception&) {
          throw JobFailure(
              fmt::format("Variable \"{}\" must be a number, got \"{}\".", name, it->second), "");
        }
      } else if (type == "bool") {
        if (it->second != "true" && it->second != "false")
          throw JobFailure(
              fmt::format("Variable \"{}\" must be true or false, got \"{}\".", name, it->second),
              "");
        values[name] = it->second == "true";
      } else {
        values[name] = it->second;
      }
    }
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    throw JobFailure("required template variables need values: " + names,
                     "REQUIRED_TEMPLATE_VARIABLES");
  }
  return values;
}

// A job's private copy of the template on disk, removed when the job ends.
class UnpackedTemplate {
 public:
  UnpackedTemplate(const std::string& root, const std::map<std::string, std::string>& files)
      : dir_(std::filesystem::path(root) / Uuid::random_v4().to_string()) {
    for (const auto& [path, contents] : files) {
      auto target = dir_ / path;  // paths were checked by the tar reader: no "..", no "/"
      std::filesystem::create_directories(target.parent_path());
      std::ofstream(target, std::ios::binary) << contents;
    }
    std::filesystem::create_directories(dir_);
  }
  ~UnpackedTemplate() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;
};

void check_canceled(JobContext& context) {
  if (context.canceled()) throw JobFailure("canceled", "");
}

hcl::ModuleOptions module_options(std::map<std::string, json::value> variables,
                                  const std::string& template_dir,
                                  const std::string& registry_dir) {
  hcl::ModuleOptions options;
  options.variable_values = std::move(variables);
  options.module_dir = template_dir;
  options.root_dir = template_dir;
  options.registry_module_dir = registry_dir;
  return options;
}

}  // namespace

LocalProvisioner::LocalProvisioner(std::string access_url, std::string berth_binary,
                                   std::string work_dir)
    : access_url_(std::move(access_url)),
      berth_binary_(std::move(berth_binary)),
      work_dir_(std::move(work_dir)) {}

store::TemplateVersionImportResult LocalProvisioner::import_template(const ImportRequest& request,
                                                                     JobContext& context) {
  auto tf = root_tf_files(request.files);
  if (tf.empty()) throw JobFailure("The template has no .tf files in its root directory.", "");
  context.log({"info", "Parsing template parameters",
               fmt::format("Parsing {} Terraform file(s)", tf.size())});
  auto files = hcl::parse_module(tf);
  check_canceled(context);

  UnpackedTemplate unpacked(work_dir_, request.files);
  auto options = module_options(resolve_variables(files, request.variable_values), unpacked.path(),
                                module_dir_);
  BuildContext build;
  build.import = true;
  build.access_url = access_url_;
  build.berth_binary = berth_binary_;
  build.agent_sha256 = agent_sha256_ ? agent_sha256_() : "";
  build.template_dir = unpacked.path();
  context.log({"info", "Detecting persistent resources", "Planning the start transition"});
  CoderProvider start_provider(build);
  auto start = hcl::evaluate_module(files, start_provider, options);
  check_canceled(context);
  context.log({"info", "Detecting ephemeral resources", "Planning the stop transition"});
  build.transition = sdk::WorkspaceTransition::stop;
  CoderProvider stop_provider(build);
  auto stop = hcl::evaluate_module(files, stop_provider, options);
  check_canceled(context);

  store::TemplateVersionImportResult out;
  out.readme = readme_of(request.files);
  out.has_ai_task = has_ai_task(start);
  out.has_external_agent = has_external_agent(start);
  out.parameters = json::serialize(parameters_json(start));
  out.variables = json::serialize(variables_json(files, start, request.variable_values));
  out.presets = json::serialize(presets_json(start));
  out.external_auth = json::serialize(external_auth_json(start));
  auto resources = resources_json(start, sdk::WorkspaceTransition::start);
  for (auto& r : resources_json(stop, sdk::WorkspaceTransition::stop))
    resources.push_back(std::move(r));
  out.resources = json::serialize(resources);
  context.log({"info", "Cleaning Up",
               fmt::format("Found {} parameter(s) and {} resource(s)",
                           json::parse(out.parameters).as_array().size(), resources.size())});
  return out;
}

}  // namespace berth::provisioner::local

namespace berth::provisioner::local {

namespace {

constexpr auto kStopGrace = std::chrono::seconds(10);

// The processes a workspace's previous build left running, by resource address.
std::vector<std::pair<std::string, ProcessState>> previous_processes(const std::string& state) {
  std::vector<std::pair<std::string, ProcessState>> out;
  if (state.empty()) return out;
  auto doc = json::parse(state);
  auto* list = doc.is_object() ? doc.as_object().if_contains("processes") : nullptr;
  if (!list || !list->is_array()) return out;
  for (const auto& item : list->get_array()) {
    const auto& o = item.as_object();
    out.emplace_back(std::string(o.at("address").as_string()), process_state_from(o.at("state")));
  }
  return out;
}

std::vector<std::string> strings_of(const json::object& o, const char* key) {
  std::vector<std::string> out;
  auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const auto& s : v->get_array())
    if (s.is_string()) out.emplace_back(s.get_string());
  return out;
}

std::vector<DockerObject> previous_docker_objects(const std::string& state) {
  std::vector<DockerObject> out;
  if (state.empty()) return out;
  auto doc = json::parse(state);
  auto* list = doc.is_object() ? doc.as_object().if_contains("docker") : nullptr;
  if (!list || !list->is_array()) return out;
  for (const auto& item : list->get_array()) out.push_back(docker_object_from(item));
  return out;
}

// Everything else that carries the workspace's mark, once the old processes have stopped: what
// an interrupted build started and never recorded (its marker says so, issue #16), and what
// the old processes started outside their process groups (`nohup ... &` with setsid).
void stop_workspace_leftovers(const std::string& workspace_dir,
                              const std::vector<std::pair<std::string, ProcessState>>& previous,
                              JobContext& context) {
  if (workspace_dir.empty()) return;
  auto log = [&](const std::string& line) { context.log({"info", "Applying", line}); };
  std::vector<ProcessState> known;
  for (const auto& [address, process] : previous) known.push_back(process);
  stop_leftover_processes(workspace_dir, known, kStopGrace, log);
  if (auto n = stop_processes_with_env(workspace_env_entry(workspace_dir), kStopGrace))
    log(fmt::format("Stopped {} process(es) that outlived the workspace's processes", n));
  for (const auto& marker : list_process_markers(workspace_dir)) remove_process_marker(marker);
}

// Starts the plan's berth_process resources. Each gets a marker before it starts (write-ahead)
// and carries the marker's id, so that it can be found again if the build never records it;
// `started` collects the markers, for the caller to stop them again if the build fails.
json::array start_processes(const hcl::ModuleResult& result, const BuildRequest& request,
                            const std::string& berth_binary, JobContext& context,
                            std::vector<ProcessMarker>& started) {
  json::array processes;
  for (const auto& r : result.resources) {
    if (r.mode != "managed" || r.type != "berth_process") continue;
    check_canceled(context);
    const auto& a = r.attributes.as_object();
    ProcessSpec spec;
    spec.command = strings_of(a, "command");
    // Agents on this host run the server's own binary instead of downloading one.
    spec.env.push_back("BERTH_AGENT_BINARY=" + berth_binary);
    for (auto& e : strings_of(a, "env")) spec.env.push_back(std::move(e));
    auto* dir = a.if_contains("dir");
    spec.dir = dir && dir->is_string() ? std::string(dir->get_string()) : request.workspace_dir;
    auto* sandbox = a.if_contains("sandbox");
    spec.sandbox = sandbox && sandbox->is_bool() && sandbox->get_bool();
    auto address = r.address();
    spec.log_path = request.workspace_dir + "/.berth-" + r.name +
                    (r.index ? std::to_string(*r.index) : "") + ".log";
    std::filesystem::create_directories(request.workspace_dir);
    context.log({"info", "Applying", address + ": Creating..."});
    try {
      started.push_back(write_process_intent(request.workspace_dir, address));
      // Last, so that the template's env cannot take the marks off.
      for (auto& e : marker_env(started.back())) spec.env.push_back(std::move(e));
      auto state = start_process(spec);
      record_process_started(started.back(), state);
      context.log(
          {"info", "Applying", fmt::format("{}: Creation complete [pid={}]", address, state.pid)});
      processes.push_back(json::object{{"address", address}, {"state", to_json(state)}});
    } catch (const Error& e) {
      throw JobFailure(fmt::format("{}: {} {}", address, e.message(), e.detail()), "");
    }
  }
  return processes;
}

// A failed build records nothing, so what it started must not outlive it.
void stop_started(const std::vector<ProcessMarker>& started, JobContext& context) {
  for (auto it = started.rbegin(); it != started.rend(); ++it) {
    context.log({"info", "Applying", it->address + ": Destroying after the failed build..."});
    if (it->state) stop_process(*it->state, kStopGrace);
    stop_processes_with_env(std::string(kProcessMarkerEnv) + "=" + it->id, kStopGrace);
    remove_process_marker(*it);
  }
}

// The docker provider's configuration: its `host` and `cert_path`, else DOCKER_HOST and
// DOCKER_CERT_PATH, else the default socket.
std::pair<std::string, std::string> docker_host_of(const hcl::ModuleResult& result) {
  auto fallback = docker::default_engine_address();
  std::pair<std::string, std::string> out{fallback.text, fallback.cert_path};
  auto it = result.providers.find("docker");
  if (it == result.providers.end() || !it->second.is_object()) return out;
  if (auto host = json::string_at(it->second.get_object(), "host"); !host.empty()) out.first = host;
  if (auto certs = json::string_at(it->second.get_object(), "cert_path"); !certs.empty())
    out.second = certs;
  return out;
}

}  // namespace

BuildResponse LocalProvisioner::build_workspace(const BuildRequest& request, JobContext& context) {
  auto tf = root_tf_files(request.files);
  if (tf.empty()) throw JobFailure("The template has no .tf files in its root directory.", "");
  auto files = hcl::parse_module(tf);
  UnpackedTemplate unpacked(work_dir_, request.files);
  auto options = module_options(resolve_variables(files, request.variable_values), unpacked.path(),
                                module_dir_);
  BuildContext build;
  build.transition = request.transition;
  build.workspace_id = request.workspace_id;
  build.workspace_name = request.workspace_name;
  build.owner_id = request.owner_id;
  build.owner_name = request.owner_name;
  build.owner_email = request.owner_email;
  build.owner_full_name = request.owner_full_name;
  build.template_id = request.template_id;
  build.template_name = request.template_name;
  build.template_version = request.template_version;
  build.access_url = access_url_;
  build.berth_binary = berth_binary_;
  build.agent_sha256 = agent_sha256_ ? agent_sha256_() : "";
  build.template_dir = unpacked.path();
  build.parameter_values = request.parameter_values;
  build.task_id = request.task_id;
  build.task_prompt = request.task_prompt;
  context.log({"info", "Planning",
               fmt::format("Planning the {} transition", sdk::to_string(request.transition))});
  CoderProvider provider(build);
  auto result = hcl::evaluate_module(files, provider, options);
  check_canceled(context);

  // The old processes go first: a new build gets new agent tokens, so nothing carries over.
  auto previous = previous_processes(request.state);
  for (const auto& [address, process] : previous) {
    context.log({"info", "Applying", address + ": Destroying..."});
    bool killed = stop_process(process, kStopGrace);
    context.log({"info", "Applying",
                 address + (killed ? ": Destruction complete (killed after the grace period)"
                                   : ": Destruction complete")});
  }
  stop_workspace_leftovers(request.workspace_dir, previous, context);
  // Only the default per-workspace directory is ours to remove; a dir the template named
  // belongs to the user.
  for (const auto& [address, process] : previous)
    if (request.transition == sdk::WorkspaceTransition::delete_ &&
        process.dir == request.workspace_dir)
      remove_process_dir(process);

  std::vector<ProcessMarker> started;
  json::array processes;
  json::array docker_state;
  try {
    processes = start_processes(result, request, berth_binary_, context, started);
    auto previous_docker = previous_docker_objects(request.state);
    bool uses_docker = !previous_docker.empty();
    for (const auto& r : result.resources)
      uses_docker = uses_docker || (r.mode == "managed" && is_docker_resource(r.type));
    if (uses_docker) {
      DockerApplyRequest apply;
      apply.workspace_id = request.workspace_id;
      apply.transition = request.transition;
      std::tie(apply.default_host, apply.default_cert_path) = docker_host_of(result);
      apply.previous = std::move(previous_docker);
      apply.look_for_leftovers = request.previous_build_failed;
      apply.template_dir = unpacked.path();
      for (const auto& o : apply_docker_resources(result, apply, context))
        docker_state.push_back(to_json(o));
    }
  } catch (...) {
    stop_started(started, context);
    throw;
  }

  BuildResponse out;
  out.state = json::serialize(json::object{
      {"version", 2}, {"processes", std::move(processes)}, {"docker", std::move(docker_state)}});
  out.resources = resources_json(result, request.transition);
  out.has_ai_task = has_ai_task(result);
  for (const auto& r : result.resources)
    if (r.mode == "managed" && r.type == "coder_ai_task")
      if (auto* app = r.attributes.as_object().if_contains("app_id"); app && app->is_string())
        out.ai_task_app_id = std::string(app->get_string());
  for (const auto& r : result.resources)
    if (r.mode == "managed" && r.type == "coder_agent") {
      const auto& a = r.attributes.as_object();
      out.tokens[std::string(a.at("id").as_string())] = std::string(a.at("token").as_string());
    }
  for (const auto& resource : out.resources)
    if (auto* cost = resource.as_object().if_contains("daily_cost"); cost && cost->is_int64())
      out.daily_cost += cost->get_int64();
  context.log(
      {"info", "Cleaning Up",
       fmt::format("{} resource(s), {} agent(s)", out.resources.size(), out.tokens.size())});
  return out;
}

void LocalProvisioner::reconcile_workspace(const std::string& workspace_dir,
                                           const std::string& state,
                                           const std::function<void(const std::string&)>& log) {
  std::vector<ProcessState> known;
  for (const auto& [address, process] : previous_processes(state)) known.push_back(process);
  stop_leftover_processes(workspace_dir, known, kStopGrace, log);
}

}  // namespace berth::provisioner::local
