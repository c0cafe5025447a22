#include "http/tcp_forward.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <thread>

namespace berth::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct OutboundIo::Impl {
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::thread thread;
};

OutboundIo::OutboundIo() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

OutboundIo::~OutboundIo() {
  impl_->work.reset();
  impl_->ioc.stop();
  impl_->thread.join();
}

namespace {

// Stop reading the peer while this much waits to be written to the client, and go on once
// less than half of it does.
constexpr std::size_t kClientHighWater = 1 << 20;
// Stop reading the client while this much waits to be written to the peer.
constexpr std::size_t kPeerHighWater = 1 << 20;

// Everything runs on the forward's strand: the socket, the write queue, the flags. The
// server's calls (on_binary, on_close) hop onto it.
class TcpForward final : public DuplexSession, public std::enable_shared_from_this<TcpForward> {
 public:
  TcpForward(asio::io_context& ioc, TcpForwardTarget target)
      : strand_(asio::make_strand(ioc)),
        resolver_(strand_),
        socket_(strand_),
        target_(std::move(target)) {
    pending_bytes_ = target_.preamble.size();
    writes_.push_back(std::move(target_.preamble));
  }

  void on_open(std::shared_ptr<DuplexChannel> channel) override {
    channel_ = std::move(channel);
    asio::post(strand_, [self = shared_from_this()] { self->resolve(); });
  }
  void on_message(std::string text) override { forward(std::move(text)); }
  void on_binary(std::string bytes) override { forward(std::move(bytes)); }
  void on_close() override {
    asio::post(strand_, [self = shared_from_this()] { self->shut(); });
  }
  bool accepts_input() override { return pending_bytes_ < kPeerHighWater; }

 private:
  void forward(std::string bytes) {
    pending_bytes_ += bytes.size();
    asio::post(strand_, [self = shared_from_this(), bytes = std::move(bytes)]() mutable {
      self->writes_.push_back(std::move(bytes));
      if (self->connected_ && !self->writing_) self->write_next();
    });
  }

  void resolve() {
    if (closed_) return;
    resolver_.async_resolve(
        target_.host, target_.port,
        [self = shared_from_this()](boost::system::error_code ec, tcp::resolver::results_type r) {
          if (ec) return self->fail("cannot resolve " + self->target_.host + ": " + ec.message());
          self->connect(r);
        });
  }

  void connect(const tcp::resolver::results_type& endpoints) {
    if (closed_) return;
    asio::async_connect(socket_, endpoints,
                        [self = shared_from_this()](boost::system::error_code ec, tcp::endpoint) {
                          if (ec)
                            return self->fail("cannot connect to " + self->target_.host + ":" +
                                              self->target_.port + ": " + ec.message());
                          self->connected_ = true;
                          self->write_next();
                          self->read();
                        });
  }

  void write_next() {
    if (closed_ || writes_.empty()) {
      writing_ = false;
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(writes_.front()),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                        self->pending_bytes_ -= n;
                        self->writes_.pop_front();
                        if (ec) return self->end();
                        self->write_next();
                      });
  }

  void read() {
    if (closed_) return;
    socket_.async_read_some(
        asio::buffer(buffer_),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
          if (ec) return self->end();
          if (!self->channel_->send_binary(std::string(self->buffer_.data(), n)))
            return self->end();
          if (self->channel_->queued_bytes() < kClientHighWater) return self->read();
          // Weak: the channel keeps a waiter until it drains, and a client gone before then
          // would keep this forward (and the channel) alive forever.
          std::weak_ptr<TcpForward> weak = self;
          self->channel_->notify_when_below(kClientHighWater / 2, [weak] {
            if (auto forward = weak.lock())
              asio::post(forward->strand_, [forward] { forward->read(); });
          });
        });
  }

  void fail(const std::string& why) {
    spdlog::warn("relay: {}", why);
    if (!target_.failure_reply.empty()) channel_->send_binary(target_.failure_reply);
    end();
  }

  // The peer is done (or gone): what it sent reaches the client, then the client is closed.
  void end() {
    shut();
    channel_->close();
  }

  void shut() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    resolver_.cancel();
    socket_.close(ignored);
  }

  asio::strand<asio::io_context::executor_type> strand_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  TcpForwardTarget target_;
  std::shared_ptr<DuplexChannel> channel_;
  std::deque<std::string> writes_;
  std::atomic<std::size_t> pending_bytes_{0};  // queued for the peer, not yet written
  bool connected_ = false;
  bool writing_ = false;
  bool closed_ = false;
  std::array<char, 64 * 1024> buffer_{};
};

}  // namespace

std::shared_ptr<DuplexSession> make_tcp_forward(OutboundIo& io, TcpForwardTarget target) {
  return std::make_shared<TcpForward>(io.impl().ioc, std::move(target));
}

}  // namespace berth::http
