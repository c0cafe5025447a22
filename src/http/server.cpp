#include "http/server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "http/deferred.hpp"
#include "http/duplex.hpp"
#include "http/error_response.hpp"
#include "http/push.hpp"

namespace berth::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// What the server knows of one connection, so that shutdown can close it while idle.
struct Connection {
  asio::strand<asio::io_context::executor_type> strand;
  beast::tcp_stream* stream = nullptr;  // valid while registered
  bool busy = false;                    // touched only on `strand`
};

Request to_request(bhttp::request<bhttp::string_body>& in, const std::string& remote) {
  Request out;
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  if (!parse_target(out.target, out.path, out.query))
    throw Error{ErrorCode::invalid, "The request target is malformed.", out.target};
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = std::move(in.body());
  out.remote_address = remote;
  return out;
}

bhttp::response<bhttp::string_body> to_beast(Response& in, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(in.status), version};
  for (auto& [name, value] : in.headers) out.set(name, value);
  out.body() = std::move(in.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return out;
}

// Shared between a push stream's writer loop and its reader, both on the connection's strand.
struct PushState {
  explicit PushState(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  bool pending = false;  // the source woke us since the last next()
  bool closed = false;   // the peer went away or closed
  bool reader_done = false;
};

using WebSocket = beast::websocket::stream<beast::tcp_stream&>;

// Reads (and drops) client frames until the connection closes; Beast answers pings itself.
asio::awaitable<void> read_until_closed(std::shared_ptr<WebSocket> ws,
                                        std::shared_ptr<PushState> state) {
  for (;;) {
    beast::flat_buffer buffer;
    auto [ec, n] = co_await ws->async_read(buffer, kTuple);
    if (ec) break;
  }
  state->closed = true;
  state->reader_done = true;
  state->timer.cancel();
}

// One duplex connection's shared state: the send queue and the flags its writer loop and
// reader loop read. Queue and flags are touched only on the connection's strand; send() and
// close() hop onto it from any thread.
class DuplexState final : public DuplexChannel, public std::enable_shared_from_this<DuplexState> {
 public:
  DuplexState(asio::any_io_executor ex, std::size_t max_queued)
      : timer(ex), ex_(ex), max_queued_(max_queued) {}

  bool send(std::string text) override { return enqueue(std::move(text), false); }
  bool send_binary(std::string bytes) override { return enqueue(std::move(bytes), true); }
  std::size_t queued_bytes() const override { return queued_bytes_; }

  void close() override {
    closing_ = true;
    // Posted like the frames, so the writer sees every frame queued before the close.
    asio::post(ex_, [self = shared_from_this()] {
      self->close_requested = true;
      self->timer.cancel();
    });
  }

  void notify_when_below(std::size_t bytes, std::function<void()> fn) override {
    asio::post(ex_, [self = shared_from_this(), bytes, fn = std::move(fn)]() mutable {
      self->drain_waiters.emplace_back(bytes, std::move(fn));
      self->run_drain_waiters();
    });
  }

  // True once close() has been called (from any thread).
  bool closing() const { return closing_; }
  // After each write (on the strand): counts the bytes and wakes drain waiters.
  void sent(std::size_t bytes) {
    queued_bytes_ -= bytes;
    run_drain_waiters();
  }

  void run_drain_waiters() {
    for (auto it = drain_waiters.begin(); it != drain_waiters.end();) {
      if (queued_bytes_ < it->first) {
        auto fn = std::move(it->second);
        it = drain_waiters.erase(it);
        fn();
      } else {
        ++it;
      }
    }
  }

  // One queued frame; `binary` picks the WebSocket frame type (tunnels ignore it).
  struct Frame {
    std::string bytes;
    bool binary = false;
  };
  asio::steady_timer timer;
  std::deque<Frame> queue;
  bool close_requested = false;  // on the strand, after the frames sent before close()
  std::list<std::pair<std::size_t, std::function<void()>>> drain_waiters;  // on the strand
  bool peer_gone = false;
  bool reader_done = false;

 private:
  bool enqueue(std::string bytes, bool binary) {
    if (closing_) return false;
    auto size = bytes.size();
    if (queued_bytes_.fetch_add(size) + size > max_queued_) {
      spdlog::warn("duplex connection: send queue over {} bytes, closing", max_queued_);
      close();
      return false;
    }
    asio::post(ex_, [self = shared_from_this(), frame = Frame{std::move(bytes), binary}]() mutable {
      self->queue.push_back(std::move(frame));
      self->timer.cancel();
    });
    return true;
  }

  asio::any_io_executor ex_;
  std::size_t max_queued_;
  std::atomic<std::size_t> queued_bytes_{0};
  std::atomic<bool> closing_{false};
};

// Waits while the session asks the peer to hold back (its target is slow to take input).
asio::awaitable<void> wait_until_accepting(DuplexState& state, DuplexSession& session) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  while (!session.accepts_input() && !state.closing()) {
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(kTuple);
  }
}

// Hands one frame to the session; a session that throws closes the connection.
void deliver_frame(DuplexState& state, DuplexSession& session, std::string bytes, bool text) {
  try {
    if (text)
      session.on_message(std::move(bytes));
    else
      session.on_binary(std::move(bytes));
  } catch (const std::exception& e) {
    spdlog::error("duplex session failed on a message: {}", e.what());
    state.close();
  }
}

// Reads frames and hands them to the session, in order, until the connection ends.
asio::awaitable<void> read_duplex(std::shared_ptr<WebSocket> ws, std::shared_ptr<DuplexState> state,
                                  std::shared_ptr<DuplexSession> session) {
  for (;;) {
    co_await wait_until_accepting(*state, *session);
    beast::flat_buffer buffer;
    auto [ec, n] = co_await ws->async_read(buffer, kTuple);
    if (ec) break;
    deliver_frame(*state, *session, beast::buffers_to_string(buffer.data()), ws->got_text());
  }
  state->peer_gone = true;
  state->reader_done = true;
  state->timer.cancel();
}

// A tunnel's reader: bytes the client sends after its request (first those already buffered)
// go to the session as they come.
asio::awaitable<void> read_tunnel(beast::tcp_stream& stream, std::string leftover,
                                  std::shared_ptr<DuplexState> state,
                                  std::shared_ptr<DuplexSession> session) {
  if (!leftover.empty()) deliver_frame(*state, *session, std::move(leftover), false);
  std::vector<char> chunk(64 * 1024);
  for (;;) {
    co_await wait_until_accepting(*state, *session);
    auto [ec, n] = co_await stream.socket().async_read_some(asio::buffer(chunk), kTuple);
    if (ec) break;
    deliver_frame(*state, *session, std::string(chunk.data(), n), false);
  }
  state->peer_gone = true;
  state->reader_done = true;
  state->timer.cancel();
}

// RFC 6455 §4.2.1: Sec-WebSocket-Key is given once and is 16 bytes in base64 (22 characters
// and "=="). What is wrong with it, in the words of the WebSocket library Coder uses
// (nhooyr.io/websocket), or nullopt when it is valid.
std::optional<std::string> websocket_key_problem(const Request& request) {
  std::vector<std::string_view> keys;
  for (const auto& [name, value] : request.headers)
    if (name == "sec-websocket-key") keys.push_back(value);
  if (keys.empty()) return "WebSocket protocol violation: missing Sec-WebSocket-Key";
  if (keys.size() > 1) return "WebSocket protocol violation: multiple Sec-WebSocket-Key headers";
  auto key = keys.front();
  auto base64 = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  };
  if (key.size() == 24 && key.ends_with("==") && std::all_of(key.begin(), key.end() - 2, base64))
    return std::nullopt;
  return "WebSocket protocol violation: invalid Sec-WebSocket-Key \"" + std::string(key) +
         "\", must be a 16 byte base64 encoded string";
}

// Why a WebSocket endpoint did not upgrade: not asked to, or too many streams are open.
Response websocket_refusal(bool was_upgrade) {
  if (was_upgrade)
    return error_response(Error{ErrorCode::unavailable, "Too many open streams; try again later."});
  return error_response(
      Error{ErrorCode::invalid, "This endpoint requires a WebSocket upgrade.",
            "Send the request with \"Connection: Upgrade\" and \"Upgrade: websocket\"."});
}

// Go's answer to a request line whose HTTP version is not 1.x.
Response unsupported_version_response() {
  Response r;
  r.status = 505;
  r.set_header("Content-Type", "text/plain; charset=utf-8");
  r.body = "505 HTTP Version Not Supported: unsupported protocol version";
  return r;
}

// True when `received` starts with a well-formed request line (`METHOD TARGET HTTP/d.d` and
// CRLF): then Beast's bad_version means a version it does not speak, not a malformed one.
bool has_well_formed_request_line(std::string_view received) {
  auto end = received.find("\r\n");
  if (end == std::string_view::npos) return false;
  auto line = received.substr(0, end);
  auto space = line.rfind(' ');
  if (space == std::string_view::npos || line.find(' ') == space) return false;
  auto version = line.substr(space + 1);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return version.size() == 8 && version.substr(0, 5) == "HTTP/" && digit(version[5]) &&
         version[6] == '.' && digit(version[7]);
}

// Go's answer to a request it cannot parse, which Coder's clients see: "400 Bad Request: <why>"
// in plain text (505 for a version other than HTTP/1.0 and 1.1), then the connection closes.
// `received` is what the parser had not consumed. nullopt when `ec` is not a parse error (the
// peer went away or timed out): then nobody is left to answer.
std::optional<Response> malformed_request_response(const beast::error_code& ec,
                                                   std::string_view received) {
  if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category())
    return std::nullopt;
  if (ec == bhttp::error::bad_version && has_well_formed_request_line(received))
    return unsupported_version_response();
  std::string_view why;
  switch (static_cast<bhttp::error>(ec.value())) {
    case bhttp::error::bad_line_ending:
      why = "malformed line ending";
      break;
    case bhttp::error::bad_method:
      why = "malformed request method";
      break;
    case bhttp::error::bad_target:
      why = "malformed request target";
      break;
    case bhttp::error::bad_version:
      why = "malformed HTTP version";
      break;
    case bhttp::error::bad_field:
      why = "malformed header line";
      break;
    case bhttp::error::bad_value:
      why = "malformed header value";
      break;
    case bhttp::error::bad_obs_fold:
      why = "obsolete header line folding";
      break;
    case bhttp::error::bad_content_length:
      why = "invalid Content-Length";
      break;
    case bhttp::error::multiple_content_length:
      why = "multiple Content-Length headers";
      break;
    case bhttp::error::bad_transfer_encoding:
      why = "invalid Transfer-Encoding";
      break;
    case bhttp::error::bad_chunk:
      why = "malformed chunked encoding";
      break;
    case bhttp::error::bad_chunk_extension:
      why = "malformed chunk extension";
      break;
    case bhttp::error::unexpected_body:
    case bhttp::error::bad_status:
    case bhttp::error::bad_reason:
      why = "malformed request";
      break;
    default:  // end_of_stream, partial_message, short_read: the peer stopped sending
      return std::nullopt;
  }
  Response r;
  r.status = 400;
  r.set_header("Content-Type", "text/plain; charset=utf-8");
  r.body = "400 Bad Request: " + std::string(why);
  return r;
}

Response too_large_response(std::size_t limit) {
  return error_response(
      Error{ErrorCode::too_large, "Request body is too large.",
            "The request body must be at most " + std::to_string(limit) + " bytes."});
}

}  // namespace

struct Server::Impl {
  Handler handler;
  ServerLimits limits;
  AccessLog access_log;
  unsigned threads;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::signal_set signals{ioc};
  std::atomic<bool> stopping{false};  // set first, so responses from now on say "close"
  std::function<void()> on_stop;      // set before run()
  std::atomic<bool> stop_begun{false};
  std::atomic<std::size_t> active{0};
  std::atomic<std::size_t> active_streams{0};
  std::mutex mutex;
  std::map<std::uint64_t, std::shared_ptr<Connection>> connections;
  std::uint64_t next_id = 0;

  Impl(Handler h, ServerLimits l, AccessLog log, unsigned t)
      : handler(std::move(h)), limits(l), access_log(std::move(log)), threads(t ? t : 1) {}

  Response call_handler(Request& request) {
    try {
      return handler(request);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::internal)
        spdlog::error("{} {}: {}", request.method, request.path, e.detail());
      return error_response(e);
    } catch (const std::exception& e) {
      spdlog::error("unhandled error in {} {}: {}", request.method, request.path, e.what());
      return error_response(
          Error{ErrorCode::internal, "An internal server error occurred.", e.what()});
    }
  }

  // Waits (without a thread) until a deferred response is complete, or until its deadline,
  // then returns what to send; the placeholder's headers (a middleware's) are kept.
  asio::awaitable<Response> await_deferred(Response placeholder) {
    auto deferred = std::move(placeholder.deferred);
    auto ex = co_await asio::this_coro::executor;
    auto state = std::make_shared<PushState>(ex);
    deferred->set_waker([state, ex] {
      asio::post(ex, [state] {
        state->pending = true;
        state->timer.cancel();
      });
    });
    auto deadline = std::chrono::steady_clock::now() + deferred->timeout();
    std::optional<Response> done;
    while (!(done = deferred->take())) {
      if (std::chrono::steady_clock::now() >= deadline) {
        done = deferred->abandon();
        break;
      }
      state->timer.expires_at(deadline);
      co_await state->timer.async_wait(kTuple);
    }
    deferred->set_waker(nullptr);
    for (auto& [name, value] : placeholder.headers) {
      bool present = std::any_of(done->headers.begin(), done->headers.end(),
                                 [&](const auto& h) { return beast::iequals(h.first, name); });
      if (!present) done->headers.emplace_back(std::move(name), std::move(value));
    }
    co_return std::move(*done);
  }

  // A HEAD request gets the headers a GET would get, Content-Length included, and no body.
  asio::awaitable<void> write_response(beast::tcp_stream& stream, Response response,
                                       unsigned version, bool keep_alive, bool head = false) {
    auto out = to_beast(response, version, keep_alive);
    stream.expires_after(limits.read_timeout);
    if (!head) {
      co_await bhttp::async_write(stream, out, kTuple);
      co_return;
    }
    bhttp::response_serializer<bhttp::string_body> serializer{out};
    co_await bhttp::async_write_header(stream, serializer, kTuple);
  }

  // After refusing a request mid-body, reads and drops what the client is still sending (up to
  // a bound, for a short while) so that closing does not reset the connection before the
  // client has read the refusal.
  asio::awaitable<void> linger(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
    constexpr std::size_t kMaxDrainBytes = 4 * 1024 * 1024;
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer.consume(buffer.size());
    stream.expires_after(std::chrono::seconds(2));
    std::size_t drained = 0;
    char scratch[16 * 1024];
    while (drained < kMaxDrainBytes) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), kTuple);
      if (ec) break;
      drained += n;
    }
  }

  // Ends a connection whose read failed with `ec`: a request that does not parse gets Go's
  // plain-text 400 first; a peer that went away or timed out gets nothing. Always false.
  asio::awaitable<bool> refuse_malformed(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                         const beast::error_code& ec) {
    const auto* bytes = static_cast<const char*>(buffer.data().data());
    auto refusal = malformed_request_response(ec, std::string_view(bytes, buffer.size()));
    if (!refusal) co_return false;
    co_await write_response(stream, std::move(*refusal), 11, false);
    co_await linger(stream, buffer);
    co_return false;
  }

  // Upgrades the connection to a WebSocket and sends what `source` pushes until it is done or
  // the client leaves. Each wake-up of the source runs one next(); nothing polls.
  asio::awaitable<void> run_push(beast::tcp_stream& stream, Connection& conn,
                                 bhttp::request<bhttp::string_body>& message,
                                 std::shared_ptr<PushSource> source) {
    namespace ws = beast::websocket;
    auto ex = co_await asio::this_coro::executor;
    stream.expires_never();
    auto socket = std::make_shared<WebSocket>(stream);
    socket->set_option(ws::stream_base::timeout::suggested(beast::role_type::server));
    auto [ec] = co_await socket->async_accept(message, kTuple);
    if (ec) co_return;
    conn.busy = false;  // a stream is closable at shutdown like an idle connection
    auto state = std::make_shared<PushState>(ex);
    source->set_waker([state, ex] {
      asio::post(ex, [state] {
        state->pending = true;
        state->timer.cancel();
      });
    });
    asio::co_spawn(ex, read_until_closed(socket, state), asio::detached);
    while (!state->closed && !stopping) {
      state->pending = false;
      PushBatch batch;
      try {
        batch = source->next();
      } catch (const std::exception& e) {
        spdlog::error("push stream failed: {}", e.what());
        batch.done = true;
      }
      for (auto& m : batch.messages) {
        socket->text(true);
        auto [wec, n] = co_await socket->async_write(asio::buffer(m), kTuple);
        if (wec) {
          state->closed = true;
          break;
        }
      }
      if (batch.done || state->closed) break;
      if (!state->pending) {
        state->timer.expires_at(asio::steady_timer::time_point::max());
        co_await state->timer.async_wait(kTuple);
      }
    }
    source->set_waker(nullptr);
    if (!state->closed) co_await socket->async_close(ws::close_code::normal, kTuple);
    while (!state->reader_done) {
      state->timer.expires_after(std::chrono::seconds(5));
      auto [wait_ec] = co_await state->timer.async_wait(kTuple);
      if (!wait_ec && !state->reader_done) break;  // the peer never answered our close
    }
  }

  // Upgrades the connection to a WebSocket that `session` talks over in both directions: one
  // reader loop hands it frames, one writer loop (this coroutine) drains its send queue.
  asio::awaitable<void> run_duplex(beast::tcp_stream& stream, Connection& conn,
                                   bhttp::request<bhttp::string_body>& message,
                                   std::shared_ptr<DuplexSession> session) {
    namespace ws = beast::websocket;
    auto ex = co_await asio::this_coro::executor;
    stream.expires_never();
    auto socket = std::make_shared<WebSocket>(stream);
    // Pings at half the idle timeout find a peer that vanished without closing.
    ws::stream_base::timeout timeouts{std::chrono::seconds(30), std::chrono::seconds(60), true};
    socket->set_option(timeouts);
    socket->read_message_max(session->max_message_bytes());
    auto [ec] = co_await socket->async_accept(message, kTuple);
    if (ec) co_return;
    conn.busy = false;  // closable at shutdown like an idle connection
    auto state = std::make_shared<DuplexState>(ex, session->max_queued_bytes());
    try {
      session->on_open(state);
    } catch (const std::exception& e) {
      spdlog::error("duplex session failed to open: {}", e.what());
      state->close();
    }
    asio::co_spawn(ex, read_duplex(socket, state, session), asio::detached);
    co_await write_duplex(*socket, *state);
    if (!state->peer_gone) co_await socket->async_close(ws::close_code::normal, kTuple);
    while (!state->reader_done) {
      state->timer.expires_after(std::chrono::seconds(5));
      auto [wait_ec] = co_await state->timer.async_wait(kTuple);
      if (!wait_ec && !state->reader_done) break;  // the peer never answered our close
    }
    session->on_close();
  }

  // Hands the connection to `session` as a byte stream: what the client sends next (and what
  // it already sent past its request) goes to on_binary, what the session sends is written as
  // is. Ends when either side closes; the connection is not reused.
  asio::awaitable<void> run_tunnel(beast::tcp_stream& stream, Connection& conn,
                                   beast::flat_buffer& buffer,
                                   std::shared_ptr<DuplexSession> session) {
    auto ex = co_await asio::this_coro::executor;
    stream.expires_never();
    conn.busy = false;
    auto state = std::make_shared<DuplexState>(ex, session->max_queued_bytes());
    std::string leftover = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    try {
      session->on_open(state);
    } catch (const std::exception& e) {
      spdlog::error("tunnel session failed to open: {}", e.what());
      state->close();
    }
    asio::co_spawn(ex, read_tunnel(stream, std::move(leftover), state, session), asio::detached);
    co_await write_tunnel(stream, *state);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    // The reader holds a reference to the stream: it must end before this frame does.
    for (int round = 0; !state->reader_done; ++round) {
      if (round == 1) stream.socket().close(ignored);  // the peer kept its side open
      state->timer.expires_after(std::chrono::seconds(round == 0 ? 5 : 1));
      co_await state->timer.async_wait(kTuple);
    }
    session->on_close();
  }

  asio::awaitable<void> write_tunnel(beast::tcp_stream& stream, DuplexState& state) {
    while (!state.peer_gone && !stopping) {
      while (!state.queue.empty() && !state.peer_gone) {
        auto frame = std::move(state.queue.front());
        state.queue.pop_front();
        state.sent(frame.bytes.size());
        auto [wec, n] = co_await asio::async_write(stream, asio::buffer(frame.bytes), kTuple);
        if (wec) state.peer_gone = true;
      }
      if (state.peer_gone || (state.close_requested && state.queue.empty())) break;
      state.timer.expires_at(asio::steady_timer::time_point::max());
      co_await state.timer.async_wait(kTuple);
    }
  }

  // Sends queued frames until the peer leaves, the session closes (after the queue drains),
  // or the server stops.
  asio::awaitable<void> write_duplex(WebSocket& socket, DuplexState& state) {
    while (!state.peer_gone && !stopping) {
      while (!state.queue.empty() && !state.peer_gone) {
        auto frame = std::move(state.queue.front());
        state.queue.pop_front();
        state.sent(frame.bytes.size());
        socket.binary(frame.binary);
        auto [wec, n] = co_await socket.async_write(asio::buffer(frame.bytes), kTuple);
        if (wec) state.peer_gone = true;
      }
      if (state.peer_gone || (state.close_requested && state.queue.empty())) break;
      state.timer.expires_at(asio::steady_timer::time_point::max());
      co_await state.timer.async_wait(kTuple);
    }
  }

  // Server-Sent Events on this connection: headers, then each pushed message as it comes, and a
  // ping every 15 s of quiet, until the source is done or the client goes away.
  asio::awaitable<void> run_event_stream(beast::tcp_stream& stream, Connection& conn,
                                         unsigned version, std::shared_ptr<PushSource> source) {
    constexpr auto kPing = std::chrono::seconds(15);
    auto ex = co_await asio::this_coro::executor;
    stream.expires_never();
    static constexpr std::string_view kHeaders =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Connection: close\r\nX-Accel-Buffering: no\r\n\r\n";
    (void)version;
    auto [hec, hn] =
        co_await asio::async_write(stream, asio::buffer(kHeaders.data(), kHeaders.size()), kTuple);
    if (hec) co_return;
    conn.busy = false;
    auto state = std::make_shared<PushState>(ex);
    source->set_waker([state, ex] {
      asio::post(ex, [state] {
        state->pending = true;
        state->timer.cancel();
      });
    });
    // Any bytes or EOF from the client end the stream (SSE is one-way).
    asio::co_spawn(
        ex,
        [&stream, state]() -> asio::awaitable<void> {
          char scratch[256];
          for (;;) {
            auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), kTuple);
            if (ec) break;
          }
          state->closed = true;
          state->reader_done = true;
          state->timer.cancel();
        },
        asio::detached);
    bool ping = false;
    while (!state->closed && !stopping) {
      PushBatch batch;
      if (ping) {
        batch.messages.push_back("event: ping\n\n");
      } else {
        state->pending = false;
        try {
          batch = source->next();
        } catch (const std::exception& e) {
          spdlog::error("event stream failed: {}", e.what());
          batch.done = true;
        }
      }
      for (auto& m : batch.messages) {
        auto [wec, n] = co_await asio::async_write(stream, asio::buffer(m), kTuple);
        if (wec) state->closed = true;
        if (state->closed) break;
      }
      if (batch.done || state->closed) break;
      ping = false;
      if (!state->pending) {
        state->timer.expires_after(kPing);
        auto [tec] = co_await state->timer.async_wait(kTuple);
        ping = !tec && !state->pending;
      }
    }
    source->set_waker(nullptr);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    while (!state->reader_done) {
      state->timer.expires_after(std::chrono::seconds(5));
      auto [wait_ec] = co_await state->timer.async_wait(kTuple);
      if (!wait_ec && !state->reader_done) break;
    }
  }

  // One request on the connection; returns false when the connection should close.
  asio::awaitable<bool> serve_one(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                  Connection& conn, const std::string& remote, bool first) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    stream.expires_after(first ? limits.read_timeout : limits.idle_timeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    if (ec == bhttp::error::header_limit) {
      Response r = error_response(Error{ErrorCode::invalid, "Request headers are too large."});
      r.status = 431;
      co_await write_response(stream, std::move(r), 11, false);
      co_return false;
    }
    if (ec == bhttp::error::body_limit) {  // a declared Content-Length over the limit
      co_await write_response(stream, too_large_response(limits.max_body_bytes), 11, false);
      co_await linger(stream, buffer);
      co_return false;
    }
    if (ec) co_return co_await refuse_malformed(stream, buffer, ec);
    conn.busy = true;
    auto started = std::chrono::steady_clock::now();
    auto& header = parser.get();
    // Go's server, which Coder's clients know, reads no transfer coding but a lone `chunked`
    // (Beast would pass `gzip, chunked` through undecoded, and read `gzip` as no body at all).
    if (auto te = header[bhttp::field::transfer_encoding];
        !te.empty() && !beast::iequals(te, "chunked")) {
      Response r;
      r.status = 501;
      r.set_header("Content-Type", "text/plain; charset=utf-8");
      r.body = "Unsupported transfer encoding";
      co_await write_response(stream, std::move(r), 11, false);
      co_await linger(stream, buffer);
      co_return false;
    }
    auto length = parser.content_length();
    if (length && *length > limits.max_body_bytes) {
      co_await write_response(stream, too_large_response(limits.max_body_bytes), header.version(),
                              false);
      co_await linger(stream, buffer);
      co_return false;
    }
    if (header[bhttp::field::expect] == "100-continue") {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await asio::async_write(stream, asio::buffer(kContinue.data(), kContinue.size()), kTuple);
    }
    stream.expires_after(limits.read_timeout);
    std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    if (ec == bhttp::error::body_limit) {
      co_await write_response(stream, too_large_response(limits.max_body_bytes), header.version(),
                              false);
      co_await linger(stream, buffer);
      co_return false;
    }
    if (ec) co_return co_await refuse_malformed(stream, buffer, ec);
    auto message = parser.release();
    unsigned version = message.version();
    bool wants_keep_alive = message.keep_alive();
    Response response;
    Request request;
    try {
      request = to_request(message, remote);
      response = call_handler(request);
    } catch (const Error& e) {
      response = error_response(e);
    }
    if (response.deferred) response = co_await await_deferred(std::move(response));
    // Every upgrade passes here (push and duplex WebSockets, an app's WebSocket through a
    // tunnel): one with an invalid key is refused before anything is accepted or forwarded.
    if ((response.websocket || response.duplex || response.tunnel) &&
        request.is_websocket_upgrade()) {
      if (auto problem = websocket_key_problem(request))
        response =
            error_response(Error{ErrorCode::invalid, "Failed to accept websocket.", *problem});
    }
    if (response.websocket) {
      if (!request.is_websocket_upgrade() || active_streams >= limits.max_streams) {
        response = websocket_refusal(request.is_websocket_upgrade());
      } else {
        ++active_streams;
        if (access_log) access_log(request, 101, 0, std::chrono::microseconds(0));
        co_await run_push(stream, conn, message, std::move(response.websocket));
        --active_streams;
        co_return false;
      }
    }
    if (response.duplex) {
      if (!request.is_websocket_upgrade() || active_streams >= limits.max_streams) {
        response = websocket_refusal(request.is_websocket_upgrade());
      } else {
        ++active_streams;
        if (access_log) access_log(request, 101, 0, std::chrono::microseconds(0));
        co_await run_duplex(stream, conn, message, std::move(response.duplex));
        --active_streams;
        co_return false;
      }
    }
    if (response.tunnel) {
      if (active_streams >= limits.max_streams) {
        response = error_response(
            Error{ErrorCode::unavailable, "Too many open streams; try again later."});
      } else {
        ++active_streams;
        if (access_log) access_log(request, response.status, 0, std::chrono::microseconds(0));
        co_await run_tunnel(stream, conn, buffer, std::move(response.tunnel));
        --active_streams;
        co_return false;
      }
    }
    if (response.event_stream) {
      if (active_streams >= limits.max_streams) {
        response = error_response(
            Error{ErrorCode::unavailable, "Too many open streams; try again later."});
      } else {
        ++active_streams;
        if (access_log) access_log(request, 200, 0, std::chrono::microseconds(0));
        co_await run_event_stream(stream, conn, version, std::move(response.event_stream));
        --active_streams;
        co_return false;
      }
    }
    int status = response.status;
    std::size_t bytes = response.body.size();
    bool keep_alive = wants_keep_alive && !stopping;  // decided after the handler ran
    co_await write_response(stream, std::move(response), version, keep_alive,
                            request.method == "HEAD");
    if (access_log)
      access_log(request, status, bytes,
                 std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - started));
    conn.busy = false;
    co_return keep_alive && !stopping;
  }

  asio::awaitable<void> session(tcp::socket socket, std::shared_ptr<Connection> conn,
                                std::uint64_t id) {
    beast::error_code ignored;
    auto endpoint = socket.remote_endpoint(ignored);
    std::string remote = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    // Small frames back to back (an agent stream's close, then the next open_stream) otherwise
    // wait for the peer's delayed ACK: ~40 ms per proxied app request.
    socket.set_option(tcp::no_delay(true), ignored);
    beast::tcp_stream stream(std::move(socket));
    conn->stream = &stream;
    beast::flat_buffer buffer;
    try {
      for (bool first = true; !stopping; first = false)
        if (!co_await serve_one(stream, buffer, *conn, remote, first)) break;
    } catch (const std::exception& e) {
      spdlog::warn("connection {} ended: {}", remote, e.what());
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.close();
    unregister(id);
  }

  void unregister(std::uint64_t id) {
    std::lock_guard lock(mutex);
    connections.erase(id);
    --active;
  }

  asio::awaitable<void> refuse(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    co_await write_response(
        stream,
        error_response(Error{ErrorCode::unavailable, "Too many connections; try again later."}), 11,
        false);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto strand = asio::make_strand(ioc);
      auto [ec, socket] = co_await acceptor.async_accept(strand, kTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        spdlog::warn("accept failed: {}", ec.message());
        continue;
      }
      if (active >= limits.max_connections) {
        asio::co_spawn(strand, refuse(std::move(socket)), asio::detached);
        continue;
      }
      auto conn = std::make_shared<Connection>(Connection{strand});
      std::uint64_t id;
      {
        std::lock_guard lock(mutex);
        id = next_id++;
        connections[id] = conn;
        ++active;
      }
      asio::co_spawn(strand, session(std::move(socket), conn, id), asio::detached);
    }
  }

  void close_idle_connections() {
    std::lock_guard lock(mutex);
    for (auto& [id, conn] : connections) {
      asio::post(conn->strand, [conn] {
        if (!conn->busy && conn->stream) conn->stream->socket().close();
      });
    }
  }

  // Waits for in-flight requests, then lets run() return; forces it after the grace period.
  asio::awaitable<void> drain() {
    asio::steady_timer timer(ioc);
    auto deadline = std::chrono::steady_clock::now() + limits.shutdown_grace;
    while (active > 0 && std::chrono::steady_clock::now() < deadline) {
      close_idle_connections();
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(kTuple);
    }
    if (active > 0) {
      spdlog::warn("{} connections still open after the shutdown grace period", active.load());
      ioc.stop();
    }
  }

  void begin_stop() {
    stopping = true;
    if (stop_begun.exchange(true)) return;
    if (on_stop) {
      try {
        on_stop();
      } catch (const std::exception& e) {
        spdlog::error("shutdown hook failed: {}", e.what());
      }
    }
    beast::error_code ignored;
    acceptor.close(ignored);
    signals.cancel(ignored);
    asio::co_spawn(ioc, drain(), asio::detached);
  }
};

Server::Server(Handler handler, ServerLimits limits, AccessLog access_log, unsigned threads)
    : impl_(std::make_unique<Impl>(std::move(handler), limits, std::move(access_log), threads)) {}

Server::~Server() = default;

std::string Server::listen(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    throw Error{ErrorCode::invalid, "The HTTP address must be host:port.", address};
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  beast::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  if (ec) throw Error{ErrorCode::invalid, "The HTTP address has an invalid host.", address};
  int port = 0;
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535)
    throw Error{ErrorCode::invalid, "The HTTP address has an invalid port.", address};
  tcp::endpoint endpoint{ip, static_cast<unsigned short>(port)};
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint, ec);
  if (ec) throw Error{ErrorCode::unavailable, "Cannot listen on " + address + ".", ec.message()};
  acceptor.listen(asio::socket_base::max_listen_connections);
  auto bound = acceptor.local_endpoint();
  std::string host_text = bound.address().to_string();
  if (bound.address().is_v6()) host_text = "[" + host_text + "]";
  return host_text + ":" + std::to_string(bound.port());
}

void Server::run(bool stop_on_signals) {
  auto& impl = *impl_;
  if (stop_on_signals) {
    impl.signals.add(SIGINT);
    impl.signals.add(SIGTERM);
    impl.signals.async_wait([&impl](const beast::error_code& ec, int signal) {
      if (ec) return;
      spdlog::info("received signal {}, shutting down", signal);
      impl.begin_stop();
    });
  }
  asio::co_spawn(impl.ioc, impl.accept_loop(), asio::detached);
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < impl.threads; ++i) workers.emplace_back([&impl] { impl.ioc.run(); });
  impl.ioc.run();
  for (auto& t : workers) t.join();
}

void Server::on_stop(std::function<void()> fn) {
  impl_->on_stop = std::move(fn);
}

void Server::stop() {
  impl_->stopping = true;
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->begin_stop(); });
}

}  // namespace berth::http
