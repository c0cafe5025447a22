#include "provisioner/local/docker_resources.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "archive/tar_writer.hpp"
#include "common/crypto.hpp"
#include "common/uuid.hpp"
#include "docker/engine.hpp"

namespace berth::provisioner::local {

namespace {

const std::set<std::string> kTypes = {"docker_image", "docker_volume", "docker_network",
                                      "docker_container"};

// How long a started container must keep running before the build counts it as started: a
// container whose command fails at once is reported by the build, not found later. It is most
// of Berth's own time in a container start (bench/README.md).
constexpr auto kMustRunWindow = std::chrono::milliseconds(50);
constexpr int kLogTailLines = 20;

std::string str(const json::object& o, const char* key, std::string fallback = {}) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : fallback;
}

bool flag(const json::object& o, const char* key, bool fallback) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() ? v->get_bool() : fallback;
}

std::int64_t number(const json::object& o, const char* key, std::int64_t fallback) {
  auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return fallback;
}

const json::array& blocks(const json::object& o, const char* key) {
  static const json::array kNone;
  auto* v = o.if_contains(key);
  return v && v->is_array() ? v->get_array() : kNone;
}

json::array strings(const json::object& o, const char* key) {
  json::array out;
  for (const auto& v : blocks(o, key))
    if (v.is_string()) out.push_back(v);
  return out;
}

void set_default(json::object& o, const char* key, json::value v) {
  if (!o.contains(key) || o.at(key).is_null()) o[key] = std::move(v);
}

// `labels { label = "k" value = "v" }` blocks, plus Berth's own.
json::object labels_of(const json::object& config, const std::string& workspace_id,
                       const std::string& address) {
  json::object out;
  for (const auto& l : blocks(config, "labels"))
    if (l.is_object()) out[str(l.get_object(), "label")] = str(l.get_object(), "value");
  out[kWorkspaceLabel] = workspace_id;
  out["berth.address"] = address;
  return out;
}

// What decides whether an existing object can stay: its configuration without the attributes
// the template told Terraform to ignore.
std::string fingerprint_of(const hcl::ResourceInstance& r) {
  if (r.ignore_all_changes) return "ignored";
  json::object config = r.attributes.as_object();
  for (const auto& name : r.ignore_changes) config.erase(name);
  return to_hex(sha256(json::serialize(config))).substr(0, 32);
}

// One engine connection per address used in a build.
class Engines {
 public:
  docker::Engine& at(const std::string& host, const std::string& cert_path) {
    auto key = host + "\n" + cert_path;
    auto it = engines_.find(key);
    if (it == engines_.end()) {
      auto entry = std::make_unique<Entry>(docker::parse_engine_address(host, cert_path));
      it = engines_.emplace(key, std::move(entry)).first;
    }
    return it->second->engine;
  }

 private:
  struct Entry {
    explicit Entry(docker::EngineAddress address) : client(std::move(address)), engine(client) {}
    docker::EngineClient client;
    docker::Engine engine;
  };
  std::map<std::string, std::unique_ptr<Entry>> engines_;
};

// Podman 4 refuses Docker's `host-gateway`: resolve it to the gateway of the network the
// container joins (the host's loopback when it shares the host's network).
std::string resolve_host_gateway(docker::Engine& engine, const json::object& config) {
  auto mode = str(config, "network_mode");
  if (mode == "host") return "127.0.0.1";
  std::string network = mode.empty() || mode == "bridge" || mode == "default" ? "podman" : mode;
  if (const auto& advanced = blocks(config, "networks_advanced"); !advanced.empty())
    network = str(advanced[0].as_object(), "name", network);
  auto inspected = engine.inspect_network(network);
  if (inspected)
    if (auto* ipam = inspected->if_contains("IPAM"); ipam && ipam->is_object())
      for (const auto& c : blocks(ipam->get_object(), "Config"))
        if (auto gateway = str(c.as_object(), "Gateway"); !gateway.empty()) return gateway;
  throw Error{ErrorCode::unavailable,
              "cannot resolve host-gateway: network \"" + network + "\" has no gateway"};
}

json::object container_body(docker::Engine& engine, bool podman, const json::object& c,
                            const json::object& labels) {
  json::object body;
  body["Image"] = str(c, "image");
  if (auto v = str(c, "hostname"); !v.empty()) body["Hostname"] = v;
  if (auto v = str(c, "domainname"); !v.empty()) body["Domainname"] = v;
  if (auto v = strings(c, "entrypoint"); !v.empty()) body["Entrypoint"] = v;
  if (auto v = strings(c, "command"); !v.empty()) body["Cmd"] = v;
  body["Env"] = strings(c, "env");
  body["Labels"] = labels;
  if (auto v = str(c, "user"); !v.empty()) body["User"] = v;
  if (auto v = str(c, "working_dir"); !v.empty()) body["WorkingDir"] = v;
  body["Tty"] = flag(c, "tty", false);
  body["OpenStdin"] = flag(c, "stdin_open", false);

  json::object host;
  json::array extra_hosts;
  for (const auto& h : blocks(c, "host")) {
    auto ip = str(h.as_object(), "ip");
    if (ip == "host-gateway" && podman) ip = resolve_host_gateway(engine, c);
    extra_hosts.push_back(json::value(str(h.as_object(), "host") + ":" + ip));
  }
  host["ExtraHosts"] = std::move(extra_hosts);
  json::array binds;
  for (const auto& v : blocks(c, "volumes")) {
    const auto& o = v.as_object();
    auto source = str(o, "volume_name", str(o, "host_path"));
    auto target = str(o, "container_path");
    if (source.empty()) continue;  // an anonymous volume
    binds.push_back(
        json::value(source + ":" + target + (flag(o, "read_only", false) ? ":ro" : "")));
  }
  host["Binds"] = std::move(binds);
  json::array mounts;
  for (const auto& m : blocks(c, "mounts")) {
    const auto& o = m.as_object();
    mounts.push_back(json::object{{"Target", str(o, "target")},
                                  {"Source", str(o, "source")},
                                  {"Type", str(o, "type", "volume")},
                                  {"ReadOnly", flag(o, "read_only", false)}});
  }
  if (!mounts.empty()) host["Mounts"] = std::move(mounts);
  if (auto v = str(c, "network_mode"); !v.empty()) host["NetworkMode"] = v;
  if (auto mb = number(c, "memory", 0); mb > 0) host["Memory"] = mb * 1024 * 1024;
  if (auto mb = number(c, "memory_swap", 0); mb != 0)
    host["MemorySwap"] = mb < 0 ? mb : mb * 1024 * 1024;
  if (auto shares = number(c, "cpu_shares", 0); shares > 0) host["CpuShares"] = shares;
  host["Privileged"] = flag(c, "privileged", false);
  if (auto v = str(c, "runtime"); !v.empty()) host["Runtime"] = v;
  host["RestartPolicy"] = json::object{{"Name", str(c, "restart", "no")}};
  json::object exposed;
  json::object bindings;
  for (const auto& p : blocks(c, "ports")) {
    const auto& o = p.as_object();
    auto key = fmt::format("{}/{}", number(o, "internal", 0), str(o, "protocol", "tcp"));
    exposed[key] = json::object{};
    json::object binding{{"HostIp", str(o, "ip", "0.0.0.0")}};
    if (auto external = number(o, "external", 0); external > 0)
      binding["HostPort"] = std::to_string(external);
    bindings[key] = json::array{binding};
  }
  if (!exposed.empty()) {
    body["ExposedPorts"] = std::move(exposed);
    host["PortBindings"] = std::move(bindings);
  }
  if (const auto& caps = blocks(c, "capabilities"); !caps.empty()) {
    host["CapAdd"] = strings(caps[0].as_object(), "add");
    host["CapDrop"] = strings(caps[0].as_object(), "drop");
  }
  body["HostConfig"] = std::move(host);
  if (const auto& advanced = blocks(c, "networks_advanced"); !advanced.empty()) {
    // API 1.41 takes one network at create; the others are connected before start.
    const auto& first = advanced[0].as_object();
    json::object endpoint{{"Aliases", strings(first, "aliases")}};
    if (auto ip = str(first, "ipv4_address"); !ip.empty())
      endpoint["IPAMConfig"] = json::object{{"IPv4Address", ip}};
    body["NetworkingConfig"] =
        json::object{{"EndpointsConfig", json::object{{str(first, "name"), endpoint}}}};
  }
  return body;
}

class Applier {
 public:
  Applier(const DockerApplyRequest& request, JobContext& context)
      : request_(request), context_(context) {}

  std::vector<DockerObject> run(const hcl::ModuleResult& plan) {
    std::vector<const hcl::ResourceInstance*> desired;
    if (request_.transition != sdk::WorkspaceTransition::delete_)
      for (const auto& r : plan.resources)
        if (r.mode == "managed" && is_docker_resource(r.type)) desired.push_back(&r);
    bool deleting = request_.transition == sdk::WorkspaceTransition::delete_;
    if (request_.look_for_leftovers || deleting) remove_leftovers(desired, deleting);

    std::vector<DockerObject> kept;
    std::set<std::string> kept_addresses;
    for (auto it = request_.previous.rbegin(); it != request_.previous.rend(); ++it) {
      if (can_keep(*it, desired)) {
        kept.insert(kept.begin(), *it);
        kept_addresses.insert(it->address);
        continue;
      }
      destroy(*it);
    }
    std::vector<DockerObject> created;
    try {
      for (const auto* r : desired) {
        if (kept_addresses.contains(r->address())) continue;
        if (context_.canceled()) throw JobFailure("canceled", "");
        created.push_back(create(*r));
      }
    } catch (const Error& e) {
      for (auto it = created.rbegin(); it != created.rend(); ++it) try_destroy(*it);
      throw JobFailure(e.message() + (e.detail().empty() ? "" : ": " + e.detail()), "");
    }
    // State keeps the plan's order, so that a later destroy runs in reverse dependency order.
    std::vector<DockerObject> out;
    for (const auto* r : desired)
      for (auto* list : {&kept, &created})
        for (const auto& o : *list)
          if (o.address == r->address()) out.push_back(o);
    return out;
  }

 private:
  void log(const std::string& line) { context_.log({"info", "Applying", line}); }

  docker::Engine& engine_for(const std::string& host, const std::string& cert_path) {
    return engines_.at(host, cert_path);
  }
  docker::Engine& engine_for(const DockerObject& o) { return engines_.at(o.host, o.cert_path); }

  bool can_keep(const DockerObject& o, const std::vector<const hcl::ResourceInstance*>& desired) {
    for (const auto* r : desired) {
      if (r->address() != o.address || r->type != o.type) continue;
      if (fingerprint_of(*r) != o.fingerprint || o.host != request_.default_host) return false;
      // A kept volume is not asked after: a container's bind recreates one that someone
      // removed behind Berth's back, and the round trip is most of a stop build's own cost.
      return o.type == "docker_volume" || exists(o);
    }
    return false;
  }

  bool exists(const DockerObject& o) {
    auto& engine = engine_for(o);
    if (o.type == "docker_volume") return engine.inspect_volume(o.id).has_value();
    if (o.type == "docker_network") return engine.inspect_network(o.id).has_value();
    if (o.type == "docker_image") return engine.inspect_image(o.id).has_value();
    auto c = engine.inspect_container(o.id);
    return c && json::string_at(c->at("State").as_object(), "Status") == "running";
  }

  // Containers, volumes and networks carrying this workspace's label that no state records:
  // what an interrupted build created before it could record it.
  void remove_leftovers(const std::vector<const hcl::ResourceInstance*>& desired,
                        bool with_volumes) {
    std::set<std::string> known;
    for (const auto& o : request_.previous) known.insert(o.id);
    auto& engine = engine_for(request_.default_host, request_.default_cert_path);
    for (const auto& id : engine.containers_labeled(kWorkspaceLabel, request_.workspace_id))
      if (!known.contains(id)) {
        log("Removing container " + id.substr(0, 12) + " left by an interrupted build");
        engine.remove_container(id, 0);
      }
    // Volumes are adopted by name when the plan still wants them; others are removed.
    if (!with_volumes) return;
    std::set<std::string> wanted;
    for (const auto* r : desired)
      if (r->type == "docker_volume") wanted.insert(str(r->attributes.as_object(), "name"));
    for (const auto& name : engine.volumes_labeled(kWorkspaceLabel, request_.workspace_id))
      if (!known.contains(name) && !wanted.contains(name)) {
        log("Removing volume " + name + " left by an interrupted build");
        engine.remove_volume(name);
      }
  }

  void destroy(const DockerObject& o) {
    if (o.prevent_destroy)
      throw JobFailure(o.address + " has lifecycle.prevent_destroy set and cannot be destroyed",
                       "");
    log(o.address + ": Destroying... [id=" + o.id.substr(0, 12) + "]");
    auto& engine = engine_for(o);
    if (o.type == "docker_container")
      engine.remove_container(o.id, o.grace_seconds);
    else if (o.type == "docker_volume")
      engine.remove_volume(o.id);
    else if (o.type == "docker_network")
      engine.remove_network(o.id);
    else if (o.type == "docker_image" && !o.keep_locally)
      engine.remove_image(o.id);
    log(o.address + ": Destruction complete");
  }

  void try_destroy(const DockerObject& o) {
    try {
      destroy(o);
    } catch (const Error& e) {
      log(o.address + ": could not be removed after the failed build: " + e.message());
    }
  }

  DockerObject create(const hcl::ResourceInstance& r) {
    const auto& a = r.attributes.as_object();
    DockerObject o;
    o.address = r.address();
    o.type = r.type;
    o.host = request_.default_host;
    o.cert_path = request_.default_cert_path;
    o.fingerprint = fingerprint_of(r);
    o.prevent_destroy = r.prevent_destroy;
    log(o.address + ": Creating...");
    auto started = std::chrono::steady_clock::now();
    auto& engine = engine_for(o);
    auto labels = labels_of(a, request_.workspace_id, o.address);
    if (r.type == "docker_volume") {
      o.name = str(a, "name");
      json::object body{
          {"Name", o.name}, {"Driver", str(a, "driver", "local")}, {"Labels", labels}};
      if (auto* opts = a.if_contains("driver_opts"); opts && opts->is_object())
        body["DriverOpts"] = *opts;
      o.id = str(engine.create_volume(body), "Name", o.name);
    } else if (r.type == "docker_network") {
      o.name = str(a, "name");
      json::object body{{"Name", o.name},
                        {"Driver", str(a, "driver", "bridge")},
                        {"Internal", flag(a, "internal", false)},
                        {"Attachable", flag(a, "attachable", false)},
                        {"Labels", labels}};
      o.id = engine.create_network(body);
    } else if (r.type == "docker_image") {
      o.name = str(a, "name");
      o.keep_locally = flag(a, "keep_locally", false);
      if (const auto& build = blocks(a, "build"); !build.empty())
        build_image(engine, o.name, build[0].as_object());
      o.id = ensure_image(engine, o.name);
    } else {
      o.name = str(a, "name");
      o.grace_seconds = static_cast<int>(number(a, "destroy_grace_seconds", 0));
      o.id = create_container(engine, o, a, labels);
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
    log(fmt::format("{}: Creation complete after {}ms [id={}]", o.address, ms, o.id.substr(0, 12)));
    return o;
  }

  // docker_image's build { context, dockerfile, build_args }: the context is a directory of
  // the template (it cannot reach outside it), sent to the engine as a tar.
  void build_image(docker::Engine& engine, const std::string& name, const json::object& build) {
    namespace fs = std::filesystem;
    auto root = fs::weakly_canonical(request_.template_dir);
    auto context = fs::weakly_canonical(root / str(build, "context", "."));
    auto [end, _] = std::mismatch(root.begin(), root.end(), context.begin(), context.end());
    if (request_.template_dir.empty() || end != root.end())
      throw Error{ErrorCode::invalid, "docker_image \"" + name + "\": build context \"" +
                                          str(build, "context") +
                                          "\" must be a directory of the template"};
    json::object args;
    if (auto* given = build.if_contains("build_args"); given && given->is_object())
      args = given->get_object();
    log("Building image " + name + " from " + str(build, "context", "."));
    engine.build_image(name, str(build, "dockerfile", "Dockerfile"), args,
                       archive::tar_directory(context));
  }

  std::string ensure_image(docker::Engine& engine, const std::string& name) {
    if (auto image = engine.inspect_image(name)) return str(*image, "Id", name);
    log("Pulling image " + name);
    try {
      engine.pull_image(name);
    } catch (const Error& e) {
      throw Error{ErrorCode::unavailable,
                  fmt::format("image \"{}\" is not on the container engine at {} and could not "
                              "be pulled",
                              name, engine.client().address().text),
                  e.message()};
    }
    auto image = engine.inspect_image(name);
    if (!image)
      throw Error{ErrorCode::unavailable, "image \"" + name + "\" is still missing after a pull"};
    return str(*image, "Id", name);
  }

  std::string create_container(docker::Engine& engine, DockerObject& o, const json::object& a,
                               const json::object& labels) {
    auto image = str(a, "image");
    if (image.empty()) throw Error{ErrorCode::invalid, o.address + ": image is required"};
    ensure_image(engine, image);
    bool podman = false;
    for (const auto& h : blocks(a, "host"))
      if (str(h.as_object(), "ip") == "host-gateway") {
        if (!version_) version_ = engine.version();
        podman = version_->podman;
      }
    auto body = container_body(engine, podman, a, labels);
    std::string id;
    try {
      id = engine.create_container(o.name, body);
    } catch (const Error& e) {
      // A container of this name that carries this workspace's label is an interrupted
      // build's: it goes, and the create is tried once more. Anyone else's is a conflict.
      if (e.code() != ErrorCode::conflict || !ours(engine, o.name)) throw;
      engine.remove_container(o.name, 0);
      id = engine.create_container(o.name, body);
    }
    o.id = id;
    try {
      const auto& advanced = blocks(a, "networks_advanced");
      for (std::size_t i = 1; i < advanced.size(); ++i)
        engine.client().post_json(
            "/networks/" + docker::url_encode(str(advanced[i].as_object(), "name")) + "/connect",
            json::object{{"Container", id}});
      if (flag(a, "start", true)) {
        engine.start_container(id);
        if (flag(a, "must_run", true)) check_running(engine, o);
      }
    } catch (...) {
      try_destroy(o);
      throw;
    }
    return id;
  }

  bool ours(docker::Engine& engine, const std::string& name) {
    auto existing = engine.inspect_container(name);
    if (!existing) return false;
    auto* labels = existing->at("Config").as_object().if_contains("Labels");
    return labels && labels->is_object() &&
           str(labels->get_object(), kWorkspaceLabel) == request_.workspace_id;
  }

  void check_running(docker::Engine& engine, const DockerObject& o) {
    std::this_thread::sleep_for(kMustRunWindow);
    {
      auto c = engine.inspect_container(o.id);
      if (!c) throw Error{ErrorCode::unavailable, o.address + ": the container vanished"};
      const auto& state = c->at("State").as_object();
      if (!flag(state, "Running", false)) {
        auto logs = engine.container_logs(o.id, kLogTailLines);
        while (!logs.empty() && logs.back() == '\n') logs.pop_back();
        throw Error{ErrorCode::unavailable,
                    fmt::format("{}: container \"{}\" exited with code {} right after it started",
                                o.address, o.name, number(state, "ExitCode", -1)),
                    logs.empty() ? str(state, "Error") : "its last output: " + logs};
      }
    }
  }

  const DockerApplyRequest& request_;
  JobContext& context_;
  Engines engines_;
  std::optional<docker::EngineVersion> version_;
};

}  // namespace

bool is_docker_resource(const std::string& type) {
  return kTypes.contains(type);
}

json::value plan_docker_resource(const std::string& type, json::object config) {
  if (type == "docker_volume") {
    set_default(config, "name", json::value("berth-" + Uuid::random_v4().to_string()));
    set_default(config, "driver", "local");
    set_default(config, "mountpoint", "");
    config["id"] = config["name"];
  } else if (type == "docker_network") {
    set_default(config, "driver", "bridge");
    set_default(config, "internal", false);
    set_default(config, "attachable", false);
    config["id"] = config.contains("name") ? config["name"] : json::value("");
  } else if (type == "docker_image") {
    set_default(config, "keep_locally", false);
    config["image_id"] = config.contains("name") ? config["name"] : json::value("");
    config["id"] = config["image_id"];
    set_default(config, "repo_digest", "");
  } else {
    set_default(config, "must_run", true);
    set_default(config, "start", true);
    set_default(config, "restart", "no");
    set_default(config, "privileged", false);
    set_default(config, "tty", false);
    set_default(config, "stdin_open", false);
    set_default(config, "network_data", json::array{});
    config["id"] = "";
  }
  return config;
}

json::value to_json(const DockerObject& o) {
  return json::object{{"address", o.address},
                      {"type", o.type},
                      {"id", o.id},
                      {"name", o.name},
                      {"host", o.host},
                      {"cert_path", o.cert_path},
                      {"fingerprint", o.fingerprint},
                      {"prevent_destroy", o.prevent_destroy},
                      {"keep_locally", o.keep_locally},
                      {"grace_seconds", o.grace_seconds}};
}

DockerObject docker_object_from(const json::value& v) {
  if (!v.is_object()) throw Error{ErrorCode::invalid, "a docker state entry must be an object"};
  const auto& o = v.get_object();
  DockerObject out;
  out.address = str(o, "address");
  out.type = str(o, "type");
  out.id = str(o, "id");
  out.name = str(o, "name");
  out.host = str(o, "host");
  out.cert_path = str(o, "cert_path");
  out.fingerprint = str(o, "fingerprint");
  out.prevent_destroy = flag(o, "prevent_destroy", false);
  out.keep_locally = flag(o, "keep_locally", false);
  out.grace_seconds = static_cast<int>(number(o, "grace_seconds", 0));
  if (out.address.empty() || out.id.empty() || !is_docker_resource(out.type))
    throw Error{ErrorCode::invalid, "a docker state entry needs address, type and id"};
  return out;
}

std::vector<DockerObject> apply_docker_resources(const hcl::ModuleResult& plan,
                                                 const DockerApplyRequest& request,
                                                 JobContext& context) {
  return Applier(request, context).run(plan);
}

}  // namespace berth::provisioner::local
