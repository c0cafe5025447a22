// How the server reads an app's HTTP answer that came back through an agent stream.
#include <gtest/gtest.h>

#include <stdexcept>

#include "api/agent_app_http.hpp"

namespace berth::api {
namespace {

TEST(AppHttpResponse, ReadsContentLengthChunkedAndToTheEnd) {
  auto a = parse_http_response(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 2\r\n\r\n{}extra");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "{}");
  auto b = parse_http_response(
      "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n"
      "\r\n");
  EXPECT_EQ(b.status, 404);
  EXPECT_EQ(b.body, "abcde");
  auto c = parse_http_response("HTTP/1.0 500 Oops\r\nServer: x\r\n\r\nall of it");
  EXPECT_EQ(c.status, 500);
  EXPECT_EQ(c.body, "all of it");
}

TEST(AppHttpResponse, RefusesTruncatedOrMalformedAnswers) {
  EXPECT_THROW(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"), std::runtime_error);
  EXPECT_THROW(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc"),
               std::runtime_error);
  EXPECT_THROW(parse_http_response("SSH-2.0\r\n\r\n"), std::runtime_error);
  EXPECT_THROW(parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
               std::runtime_error);
}

}  // namespace
}  // namespace berth::api
