#include "agentapi/handlers.hpp"

#include <string>

#include "agentapi/agent.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "http/error_response.hpp"

namespace berth::agentapi {

namespace {

constexpr char kAgentType[] = "custom";

bool has_outer_whitespace(const std::string& s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  return space(s.front()) || space(s.back());
}

// A POST /message body, checked: each problem names its field.
struct MessageRequest {
  std::string content;
  std::string type;
};

MessageRequest parse_message_request(const std::string& body) {
  json::ObjectReader reader(json::parse_body(body));
  MessageRequest r;
  r.content = reader.string("content").value_or("");
  r.type = reader.string("type").value_or("");
  if (r.type != "user" && r.type != "raw") reader.invalid("type", "Must be \"user\" or \"raw\".");
  if (r.content.empty())
    reader.invalid("content", "Must not be empty.");
  else if (r.content.size() > kMaxMessageContentBytes)
    reader.invalid("content",
                   "Must be at most " + std::to_string(kMaxMessageContentBytes) + " bytes.");
  else if (r.type == "user" && has_outer_whitespace(r.content))
    reader.invalid("content", "A user message must not start or end with whitespace.");
  reader.finish();
  return r;
}

json::value message_json(const Message& m) {
  return json::object{{"id", m.id},
                      {"content", m.content},
                      {"role", to_string(m.role)},
                      {"time", format_rfc3339(m.time)}};
}

http::Response get_status(Agent& agent) {
  return http::json_response(200, json::object{{"status", to_string(agent.status())},
                                               {"agent_type", kAgentType},
                                               {"transport", "pty"}});
}

http::Response get_messages(Agent& agent) {
  return http::json_response(200, messages_json(agent));
}

http::Response post_message(Agent& agent, const http::Request& request) {
  auto message = parse_message_request(request.body);
  if (message.type == "user")
    agent.send_user(message.content);
  else
    agent.send_raw(message.content);
  return http::json_response(200, json::object{{"ok", true}});
}

http::Response get_events(Agent& agent) {
  http::Response response;
  response.event_stream = agent.subscribe();
  return response;
}

}  // namespace

json::value messages_json(const Agent& agent) {
  json::array messages;
  for (const auto& m : agent.messages()) messages.push_back(message_json(m));
  return json::object{{"messages", std::move(messages)}};
}

http::Router make_router(Agent& agent) {
  http::Router router;
  router.add("GET", "/status", [&agent](http::Request&) { return get_status(agent); });
  router.add("GET", "/messages", [&agent](http::Request&) { return get_messages(agent); });
  router.add("POST", "/message",
             [&agent](http::Request& request) { return post_message(agent, request); });
  router.add("GET", "/events", [&agent](http::Request&) { return get_events(agent); });
  return router;
}

}  // namespace berth::agentapi
