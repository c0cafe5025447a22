#include "provisioner/local/http_data_source.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <optional>

namespace berth::provisioner::local {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr auto kDefaultTimeout = std::chrono::seconds(30);
constexpr auto kMaxTimeout = std::chrono::minutes(2);
constexpr std::size_t kMaxResponseBytes = 8 << 20;

template <class Stream>
asio::awaitable<FetchedResponse> exchange(Stream& stream, http::request<http::string_body> req,
                                          std::size_t max_body) {
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(64 << 10);
  parser.body_limit(max_body);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  auto res = parser.release();
  FetchedResponse out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res)
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = std::move(res.body());
  co_return out;
}

}  // namespace

FetchedResponse fetch_url(const std::string& method, const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body, std::chrono::milliseconds timeout,
                          std::size_t max_body) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") ||
      parsed->host().empty())
    throw Error{ErrorCode::invalid, "\"" + url + "\" is not an http:// or https:// URL"};
  bool tls = parsed->scheme() == "https";
  std::string host = parsed->host_address();
  std::string port = parsed->has_port() ? std::string(parsed->port()) : (tls ? "443" : "80");
  std::string target =
      parsed->encoded_resource().empty() ? "/" : std::string(parsed->encoded_resource());
  if (target.front() != '/') target.insert(target.begin(), '/');
  auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown)
    throw Error{ErrorCode::invalid, "\"" + method + "\" is not an HTTP method"};
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, parsed->encoded_host_and_port());
  req.set(http::field::user_agent, "berth");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty()) req.body() = body;
  req.prepare_payload();

  asio::io_context ioc;
  asio::ssl::context ssl(asio::ssl::context::tls_client);
  ssl.set_default_verify_paths();
  ssl.set_verify_mode(asio::ssl::verify_peer);
  std::optional<FetchedResponse> result;
  std::exception_ptr failure;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<FetchedResponse> {
        auto executor = co_await asio::this_coro::executor;
        asio::ip::tcp::resolver resolver(executor);
        auto endpoints = co_await resolver.async_resolve(host, port, asio::use_awaitable);
        if (!tls) {
          beast::tcp_stream stream(executor);
          stream.expires_after(timeout);
          co_await stream.async_connect(endpoints, asio::use_awaitable);
          co_return co_await exchange(stream, std::move(req), max_body);
        }
        beast::ssl_stream<beast::tcp_stream> stream(executor, ssl);
        beast::get_lowest_layer(stream).expires_after(timeout);
        SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
        stream.set_verify_callback(asio::ssl::host_name_verification(host));
        co_await beast::get_lowest_layer(stream).async_connect(endpoints, asio::use_awaitable);
        co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
        co_return co_await exchange(stream, std::move(req), max_body);
      },
      [&](std::exception_ptr e, FetchedResponse r) {
        failure = e;
        if (!e) result = std::move(r);
      });
  ioc.run();
  if (!failure) return std::move(*result);
  try {
    std::rethrow_exception(failure);
  } catch (const boost::system::system_error& e) {
    if (e.code() == beast::error::timeout)
      throw Error{ErrorCode::unavailable,
                  fmt::format("{} {} did not answer within {} ms", method, url, timeout.count())};
    if (e.code() == http::error::body_limit)
      throw Error{ErrorCode::too_large,
                  fmt::format("{} {} answered more than {} bytes", method, url, max_body)};
    throw Error{ErrorCode::unavailable,
                fmt::format("{} {} failed: {}", method, url, e.code().message())};
  }
}

json::value plan_http(json::object config, const hcl::Position& position) {
  auto fail = [&](const std::string& what) -> json::value {
    throw Error{ErrorCode::invalid, position.to_string() + ": data \"http\": " + what};
  };
  auto url = json::string_at(config, "url");
  if (url.empty()) return fail("url is required");
  auto method = json::string_at(config, "method");
  if (method.empty()) method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  if (auto* h = config.if_contains("request_headers"); h && h->is_object())
    for (const auto& [name, value] : h->get_object())
      if (value.is_string())
        headers.emplace_back(std::string(name), std::string(value.get_string()));
  std::chrono::milliseconds timeout = kDefaultTimeout;
  if (auto* t = config.if_contains("request_timeout_ms"); t && t->is_int64() && t->get_int64() > 0)
    timeout =
        std::min<std::chrono::milliseconds>(std::chrono::milliseconds(t->get_int64()), kMaxTimeout);
  FetchedResponse response;
  try {
    response = fetch_url(method, url, headers, json::string_at(config, "request_body"), timeout,
                         kMaxResponseBytes);
  } catch (const Error& e) {
    return fail(e.message());
  }
  json::object response_headers;
  for (const auto& [name, value] : response.headers) response_headers[name] = value;
  config["id"] = url;
  config["method"] = method;
  config["status_code"] = response.status;
  config["response_body"] = response.body;
  config["body"] = response.body;
  config["response_headers"] = std::move(response_headers);
  return config;
}

}  // namespace berth::provisioner::local
