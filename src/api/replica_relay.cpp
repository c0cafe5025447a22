#include "api/replica_relay.hpp"

#include <spdlog/spdlog.h>

#include <boost/url/parse.hpp>

#include "api/auth.hpp"
#include "coderd/organizations.hpp"
#include "http/error_response.hpp"
#include "http/tcp_forward.hpp"

namespace berth::api {

namespace {

// Headers not passed on: the hop-by-hop ones, a proxy's credentials, and those the relay
// writes itself.
bool dropped(const std::string& name) {
  return http::is_hop_by_hop_header(name) || name == "proxy-authorization" ||
         name == kRelayHeader || name == "x-forwarded-for";
}

bool was_relayed(Deps& deps, const http::Request& request) {
  auto header = request.header(kRelayHeader);
  return header && *header == coderd::relay_secret(deps.store);
}

// The request as the other replica must see it: the same line, headers and body, with the
// relay's mark, on a connection that ends with the response (or carries the WebSocket).
std::string relayed_request(const http::Request& request, const std::string& secret) {
  std::string out = request.method + " " + request.target + " HTTP/1.1\r\n";
  for (const auto& [name, value] : request.headers)
    if (!dropped(name)) out.append(name).append(": ").append(value).append("\r\n");
  if (!request.remote_address.empty())  // the address alone: a port is not a forwarded-for
    out.append("x-forwarded-for: ").append(client_ip(request)).append("\r\n");
  out.append(kRelayHeader).append(": ").append(secret).append("\r\n");
  http::append_forwarded_request_end(out, request);
  return out;
}

// host and port of a relay address (http://host:port); nullopt for anything else.
std::optional<http::TcpForwardTarget> target_of(const std::string& relay_address) {
  auto url = boost::urls::parse_uri(relay_address);
  if (!url || url->scheme() != "http" || url->host().empty()) return std::nullopt;
  http::TcpForwardTarget target;
  target.host = url->host();
  if (target.host.size() > 2 && target.host.front() == '[')
    target.host = target.host.substr(1, target.host.size() - 2);
  target.port = url->has_port() ? std::string(url->port()) : "80";
  return target;
}

}  // namespace

std::optional<http::Response> relay_to_agent_replica(Deps& deps, const http::Request& request,
                                                     const Uuid& agent_id) {
  if (!deps.replicas || !deps.outbound || deps.agent_registry.find(agent_id) ||
      was_relayed(deps, request))
    return std::nullopt;
  auto alive_after =
      deps.clock.now() - deps.replicas->heartbeat_interval() * coderd::kReplicaAliveIntervals;
  auto replica = deps.store.get_agent_connection_replica(agent_id, alive_after);
  if (!replica || replica->id == deps.replicas->id()) return std::nullopt;
  auto target = target_of(replica->relay_address);
  if (!target) {
    spdlog::warn("replica {} has relay address \"{}\", which is not http://host:port",
                 replica->hostname, replica->relay_address);
    return std::nullopt;
  }
  target->preamble = relayed_request(request, coderd::relay_secret(deps.store));
  target->failure_reply = http::raw_http_error(
      502, "Bad Gateway", "Failed to reach the replica the workspace agent is connected to.",
      "replica " + replica->hostname + " at " + replica->relay_address);
  http::Response r;
  r.status = 200;  // for the access log: the other replica writes the real status
  r.tunnel = http::make_tcp_forward(*deps.outbound, std::move(*target));
  return r;
}

}  // namespace berth::api
