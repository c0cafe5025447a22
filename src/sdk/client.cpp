#include "sdk/client.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/url/parse.hpp>

#include "common/error.hpp"

namespace berth::sdk {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

// Blocking reads and writes on the socket fail after `timeout` (beast's own timeouts apply to
// asynchronous operations only).
void set_socket_timeout(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

std::optional<std::string> HttpResponse::header(const std::string& lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return value;
  return std::nullopt;
}

json::value HttpResponse::json() const {
  if (body.empty()) return nullptr;
  return json::parse(body);
}

struct Client::Connection {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool open = false;
};

Client::Client(std::string base_url) : connection_(std::make_unique<Connection>()) {
  auto url = boost::urls::parse_uri(base_url);
  if (!url || url->scheme() != "http" || url->host().empty())
    throw Error{ErrorCode::invalid, "The server URL must look like http://host:port.", base_url};
  host_ = url->host();
  port_ = url->has_port() ? std::string(url->port()) : "80";
}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

HttpResponse Client::request(const std::string& method, const std::string& target,
                             const std::string& body,
                             const std::vector<std::pair<std::string, std::string>>& headers) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, host_ + ":" + port_);
  req.set(bhttp::field::user_agent, "berth-sdk");
  if (!token_.empty()) req.set("Coder-Session-Token", token_);
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  // A kept-alive connection the server closed in between is retried once on a fresh one.
  for (int attempt = 0;; ++attempt) {
    auto& c = *connection_;
    bool reused = c.open;
    try {
      if (!c.open) {
        asio::ip::tcp::resolver resolver(c.ioc);
        c.stream.connect(resolver.resolve(host_, port_));
        if (timeout_.count() > 0) set_socket_timeout(c.stream.socket().native_handle(), timeout_);
        c.buffer.clear();
        c.open = true;
      }
      bhttp::write(c.stream, req);
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(256 * 1024 * 1024);
      // A HEAD answer's Content-Length is the GET body's; none follows.
      parser.skip(method == "HEAD");
      bhttp::read(c.stream, c.buffer, parser);
      auto res = parser.release();
      HttpResponse out;
      out.status = res.result_int();
      for (const auto& field : res) {
        std::string name(field.name_string());
        for (auto& ch : name) ch = char(std::tolower(static_cast<unsigned char>(ch)));
        out.headers.emplace_back(std::move(name), std::string(field.value()));
      }
      out.body = std::move(res.body());
      if (!res.keep_alive()) {
        beast::error_code ignored;
        c.stream.socket().close(ignored);
        c.open = false;
      }
      return out;
    } catch (const beast::system_error& e) {
      beast::error_code ignored;
      c.stream.socket().close(ignored);
      c.open = false;
      if (!reused || attempt > 0)
        throw Error{ErrorCode::unavailable,
                    "Cannot reach the server at " + host_ + ":" + port_ + ".", e.code().message()};
    }
  }
}

bool Client::follow_websocket(const std::string& target,
                              const std::function<bool(const std::string&)>& on_message,
                              std::chrono::seconds idle_timeout) {
  namespace websocket = beast::websocket;
  asio::io_context ioc;
  asio::ip::tcp::resolver resolver(ioc);
  websocket::stream<beast::tcp_stream> ws(ioc);
  try {
    beast::get_lowest_layer(ws).connect(resolver.resolve(host_, port_));
    ws.set_option(websocket::stream_base::decorator([this](websocket::request_type& req) {
      req.set(bhttp::field::user_agent, "berth-sdk");
      if (!token_.empty()) req.set("Coder-Session-Token", token_);
    }));
    websocket::response_type response;
    beast::error_code ec;
    beast::get_lowest_layer(ws).expires_after(idle_timeout);
    ws.handshake(response, host_ + ":" + port_, target, ec);
    if (ec)
      throw Error{
          ErrorCode::unavailable, "The WebSocket upgrade to " + target + " failed.",
          std::to_string(response.result_int()) + " " + response.body() + " " + ec.message()};
    for (;;) {
      beast::flat_buffer buffer;
      beast::get_lowest_layer(ws).expires_after(idle_timeout);
      ws.read(buffer, ec);
      if (ec == websocket::error::closed) return true;
      if (ec) throw Error{ErrorCode::unavailable, "The WebSocket stream broke.", ec.message()};
      if (!on_message(beast::buffers_to_string(buffer.data()))) {
        ws.close(websocket::close_code::normal, ec);
        return false;
      }
    }
  } catch (const beast::system_error& e) {
    throw Error{ErrorCode::unavailable, "Cannot reach the server at " + host_ + ":" + port_ + ".",
                e.code().message()};
  }
}

std::unique_ptr<WebSocket> Client::open_websocket(const std::string& target) const {
  return WebSocket::connect(host_, port_, target, token_);
}

HttpResponse Client::request_json(const std::string& method, const std::string& target,
                                  const json::value& body) {
  return request(method, target, json::serialize(body), {{"Content-Type", "application/json"}});
}

}  // namespace berth::sdk
