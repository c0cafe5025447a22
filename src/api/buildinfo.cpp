#include "api/handlers.hpp"
#include "http/error_response.hpp"

namespace berth::api {

Response get_healthz(Deps&, Request&) {
  Response r;
  r.set_header("Content-Type", "text/plain; charset=utf-8");
  r.body = "OK";
  return r;
}

Response get_api_root(Deps&, Request&) {
  return http::json_response(200, json::object{{"message", "👋"}});
}

Response get_buildinfo(Deps& deps, Request&) {
  return http::json_response(200, json::object{{"external_url", "https://github.com/coder/coder"},
                                               {"version", deps.build.version},
                                               {"dashboard_url", deps.build.access_url},
                                               {"workspace_proxy", false},
                                               {"agent_api_version", "1.0"},
                                               {"provisioner_api_version", "1.0"},
                                               {"upgrade_message", ""},
                                               {"deployment_id", deps.build.deployment_id},
                                               {"telemetry", false}});
}

}  // namespace berth::api
