#include "sdk/agent_protocol.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/parse.hpp>

namespace berth::sdk::agentproto {

namespace {

namespace base64 = boost::beast::detail::base64;

Message invalid(std::string why) {
  Message m;
  m.error_message = std::move(why);
  return m;
}

Message parse_stream(const json::object& o) {
  Message m;
  m.kind = Message::Kind::stream;
  m.stream = o.at("stream").as_int64();
  if (auto* c = o.if_contains("close"); c && c->is_bool()) m.close = c->get_bool();
  if (auto* a = o.if_contains("ack"); a && a->is_int64() && a->get_int64() > 0)
    m.ack = a->get_int64();
  if (auto* d = o.if_contains("data"); d && d->is_string()) {
    auto in = d->get_string();
    m.data.resize(base64::decoded_size(in.size()));
    auto [written, read] = base64::decode(m.data.data(), in.data(), in.size());
    // Beast stops at the padding; anything else left over is not base64.
    if (in.find_first_not_of('=', read) != boost::json::string::npos)
      return invalid("stream data is not base64");
    m.data.resize(written);
  }
  return m;
}

Message parse_object(json::object& o) {
  if (auto* s = o.if_contains("stream"); s && s->is_int64()) return parse_stream(o);
  Message m;
  auto* id = o.if_contains("id");
  if (id && !id->is_int64()) return invalid("\"id\" must be an integer");
  if (id) m.id = id->get_int64();
  if (auto* method = o.if_contains("method")) {
    if (!method->is_string() || method->get_string().empty())
      return invalid("\"method\" must be a non-empty string");
    m.kind = id ? Message::Kind::request : Message::Kind::notification;
    m.method = std::string(method->get_string());
    if (auto* p = o.if_contains("params"); p && p->is_object())
      m.params = std::move(p->get_object());
    return m;
  }
  if (!id) return invalid("a frame needs a \"method\", an \"id\" or a \"stream\"");
  if (auto* e = o.if_contains("error"); e && e->is_object()) {
    m.kind = Message::Kind::error;
    m.error_code = json::string_at(e->get_object(), "code");
    m.error_message = json::string_at(e->get_object(), "message");
    m.error_detail = json::string_at(e->get_object(), "detail");
    return m;
  }
  m.kind = Message::Kind::response;
  if (auto* r = o.if_contains("result")) m.result = std::move(*r);
  return m;
}

}  // namespace

Message parse_message(std::string_view text) {
  if (text.size() > kMaxMessageBytes) return invalid("frame too large");
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 32;
  auto v = boost::json::parse(text, ec, {}, options);
  if (ec) return invalid("frame is not JSON: " + ec.message());
  if (!v.is_object()) return invalid("frame is not a JSON object");
  return parse_object(v.as_object());
}

std::string encode_request(std::int64_t id, std::string_view method, json::object params) {
  return json::serialize(
      json::object{{"id", id}, {"method", method}, {"params", std::move(params)}});
}

std::string encode_notification(std::string_view method, json::object params) {
  return json::serialize(json::object{{"method", method}, {"params", std::move(params)}});
}

std::string encode_result(std::int64_t id, json::value result) {
  return json::serialize(json::object{{"id", id}, {"result", std::move(result)}});
}

std::string encode_error(std::int64_t id, std::string_view code, std::string_view message,
                         std::string_view detail) {
  return json::serialize(json::object{
      {"id", id},
      {"error", json::object{{"code", code}, {"message", message}, {"detail", detail}}}});
}

std::string encode_stream_data(std::int64_t stream, std::string_view bytes) {
  std::string out(base64::encoded_size(bytes.size()), '\0');
  out.resize(base64::encode(out.data(), bytes.data(), bytes.size()));
  return json::serialize(json::object{{"stream", stream}, {"data", out}});
}

std::string encode_stream_ack(std::int64_t stream, std::int64_t bytes) {
  return json::serialize(json::object{{"stream", stream}, {"ack", bytes}});
}

std::string encode_stream_close(std::int64_t stream) {
  return json::serialize(json::object{{"stream", stream}, {"close", true}});
}

}  // namespace berth::sdk::agentproto
