#include "sdk/websocket.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common/error.hpp"

namespace berth::sdk {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

struct WebSocket::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  std::thread thread;
  // Touched only on the I/O thread.
  std::deque<std::pair<std::string, bool>> outgoing;
  bool writing = false;
  // Shared with readers.
  mutable std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::string> incoming;
  bool closed = false;

  void read_next() {
    auto buffer = std::make_shared<beast::flat_buffer>();
    ws.async_read(*buffer, [self = shared_from_this(), buffer](beast::error_code ec, std::size_t) {
      std::lock_guard lock(self->mutex);
      if (ec) {
        self->closed = true;
        self->cv.notify_all();
        return;
      }
      self->incoming.push_back(beast::buffers_to_string(buffer->data()));
      self->cv.notify_all();
      self->read_next();
    });
  }

  void write_next() {
    if (writing || outgoing.empty()) return;
    writing = true;
    ws.binary(outgoing.front().second);
    ws.async_write(asio::buffer(outgoing.front().first),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     self->writing = false;
                     self->outgoing.pop_front();
                     if (ec) {
                       std::lock_guard lock(self->mutex);
                       self->closed = true;
                       self->cv.notify_all();
                       return;
                     }
                     self->write_next();
                   });
  }
};

std::unique_ptr<WebSocket> WebSocket::connect(const std::string& host, const std::string& port,
                                              const std::string& target, const std::string& token) {
  auto impl = std::make_shared<Impl>();
  websocket::response_type response;
  beast::error_code ec;
  try {
    asio::ip::tcp::resolver resolver(impl->ioc);
    beast::get_lowest_layer(impl->ws).connect(resolver.resolve(host, port));
  } catch (const beast::system_error& e) {
    throw Error{ErrorCode::unavailable, "Cannot reach the server at " + host + ":" + port + ".",
                e.code().message()};
  }
  impl->ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
    req.set(beast::http::field::user_agent, "berth-sdk");
    if (!token.empty()) req.set("Coder-Session-Token", token);
  }));
  impl->ws.read_message_max(16 * 1024 * 1024);
  beast::get_lowest_layer(impl->ws).expires_after(std::chrono::seconds(30));
  impl->ws.handshake(response, host + ":" + port, target, ec);
  if (ec) {
    std::string detail = std::to_string(response.result_int());
    if (!response.body().empty()) detail.append(" ").append(response.body());
    throw Error{ErrorCode::unavailable, "The WebSocket upgrade to " + target + " failed.", detail};
  }
  beast::get_lowest_layer(impl->ws).expires_never();
  impl->ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(30),
                                                      websocket::stream_base::none(), true});
  impl->read_next();
  impl->thread = std::thread([impl = impl.get()] { impl->ioc.run(); });
  return std::unique_ptr<WebSocket>(new WebSocket(impl));
}

WebSocket::WebSocket(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebSocket::~WebSocket() {
  close();
}

bool WebSocket::send(std::string bytes, bool binary) {
  if (closed()) return false;
  asio::post(impl_->ioc, [impl = impl_, bytes = std::move(bytes), binary]() mutable {
    impl->outgoing.emplace_back(std::move(bytes), binary);
    impl->write_next();
  });
  return true;
}

std::optional<std::string> WebSocket::read(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  impl_->cv.wait_for(lock, timeout, [&] { return !impl_->incoming.empty() || impl_->closed; });
  if (impl_->incoming.empty()) return std::nullopt;
  auto out = std::move(impl_->incoming.front());
  impl_->incoming.pop_front();
  return out;
}

bool WebSocket::closed() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->closed && impl_->incoming.empty();
}

void WebSocket::close() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->ioc, [impl = impl_] {
    // Let queued writes go first, then close; the read loop ends with the close.
    auto finish = [impl] {
      impl->ws.async_close(websocket::close_code::normal, [impl](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(impl->ws).socket().close(ignored);
      });
    };
    if (impl->outgoing.empty() && !impl->writing) return finish();
    // Writes still in flight: close after a short grace.
    auto timer = std::make_shared<asio::steady_timer>(impl->ioc, std::chrono::milliseconds(200));
    timer->async_wait([finish, timer](beast::error_code) { finish(); });
  });
  // The close handshake is bounded: a peer that never answers is cut off.
  std::thread stopper([impl = impl_] {
    std::unique_lock lock(impl->mutex);
    impl->cv.wait_for(lock, std::chrono::seconds(3), [&] { return impl->closed; });
    lock.unlock();
    impl->ioc.stop();
  });
  impl_->thread.join();
  stopper.join();
  // Run what was left pending to completion (aborted), so no handler keeps Impl alive.
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
  impl_->ioc.restart();
  impl_->ioc.run();
}

}  // namespace berth::sdk
