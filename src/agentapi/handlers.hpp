#pragma once

#include <cstddef>

#include "common/json.hpp"
#include "http/router.hpp"

namespace berth::agentapi {

class Agent;

// Content longer than this is refused: it is typed into a terminal, not uploaded.
inline constexpr std::size_t kMaxMessageContentBytes = 64 * 1024;

// agentapi's HTTP API over `agent`: GET /status, GET /messages, POST /message, GET /events.
http::Router make_router(Agent& agent);

// GET /messages' body: {"messages": [{id, content, role, time}…]}.
json::value messages_json(const Agent& agent);

}  // namespace berth::agentapi
