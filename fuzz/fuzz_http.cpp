// The bytes of a connection as the server reads them: Beast's request parser with the
// server's header and body limits, one request after another (pipelining), each converted to
// an http::Request as Server does (its target split by parse_target) and read through the
// accessors handlers use. The end of the input is the peer closing the connection.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "http/request.hpp"
#include "http/server.hpp"

namespace bhttp = boost::beast::http;
using namespace berth;

namespace {

// As server.cpp's to_request: false where the server answers "The request target is
// malformed.".
bool to_request(bhttp::request<bhttp::string_body>& in, http::Request& out) {
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  if (!http::parse_target(out.target, out.path, out.query)) return false;
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = std::move(in.body());
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const http::ServerLimits limits;
  const char* next = reinterpret_cast<const char*>(data);
  const char* end = next + size;
  for (int requests = 0; requests < 16 && next < end; ++requests) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    boost::beast::error_code ec;
    while (!ec && !parser.is_done()) {
      if (next == end) {
        parser.put_eof(ec);
        break;
      }
      std::size_t used = parser.put(boost::asio::buffer(next, std::size_t(end - next)), ec);
      if (ec == bhttp::error::need_more) {
        // Everything left is part of an unfinished header or chunk: the peer closes.
        next = end;
        ec = {};
        parser.put_eof(ec);
        break;
      }
      next += used;
      if (used == 0 && !ec && !parser.is_done()) break;
    }
    if (ec || !parser.is_done()) return 0;  // the server answers 400 (or 413, 431) and closes
    auto message = parser.release();
    http::Request request;
    if (!to_request(message, request)) return 0;
    request.header("content-type");
    request.query_values("q");
    request.cookie("coder_session_token");
    request.is_websocket_upgrade();
    if (!message.keep_alive()) return 0;
  }
  return 0;
}
