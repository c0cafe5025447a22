#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hcl/module.hpp"

namespace berth::hcl::testing {

// Echoes the configuration back with an `id`, plus the computed attributes the coder
// provider would add; records the order of plan calls.
class EchoProvider : public Provider {
 public:
  bool supports(const std::string& mode, const std::string& type) const override {
    static const std::set<std::string> known = {
        "data.coder_workspace",    "data.coder_workspace_owner",
        "data.coder_parameter",    "data.coder_provisioner",
        "data.external",           "managed.coder_agent",
        "managed.coder_app",       "managed.coder_script",
        "managed.local_process",   "managed.coder_metadata",
        "managed.null_resource",   "managed.docker_volume",
        "managed.docker_container"};
    return known.contains(mode + "." + type);
  }

  json::value plan(const std::string& mode, const std::string& type, const std::string& name,
                   std::optional<std::int64_t> index, json::value config,
                   const Position& position) override {
    std::string id = mode == "data" ? "data." : "";
    id.append(type).append(".").append(name);
    if (index) id.append("[").append(std::to_string(*index)).append("]");
    calls.push_back(id);
    configs[id] = config;
    positions[id] = position;
    json::object out = config.as_object();
    out["id"] = id;
    if (type == "coder_workspace") {
      out["start_count"] = start_count;
      out["name"] = "dev";
    }
    if (type == "coder_workspace_owner") {
      out["name"] = "ann";
      out["full_name"] = "";
    }
    if (type == "coder_parameter") {
      const json::value* d = out.if_contains("default");
      out["value"] = d ? *d : json::value("");
    }
    if (type == "coder_agent") {
      out["token"] = "token-" + name;
      out["init_script"] = init_script;
    }
    if (type == "coder_provisioner") out["arch"] = "amd64";
    if (type == "external") out["result"] = json::object{{"status", external_status}};
    return out;
  }

  std::int64_t start_count = 1;
  std::string init_script = "curl agent | sh";
  std::string external_status = "ok";
  std::vector<std::string> calls;
  std::map<std::string, json::value> configs;
  std::map<std::string, Position> positions;
};

}  // namespace berth::hcl::testing
