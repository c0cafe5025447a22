// Path-based workspace apps: `/@{user}/{workspace}[.{agent}]/apps/{slug}/...`, proxied to the
// app's port inside the workspace through the agent's one connection.
#include "api/app_proxy.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <vector>

#include "api/agent_rpc.hpp"
#include "api/agent_stream_bridge.hpp"
#include "api/auth.hpp"
#include "api/replica_relay.hpp"
#include "coderd/workspaces.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

// Apps are used far more often than this; one write a minute is enough to keep the
// workspace's last_used_at and deadline current.
constexpr auto kUsageInterval = std::chrono::minutes(1);

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The parts of an app URL.
struct AppAddress {
  std::string user;
  std::string workspace;
  std::string agent;  // empty: the workspace's only agent
  std::string slug;
  std::string rest;   // the raw path after the slug, "/" at least
  std::string query;  // raw, without '?'
  bool slash_after_slug = false;
};

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

std::optional<AppAddress> parse_app_address(const http::Request& request) {
  auto segments = split_path(request.path);
  if (segments.size() < 4 || segments[0].size() < 2 || segments[2] != "apps" || segments[3].empty())
    return std::nullopt;
  AppAddress a;
  a.user = std::string(segments[0].substr(1));
  auto dot = segments[1].find('.');
  a.workspace = std::string(segments[1].substr(0, dot));
  if (dot != std::string_view::npos) a.agent = std::string(segments[1].substr(dot + 1));
  a.slug = std::string(segments[3]);
  // The rest keeps its original encoding: the app decodes its own paths.
  std::string_view raw(request.target);
  auto q = raw.find('?');
  if (q != std::string_view::npos) a.query = std::string(raw.substr(q + 1));
  raw = raw.substr(0, q);
  std::size_t at = 0;
  for (int slashes = 0; slashes < 5 && at != std::string_view::npos; ++slashes)
    at = raw.find('/', slashes == 0 ? 0 : at + 1);
  a.slash_after_slug = at != std::string_view::npos;
  a.rest = a.slash_after_slug ? std::string(raw.substr(at)) : "/";
  return a;
}

http::Response app_error(int status, std::string message, std::string detail = {}) {
  json::object body{{"message", std::move(message)}};
  if (!detail.empty()) body["detail"] = std::move(detail);
  return http::json_response(status, body);
}

// The workspace's agents in its latest build.
std::vector<store::WorkspaceAgentRow> latest_agents(Deps& deps, const store::WorkspaceRow& w) {
  std::vector<store::WorkspaceAgentRow> out;
  auto build = deps.store.get_latest_workspace_build(w.id);
  if (!build) return out;
  for (const auto& r : deps.store.list_workspace_resources_by_job_id(build->job_id))
    for (auto& a : deps.store.list_workspace_agents_by_resource_id(r.id)) out.push_back(a);
  return out;
}

std::optional<json::object> find_app(const store::WorkspaceAgentRow& agent,
                                     const std::string& slug) {
  auto config = json::parse(agent.config);
  if (!config.is_object()) return std::nullopt;
  auto* apps = config.as_object().if_contains("apps");
  if (!apps || !apps->is_array()) return std::nullopt;
  for (const auto& app : apps->as_array()) {
    if (!app.is_object()) continue;
    auto* s = app.as_object().if_contains("slug");
    if (s && s->is_string() && s->get_string() == slug) return app.as_object();
  }
  return std::nullopt;
}

bool may_open(const std::optional<coderd::Authenticated>& auth, const std::string& share,
              const store::WorkspaceRow& w) {
  if (share == "public") return true;
  if (!auth) return false;
  if (share == "authenticated") return true;
  if (share == "organization")
    return auth->user.id == w.owner_id ||
           auth->subject.organization_roles.count(w.organization_id) > 0;
  return auth->user.id == w.owner_id;  // owner
}

// Where the app listens, from the agent's side: only its loopback is reachable.
struct Upstream {
  int port = 0;
  std::string path;  // without a trailing '/'
};

std::optional<Upstream> upstream_of(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || lower(parsed->scheme()) != "http") return std::nullopt;
  auto host = lower(parsed->host());
  if (host != "localhost" && host != "127.0.0.1" && host != "0.0.0.0" && host != "[::1]")
    return std::nullopt;
  Upstream u;
  u.port = parsed->has_port() ? parsed->port_number() : 80;
  if (u.port <= 0) return std::nullopt;
  u.path = std::string(parsed->encoded_path());
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  return u;
}

// The session cookie is Berth's, never the app's.
std::string without_session_cookie(std::string_view cookies) {
  std::string out;
  while (!cookies.empty()) {
    auto semi = cookies.find(';');
    auto part = cookies.substr(0, semi);
    cookies = semi == std::string_view::npos ? std::string_view{} : cookies.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.empty() || part.starts_with("coder_session_token=")) continue;
    if (!out.empty()) out.append("; ");
    out.append(part);
  }
  return out;
}

std::string upstream_request(const http::Request& request, const AppAddress& address,
                             const Upstream& upstream) {
  // Besides the hop-by-hop ones: Berth's credentials and what this proxy writes itself.
  static const std::vector<std::string> kDropped = {"coder-session-token", "x-forwarded-for",
                                                    "x-forwarded-host", "x-forwarded-proto",
                                                    kRelayHeader};
  std::string out = request.method + " " + upstream.path + address.rest;
  if (!address.query.empty()) out.append("?").append(address.query);
  out.append(" HTTP/1.1\r\n");
  for (const auto& [name, value] : request.headers) {
    if (http::is_hop_by_hop_header(name) ||
        std::find(kDropped.begin(), kDropped.end(), name) != kDropped.end())
      continue;
    std::string v = name == "cookie" ? without_session_cookie(value) : value;
    if (v.empty() && name == "cookie") continue;
    out.append(name).append(": ").append(v).append("\r\n");
  }
  auto ip = client_ip(request);
  out.append("x-forwarded-for: ").append(ip).append("\r\n");
  if (auto host = request.header("host"))
    out.append("x-forwarded-host: ").append(*host).append("\r\n");
  out.append("x-forwarded-proto: http\r\n");
  http::append_forwarded_request_end(out, request);
  return out;
}

void record_app_usage(Deps& deps, const std::optional<coderd::Authenticated>& auth,
                      const store::WorkspaceRow& w) {
  if (!auth || auth->user.id != w.owner_id) return;
  if (deps.clock.now() - w.last_used_at < kUsageInterval) return;
  try {
    deps.workspaces.record_usage(auth->subject, w, true);
  } catch (const std::exception&) {
    // Usage is best effort; the request itself goes on.
  }
}

http::Response unauthenticated(const http::Request& request) {
  auto accept = request.header("accept");
  if (accept && accept->find("text/html") != std::string_view::npos) {
    http::Response r;
    r.status = 303;
    r.set_header("Location", "/login?redirect=" + request.target);
    return r;
  }
  return app_error(401, "You must be signed in to open this application.",
                   "Send a session token in the Coder-Session-Token header or the "
                   "coder_session_token cookie.");
}

}  // namespace

bool is_app_path(std::string_view path) {
  // Only `/@{user}/{workspace}[.{agent}]/apps...`: the dashboard's own pages live at
  // `/@{user}/{workspace}` and below.
  auto segments = split_path(path);
  return segments.size() >= 3 && segments[0].size() >= 2 && segments[0].starts_with('@') &&
         segments[2] == "apps";
}

http::Response proxy_app(Deps& deps, http::Request& request) {
  auto address = parse_app_address(request);
  if (!address)
    return app_error(404, "Route not found.",
                     "App URLs look like /@{user}/{workspace}[.{agent}]/apps/{slug}/.");
  if (!address->slash_after_slug) {
    http::Response r;
    r.status = 307;
    std::string location = request.path + "/";
    if (!address->query.empty()) location.append("?").append(address->query);
    r.set_header("Location", location);
    return r;
  }
  std::optional<coderd::Authenticated> auth;
  if (!session_token_from(request).empty()) auth = *authenticate(deps, request);
  const char* kNotFound = "Application not found.";
  std::optional<store::UserRow> owner;
  if (address->user == "me" && auth)
    owner = auth->user;
  else
    owner = deps.store.get_user_by_username(address->user);
  auto workspace = owner && !owner->deleted ? deps.store.get_workspace_by_owner_and_name(
                                                  owner->id, address->workspace, false)
                                            : std::nullopt;
  if (!workspace) return auth ? app_error(404, kNotFound) : unauthenticated(request);
  auto agents = latest_agents(deps, *workspace);
  std::optional<store::WorkspaceAgentRow> agent;
  for (auto& a : agents)
    if (address->agent.empty() ? agents.size() == 1 : a.name == address->agent) agent = a;
  if (!agent && address->agent.empty() && agents.size() > 1)
    return app_error(400, "The workspace has more than one agent.",
                     "Name the agent in the URL: /@" + address->user + "/" + address->workspace +
                         ".{agent}/apps/" + address->slug + "/");
  auto app = agent ? find_app(*agent, address->slug) : std::nullopt;
  if (!app) return auth ? app_error(404, kNotFound) : unauthenticated(request);
  if (!may_open(auth, json::string_at(*app, "sharing_level"), *workspace))
    return auth ? app_error(404, kNotFound,
                            "The app is shared at level \"" +
                                json::string_at(*app, "sharing_level") +
                                "\", which does not include you.")
                : unauthenticated(request);
  auto url = json::string_at(*app, "url");
  if (url.empty())
    return app_error(400, "This app has no URL.",
                     "A command app runs in a terminal: open "
                     "/api/v2/workspaceagents/{id}/pty?command=...");
  auto upstream = upstream_of(url);
  if (!upstream)
    return app_error(502, "Failed to proxy the request to the application.",
                     "Berth reaches apps at http://localhost:{port} inside the workspace; "
                     "the app's URL is \"" +
                         url + "\".");
  auto session = std::dynamic_pointer_cast<AgentRpcSession>(deps.agent_registry.find(agent->id));
  if (!session)
    if (auto relay = relay_to_agent_replica(deps, request, agent->id)) return std::move(*relay);
  if (!session)
    return app_error(502, "Failed to proxy the request to the application.",
                     "The workspace agent is not connected.");
  record_app_usage(deps, auth, *workspace);
  BridgeOptions options;
  options.method = "open_stream";
  options.params = json::object{{"port", upstream->port}};
  options.preamble = upstream_request(request, *address, *upstream);
  options.failure_reply = [](const std::string& why) {
    return http::raw_http_error(502, "Bad Gateway",
                                "Failed to proxy the request to the application.", why);
  };
  auto filter = std::make_shared<ResponseHeadFilter>();
  options.transform_output = [filter](std::string bytes) { return filter->feed(std::move(bytes)); };
  http::Response r;
  r.status = 200;  // for the access log: the app writes its own status
  r.tunnel = std::make_shared<AgentStreamBridge>(session, std::move(options));
  return r;
}

std::string ResponseHeadFilter::feed(std::string bytes) {
  if (done_) return bytes;
  head_.append(bytes);
  auto end = head_.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (head_.size() <= kMaxHeadBytes) return {};
    done_ = true;  // not HTTP as we know it: pass it through untouched
    return std::move(head_);
  }
  done_ = true;
  std::string_view head(head_.data(), end);
  std::string rest = head_.substr(end + 4);
  auto eol = head.find("\r\n");
  auto status_line = head.substr(0, eol);
  if (status_line.size() >= 12 && status_line.substr(9, 3) == "101") return std::move(head_);
  std::string out(status_line);
  out.append("\r\n");
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    auto line = head.substr(0, eol);
    auto name = lower(line.substr(0, line.find(':')));
    if (name == "connection" || name == "keep-alive") continue;
    out.append(line).append("\r\n");
  }
  out.append("Connection: close\r\n\r\n").append(rest);
  return out;
}

}  // namespace berth::api
