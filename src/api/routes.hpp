#pragma once

#include <string>
#include <vector>

#include "api/deps.hpp"
#include "http/router.hpp"

namespace berth::api {

// The whole `/api/v2` table, plus `/healthz`, with the middleware each route runs through.
// The returned handler also stamps every response with Coder's build-version header.
// `fallback` (the web dashboard), when set, answers the GET and HEAD requests outside /api/
// that match no route; unknown /api/ paths keep their JSON 404.
http::Handler make_api_handler(Deps& deps, http::Handler fallback = {});

// Who a route lets in: anyone, a signed-in user (session or API token), a workspace agent, or
// an external provisioner daemon (a provisioner key).
enum class RouteKind { public_, private_, agent, provisioner_daemon };

// One row of the route table.
struct RouteInfo {
  std::string method;
  std::string path;  // the template, with `{param}` segments
  RouteKind kind;
};

// Every route make_api_handler serves, in matching order; the authorization matrix test walks
// it, so that a new route is checked by default. (The app proxy paths are matched before it.)
std::vector<RouteInfo> route_table();

}  // namespace berth::api
