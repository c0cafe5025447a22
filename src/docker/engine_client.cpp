#include "docker/engine_client.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/parse.hpp>

#include <cstdlib>
#include <optional>

namespace berth::docker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// API 1.41 is Docker Engine 20.10's, and the newest that Podman 4's compatible service speaks.
constexpr const char* kApiVersion = "/v1.41";
constexpr std::size_t kMaxHeaderBytes = 64 << 10;

using UnixStream = beast::basic_stream<asio::local::stream_protocol>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

http::request<http::string_body> make_request(const std::string& method, const std::string& target,
                                              const std::string& body,
                                              const std::string& content_type,
                                              const std::string& host) {
  http::request<http::string_body> req{http::string_to_verb(method), kApiVersion + target, 11};
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "berth");
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.set(http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
  }
  return req;
}

template <class Stream>
asio::awaitable<EngineResponse> exchange(Stream& stream, http::request<http::string_body> req,
                                         std::size_t max_body_bytes) {
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(max_body_bytes);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  auto response = parser.release();
  co_return EngineResponse{static_cast<int>(response.result_int()), std::move(response.body())};
}

}  // namespace

struct EngineClient::Tls {
  asio::ssl::context context{asio::ssl::context::tls_client};
};

EngineAddress parse_engine_address(const std::string& host, const std::string& cert_path) {
  EngineAddress out;
  out.text = host;
  if (host.rfind("unix://", 0) == 0) {
    out.kind = EngineAddress::Kind::unix_socket;
    out.path = host.substr(7);
    if (out.path.empty() || out.path[0] != '/')
      throw Error{ErrorCode::invalid,
                  "Docker host \"" + host + "\" must name an absolute socket path"};
    return out;
  }
  if (host.rfind("tcp://", 0) == 0) {
    auto rest = host.substr(6);
    if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
    auto colon = rest.rfind(':');
    out.kind = EngineAddress::Kind::tcp;
    out.host = colon == std::string::npos ? rest : rest.substr(0, colon);
    out.port =
        colon == std::string::npos ? (cert_path.empty() ? "2375" : "2376") : rest.substr(colon + 1);
    if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']')
      out.host = out.host.substr(1, out.host.size() - 2);
    out.cert_path = cert_path;
    if (out.host.empty() || out.port.empty())
      throw Error{ErrorCode::invalid, "Docker host \"" + host + "\" needs tcp://host:port"};
    return out;
  }
  throw Error{ErrorCode::invalid,
              "Docker host \"" + host + "\" is not supported: use unix:///path or tcp://host:port"};
}

EngineAddress default_engine_address() {
  const char* host = std::getenv("DOCKER_HOST");
  const char* certs = std::getenv("DOCKER_CERT_PATH");
  return parse_engine_address(host && *host ? host : "unix:///var/run/docker.sock",
                              certs ? certs : "");
}

std::string daemon_message(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object())
    if (auto* m = v.get_object().if_contains("message"); m && m->is_string())
      return std::string(m->get_string());
  auto text = body.substr(0, 512);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

EngineClient::EngineClient(EngineAddress address, std::chrono::milliseconds timeout)
    : address_(std::move(address)), timeout_(timeout) {
  if (address_.kind != EngineAddress::Kind::tcp || address_.cert_path.empty()) return;
  tls_ = std::make_unique<Tls>();
  try {
    tls_->context.load_verify_file(address_.cert_path + "/ca.pem");
    tls_->context.use_certificate_chain_file(address_.cert_path + "/cert.pem");
    tls_->context.use_private_key_file(address_.cert_path + "/key.pem", asio::ssl::context::pem);
    tls_->context.set_verify_mode(asio::ssl::verify_peer);
  } catch (const boost::system::system_error& e) {
    throw Error{ErrorCode::invalid,
                "Cannot load the Docker TLS certificates from " + address_.cert_path, e.what()};
  }
}

EngineClient::~EngineClient() = default;

EngineResponse EngineClient::call(const std::string& method, const std::string& target,
                                  const std::string& body, const std::string& content_type,
                                  std::size_t max_body_bytes) {
  asio::io_context ioc;
  std::optional<EngineResponse> result;
  std::exception_ptr failure;
  auto done = [&](std::exception_ptr e, EngineResponse r) {
    failure = e;
    if (!e) result = std::move(r);
  };
  auto host = address_.kind == EngineAddress::Kind::tcp ? address_.host : std::string("docker");
  auto req = make_request(method, target, body, content_type, host);
  if (address_.kind == EngineAddress::Kind::unix_socket) {
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<EngineResponse> {
          UnixStream stream(co_await asio::this_coro::executor);
          stream.expires_after(timeout_);
          co_await stream.async_connect(asio::local::stream_protocol::endpoint(address_.path),
                                        asio::use_awaitable);
          co_return co_await exchange(stream, std::move(req), max_body_bytes);
        },
        done);
  } else {
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<EngineResponse> {
          auto executor = co_await asio::this_coro::executor;
          asio::ip::tcp::resolver resolver(executor);
          auto endpoints =
              co_await resolver.async_resolve(address_.host, address_.port, asio::use_awaitable);
          if (!tls_) {
            beast::tcp_stream stream(executor);
            stream.expires_after(timeout_);
            co_await stream.async_connect(endpoints, asio::use_awaitable);
            co_return co_await exchange(stream, std::move(req), max_body_bytes);
          }
          TlsStream stream(executor, tls_->context);
          beast::get_lowest_layer(stream).expires_after(timeout_);
          SSL_set_tlsext_host_name(stream.native_handle(), address_.host.c_str());
          stream.set_verify_callback(asio::ssl::host_name_verification(address_.host));
          co_await beast::get_lowest_layer(stream).async_connect(endpoints, asio::use_awaitable);
          co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
          co_return co_await exchange(stream, std::move(req), max_body_bytes);
        },
        done);
  }
  ioc.run();
  auto call_name = method + " " + target;
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const boost::system::system_error& e) {
      if (e.code() == beast::error::timeout)
        throw Error{ErrorCode::unavailable,
                    fmt::format("The container engine at {} did not answer {} within {} s",
                                address_.text, call_name, timeout_.count() / 1000)};
      if (e.code() == http::error::body_limit)
        throw Error{ErrorCode::too_large, fmt::format("The container engine at {} answered {} "
                                                      "with more than {} bytes",
                                                      address_.text, call_name, max_body_bytes)};
      throw Error{ErrorCode::unavailable,
                  fmt::format("Cannot reach the container engine at {} ({}): {}", address_.text,
                              call_name, e.code().message())};
    }
  }
  return std::move(*result);
}

EngineResponse EngineClient::checked(const std::string& method, const std::string& target,
                                     const std::string& body, const std::string& content_type) {
  auto response = call(method, target, body, content_type);
  if (response.status < 400) return response;
  auto code = response.status == 404   ? ErrorCode::not_found
              : response.status == 409 ? ErrorCode::conflict
                                       : ErrorCode::unavailable;
  throw Error{code, fmt::format("{} {} on {}: {} {}", method, target, address_.text,
                                response.status, daemon_message(response.body))};
}

json::value EngineClient::get_json(const std::string& target) {
  auto response = checked("GET", target);
  return response.body.empty() ? json::value() : json::parse(response.body);
}

json::value EngineClient::post_json(const std::string& target, const json::value& body) {
  auto response = checked("POST", target, json::serialize(body));
  return response.body.empty() ? json::value() : json::parse(response.body);
}

}  // namespace berth::docker
