#include "agent/connection.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "agent/backoff.hpp"
#include "agent/reconnecting_pty.hpp"
#include "common/error.hpp"
#include "sdk/agent_protocol.hpp"

namespace berth::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace proto = sdk::agentproto;
using tcp = asio::ip::tcp;
using WebSocket = websocket::stream<beast::tcp_stream>;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

struct Endpoint {
  std::string host;
  std::string port;
  std::string path;  // prefix before /api/v2
};

Endpoint parse_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme))
    throw std::invalid_argument("CODER_AGENT_URL must be an http:// URL: " + url);
  auto rest = url.substr(kScheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.pop_back();
  auto colon = authority.rfind(':');
  if (colon == std::string::npos || authority.back() == ']') return {authority, "80", path};
  return {authority.substr(0, colon), authority.substr(colon + 1), path};
}

// A TCP connection the server asked for (open_stream), relayed as stream frames.
struct TcpRelay {
  explicit TcpRelay(asio::any_io_executor ex) : socket(ex), credit(ex) {}
  tcp::socket socket;
  std::deque<std::string> writes;  // bytes from the server not yet written to the port
  std::size_t queued = 0;
  bool writing = false;
  bool closed = false;
  std::size_t window = 0;     // flow control: 0 = none (the server sends no acks)
  std::size_t unacked = 0;    // bytes sent to the server and not yet acknowledged
  asio::steady_timer credit;  // the port's reader waits here for an ack
};

// The largest flow-control window a server may ask for.
constexpr std::size_t kMaxStreamWindow = 16 * 1024 * 1024;

// Bytes from the server one stream may hold before it is closed, and frames in the send
// queue above which relays stop reading their ports for a moment.
constexpr std::size_t kMaxRelayQueuedBytes = 8 * 1024 * 1024;
constexpr std::size_t kMaxQueuedFrames = 256;

// A terminal attachment the server asked for (open_pty), relayed as stream frames. The I/O
// thread owns it; the session's reader thread reaches the I/O thread through `to_io` while
// the link lives (cleared under `mutex` when it ends).
struct PtyLink {
  std::int64_t stream = 0;
  std::uint64_t gen = 0;
  std::shared_ptr<PtyAttachment> attachment;  // null once ended
  std::size_t unacked = 0;                    // output enqueued but not yet acknowledged
  bool acking = false;
  bool server_acks = false;  // flow control: the server acknowledges what its client took
  std::mutex mutex;
  std::function<void(std::string)> to_io;  // output from the program
  std::function<void()> closed_to_io;      // the program exited or the session was killed
};

// What a caller of call() waits for.
struct Pending {
  bool done = false;
  bool ok = false;
  json::value result;
  std::string code;
  std::string message;
};

}  // namespace

struct Connection::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(ConnectionOptions o)
      : options(std::move(o)),
        endpoint(parse_url(options.url)),
        backoff(options.backoff_initial, options.backoff_max, std::random_device{}()) {}

  ConnectionOptions options;
  Endpoint endpoint;
  Backoff backoff;
  asio::io_context ioc;
  asio::steady_timer wake{ioc};   // wakes the writer
  asio::steady_timer retry{ioc};  // the backoff wait
  std::thread thread;
  // I/O thread only:
  std::shared_ptr<WebSocket> ws;
  std::deque<std::string> outq;
  std::map<std::int64_t, std::shared_ptr<TcpRelay>> relays;
  std::map<std::int64_t, std::shared_ptr<PtyLink>> pty_links;
  // Shared, under `mutex`:
  std::mutex mutex;
  std::condition_variable cv;
  bool connected = false;
  bool stopping = false;
  std::uint64_t generation = 0;  // bumped per connection: frames of an older one are dropped
  std::int64_t next_id = 1;
  std::map<std::int64_t, std::shared_ptr<Pending>> pending;
  // The round trip of the last update_startup or heartbeat, and the one in flight.
  std::int64_t timed_id = 0;
  std::chrono::steady_clock::time_point timed_sent;
  std::optional<double> round_trip_ms;

  std::int64_t take_timed_id() {
    std::lock_guard lock(mutex);
    timed_id = next_id++;
    timed_sent = std::chrono::steady_clock::now();
    return timed_id;
  }

  bool is_stopping() {
    std::lock_guard lock(mutex);
    return stopping;
  }

  void fail_pending(const std::string& why) {
    std::lock_guard lock(mutex);
    connected = false;
    for (auto& [id, p] : pending) {
      p->done = true;
      p->code = "disconnected";
      p->message = why;
    }
    pending.clear();
    cv.notify_all();
  }

  std::int64_t take_id() {
    std::lock_guard lock(mutex);
    return next_id++;
  }

  void enqueue(std::string frame) {
    outq.push_back(std::move(frame));
    wake.cancel();
  }

  asio::awaitable<void> run() {
    while (!is_stopping()) {
      bool held = false;
      try {
        held = co_await session();
      } catch (const boost::system::system_error& e) {
        spdlog::warn("connection to {} failed: {}", options.url, e.code().message());
      } catch (const std::exception& e) {
        spdlog::warn("connection to {} failed: {}", options.url, e.what());
      }
      fail_pending("the connection to the server dropped");
      if (is_stopping()) break;
      if (held) backoff.reset();
      auto delay = backoff.next();
      spdlog::info("reconnecting in {} ms", delay.count());
      retry.expires_after(delay);
      co_await retry.async_wait(kTuple);
    }
  }

  asio::awaitable<std::shared_ptr<WebSocket>> open() {
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    auto results =
        co_await resolver.async_resolve(endpoint.host, endpoint.port, asio::use_awaitable);
    auto socket = std::make_shared<WebSocket>(ex);
    auto& tcp_layer = beast::get_lowest_layer(*socket);
    tcp_layer.expires_after(std::chrono::seconds(10));
    co_await tcp_layer.async_connect(results, asio::use_awaitable);
    tcp_layer.expires_never();
    // Pings at half the idle timeout find a server that vanished without closing.
    socket->set_option(
        websocket::stream_base::timeout{std::chrono::seconds(10), std::chrono::seconds(45), true});
    socket->set_option(websocket::stream_base::decorator([this](websocket::request_type& req) {
      req.set("Coder-Session-Token", options.token);
      req.set(beast::http::field::user_agent, "berth-agent/" + options.version);
    }));
    socket->read_message_max(proto::kMaxMessageBytes);
    websocket::response_type response;
    auto [ec] = co_await socket->async_handshake(response, endpoint.host + ":" + endpoint.port,
                                                 endpoint.path + proto::kRpcPath, kTuple);
    if (ec)
      throw std::runtime_error("the server refused the agent connection (HTTP " +
                               std::to_string(response.result_int()) + "): " + response.body());
    co_return socket;
  }

  // One connection, from connect to drop; true if it was established.
  asio::awaitable<bool> session() {
    auto socket = co_await open();
    auto ex = co_await asio::this_coro::executor;
    std::uint64_t gen;
    {
      std::lock_guard lock(mutex);
      gen = ++generation;
    }
    ws = socket;
    outq.clear();
    // update_startup goes first, before any caller's frame can be queued.
    outq.push_back(
        proto::encode_request(take_timed_id(), "update_startup",
                              json::object{{"version", options.version},
                                           {"api_version", proto::kApiVersion},
                                           {"expanded_directory", options.expanded_directory}}));
    {
      std::lock_guard lock(mutex);
      connected = true;
    }
    cv.notify_all();
    spdlog::info("connected to {}", options.url);
    auto heartbeat = std::make_shared<asio::steady_timer>(ex);
    asio::co_spawn(ex, write_loop(socket, gen), asio::detached);
    asio::co_spawn(ex, heartbeat_loop(heartbeat, gen), asio::detached);
    co_await read_loop(*socket);
    {
      std::lock_guard lock(mutex);
      connected = false;
      ++generation;  // ends the writer and heartbeat of this connection
    }
    heartbeat->cancel();
    wake.cancel();
    close_relays();
    close_ptys();
    beast::error_code ignored;
    beast::get_lowest_layer(*socket).socket().close(ignored);
    ws.reset();
    co_return true;
  }

  bool current(std::uint64_t gen) {
    std::lock_guard lock(mutex);
    return generation == gen && !stopping;
  }

  asio::awaitable<void> write_loop(std::shared_ptr<WebSocket> socket, std::uint64_t gen) {
    while (current(gen)) {
      if (outq.empty()) {
        wake.expires_at(asio::steady_timer::time_point::max());
        co_await wake.async_wait(kTuple);
        continue;
      }
      auto frame = std::move(outq.front());
      outq.pop_front();
      socket->text(true);
      auto [ec, n] = co_await socket->async_write(asio::buffer(frame), kTuple);
      if (ec) {
        beast::error_code ignored;
        beast::get_lowest_layer(*socket).socket().close(ignored);  // the reader ends the session
        co_return;
      }
    }
  }

  asio::awaitable<void> heartbeat_loop(std::shared_ptr<asio::steady_timer> timer,
                                       std::uint64_t gen) {
    for (;;) {
      timer->expires_after(options.heartbeat);
      co_await timer->async_wait(kTuple);
      if (!current(gen)) co_return;
      enqueue(proto::encode_request(take_timed_id(), "heartbeat", {}));
    }
  }

  asio::awaitable<void> read_loop(WebSocket& socket) {
    for (;;) {
      beast::flat_buffer buffer;
      auto [ec, n] = co_await socket.async_read(buffer, kTuple);
      if (ec) {
        if (!is_stopping()) spdlog::warn("connection lost: {}", ec.message());
        co_return;
      }
      handle(proto::parse_message(beast::buffers_to_string(buffer.data())));
    }
  }

  void handle(const proto::Message& m) {
    using Kind = proto::Message::Kind;
    if (m.kind == Kind::response || m.kind == Kind::error) {
      std::lock_guard lock(mutex);
      if (m.id == timed_id) {
        std::chrono::duration<double, std::milli> rtt =
            std::chrono::steady_clock::now() - timed_sent;
        round_trip_ms = rtt.count();
        timed_id = 0;
      }
      auto it = pending.find(m.id);
      if (it == pending.end()) return;  // heartbeat and startup answers
      auto& p = *it->second;
      p.done = true;
      p.ok = m.kind == Kind::response;
      p.result = m.result;
      p.code = m.error_code;
      p.message = m.error_message;
      pending.erase(it);
      cv.notify_all();
    } else if (m.kind == Kind::stream && pty_links.contains(m.stream)) {
      pty_frame(m);
    } else if (m.kind == Kind::stream) {
      relay_frame(m);
    } else if (m.kind == Kind::request && m.method == "open_pty") {
      open_pty(m.id, m.params);
    } else if (m.kind == Kind::request && m.method == "open_stream") {
      std::uint64_t gen;
      {
        std::lock_guard lock(mutex);
        gen = generation;
      }
      asio::co_spawn(ioc, open_relay(m.id, m.params, gen), asio::detached);
    } else if (m.kind == Kind::request) {
      enqueue(proto::encode_error(m.id, "not_found", "Unknown method.",
                                  "this agent does not serve \"" + m.method + "\""));
    } else if (m.kind == Kind::invalid) {
      spdlog::warn("ignoring a bad frame from the server: {}", m.error_message);
    }
  }

  // --- TCP streams (I/O thread only) ---

  void close_relays() {
    for (auto& [id, r] : relays) {
      r->closed = true;
      beast::error_code ignored;
      r->socket.close(ignored);
      r->credit.cancel();
    }
    relays.clear();
  }

  // Closes one relay; tells the server unless it closed the stream itself.
  void end_relay(std::int64_t id, const std::shared_ptr<TcpRelay>& r, bool tell,
                 std::uint64_t gen) {
    if (r->closed) return;
    r->closed = true;
    beast::error_code ignored;
    r->socket.close(ignored);
    r->credit.cancel();
    if (auto it = relays.find(id); it != relays.end() && it->second == r) relays.erase(it);
    if (tell && current(gen)) enqueue(proto::encode_stream_close(id));
  }

  asio::awaitable<void> open_relay(std::int64_t request_id, json::object params,
                                   std::uint64_t gen) {
    auto* sv = params.if_contains("stream");
    auto* pv = params.if_contains("port");
    if (!sv || !sv->is_int64() || !pv || !pv->is_int64() || pv->get_int64() < 1 ||
        pv->get_int64() > 65535) {
      if (current(gen))
        enqueue(
            proto::encode_error(request_id, "invalid", "open_stream needs a stream and a port."));
      co_return;
    }
    auto id = sv->get_int64();
    auto port = static_cast<unsigned short>(pv->get_int64());
    if (relays.contains(id)) {
      if (current(gen))
        enqueue(proto::encode_error(request_id, "conflict", "That stream is already open."));
      co_return;
    }
    auto r = std::make_shared<TcpRelay>(ioc.get_executor());
    if (auto* w = params.if_contains("window"); w && w->is_int64() && w->get_int64() > 0)
      r->window = std::min<std::size_t>(w->get_int64(), kMaxStreamWindow);
    relays[id] = r;
    // Only this machine's loopback: a stream reaches the workspace's own ports.
    auto [ec] = co_await r->socket.async_connect(
        tcp::endpoint(asio::ip::address_v4::loopback(), port), kTuple);
    if (!current(gen) || r->closed) {
      end_relay(id, r, false, gen);
      co_return;
    }
    if (ec) {
      end_relay(id, r, false, gen);
      enqueue(proto::encode_error(request_id, "unavailable",
                                  "Could not connect to port " + std::to_string(port) + ".",
                                  ec.message()));
      co_return;
    }
    enqueue(proto::encode_result(request_id, json::object{}));
    co_await pump_from_port(id, r, gen);
  }

  asio::awaitable<void> pump_from_port(std::int64_t id, std::shared_ptr<TcpRelay> r,
                                       std::uint64_t gen) {
    std::string buf(32 * 1024, '\0');
    asio::steady_timer pause(ioc);
    for (;;) {
      while (outq.size() > kMaxQueuedFrames && current(gen) && !r->closed) {
        pause.expires_after(std::chrono::milliseconds(5));
        co_await pause.async_wait(kTuple);
      }
      while (r->window && r->unacked >= r->window && current(gen) && !r->closed) {
        r->credit.expires_at(asio::steady_timer::time_point::max());
        co_await r->credit.async_wait(kTuple);  // an ack or the end cancels it
      }
      if (r->closed || !current(gen)) co_return;
      auto [ec, n] = co_await r->socket.async_read_some(asio::buffer(buf), kTuple);
      if (r->closed || !current(gen)) co_return;
      r->unacked += n;
      if (n > 0) enqueue(proto::encode_stream_data(id, std::string_view(buf.data(), n)));
      if (ec) {
        end_relay(id, r, true, gen);
        co_return;
      }
    }
  }

  asio::awaitable<void> pump_to_port(std::int64_t id, std::shared_ptr<TcpRelay> r,
                                     std::uint64_t gen) {
    while (!r->writes.empty() && !r->closed) {
      auto [ec, n] = co_await asio::async_write(r->socket, asio::buffer(r->writes.front()), kTuple);
      if (ec || r->closed) {
        end_relay(id, r, true, gen);
        break;
      }
      r->queued -= r->writes.front().size();
      // With flow control on, the server sends at most a window ahead of what the port took.
      if (r->window && current(gen))
        enqueue(proto::encode_stream_ack(id, static_cast<std::int64_t>(r->writes.front().size())));
      r->writes.pop_front();
    }
    r->writing = false;
  }

  void relay_frame(const proto::Message& m) {
    std::uint64_t gen;
    {
      std::lock_guard lock(mutex);
      gen = generation;
    }
    auto it = relays.find(m.stream);
    if (it == relays.end()) {
      if (!m.close) enqueue(proto::encode_stream_close(m.stream));
      return;
    }
    auto r = it->second;
    if (m.close) {
      end_relay(m.stream, r, false, gen);
      return;
    }
    if (m.ack > 0) {
      r->unacked -= std::min<std::size_t>(m.ack, r->unacked);
      r->credit.cancel();
    }
    if (m.data.empty()) return;
    if (r->queued + m.data.size() > kMaxRelayQueuedBytes) {
      spdlog::warn("stream {}: the port does not keep up; closing it", m.stream);
      end_relay(m.stream, r, true, gen);
      return;
    }
    r->queued += m.data.size();
    r->writes.push_back(m.data);
    if (!r->writing) {
      r->writing = true;  // before the writer starts: co_spawn only posts it
      asio::co_spawn(ioc, pump_to_port(m.stream, r, gen), asio::detached);
    }
  }

  // --- terminals (I/O thread only) ---

  std::uint64_t current_generation() {
    std::lock_guard lock(mutex);
    return generation;
  }

  // Ends a terminal attachment (the session lives on); tells the server unless it closed.
  void end_pty(const std::shared_ptr<PtyLink>& link, bool tell) {
    if (!link->attachment) return;
    {
      std::lock_guard lock(link->mutex);
      link->to_io = nullptr;
      link->closed_to_io = nullptr;
    }
    auto attachment = std::move(link->attachment);
    attachment->detach();
    if (auto it = pty_links.find(link->stream); it != pty_links.end() && it->second == link)
      pty_links.erase(it);
    if (tell && current(link->gen)) enqueue(proto::encode_stream_close(link->stream));
  }

  void close_ptys() {
    auto links = std::move(pty_links);
    pty_links.clear();
    for (auto& [id, link] : links) end_pty(link, false);
  }

  void open_pty(std::int64_t request_id, const json::object& params) {
    auto gen = current_generation();
    auto refuse = [&](const char* code, const std::string& message, const std::string& detail) {
      if (current(gen)) enqueue(proto::encode_error(request_id, code, message, detail));
    };
    auto* sv = params.if_contains("stream");
    auto* rv = params.if_contains("reconnect");
    auto* cmd = params.if_contains("command");
    auto size = [&](const char* key) -> std::int64_t {
      auto* v = params.if_contains(key);
      if (!v || v->is_null()) return 0;
      return v->is_int64() && v->get_int64() >= 0 && v->get_int64() <= 65535 ? v->get_int64() : -1;
    };
    auto width = size("width");
    auto height = size("height");
    if (!sv || !sv->is_int64() || !rv || !rv->is_string() || (cmd && !cmd->is_string()) ||
        width < 0 || height < 0)
      return refuse("invalid",
                    "open_pty needs a stream, a reconnect id, and optionally a width and "
                    "height (0-65535) and a command.",
                    "");
    auto id = sv->get_int64();
    if (relays.contains(id) || pty_links.contains(id))
      return refuse("conflict", "That stream is already open.", "");
    if (!options.terminals) return refuse("unavailable", "This agent serves no terminals.", "");
    auto link = std::make_shared<PtyLink>();
    link->stream = id;
    link->gen = gen;
    std::size_t window = 0;
    if (auto* w = params.if_contains("window"); w && w->is_int64() && w->get_int64() > 0) {
      window = std::min<std::size_t>(w->get_int64(), kMaxStreamWindow);
      link->server_acks = true;
    }
    // Posted handlers run on the I/O thread while this Impl lives: it ends every link
    // (close_ptys) before the I/O thread stops, so none is posted after that.
    link->to_io = [this, link](std::string bytes) {
      asio::post(ioc, [this, link, bytes = std::move(bytes)] { pty_output(link, bytes); });
    };
    link->closed_to_io = [this, link] { asio::post(ioc, [this, link] { end_pty(link, true); }); };
    std::weak_ptr<PtyLink> weak = link;
    PtySink sink{[weak](std::string bytes) {
                   auto l = weak.lock();
                   if (!l) return;
                   std::lock_guard lock(l->mutex);
                   if (l->to_io) l->to_io(std::move(bytes));
                 },
                 [weak] {
                   auto l = weak.lock();
                   if (!l) return;
                   std::lock_guard lock(l->mutex);
                   if (l->closed_to_io) l->closed_to_io();
                 },
                 window};
    try {
      link->attachment = options.terminals->attach(
          std::string(rv->get_string()), cmd ? std::string(cmd->get_string()) : std::string(),
          static_cast<unsigned>(width), static_cast<unsigned>(height), std::move(sink));
    } catch (const Error& e) {
      std::lock_guard lock(link->mutex);
      link->to_io = nullptr;
      link->closed_to_io = nullptr;
      return refuse(to_string(e.code()), e.message(), e.detail());
    } catch (const std::exception& e) {
      std::lock_guard lock(link->mutex);
      link->to_io = nullptr;
      link->closed_to_io = nullptr;
      return refuse("unavailable", "The terminal could not start.", e.what());
    }
    pty_links[id] = link;
    // Before the replayed output: attach() only posted it.
    enqueue(proto::encode_result(request_id, json::object{}));
  }

  void pty_output(const std::shared_ptr<PtyLink>& link, const std::string& bytes) {
    if (!link->attachment || !current(link->gen)) return;
    enqueue(proto::encode_stream_data(link->stream, bytes));
    if (link->server_acks) return;  // pty_frame passes the server's acks on
    link->unacked += bytes.size();
    if (outq.size() <= kMaxQueuedFrames) {
      link->attachment->acknowledged(std::exchange(link->unacked, 0));
    } else if (!link->acking) {
      // The server reads slowly: the program waits until the queue drains.
      link->acking = true;
      asio::co_spawn(ioc, ack_when_drained(link), asio::detached);
    }
  }

  asio::awaitable<void> ack_when_drained(std::shared_ptr<PtyLink> link) {
    asio::steady_timer pause(ioc);
    while (link->attachment && outq.size() > kMaxQueuedFrames) {
      pause.expires_after(std::chrono::milliseconds(5));
      co_await pause.async_wait(kTuple);
    }
    link->acking = false;
    if (link->attachment) link->attachment->acknowledged(std::exchange(link->unacked, 0));
  }

  void pty_frame(const proto::Message& m) {
    auto link = pty_links.at(m.stream);
    if (m.close) return end_pty(link, false);
    if (m.ack > 0 && link->server_acks)
      link->attachment->acknowledged(static_cast<std::size_t>(m.ack));
    try {
      link->attachment->input(m.data);
    } catch (const Error& e) {
      spdlog::warn("terminal stream {}: {}; closing it", m.stream, e.message());
      end_pty(link, true);
    }
  }

  json::value call(const std::string& method, json::object params,
                   std::chrono::milliseconds timeout) {
    auto p = std::make_shared<Pending>();
    std::int64_t id;
    std::uint64_t gen;
    {
      std::lock_guard lock(mutex);
      if (!connected) throw NotDelivered("not connected to the server");
      id = next_id++;
      gen = generation;
      pending[id] = p;
    }
    auto frame = proto::encode_request(id, method, std::move(params));
    asio::post(ioc, [self = shared_from_this(), frame = std::move(frame), gen]() mutable {
      if (self->current(gen)) self->enqueue(std::move(frame));
    });
    std::unique_lock lock(mutex);
    if (!cv.wait_for(lock, timeout, [&] { return p->done; })) {
      pending.erase(id);
      throw NotDelivered("no answer from the server to " + method);
    }
    if (p->ok) return p->result;
    if (p->code == "disconnected") throw NotDelivered(p->message);
    throw RpcError(p->code, p->message);
  }
};

Connection::Connection(ConnectionOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {}

Connection::~Connection() {
  stop();
}

void Connection::start() {
  auto impl = impl_;
  asio::co_spawn(impl->ioc, impl->run(), asio::detached);
  impl->thread = std::thread([impl] { impl->ioc.run(); });
}

void Connection::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) return;
    impl_->stopping = true;
  }
  asio::post(impl_->ioc, [impl = impl_] {
    impl->retry.cancel();
    impl->wake.cancel();
    beast::error_code ignored;
    if (impl->ws) beast::get_lowest_layer(*impl->ws).socket().close(ignored);
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

json::value Connection::call(const std::string& method, json::object params,
                             std::chrono::milliseconds timeout) {
  return impl_->call(method, std::move(params), timeout);
}

std::optional<double> Connection::round_trip_ms() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->round_trip_ms;
}

bool Connection::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->connected || impl_->stopping; }) &&
         impl_->connected;
}

}  // namespace berth::agent
