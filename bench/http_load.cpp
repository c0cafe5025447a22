// berth_http_load: a small closed-loop HTTP/1.1 load generator for benchmarking a local server.
//
// Opens N keep-alive connections to a loopback address, each sending GET requests back to back
// for a fixed duration (and at most a total request count), then prints one table: completed
// requests, transport errors, non-2xx responses, throughput and latency percentiles. It refuses
// any address that is not loopback (127.0.0.0/8 or ::1), so it cannot be pointed at a remote host.

#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

constexpr int kMaxDurationSeconds = 120;
constexpr int kMaxConnections = 1024;

// What to send and where, resolved from the command line before any connection is opened.
struct Plan {
  tcp::endpoint endpoint;
  std::string host;    // Host header value
  std::string target;  // path and query
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::seconds timeout{10};
};

// State every connection reads; `issued` is the only field written concurrently.
struct Shared {
  Clock::time_point deadline;
  std::uint64_t max_requests = 0;  // 0: no limit but the deadline
  std::atomic<std::uint64_t> issued{0};

  // Whether this connection may send one more request.
  bool take() {
    if (Clock::now() >= deadline) return false;
    if (max_requests == 0) return true;
    return issued.fetch_add(1, std::memory_order_relaxed) < max_requests;
  }
};

// Per-connection results, merged once every connection has finished.
struct Stats {
  std::vector<std::uint32_t> latency_us;  // one entry per completed response
  std::uint64_t non_2xx = 0;
  std::uint64_t errors = 0;  // connect, write, read or timeout failures
};

// Accepts "10", "10s" or "500ms"; returns nullopt if malformed.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  const long value = std::stol(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  if (unit.empty() || unit == "s") return std::chrono::seconds(value);
  if (unit == "ms") return std::chrono::milliseconds(value);
  return std::nullopt;
}

// Fills `plan` from an http:// URL whose host is a loopback literal or "localhost".
std::optional<std::string> plan_target(const std::string& url, Plan& plan) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return "not a valid absolute URL: " + url;
  const auto& u = *parsed;
  if (u.scheme() != "http") return "only http:// URLs are supported";
  std::string host = u.host();
  if (host == "localhost") host = "127.0.0.1";
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec)
    return "the host must be a loopback IP address or localhost, not " + std::string(u.host());
  if (!address.is_loopback())
    return "refusing non-loopback address " + address.to_string() +
           " (only 127.0.0.0/8 and ::1 are allowed)";
  unsigned short port = 80;
  if (u.has_port()) {
    if (u.port_number() == 0) return "invalid port in " + url;
    port = u.port_number();
  }
  plan.endpoint = tcp::endpoint(address, port);
  plan.host = u.encoded_host_and_port();
  plan.target = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
  if (u.has_query()) plan.target += "?" + std::string(u.encoded_query());
  return std::nullopt;
}

// Splits "Name: value"; returns false if there is no colon or the name is empty.
bool parse_header(const std::string& text, std::pair<std::string, std::string>& out) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::size_t start = colon + 1;
  while (start < text.size() && (text[start] == ' ' || text[start] == '\t')) ++start;
  out = {text.substr(0, colon), text.substr(start)};
  return true;
}

// One keep-alive connection: send, wait for the response, repeat until told to stop.
// Reconnects after an error or a `Connection: close` response.
asio::awaitable<void> run_connection(const Plan& plan, Shared& shared, Stats& stats) {
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  beast::flat_buffer buffer;
  bool connected = false;

  bhttp::request<bhttp::empty_body> request{bhttp::verb::get, plan.target, 11};
  request.set(bhttp::field::host, plan.host);
  request.set(bhttp::field::user_agent, "berth_http_load");
  for (const auto& [name, value] : plan.headers) request.set(name, value);
  request.keep_alive(true);
  request.prepare_payload();

  while (shared.take()) {
    if (!connected) {
      stream.expires_after(plan.timeout);
      auto [ec] = co_await stream.async_connect(plan.endpoint, kTuple);
      if (ec) {
        ++stats.errors;
        stream.close();
        asio::steady_timer backoff(executor, std::chrono::milliseconds(100));
        co_await backoff.async_wait(kTuple);
        continue;
      }
      boost::system::error_code ignored;
      stream.socket().set_option(tcp::no_delay(true), ignored);
      buffer.clear();
      connected = true;
    }

    const auto start = Clock::now();
    stream.expires_after(plan.timeout);
    auto [write_ec, written] = co_await bhttp::async_write(stream, request, kTuple);
    bhttp::response<bhttp::string_body> response;
    boost::system::error_code read_ec;
    if (!write_ec)
      std::tie(read_ec, std::ignore) = co_await bhttp::async_read(stream, buffer, response, kTuple);
    if (write_ec || read_ec) {
      ++stats.errors;
      stream.close();
      connected = false;
      continue;
    }
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    stats.latency_us.push_back(static_cast<std::uint32_t>(elapsed.count()));
    if (response.result_int() < 200 || response.result_int() >= 300) ++stats.non_2xx;
    if (!response.keep_alive()) {
      stream.close();
      connected = false;
    }
  }
  if (connected) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
  }
}

// Nearest-rank percentile of sorted samples, in milliseconds.
double percentile_ms(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()));
  if (rank >= sorted.size()) rank = sorted.size() - 1;
  return sorted[rank] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Closed-loop HTTP/1.1 GET load generator for loopback servers."};
  std::string url;
  int connections = 64;
  std::string duration_text = "10s";
  std::uint64_t max_requests = 0;
  std::vector<std::string> header_texts;
  int threads = 1;
  int timeout_seconds = 10;
  app.add_option("url", url, "http://127.0.0.1:PORT/path (loopback only)")->required();
  app.add_option("-c,--connections", connections, "concurrent keep-alive connections")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxConnections));
  app.add_option("-d,--duration", duration_text, "how long to run: 10, 10s or 500ms (max 120s)")
      ->capture_default_str();
  app.add_option("-n,--requests", max_requests, "stop after this many requests (0: no limit)")
      ->capture_default_str();
  app.add_option("-H,--header", header_texts, "extra request header, \"Name: value\"");
  app.add_option("-t,--threads", threads, "client threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--timeout", timeout_seconds, "per-operation timeout in seconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 60));
  CLI11_PARSE(app, argc, argv);

  Plan plan;
  if (auto error = plan_target(url, plan)) {
    fmt::print(stderr, "berth_http_load: {}\n", *error);
    return 2;
  }
  const auto duration = parse_duration(duration_text);
  if (!duration || *duration <= std::chrono::milliseconds(0) ||
      *duration > std::chrono::seconds(kMaxDurationSeconds)) {
    fmt::print(stderr, "berth_http_load: --duration must be between 1ms and {}s, got '{}'\n",
               kMaxDurationSeconds, duration_text);
    return 2;
  }
  for (const auto& text : header_texts) {
    std::pair<std::string, std::string> header;
    if (!parse_header(text, header)) {
      fmt::print(stderr, "berth_http_load: malformed header '{}', want \"Name: value\"\n", text);
      return 2;
    }
    plan.headers.push_back(std::move(header));
  }
  plan.timeout = std::chrono::seconds(timeout_seconds);

  fmt::print("target {} ({}), {} connections, {} thread(s), duration {} ms{}\n", url,
             plan.endpoint.address().to_string(), connections, threads, duration->count(),
             max_requests ? fmt::format(", at most {} requests", max_requests) : "");

  asio::io_context ioc(threads);
  Shared shared;
  shared.max_requests = max_requests;
  std::deque<Stats> stats(static_cast<std::size_t>(connections));
  const auto start = Clock::now();
  shared.deadline = start + *duration;
  for (auto& s : stats)
    asio::co_spawn(asio::make_strand(ioc), run_connection(plan, shared, s), asio::detached);
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& worker : workers) worker.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<std::uint32_t> latencies;
  std::uint64_t errors = 0;
  std::uint64_t non_2xx = 0;
  for (auto& s : stats) {
    latencies.insert(latencies.end(), s.latency_us.begin(), s.latency_us.end());
    errors += s.errors;
    non_2xx += s.non_2xx;
  }
  std::sort(latencies.begin(), latencies.end());
  const double max_ms = latencies.empty() ? 0.0 : latencies.back() / 1000.0;

  fmt::print("{:>10} {:>8} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9}\n", "requests", "errors", "non-2xx",
             "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms");
  fmt::print("{:>10} {:>8} {:>8} {:>10.1f} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f}\n", latencies.size(),
             errors, non_2xx, static_cast<double>(latencies.size()) / seconds,
             percentile_ms(latencies, 50), percentile_ms(latencies, 90),
             percentile_ms(latencies, 99), max_ms);
  return errors == 0 && non_2xx == 0 && !latencies.empty() ? 0 : 1;
}
