#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "docker/engine_client.hpp"

namespace berth::docker {

// What the engine says it is.
struct EngineVersion {
  std::string name;  // "Docker Engine - Community", "Podman Engine"
  std::string version;
  bool podman = false;
};

// The Engine API operations Berth's Docker resources use, with Docker's JSON shapes. Every
// failure throws berth::Error naming the engine, the call and the daemon's message.
class Engine {
 public:
  explicit Engine(EngineClient& client) : client_(client) {}

  EngineVersion version();

  // Images: inspect answers nullopt for a missing image.
  std::optional<json::object> inspect_image(const std::string& name);
  void pull_image(const std::string& name);
  // Builds `context_tar` (a tar of the build context) with `dockerfile` inside it, tagged `tag`.
  void build_image(const std::string& tag, const std::string& dockerfile,
                   const json::object& build_args, const std::string& context_tar);
  void remove_image(const std::string& id);

  // Containers. `config` is the body of POST /containers/create; returns the new id.
  std::string create_container(const std::string& name, const json::object& config);
  void start_container(const std::string& id);
  std::optional<json::object> inspect_container(const std::string& id);
  // Stops with `grace_seconds` before SIGKILL (0: killed at once), then removes; a missing
  // container is fine.
  void remove_container(const std::string& id, int grace_seconds);
  // The last `tail` lines of stdout and stderr.
  std::string container_logs(const std::string& id, int tail);
  // Ids of every container (running or not) carrying the label `key=value`.
  std::vector<std::string> containers_labeled(const std::string& key, const std::string& value);

  // Volumes: create answers the volume (an existing one of that name is adopted).
  json::object create_volume(const json::object& config);
  std::optional<json::object> inspect_volume(const std::string& name);
  void remove_volume(const std::string& name);
  std::vector<std::string> volumes_labeled(const std::string& key, const std::string& value);

  // Networks: create answers the id.
  std::string create_network(const json::object& config);
  std::optional<json::object> inspect_network(const std::string& id);
  void remove_network(const std::string& id);
  std::vector<std::string> networks_labeled(const std::string& key, const std::string& value);

  EngineClient& client() { return client_; }

 private:
  EngineClient& client_;
};

// Percent-encodes `text` for a URL path segment or query value.
std::string url_encode(const std::string& text);

}  // namespace berth::docker
