#include "docker/engine.hpp"

#include <fmt/format.h>

#include <cctype>
#include <sstream>

namespace berth::docker {

namespace {

std::string label_filter(const std::string& key, const std::string& value) {
  return url_encode(json::serialize(json::object{{"label", json::array{key + "=" + value}}}));
}

std::string string_at(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

// The Engine's raw log stream for containers without a TTY: frames of an 8-byte header
// (stream, 0, 0, 0, big-endian length) and the data.
std::string demultiplex(const std::string& raw) {
  std::string out;
  std::size_t at = 0;
  while (at + 8 <= raw.size()) {
    auto b = [&](std::size_t i) { return static_cast<unsigned char>(raw[at + i]); };
    if (b(0) > 2 || b(1) != 0 || b(2) != 0 || b(3) != 0) return raw;  // a TTY stream: plain
    std::size_t length = (std::size_t(b(4)) << 24) | (b(5) << 16) | (b(6) << 8) | b(7);
    out.append(raw, at + 8, std::min(length, raw.size() - at - 8));
    at += 8 + length;
  }
  return out;
}

}  // namespace

std::string url_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

EngineVersion Engine::version() {
  auto v = client_.get_json("/version").as_object();
  EngineVersion out;
  out.version = string_at(v, "Version");
  if (auto* components = v.if_contains("Components"); components && components->is_array())
    for (const auto& c : components->get_array())
      if (c.is_object()) {
        auto name = string_at(c.get_object(), "Name");
        if (out.name.empty()) out.name = name;
        if (name.find("Podman") != std::string::npos) out.podman = true;
      }
  return out;
}

std::optional<json::object> Engine::inspect_image(const std::string& name) {
  auto response = client_.call("GET", "/images/" + url_encode(name) + "/json");
  if (response.status == 404) return std::nullopt;
  if (response.status >= 400)
    client_.checked("GET", "/images/" + url_encode(name) + "/json");  // throws with the message
  return json::parse(response.body).as_object();
}

void Engine::pull_image(const std::string& name) {
  auto colon = name.rfind(':');
  bool has_tag = colon != std::string::npos && name.find('/', colon) == std::string::npos;
  auto target = "/images/create?fromImage=" + url_encode(has_tag ? name.substr(0, colon) : name) +
                "&tag=" + url_encode(has_tag ? name.substr(colon + 1) : "latest");
  auto response = client_.checked("POST", target);
  // The progress stream answers 200 and reports a failed pull in its last message.
  auto last = response.body.rfind("\"error");
  if (last != std::string::npos) {
    auto line_start = response.body.rfind('\n', last);
    auto line = response.body.substr(line_start == std::string::npos ? 0 : line_start + 1);
    throw Error{ErrorCode::unavailable,
                fmt::format("pulling image \"{}\" from {} failed: {}", name, client_.address().text,
                            daemon_message(line.substr(0, line.find('\n'))))};
  }
}

void Engine::build_image(const std::string& tag, const std::string& dockerfile,
                         const json::object& build_args, const std::string& context_tar) {
  auto target = "/build?rm=1&t=" + url_encode(tag) + "&dockerfile=" + url_encode(dockerfile);
  if (!build_args.empty()) target += "&buildargs=" + url_encode(json::serialize(build_args));
  auto response = client_.checked("POST", target, context_tar, "application/x-tar");
  // Like a pull, the progress stream answers 200 and carries a failed step as an error message.
  std::istringstream lines(response.body);
  for (std::string line; std::getline(lines, line);)
    if (line.find("\"error") != std::string::npos)
      throw Error{ErrorCode::invalid, fmt::format("building image \"{}\" on {} failed: {}", tag,
                                                  client_.address().text, daemon_message(line))};
}

void Engine::remove_image(const std::string& id) {
  auto response = client_.call("DELETE", "/images/" + url_encode(id));
  if (response.status >= 400 && response.status != 404)
    client_.checked("DELETE", "/images/" + url_encode(id));
}

std::string Engine::create_container(const std::string& name, const json::object& config) {
  auto answer = client_.post_json("/containers/create?name=" + url_encode(name), config);
  return string_at(answer.as_object(), "Id");
}

void Engine::start_container(const std::string& id) {
  client_.checked("POST", "/containers/" + url_encode(id) + "/start");
}

std::optional<json::object> Engine::inspect_container(const std::string& id) {
  auto response = client_.call("GET", "/containers/" + url_encode(id) + "/json");
  if (response.status == 404) return std::nullopt;
  if (response.status >= 400) client_.checked("GET", "/containers/" + url_encode(id) + "/json");
  return json::parse(response.body).as_object();
}

void Engine::remove_container(const std::string& id, int grace_seconds) {
  // Stopped first even without grace: Podman's forced removal waits for the container's own
  // stop timeout, where stop?t=0 kills at once, as Docker's forced removal does.
  auto stop = client_.call(
      "POST", fmt::format("/containers/{}/stop?t={}", url_encode(id), std::max(0, grace_seconds)));
  if (stop.status == 404) return;
  auto response = client_.call("DELETE", "/containers/" + url_encode(id) + "?force=true&v=false");
  if (response.status >= 400 && response.status != 404)
    client_.checked("DELETE", "/containers/" + url_encode(id) + "?force=true&v=false");
}

std::string Engine::container_logs(const std::string& id, int tail) {
  auto response = client_.call(
      "GET", fmt::format("/containers/{}/logs?stdout=1&stderr=1&tail={}", url_encode(id), tail), {},
      "application/json", 1 << 20);
  return response.status >= 400 ? "" : demultiplex(response.body);
}

std::vector<std::string> Engine::containers_labeled(const std::string& key,
                                                    const std::string& value) {
  std::vector<std::string> out;
  auto list = client_.get_json("/containers/json?all=1&filters=" + label_filter(key, value));
  for (const auto& c : list.as_array()) out.push_back(string_at(c.as_object(), "Id"));
  return out;
}

json::object Engine::create_volume(const json::object& config) {
  auto response = client_.call("POST", "/volumes/create", json::serialize(config));
  auto name = string_at(config, "Name");
  // Docker answers an existing volume of that name; Podman refuses with 409 or 500.
  if (response.status >= 400 && !name.empty())
    if (auto existing = inspect_volume(name)) return *existing;
  if (response.status >= 400) client_.checked("POST", "/volumes/create", json::serialize(config));
  return json::parse(response.body).as_object();
}

std::optional<json::object> Engine::inspect_volume(const std::string& name) {
  auto response = client_.call("GET", "/volumes/" + url_encode(name));
  if (response.status == 404) return std::nullopt;
  if (response.status >= 400) client_.checked("GET", "/volumes/" + url_encode(name));
  return json::parse(response.body).as_object();
}

void Engine::remove_volume(const std::string& name) {
  auto response = client_.call("DELETE", "/volumes/" + url_encode(name));
  if (response.status >= 400 && response.status != 404)
    client_.checked("DELETE", "/volumes/" + url_encode(name));
}

std::vector<std::string> Engine::volumes_labeled(const std::string& key, const std::string& value) {
  std::vector<std::string> out;
  auto answer = client_.get_json("/volumes?filters=" + label_filter(key, value));
  if (auto* list = answer.as_object().if_contains("Volumes"); list && list->is_array())
    for (const auto& v : list->get_array()) out.push_back(string_at(v.as_object(), "Name"));
  return out;
}

std::string Engine::create_network(const json::object& config) {
  auto answer = client_.post_json("/networks/create", config);
  return string_at(answer.as_object(), "Id");
}

std::optional<json::object> Engine::inspect_network(const std::string& id) {
  auto response = client_.call("GET", "/networks/" + url_encode(id));
  if (response.status == 404) return std::nullopt;
  if (response.status >= 400) client_.checked("GET", "/networks/" + url_encode(id));
  return json::parse(response.body).as_object();
}

void Engine::remove_network(const std::string& id) {
  auto response = client_.call("DELETE", "/networks/" + url_encode(id));
  if (response.status >= 400 && response.status != 404)
    client_.checked("DELETE", "/networks/" + url_encode(id));
}

std::vector<std::string> Engine::networks_labeled(const std::string& key,
                                                  const std::string& value) {
  std::vector<std::string> out;
  auto list = client_.get_json("/networks?filters=" + label_filter(key, value));
  for (const auto& n : list.as_array()) out.push_back(string_at(n.as_object(), "Id"));
  return out;
}

}  // namespace berth::docker
