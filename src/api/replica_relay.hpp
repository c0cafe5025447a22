#pragma once

#include <optional>

#include "api/deps.hpp"
#include "common/uuid.hpp"
#include "http/request.hpp"

namespace berth::api {

// The header a replica adds to a request it relays to another, carrying the deployment's relay
// secret: the receiver then answers it itself, never relaying it again.
inline constexpr const char* kRelayHeader = "berth-relay";

// When the agent's live connection is held by another live replica, not this one (and this
// request was not itself relayed to us), a response that relays the whole request there: an
// app request, a terminal, a port stream, a task call. nullopt when this replica must answer
// it itself.
std::optional<http::Response> relay_to_agent_replica(Deps& deps, const http::Request& request,
                                                     const Uuid& agent_id);

}  // namespace berth::api
