// Simulated workspace agents: N light agent connections to one `berth server`.
//
// Each simulated agent speaks the agent protocol (src/sdk/agent_protocol.hpp) over its own
// WebSocket, like `berth agent` but with no scripts, apps or metadata: update_startup,
// get_manifest, update_lifecycle starting then ready, a heartbeat every 15 s, and it answers
// the server's open_stream by connecting to the loopback port asked for (so the app proxy can
// reach an app through it). All N run as coroutines on one thread.
//
// Agents need real tokens: the bench pushes a template whose coder_agent is hosted by a
// null_resource (no process is started) and whose coder_metadata shows the agent's token, then
// creates N workspaces and reads each token back from the build's resources.
//
// It reports the server's VmRSS before and after the N agents connected (from
// /proc/<pid>/status), per agent, how many the server shows as connected + ready, and, with
// --proxy, the latency of GET through the app proxy versus the same GET sent to the app
// directly (the app is a tiny HTTP server inside this process).
#include <fmt/core.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/json.hpp"
#include "sdk/agent_protocol.hpp"
#include "sdk/client.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace proto = berth::sdk::agentproto;
namespace json = berth::json;
using tcp = asio::ip::tcp;
using WebSocket = websocket::stream<beast::tcp_stream>;
using namespace std::chrono;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Options {
  std::string url;
  int server_pid = 0;
  int agents = 1000;
  std::string email = "bench@example.com";
  std::string password = "SomeStr0ng!Passw0rd";
  bool proxy = false;
  bool no_delay = false;
  bool quick_ack = false;
  int requests = 500;
  int settle_seconds = 5;
  int max_seconds = 120;
};

std::string str(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : "";
}

// One regular file in a ustar archive (what POST /api/v2/files takes).
std::string ustar(const std::string& name, const std::string& data) {
  std::string header(512, '\0');
  auto put = [&](std::size_t at, const std::string& s) { header.replace(at, s.size(), s); };
  put(0, name);
  put(100, "0000644");
  put(108, "0000000");
  put(116, "0000000");
  put(124, fmt::format("{:011o}", data.size()));
  put(136, fmt::format("{:011o}", 0));
  put(148, "        ");
  header[156] = '0';
  put(257, std::string("ustar\0", 6));
  put(263, "00");
  unsigned sum = 0;
  for (unsigned char c : header) sum += c;
  put(148, fmt::format("{:06o}", sum));
  header[154] = '\0';
  std::string out = header + data;
  out.append((512 - data.size() % 512) % 512, '\0');
  out.append(1024, '\0');
  return out;
}

// The agent lives on a null_resource (nothing is started); the token is shown as resource
// metadata so that this process can act as the agent. One app points at this process.
std::string template_tf(int app_port) {
  return fmt::format(R"(
resource "coder_agent" "main" {{
  os   = "linux"
  arch = "amd64"
  dir  = "/tmp"
}}
resource "null_resource" "box" {{
  triggers = {{ agent = coder_agent.main.id }}
}}
resource "coder_metadata" "token" {{
  resource_id = null_resource.box.id
  item {{
    key   = "agent_token"
    value = coder_agent.main.token
  }}
}}
resource "coder_app" "app" {{
  agent_id = coder_agent.main.id
  slug     = "app"
  url      = "http://127.0.0.1:{}"
  share    = "owner"
}}
)",
                     app_port);
}

// A number field of /proc/<pid>/status ("VmRSS:" in KiB, "Threads:").
long status_field(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with(field)) return std::stol(line.substr(field.size()));
  return -1;
}

long rss_kib(int pid) {
  return status_field(pid, "VmRSS:");
}

long open_fds(int pid) {
  std::error_code ec;
  long n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
       !ec && it != end; it.increment(ec))
    ++n;
  return n;
}

void raise_fd_limit(rlim_t want) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur >= want) return;
  lim.rlim_cur = std::min(want, lim.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &lim);
}

struct Endpoint {
  std::string host;
  std::string port;
};

Endpoint parse_url(const std::string& url) {
  if (!url.starts_with("http://")) throw std::invalid_argument("--url must be http://host:port");
  auto rest = url.substr(7);
  auto colon = rest.rfind(':');
  if (colon == std::string::npos) return {rest, "80"};
  return {rest.substr(0, colon), rest.substr(colon + 1)};
}

// A TCP connection the server asked for, relayed as stream frames.
struct Relay {
  explicit Relay(asio::any_io_executor ex) : socket(std::move(ex)) {}
  tcp::socket socket;
  std::deque<std::string> writes;
  bool connected = false;
  bool writing = false;
  bool closed = false;
};

// One simulated agent. Everything runs on the one io thread, so nothing here is locked.
struct SimAgent {
  std::string token;
  std::string agent_id;
  std::unique_ptr<WebSocket> ws;
  std::deque<std::string> out;
  bool writing = false;
  std::int64_t next_id = 1;
  std::map<std::int64_t, std::function<void(bool)>> calls;
  std::map<std::int64_t, std::shared_ptr<Relay>> relays;
};

// What the agents share: counters the main thread reads, and settings fixed before they start.
struct Stats {
  bool no_delay = false;   // TCP_NODELAY on the agents' sockets
  bool quick_ack = false;  // TCP_QUICKACK on the agents' WebSockets (no delayed ACKs)
  std::atomic<int> ready{0};
  std::atomic<int> failed{0};
  std::atomic<long> streams{0};
};

asio::awaitable<void> drain(SimAgent& a) {
  while (!a.out.empty()) {
    auto text = std::move(a.out.front());
    a.out.pop_front();
    auto [ec, n] = co_await a.ws->async_write(asio::buffer(text), kTuple);
    if (ec) break;
  }
  a.writing = false;
}

void send(SimAgent& a, std::string text) {
  a.out.push_back(std::move(text));
  if (a.writing) return;
  a.writing = true;
  asio::co_spawn(a.ws->get_executor(), drain(a), asio::detached);
}

void call(SimAgent& a, const std::string& method, json::object params,
          std::function<void(bool)> done) {
  auto id = a.next_id++;
  a.calls[id] = std::move(done);
  send(a, proto::encode_request(id, method, std::move(params)));
}

asio::awaitable<void> relay_writes(std::shared_ptr<Relay> r) {
  while (!r->writes.empty() && !r->closed) {
    auto bytes = std::move(r->writes.front());
    r->writes.pop_front();
    auto [ec, n] = co_await asio::async_write(r->socket, asio::buffer(bytes), kTuple);
    if (ec) break;
  }
  r->writing = false;
}

void relay_write(const std::shared_ptr<Relay>& r, std::string bytes) {
  r->writes.push_back(std::move(bytes));
  if (r->writing || !r->connected) return;
  r->writing = true;
  asio::co_spawn(r->socket.get_executor(), relay_writes(r), asio::detached);
}

void close_relay(SimAgent& a, std::int64_t stream) {
  auto it = a.relays.find(stream);
  if (it == a.relays.end()) return;
  it->second->closed = true;
  beast::error_code ignored;
  it->second->socket.close(ignored);
  a.relays.erase(it);
}

// open_stream: connect to the port, answer, then copy the port's bytes to stream frames.
asio::awaitable<void> open_relay(SimAgent& a, std::int64_t request_id, std::int64_t stream,
                                 int port, Stats& stats) {
  auto r = std::make_shared<Relay>(co_await asio::this_coro::executor);
  a.relays[stream] = r;
  tcp::endpoint target(asio::ip::address_v4::loopback(), static_cast<unsigned short>(port));
  auto [ec] = co_await r->socket.async_connect(target, kTuple);
  if (ec || r->closed) {
    a.relays.erase(stream);
    send(a, proto::encode_error(request_id, "unavailable", "cannot connect to the port"));
    co_return;
  }
  ++stats.streams;
  if (stats.no_delay) r->socket.set_option(tcp::no_delay(true));
  r->connected = true;
  send(a, proto::encode_result(request_id, json::object{}));
  if (!r->writes.empty() && !r->writing) {
    r->writing = true;
    asio::co_spawn(r->socket.get_executor(), relay_writes(r), asio::detached);
  }
  std::string buffer(16 * 1024, '\0');
  for (;;) {
    auto [rec, n] = co_await r->socket.async_read_some(asio::buffer(buffer), kTuple);
    if (rec || r->closed) break;
    send(a, proto::encode_stream_data(stream, std::string_view(buffer.data(), n)));
  }
  if (!r->closed) {
    send(a, proto::encode_stream_close(stream));
    close_relay(a, stream);
  }
}

void on_frame(SimAgent& a, const std::string& text, Stats& stats) {
  auto m = proto::parse_message(text);
  using Kind = proto::Message::Kind;
  if (m.kind == Kind::response || m.kind == Kind::error) {
    auto it = a.calls.find(m.id);
    if (it == a.calls.end()) return;
    auto done = std::move(it->second);
    a.calls.erase(it);
    done(m.kind == Kind::response);
  } else if (m.kind == Kind::stream) {
    auto it = a.relays.find(m.stream);
    if (it == a.relays.end()) {
      if (!m.close) send(a, proto::encode_stream_close(m.stream));
      return;
    }
    if (!m.data.empty()) relay_write(it->second, std::move(m.data));
    if (m.close) close_relay(a, m.stream);
  } else if (m.kind == Kind::request && m.method == "open_stream") {
    auto* stream = m.params.if_contains("stream");
    auto* port = m.params.if_contains("port");
    if (!stream || !stream->is_int64() || !port || !port->is_int64()) {
      send(a, proto::encode_error(m.id, "invalid", "open_stream needs stream and port"));
      return;
    }
    asio::co_spawn(a.ws->get_executor(),
                   open_relay(a, m.id, stream->get_int64(), int(port->get_int64()), stats),
                   asio::detached);
  } else if (m.kind == Kind::request) {
    send(a, proto::encode_error(m.id, "not_found", "unknown method"));
  }
}

asio::awaitable<void> heartbeats(SimAgent& a) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(seconds(15));
    auto [ec] = co_await timer.async_wait(kTuple);
    if (ec || !a.ws->is_open()) co_return;
    call(a, "heartbeat", {}, [](bool) {});
  }
}

// Connects, runs the start-up sequence (each call after the previous answer), then reads
// until the connection ends.
asio::awaitable<void> run_agent(SimAgent& a, tcp::endpoint server, std::string host, Stats& stats) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  stream.expires_after(seconds(30));
  auto [cec] = co_await stream.async_connect(server, kTuple);
  if (cec) {
    ++stats.failed;
    co_return;
  }
  stream.expires_never();
  if (stats.no_delay) stream.socket().set_option(tcp::no_delay(true));
  a.ws = std::make_unique<WebSocket>(std::move(stream));
  a.ws->read_message_max(proto::kMaxMessageBytes);
  a.ws->set_option(websocket::stream_base::timeout{seconds(30), seconds(45), true});
  a.ws->set_option(websocket::stream_base::decorator(
      [token = a.token](websocket::request_type& req) { req.set("Coder-Session-Token", token); }));
  auto [hec] = co_await a.ws->async_handshake(host, proto::kRpcPath, kTuple);
  if (hec) {
    ++stats.failed;
    co_return;
  }
  auto fail = [&stats](bool ok) {
    if (!ok) ++stats.failed;
    return ok;
  };
  call(a, "update_startup",
       json::object{{"version", "bench"},
                    {"api_version", proto::kApiVersion},
                    {"expanded_directory", "/tmp"}},
       [&a, &stats, fail](bool ok) {
         if (!fail(ok)) return;
         call(a, "get_manifest", {}, [&a, &stats, fail](bool ok) {
           if (!fail(ok)) return;
           call(a, "update_lifecycle", json::object{{"state", "starting"}},
                [&a, &stats, fail](bool ok) {
                  if (!fail(ok)) return;
                  call(a, "update_lifecycle", json::object{{"state", "ready"}},
                       [&stats, fail](bool ok) {
                         if (fail(ok)) ++stats.ready;
                       });
                });
         });
       });
  asio::co_spawn(ex, heartbeats(a), asio::detached);
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [ec, n] = co_await a.ws->async_read(buffer, kTuple);
    if (ec) break;
    if (stats.quick_ack) {  // Linux clears it after a while: set again after every read
      int one = 1;
      auto fd = beast::get_lowest_layer(*a.ws).socket().native_handle();
      ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
    on_frame(a, beast::buffers_to_string(buffer.data()), stats);
  }
}

// The app: answers every GET on a kept-alive connection with a fixed 2-byte body.
asio::awaitable<void> serve_app_connection(tcp::socket socket) {
  std::string in;
  std::string chunk(8192, '\0');
  static const std::string kReply =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
  for (;;) {
    auto end = in.find("\r\n\r\n");
    if (end == std::string::npos) {
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), kTuple);
      if (ec) co_return;
      in.append(chunk.data(), n);
      if (in.size() > 64 * 1024) co_return;
      continue;
    }
    in.erase(0, end + 4);  // GETs only: no body to skip
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(kReply), kTuple);
    if (ec) co_return;
  }
}

asio::awaitable<void> serve_app(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), serve_app_connection(std::move(socket)),
                   asio::detached);
  }
}

struct Latency {
  std::vector<double> ms;
  int errors = 0;
};

Latency measure(berth::sdk::Client& client, const std::string& target, int n) {
  Latency out;
  for (int i = 0; i < n; ++i) {
    auto start = steady_clock::now();
    try {
      auto r = client.request("GET", target);
      if (r.status != 200 || r.body != "ok") {
        if (++out.errors == 1)
          fmt::print(stderr, "GET {}: {} {}\n", target, r.status, r.body.substr(0, 200));
        continue;
      }
    } catch (const std::exception& e) {
      if (++out.errors == 1) fmt::print(stderr, "GET {}: {}\n", target, e.what());
      continue;
    }
    out.ms.push_back(duration<double, std::milli>(steady_clock::now() - start).count());
  }
  std::sort(out.ms.begin(), out.ms.end());
  return out;
}

void print_latency(const std::string& name, const Latency& l) {
  auto at = [&](double q) {
    return l.ms.empty() ? 0.0 : l.ms[std::min(l.ms.size() - 1, std::size_t(q * l.ms.size()))];
  };
  double sum = 0;
  for (auto v : l.ms) sum += v;
  fmt::print("| {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} |\n", name, l.ms.size(),
             l.errors, l.ms.empty() ? 0.0 : sum / double(l.ms.size()), at(0.5), at(0.9), at(0.99),
             l.ms.empty() ? 0.0 : l.ms.back());
}

berth::sdk::Client sign_in(const Options& o) {
  berth::sdk::Client client(o.url);
  client.request_json(
      "POST", "/api/v2/users/first",
      json::object{{"email", o.email}, {"username", "bench"}, {"password", o.password}});
  auto login = client.request_json("POST", "/api/v2/users/login",
                                   json::object{{"email", o.email}, {"password", o.password}});
  if (login.status != 201) throw std::runtime_error("login failed: " + login.body);
  client.set_session_token(str(login.json().as_object().at("session_token")));
  return client;
}

std::string push_template(berth::sdk::Client& c, const std::string& main_tf) {
  auto upload = c.request("POST", "/api/v2/files", ustar("main.tf", main_tf),
                          {{"Content-Type", "application/x-tar"}});
  if (upload.status != 201) throw std::runtime_error("upload failed: " + upload.body);
  auto file = str(upload.json().as_object().at("hash"));
  auto version = c.request_json(
      "POST", "/api/v2/organizations/default/templateversions",
      json::object{{"storage_method", "file"}, {"provisioner", "terraform"}, {"file_id", file}});
  if (version.status != 201) throw std::runtime_error("template version: " + version.body);
  auto vid = str(version.json().as_object().at("id"));
  c.follow_websocket("/api/v2/templateversions/" + vid + "/logs?follow",
                     [](const std::string&) { return true; });
  auto created = c.request_json("POST", "/api/v2/organizations/default/templates",
                                json::object{{"name", fmt::format("agents-bench-{}", ::getpid())},
                                             {"template_version_id", vid}});
  if (created.status != 201) throw std::runtime_error("template: " + created.body);
  return str(created.json().as_object().at("id"));
}

// The agent id and token of a finished build, or empty if it is not finished yet.
bool read_agent(const json::object& ws, SimAgent& a, std::string& job_status) {
  const auto& build = ws.at("latest_build").as_object();
  job_status = str(build.at("job").as_object().at("status"));
  if (job_status != "succeeded") return false;
  for (const auto& r : build.at("resources").as_array()) {
    const auto& res = r.as_object();
    for (const auto& ag : res.at("agents").as_array()) a.agent_id = str(ag.as_object().at("id"));
    for (const auto& m : res.at("metadata").as_array())
      if (str(m.as_object().at("key")) == "agent_token") a.token = str(m.as_object().at("value"));
  }
  return !a.agent_id.empty() && !a.token.empty();
}

double seconds_since(steady_clock::time_point t) {
  return duration<double>(steady_clock::now() - t).count();
}

int run(const Options& o) {
  raise_fd_limit(rlim_t(o.agents) * 3 + 256);
  auto deadline = steady_clock::now() + seconds(o.max_seconds);
  auto owner = sign_in(o);
  auto me = owner.request("GET", "/api/v2/users/me").json().as_object();
  auto username = str(me.at("username"));

  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  int app_port = acceptor.local_endpoint().port();
  asio::co_spawn(io, serve_app(acceptor), asio::detached);
  // Declared before the io thread, so that it is stopped before the agents go away.
  std::vector<std::unique_ptr<SimAgent>> agents;
  // Runs the io thread; stops and joins it on every way out of run(), errors included.
  struct IoThread {
    asio::io_context& io;
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    std::thread thread{[this] { io.run(); }};
    ~IoThread() {
      guard.reset();
      io.stop();
      thread.join();
    }
  } io_thread{io};

  auto tid = push_template(owner, template_tf(app_port));
  std::vector<std::string> workspace_ids;
  auto t0 = steady_clock::now();
  for (int i = 0; i < o.agents; ++i) {
    auto r = owner.request_json(
        "POST", "/api/v2/users/me/workspaces",
        json::object{{"name", fmt::format("agent-{}", i)}, {"template_id", tid}});
    if (r.status != 201) throw std::runtime_error("create workspace: " + r.body);
    workspace_ids.push_back(str(r.json().as_object().at("id")));
    agents.push_back(std::make_unique<SimAgent>());
  }
  for (int i = 0; i < o.agents; ++i) {
    std::string status;
    for (;;) {
      auto ws = owner.request("GET", "/api/v2/workspaces/" + workspace_ids[i]).json();
      if (read_agent(ws.as_object(), *agents[i], status)) break;
      if (status == "failed" || status == "canceled" || steady_clock::now() > deadline)
        throw std::runtime_error("workspace agent-" + std::to_string(i) + " build: " + status);
      std::this_thread::sleep_for(milliseconds(5));
    }
  }
  fmt::print("created {} workspaces (builds done) in {:.1f} s\n", o.agents, seconds_since(t0));

  auto rss_before = rss_kib(o.server_pid);
  auto ep = parse_url(o.url);
  tcp::resolver resolver(io);
  auto server = *resolver.resolve(ep.host, ep.port).begin();
  Stats stats;
  stats.no_delay = o.no_delay;
  stats.quick_ack = o.quick_ack;
  auto t1 = steady_clock::now();
  for (auto& a : agents)
    asio::co_spawn(io, run_agent(*a, server.endpoint(), ep.host + ":" + ep.port, stats),
                   asio::detached);
  while (stats.ready + stats.failed < o.agents && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(10));
  auto connect_s = seconds_since(t1);
  fmt::print("{} agents ready, {} failed, in {:.2f} s\n", stats.ready.load(), stats.failed.load(),
             connect_s);
  std::this_thread::sleep_for(seconds(o.settle_seconds));
  auto rss_after = rss_kib(o.server_pid);

  int connected = 0;
  for (auto& a : agents) {
    auto r = owner.request("GET", "/api/v2/workspaceagents/" + a->agent_id);
    if (r.status != 200) continue;
    auto ag = r.json().as_object();
    if (str(ag.at("status")) == "connected" && str(ag.at("lifecycle_state")) == "ready")
      ++connected;
  }
  fmt::print("server shows {} of {} agents connected + ready\n", connected, o.agents);
  fmt::print(
      "server VmRSS before {} KiB ({:.1f} MiB), after {} KiB ({:.1f} MiB): {:.1f} KiB per "
      "connected agent\n",
      rss_before, rss_before / 1024.0, rss_after, rss_after / 1024.0,
      connected ? double(rss_after - rss_before) / connected : 0.0);
  fmt::print("server threads {}, open fds {}; bench process VmRSS {} KiB\n",
             status_field(o.server_pid, "Threads:"), open_fds(o.server_pid), rss_kib(::getpid()));

  bool proxy_ok = true;
  if (o.proxy) {
    berth::sdk::Client direct("http://127.0.0.1:" + std::to_string(app_port));
    berth::sdk::Client via(o.url);
    via.set_session_token(owner.session_token());
    auto target = fmt::format("/@{}/agent-0/apps/app/", username);
    measure(direct, "/", 20);  // warm both paths
    measure(via, target, 20);
    auto d = measure(direct, "/", o.requests);
    auto p = measure(via, target, o.requests);
    fmt::print("\n| path | requests | errors | mean ms | p50 ms | p90 ms | p99 ms | max ms |\n");
    fmt::print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    print_latency("direct", d);
    print_latency("through the app proxy", p);
    fmt::print("streams opened through the agents: {}\n", stats.streams.load());
    proxy_ok = d.errors == 0 && p.errors == 0 && !p.ms.empty();
  }

  return connected == o.agents && stats.failed == 0 && proxy_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Simulated workspace agents against one berth server"};
  app.add_option("--url", o.url, "server URL, http://127.0.0.1:PORT")->required();
  app.add_option("--server-pid", o.server_pid, "the server's pid, for its VmRSS")->required();
  app.add_option("-n,--agents", o.agents, "simulated agents")->check(CLI::Range(1, 10000));
  app.add_option("--email", o.email, "the first user (created if there is none)");
  app.add_option("--password", o.password);
  app.add_flag("--no-delay", o.no_delay, "agents set TCP_NODELAY on their sockets");
  app.add_flag("--quick-ack", o.quick_ack,
               "agents acknowledge the server's frames at once (no delayed ACK)");
  app.add_flag("--proxy", o.proxy, "also time an app request through the proxy vs direct");
  app.add_option("--requests", o.requests, "requests per latency series")
      ->check(CLI::Range(1, 100000));
  app.add_option("--settle", o.settle_seconds, "seconds to wait before reading VmRSS again")
      ->check(CLI::Range(0, 60));
  app.add_option("--max-seconds", o.max_seconds, "bound on creating and connecting")
      ->check(CLI::Range(10, 1800));
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "berth_bench_agents: {}\n", e.what());
    return 1;
  }
}
