// The agent's side of open_stream: a real agent::Connection against an in-process server
// whose WebSocket session plays the server, relaying to a TCP port on loopback.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "agent/connection.hpp"
#include "agent/fake_server_session.hpp"
#include "http/duplex.hpp"
#include "http/server.hpp"
#include "sdk/agent_protocol.hpp"

namespace berth::agent {
namespace {

namespace proto = sdk::agentproto;
using Kind = proto::Message::Kind;
using namespace std::chrono_literals;

// A loopback TCP listener serving one connection with `serve(fd)` on its own thread.
class TcpServer {
 public:
  template <typename F>
  explicit TcpServer(F serve) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 4);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, serve] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      serve(c);
      ::close(c);
    });
  }
  ~TcpServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// A port nothing listens on.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class StreamRelay : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = "http://" + server_.listen("127.0.0.1:0");
    thread_ = std::thread([this] { server_.run(false); });
    ConnectionOptions o;
    o.url = url_;
    o.token = "agent-token";
    o.version = "test";
    connection_ = std::make_unique<Connection>(o);
    connection_->start();
    ASSERT_TRUE(session_->wait_open());
  }
  void TearDown() override {
    connection_->stop();
    server_.stop();
    thread_.join();
  }

  proto::Message open(std::int64_t id, std::int64_t stream, int port) {
    session_->send(
        proto::encode_request(id, "open_stream", json::object{{"stream", stream}, {"port", port}}));
    auto m = session_->next();
    EXPECT_TRUE(m.has_value());
    return m.value_or(proto::Message{});
  }

  std::shared_ptr<FakeServerSession> session_ = std::make_shared<FakeServerSession>();
  http::Server server_{[this](http::Request&) {
                         http::Response r;
                         r.duplex = session_;
                         return r;
                       },
                       http::ServerLimits{}, nullptr, 1};
  std::string url_;
  std::thread thread_;
  std::unique_ptr<Connection> connection_;
};

TEST_F(StreamRelay, RelaysBytesBothWaysAndClosesWhenThePortDoes) {
  TcpServer echo([](int fd) {
    char buf[4096];
    std::string got;
    while (got.find("\n") == std::string::npos) {
      auto n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return;
      got.append(buf, static_cast<std::size_t>(n));
    }
    std::string reply = "echo:" + got;
    ::write(fd, reply.data(), reply.size());
  });
  auto answer = open(1, 5, echo.port());
  ASSERT_EQ(answer.kind, Kind::response) << answer.error_message;
  EXPECT_EQ(answer.id, 1);
  session_->send(proto::encode_stream_data(5, "hel"));
  session_->send(proto::encode_stream_data(5, "lo\n"));
  EXPECT_EQ(session_->read_to_close(5), "echo:hello\n");
}

TEST_F(StreamRelay, CarriesLargePayloadsAndHonoursTheServersClose) {
  std::string big(300 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  std::mutex m;
  std::string received;
  TcpServer sink([&](int fd) {
    ::write(fd, big.data(), big.size());
    char buf[65536];
    for (;;) {
      auto n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return;  // the agent closed its end after the server's close frame
      std::lock_guard lock(m);
      received.append(buf, static_cast<std::size_t>(n));
    }
  });
  ASSERT_EQ(open(1, 2, sink.port()).kind, Kind::response);
  std::string got;
  while (got.size() < big.size()) {
    auto f = session_->next();
    ASSERT_TRUE(f.has_value());
    ASSERT_EQ(f->kind, Kind::stream);
    ASSERT_FALSE(f->close);
    got += f->data;
  }
  EXPECT_EQ(got, big);
  session_->send(proto::encode_stream_data(2, big));
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(m);
      if (received.size() >= big.size()) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  {
    std::lock_guard lock(m);
    EXPECT_EQ(received, big);
  }
  session_->send(proto::encode_stream_close(2));
  // Data for a stream the agent no longer has is answered with a close.
  session_->send(proto::encode_stream_data(2, "late"));
  auto f = session_->next();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->kind, Kind::stream);
  EXPECT_TRUE(f->close);
}

TEST_F(StreamRelay, RefusesClosedPortsAndBadParams) {
  auto refused = open(3, 1, closed_port());
  EXPECT_EQ(refused.kind, Kind::error);
  EXPECT_EQ(refused.error_code, "unavailable");
  auto bad = open(4, 1, 0);
  EXPECT_EQ(bad.kind, Kind::error);
  EXPECT_EQ(bad.error_code, "invalid");
}

}  // namespace
}  // namespace berth::agent
