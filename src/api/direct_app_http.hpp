#pragma once

#include "coderd/tasks.hpp"

namespace berth::api {

// Reaches a workspace app at its configured URL from the server's own host. Right for the
// built-in provisioner, whose workspaces run on this machine; a client that tunnels through
// the agent's connection is what remote workspaces need.
class DirectAppHttpClient final : public coderd::AppHttpClient {
 public:
  coderd::AppHttpResponse request(const Uuid& agent_id, const std::string& method,
                                  const std::string& url, const std::string& body) override;
};

}  // namespace berth::api
