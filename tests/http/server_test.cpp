// The HTTP server on a real loopback socket: limits, keep-alive, errors, shutdown.
#include "http/server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "common/json.hpp"
#include "http/deferred.hpp"
#include "http/duplex.hpp"
#include "http/error_response.hpp"
#include "http/push.hpp"
#include "sdk/client.hpp"
#include "support/polling.hpp"

namespace berth::http {
namespace {

// A server on a free port, run on its own thread, stopped and joined at scope end.
class RunningServer {
 public:
  RunningServer(Handler handler, ServerLimits limits = {})
      : server_(std::move(handler), limits, nullptr, 2) {
    address_ = server_.listen("127.0.0.1:0");
    thread_ = std::thread([this] { server_.run(false); });
  }
  ~RunningServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://" + address_; }
  int port() const { return std::stoi(address_.substr(address_.rfind(':') + 1)); }
  Server& server() { return server_; }
  void join() { thread_.join(); }

 private:
  Server server_;
  std::string address_;
  std::thread thread_;
};

Response echo(Request& r) {
  if (r.path == "/fail")
    throw Error{ErrorCode::conflict, "Already there.", "detail", {{"name", "taken"}}};
  if (r.path == "/crash") throw std::runtime_error("boom");
  Response out;
  out.body = r.method + " " + r.path + " " + std::to_string(r.body.size());
  return out;
}

// Sends raw bytes and returns everything the server sends back until it closes.
std::string raw_exchange(int port, const std::string& bytes) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), ssize_t(bytes.size()));
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, n);
  close(fd);
  return out;
}

TEST(HttpServer, ServesManyRequestsOnOneKeptAliveConnection) {
  RunningServer server(echo);
  sdk::Client client(server.url());
  for (int i = 0; i < 20; ++i) {
    auto r = client.request("POST", "/x", "abc");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "POST /x 3");
  }
}

TEST(HttpServer, MapsErrorsToCodersJsonBody) {
  RunningServer server(echo);
  sdk::Client client(server.url());
  auto r = client.request("GET", "/fail");
  EXPECT_EQ(r.status, 409);
  auto body = r.json().as_object();
  EXPECT_EQ(body["message"], "Already there.");
  EXPECT_EQ(body["detail"], "detail");
  EXPECT_EQ(body["validations"].as_array().at(0).as_object()["field"], "name");
  auto crash = client.request("GET", "/crash");
  EXPECT_EQ(crash.status, 500);
  EXPECT_EQ(crash.json().as_object()["message"], "An internal server error occurred.");
}

TEST(HttpServer, RefusesOversizedBodiesBeforeReadingThem) {
  ServerLimits limits;
  limits.max_body_bytes = 1024;
  RunningServer server(echo, limits);
  // Declares a huge body and sends none of it: the answer must come without waiting for it.
  auto reply = raw_exchange(server.port(),
                            "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply;
  EXPECT_NE(reply.find("Request body is too large."), std::string::npos);
  sdk::Client client(server.url());
  EXPECT_EQ(client.request("POST", "/x", std::string(1024, 'a')).status, 200);
  EXPECT_EQ(client.request("POST", "/x", std::string(1025, 'a')).status, 413);
}

TEST(HttpServer, RefusesOversizedChunkedBodies) {
  ServerLimits limits;
  limits.max_body_bytes = 16;
  RunningServer server(echo, limits);
  auto reply = raw_exchange(server.port(),
                            "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "20\r\n0123456789abcdef0123456789abcdef\r\n0\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply;
}

TEST(HttpServer, RefusesOversizedHeaders) {
  ServerLimits limits;
  limits.max_header_bytes = 512;
  RunningServer server(echo, limits);
  auto reply = raw_exchange(
      server.port(), "GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2048, 'a') + "\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 431", 0), 0u) << reply;
}

TEST(HttpServer, ClosesGarbageConnectionsWithoutCrashing) {
  RunningServer server(echo);
  raw_exchange(server.port(), "\x16\x03\x01 this is not http\r\n\r\n");
  raw_exchange(server.port(), "GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n");
  sdk::Client client(server.url());
  EXPECT_EQ(client.request("GET", "/still-up").status, 200);
}

// The body of a plain-text refusal, or "" when `reply` is not one with `status_line`.
std::string plain_refusal(const std::string& reply, const std::string& status_line) {
  if (reply.rfind(status_line + "\r\n", 0) != 0) return "";
  if (reply.find("\r\nContent-Type: text/plain; charset=utf-8\r\n") == std::string::npos) return "";
  if (reply.find("\r\nConnection: close\r\n") == std::string::npos) return "";
  auto end = reply.find("\r\n\r\n");
  return end == std::string::npos ? "" : reply.substr(end + 4);
}

TEST(HttpServer, AnswersMalformedRequestsWith400AndAReasonAsGoDoes) {
  RunningServer server(echo);
  const std::string chunked = "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  struct Case {
    std::string name, bytes, reason;
  };
  const std::vector<Case> cases = {
      {"chunk size not hex", chunked + "zz\r\nabc\r\n0\r\n\r\n", "malformed chunked encoding"},
      {"no CRLF after chunk data", chunked + "3\r\nabcXY0\r\n\r\n", "malformed chunked encoding"},
      {"negative chunk size", chunked + "-5\r\nabcde\r\n0\r\n\r\n", "malformed chunked encoding"},
      {"overflowing chunk size", chunked + "1FFFFFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n",
       "malformed chunked encoding"},
      {"bad chunk extension", chunked + "3;=\r\nabc\r\n0\r\n\r\n", "malformed chunk extension"},
      {"chunked then Content-Length",
       "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n",
       "invalid Content-Length"},
      {"Content-Length then chunked",
       "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n",
       "invalid Transfer-Encoding"},
      {"request line of garbage", "this is not http at all\r\n\r\n", "malformed HTTP version"},
      {"request line of one word", "GARBAGE\r\n\r\n", "malformed request method"},
      {"TLS hello", "\x16\x03\x01 this is not http\r\n\r\n", "malformed request method"},
      {"NUL in the target", std::string("GET /a") + '\0' + "b HTTP/1.1\r\nHost: x\r\n\r\n",
       "malformed request target"},
      {"negative Content-Length", "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
       "invalid Content-Length"},
      {"23-digit Content-Length",
       "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 12345678901234567890123\r\n\r\n",
       "invalid Content-Length"},
      {"two Content-Lengths",
       "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
       "multiple Content-Length headers"},
      {"header without a colon", "GET /x HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
       "malformed header line"},
  };
  for (const auto& c : cases) {
    auto reply = raw_exchange(server.port(), c.bytes);
    EXPECT_EQ(plain_refusal(reply, "HTTP/1.1 400 Bad Request"), "400 Bad Request: " + c.reason)
        << c.name << ":\n"
        << reply;
  }
  // A transfer coding other than a lone `chunked`: 501, as Go answers.
  for (std::string coding : {"gzip", "gzip, chunked", "chunked, chunked"}) {
    auto reply =
        raw_exchange(server.port(), "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
                                        "\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    EXPECT_EQ(plain_refusal(reply, "HTTP/1.1 501 Not Implemented"), "Unsupported transfer encoding")
        << coding << ":\n"
        << reply;
  }
  // A well-formed request line with an HTTP version other than 1.0 or 1.1: 505, as Go answers.
  for (std::string version : {"HTTP/9.9", "HTTP/2.0", "HTTP/0.9"}) {
    auto reply = raw_exchange(server.port(), "GET /x " + version + "\r\nHost: x\r\n\r\n");
    EXPECT_EQ(plain_refusal(reply, "HTTP/1.1 505 HTTP Version Not Supported"),
              "505 HTTP Version Not Supported: unsupported protocol version")
        << version << ":\n"
        << reply;
  }
  // Well-formed requests are still served, on 1.0 as on 1.1.
  EXPECT_EQ(raw_exchange(server.port(), "GET /ok HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 200", 0), 0u);
  sdk::Client client(server.url());
  EXPECT_EQ(client.request("GET", "/still-up").status, 200);
}

// Sends raw bytes and returns the one response the server sends back: its head, and its body
// when it declares a Content-Length. Does not wait for the connection to close.
std::string raw_response(int port, const std::string& bytes) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), ssize_t(bytes.size()));
  std::string out;
  char c;
  while (out.find("\r\n\r\n") == std::string::npos && recv(fd, &c, 1, 0) == 1) out += c;
  static const std::string kLength = "\r\nContent-Length: ";
  if (auto at = out.find(kLength); at != std::string::npos) {
    auto length = std::stoul(out.substr(at + kLength.size()));
    for (std::size_t got = 0; got < length && recv(fd, &c, 1, 0) == 1; ++got) out += c;
  }
  close(fd);
  return out;
}

// A push stream with nothing to send.
class EmptyPush : public PushSource {
 public:
  PushBatch next() override { return {{}, true}; }
};

// A duplex session (or, as a tunnel, an app) that answers nothing and closes.
class ClosingSession : public DuplexSession {
 public:
  void on_open(std::shared_ptr<DuplexChannel> channel) override { channel->close(); }
  void on_message(std::string) override {}
  void on_close() override {}
};

Response upgrades(Request& r) {
  Response out;
  if (r.path == "/push") out.websocket = std::make_shared<EmptyPush>();
  if (r.path == "/duplex") out.duplex = std::make_shared<ClosingSession>();
  if (r.path == "/tunnel") out.tunnel = std::make_shared<ClosingSession>();
  return out;
}

TEST(HttpServer, RefusesWebSocketUpgradesWithAnInvalidKeyOnEveryKindOfStream) {
  RunningServer server(upgrades);
  auto upgrade = [](const std::string& path, const std::string& key_lines) {
    return "GET " + path +
           " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
           "Sec-WebSocket-Version: 13\r\n" +
           key_lines + "\r\n";
  };
  const std::vector<std::pair<std::string, std::string>> bad_keys = {
      {"bad", "Sec-WebSocket-Key: bad\r\n"},
      {"empty", "Sec-WebSocket-Key: \r\n"},
      {"missing", ""},
      {"not base64", "Sec-WebSocket-Key: not*base64*at*all*here==\r\n"},
      {"8 bytes", "Sec-WebSocket-Key: AAECAwQFBgc=\r\n"},
      {"17 bytes", "Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODxA=\r\n"},
      {"two keys",
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: "
       "dGhlIHNhbXBsZSBub25jZQ==\r\n"},
  };
  for (std::string path : {"/push", "/duplex", "/tunnel"}) {
    for (const auto& [name, lines] : bad_keys) {
      auto reply = raw_response(server.port(), upgrade(path, lines));
      EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << path << ", " << name << ":\n" << reply;
      auto body = reply.substr(reply.find("\r\n\r\n") + 4);
      auto error = json::parse(body).as_object();
      EXPECT_EQ(error["message"], "Failed to accept websocket.") << path << ", " << name;
      EXPECT_NE(json::string_at(error, "detail").find("Sec-WebSocket-Key"), std::string::npos)
          << body;
    }
    // The key of RFC 6455's own example is accepted.
    auto head = raw_response(server.port(),
                             upgrade(path, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
    if (path == "/tunnel")  // a tunnel writes nothing itself: the app answers, here by closing
      EXPECT_EQ(head, "") << path;
    else
      EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << path << ":\n" << head;
  }
}

TEST(HttpServer, CapsConcurrentConnections) {
  ServerLimits limits;
  limits.max_connections = 1;
  std::promise<void> entered, release;
  auto release_future = release.get_future().share();
  std::atomic<bool> first{true};
  RunningServer server(
      [&](Request& r) {
        if (first.exchange(false)) {
          entered.set_value();
          release_future.wait();
        }
        return echo(r);
      },
      limits);
  auto slow = std::async(std::launch::async, [&] {
    sdk::Client c(server.url());
    return c.request("GET", "/slow").status;
  });
  entered.get_future().wait();
  sdk::Client second(server.url());
  EXPECT_EQ(second.request("GET", "/second").status, 503);
  release.set_value();
  EXPECT_EQ(slow.get(), 200);
}

TEST(HttpServer, StopLetsTheInFlightRequestFinish) {
  std::promise<void> entered, release;
  auto release_future = release.get_future().share();
  auto server = std::make_unique<Server>(
      [&](Request& r) {
        entered.set_value();
        release_future.wait();
        return echo(r);
      },
      ServerLimits{}, nullptr, 2);
  auto address = server->listen("127.0.0.1:0");
  std::thread runner([&] { server->run(false); });
  auto slow = std::async(std::launch::async, [&] {
    sdk::Client c("http://" + address);
    return c.request("GET", "/slow");
  });
  entered.get_future().wait();
  server->stop();
  release.set_value();
  auto reply = slow.get();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("connection"), "close");
  runner.join();  // run() returned: the server drained
  sdk::Client late("http://" + address);
  EXPECT_THROW(late.request("GET", "/x"), Error);
}

// Deferred responses: the handler returns at once and the answer comes later from another
// thread (as a task app's does through its agent), so waiting requests hold no thread.
class DeferredRequests {
 public:
  std::shared_ptr<DeferredResponse> add(std::chrono::milliseconds timeout) {
    Response on_timeout;
    on_timeout.status = 502;
    on_timeout.body = "timed out";
    auto d = std::make_shared<DeferredResponse>(timeout, std::move(on_timeout));
    std::lock_guard lock(mutex_);
    waiting_.push_back(d);
    return d;
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return waiting_.size();
  }
  std::vector<std::shared_ptr<DeferredResponse>> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(waiting_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<DeferredResponse>> waiting_;
};

TEST(HttpServer, ManyDeferredResponsesWaitWithoutHoldingThreads) {
  constexpr int kWaiting = 200;  // on a server with two threads
  DeferredRequests deferred;
  RunningServer server([&](Request& r) {
    if (r.path != "/deferred") return echo(r);
    Response placeholder;
    placeholder.set_header("X-Middleware", "kept");
    placeholder.deferred = deferred.add(std::chrono::seconds(60));
    return placeholder;
  });
  std::vector<std::future<sdk::HttpResponse>> replies;
  for (int i = 0; i < kWaiting; ++i)
    replies.push_back(std::async(std::launch::async, [&] {
      sdk::Client c(server.url());
      return c.request("GET", "/deferred");
    }));
  ASSERT_TRUE(testing::wait_until([&] { return deferred.count() == kWaiting; }));
  // Every request waits; the server still answers others at once.
  sdk::Client other(server.url());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(other.request("GET", "/other").status, 200);
  // Completed from this thread, each reaches its client with the middleware's header.
  int n = 0;
  for (auto& d : deferred.take()) {
    Response r;
    r.status = 201;
    r.body = "answer " + std::to_string(n++);
    EXPECT_TRUE(d->complete(std::move(r)));
    EXPECT_FALSE(d->complete(Response{}));  // the first answer wins
  }
  for (auto& f : replies) {
    auto r = f.get();
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body.rfind("answer ", 0), 0u) << r.body;
    EXPECT_EQ(r.header("x-middleware"), "kept");
  }
}

TEST(HttpServer, DeferredResponseAnswersItsTimeoutResponseAndLetsGoAtTheDeadline) {
  DeferredRequests deferred;
  std::atomic<int> abandoned{0};
  RunningServer server([&](Request&) {
    Response placeholder;
    placeholder.deferred = deferred.add(std::chrono::milliseconds(100));
    placeholder.deferred->on_abandoned([&] { ++abandoned; });
    return placeholder;
  });
  sdk::Client c(server.url());
  auto r = c.request("GET", "/never");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.body, "timed out");
  EXPECT_EQ(abandoned, 1);
  auto late = deferred.take();
  ASSERT_EQ(late.size(), 1u);
  EXPECT_FALSE(late[0]->complete(Response{}));  // too late: dropped
  late[0]->on_abandoned([&] { ++abandoned; });  // runs at once once abandoned
  EXPECT_EQ(abandoned, 2);
  // The connection stays usable.
  EXPECT_EQ(c.request("GET", "/again").status, 502);
}

TEST(HttpServer, DeferredResponseCompletedBeforeTheHandlerReturnsIsSentAtOnce) {
  RunningServer server([](Request&) {
    Response placeholder;
    Response answer;
    answer.status = 204;
    placeholder.deferred = std::make_shared<DeferredResponse>(std::chrono::seconds(60), Response{});
    placeholder.deferred->complete(std::move(answer));
    return placeholder;
  });
  sdk::Client c(server.url());
  EXPECT_EQ(c.request("GET", "/x").status, 204);
}

}  // namespace
}  // namespace berth::http
