// A raw tunnel to another server (what a replica does to relay a request): the upstream's
// own response comes back byte for byte, a large body crosses both ways, and an unreachable
// upstream gets the failure reply instead of a hang.
#include "http/tcp_forward.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "http/error_response.hpp"
#include "http/server.hpp"
#include "sdk/client.hpp"
#include "support/ports.hpp"

namespace berth::http {
namespace {

class Running {
 public:
  explicit Running(Handler handler) : server_(std::move(handler), {}, nullptr, 2) {
    address_ = server_.listen("127.0.0.1:0");
    thread_ = std::thread([this] { server_.run(false); });
  }
  ~Running() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://" + address_; }
  std::string port() const { return address_.substr(address_.rfind(':') + 1); }

 private:
  Server server_;
  std::string address_;
  std::thread thread_;
};

// The upstream: says what it was sent.
Response upstream(Request& r) {
  Response out;
  out.status = r.path == "/created" ? 201 : 200;
  out.set_header("X-Seen-Header", std::string(r.header("x-mark").value_or("")));
  out.body = r.method + " " + r.target + " " + std::to_string(r.body.size());
  return out;
}

// The front: forwards every request whole, as the replica relay writes it.
Handler forwarding_to(OutboundIo& io, std::string port) {
  return [&io, port](Request& r) {
    TcpForwardTarget target;
    target.host = "127.0.0.1";
    target.port = port;
    target.preamble = r.method + " " + r.target + " HTTP/1.1\r\nhost: upstream\r\n";
    if (auto mark = r.header("x-mark")) target.preamble += "x-mark: " + std::string(*mark) + "\r\n";
    target.preamble += "connection: close\r\ncontent-length: " + std::to_string(r.body.size()) +
                       "\r\n\r\n" + r.body;
    target.failure_reply = raw_http_error(502, "Bad Gateway", "Upstream unreachable.", "why");
    Response out;
    out.tunnel = make_tcp_forward(io, std::move(target));
    return out;
  };
}

TEST(TcpForward, TheUpstreamsResponseComesBackWhole) {
  OutboundIo io;
  Running back(upstream);
  Running front(forwarding_to(io, back.port()));
  sdk::Client client(front.url());
  auto r = client.request("GET", "/created?q=1", "", {{"X-Mark", "m1"}});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.header("x-seen-header").value_or(""), "m1");
  EXPECT_EQ(r.body, "GET /created?q=1 0");

  // Several megabytes each way: backpressure holds, nothing is lost.
  std::string big(5 * 1024 * 1024, 'x');
  auto posted = client.request("POST", "/upload", big, {{"Content-Type", "text/plain"}});
  EXPECT_EQ(posted.status, 200);
  EXPECT_EQ(posted.body, "POST /upload " + std::to_string(big.size()));
}

TEST(TcpForward, AnUnreachableUpstreamGetsTheFailureReply) {
  OutboundIo io;
  Running front(forwarding_to(io, std::to_string(testing::free_loopback_port())));
  sdk::Client client(front.url());
  auto r = client.request("GET", "/anything");
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("Upstream unreachable."), std::string::npos) << r.body;
}

}  // namespace
}  // namespace berth::http
