#include "agent/http_probe.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace berth::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {

struct Target {
  std::string host, port, path;
};

bool parse(const std::string& url, Target& out) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return false;
  auto rest = url.substr(kScheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  out.host = colon == std::string::npos ? authority : authority.substr(0, colon);
  out.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  return !out.host.empty();
}

asio::awaitable<void> get(Target t, std::chrono::milliseconds timeout, int& status) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(ex);
  beast::tcp_stream stream(ex);
  stream.expires_after(timeout);  // one deadline for the whole exchange
  auto results = co_await resolver.async_resolve(t.host, t.port, asio::use_awaitable);
  co_await stream.async_connect(results, asio::use_awaitable);
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, t.path, 11};
  req.set(bhttp::field::host, t.host + ":" + t.port);
  req.set(bhttp::field::user_agent, "berth-agent-healthcheck");
  co_await bhttp::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1024 * 1024);
  co_await bhttp::async_read_header(stream, buffer, parser, asio::use_awaitable);
  status = parser.get().result_int();
}

}  // namespace

bool probe_http(const std::string& url, std::chrono::milliseconds timeout) {
  Target t;
  if (!parse(url, t)) return false;
  asio::io_context ioc;
  int status = 0;
  asio::co_spawn(ioc, get(t, timeout, status), [](std::exception_ptr) {});
  ioc.run();
  return status > 0 && status < 500;
}

}  // namespace berth::agent
