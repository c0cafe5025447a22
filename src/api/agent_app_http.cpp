#include "api/agent_app_http.hpp"

#include <boost/url/parse.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include "api/agent_rpc.hpp"
#include "common/error.hpp"

namespace berth::api {

namespace {

constexpr const char* kUnreachable = "Failed to reach task app endpoint.";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::size_t parse_size(std::string_view s, int base) {
  std::size_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n, base);
  if (ec != std::errc{} || p == s.data()) throw std::runtime_error("bad number in the response");
  return n;
}

std::string dechunk(std::string_view in) {
  std::string out;
  for (;;) {
    auto eol = in.find("\r\n");
    if (eol == std::string_view::npos) throw std::runtime_error("truncated chunked body");
    auto line = in.substr(0, eol);
    line = line.substr(0, line.find(';'));
    auto size = parse_size(trim(line), 16);
    in.remove_prefix(eol + 2);
    if (size == 0) return out;
    if (in.size() < size + 2) throw std::runtime_error("truncated chunked body");
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

}  // namespace

coderd::AppHttpResponse parse_http_response(const std::string& raw) {
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) throw std::runtime_error("incomplete response headers");
  std::string_view head(raw.data(), head_end);
  std::string_view rest(raw.data() + head_end + 4, raw.size() - head_end - 4);
  auto eol = head.find("\r\n");
  auto status_line = head.substr(0, eol);
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12)
    throw std::runtime_error("bad status line");
  coderd::AppHttpResponse out;
  out.status = static_cast<int>(parse_size(status_line.substr(9, 3), 10));
  std::optional<std::size_t> length;
  bool chunked = false;
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    auto line = head.substr(0, eol);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = lower(trim(line.substr(0, colon)));
    auto value = trim(line.substr(colon + 1));
    if (name == "content-length") length = parse_size(value, 10);
    if (name == "transfer-encoding" && lower(value).find("chunked") != std::string::npos)
      chunked = true;
  }
  if (chunked) {
    out.body = dechunk(rest);
  } else if (length) {
    if (rest.size() < *length) throw std::runtime_error("truncated response body");
    out.body = std::string(rest.substr(0, *length));
  } else {
    out.body = std::string(rest);
  }
  return out;
}

// Runs callbacks at their deadlines on one thread of its own; entries may be cancelled.
class AgentAppHttpClient::Deadlines {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Key = std::pair<TimePoint, std::uint64_t>;

  Deadlines() : thread_([this] { run(); }) {}
  ~Deadlines() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  Key add(TimePoint at, std::function<void()> fn) {
    std::lock_guard lock(mutex_);
    Key key{at, next_id_++};
    queue_.emplace(key, std::move(fn));
    cv_.notify_all();
    return key;
  }

  void cancel(const Key& key) {
    std::function<void()> dropped;  // destroyed outside the lock: it may own an exchange
    std::lock_guard lock(mutex_);
    if (auto it = queue_.find(key); it != queue_.end()) {
      dropped = std::move(it->second);
      queue_.erase(it);
    }
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      if (queue_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto it = queue_.begin();
      if (std::chrono::steady_clock::now() < it->first.first) {
        cv_.wait_until(lock, it->first.first);
        continue;
      }
      auto fn = std::move(it->second);
      queue_.erase(it);
      lock.unlock();
      fn();
      fn = nullptr;
      lock.lock();
    }
    auto dropped = std::move(queue_);
    lock.unlock();
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<Key, std::function<void()>> queue_;
  std::uint64_t next_id_ = 0;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest is ready
};

namespace {

// A call that ended before it began (refused at once): nothing to cancel.
class EndedCall final : public coderd::AppHttpCall {
 public:
  void cancel() override {}
};

// One request to an app: the stream opens, the request goes out, the answer is gathered until
// the app closes the stream, then `done` runs once. Everything happens on the agent
// connection's thread as its frames arrive, or on the timer thread at the deadline.
class Exchange final : public coderd::AppHttpCall, public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(coderd::AppHttpClient::Done done, std::shared_ptr<std::atomic<std::size_t>> slots,
           AgentAppHttpClient::Deadlines& deadlines, std::string request)
      : done_(std::move(done)),
        slots_(std::move(slots)),
        deadlines_(deadlines),
        request_(std::move(request)) {}

  void begin(const std::shared_ptr<AgentRpcSession>& session, int port,
             std::chrono::steady_clock::time_point deadline) {
    auto self = shared_from_this();
    {
      std::lock_guard lock(mutex_);
      timer_ = deadlines_.add(deadline, [self] { self->timed_out(); });  // owns the exchange
    }
    std::weak_ptr<Exchange> weak = self;
    session->open_stream_async("open_stream", json::object{{"port", port}},
                               [weak](std::shared_ptr<AgentStream> stream, std::string error) {
                                 if (auto self = weak.lock())
                                   self->opened(std::move(stream), error);
                                 else if (stream)
                                   stream->close();
                               });
  }

  void cancel() override { end(); }

 private:
  void opened(std::shared_ptr<AgentStream> stream, const std::string& error) {
    if (!stream) return fail(error.empty() ? "the agent refused the stream" : error);
    {
      std::lock_guard lock(mutex_);
      if (ended_) {
        stream->close();
        return;
      }
      stream_ = stream;
    }
    std::weak_ptr<Exchange> weak = weak_from_this();
    stream->set_receiver(
        [weak](std::string bytes) {
          if (auto self = weak.lock()) self->received(std::move(bytes));
        },
        [weak] {
          if (auto self = weak.lock()) self->closed();
        });
    if (!stream->write(request_)) fail("the stream closed while sending");
    request_.clear();
  }

  void received(std::string bytes) {
    auto n = bytes.size();
    std::shared_ptr<AgentStream> stream;
    bool too_large = false;
    {
      std::lock_guard lock(mutex_);
      if (ended_) return;
      raw_ += bytes;
      too_large = raw_.size() > AgentAppHttpClient::kMaxResponseBytes;
      stream = stream_;
    }
    if (too_large) return fail("the app's response is too large");
    if (stream) stream->acknowledge(n);  // the agent may send the rest
  }

  void closed() {
    std::string raw;
    {
      std::lock_guard lock(mutex_);
      if (ended_) return;
      raw = std::move(raw_);
    }
    coderd::AppHttpResponse response;
    try {
      response = parse_http_response(raw);
    } catch (const std::exception& e) {
      return fail(e.what());
    }
    finish(coderd::AppHttpResult{std::move(response), {}});
  }

  void timed_out() {
    bool opened;
    {
      std::lock_guard lock(mutex_);
      opened = stream_ != nullptr;
    }
    fail(opened ? "the app did not answer in time" : "the agent did not answer in time");
  }

  void fail(std::string why) { finish(coderd::AppHttpResult{std::nullopt, std::move(why)}); }

  void finish(coderd::AppHttpResult result) {
    auto done = end();
    if (!done) return;
    try {  // never into the agent's connection, which would close over it
      done(std::move(result));
    } catch (const std::exception& e) {
      spdlog::error("task app request: the caller's callback failed: {}", e.what());
    }
  }

  // Ends the exchange once: closes the stream, frees the slot and the timer. Returns the
  // callback to run, or nothing when it had already ended.
  coderd::AppHttpClient::Done end() {
    coderd::AppHttpClient::Done done;
    std::shared_ptr<AgentStream> stream;
    AgentAppHttpClient::Deadlines::Key timer;
    {
      std::lock_guard lock(mutex_);
      if (ended_) return {};
      ended_ = true;
      done = std::move(done_);
      stream = std::move(stream_);
      timer = timer_;
      raw_.clear();
    }
    if (stream) stream->close();
    --*slots_;
    deadlines_.cancel(timer);
    return done;
  }

  std::mutex mutex_;
  coderd::AppHttpClient::Done done_;
  std::shared_ptr<std::atomic<std::size_t>> slots_;
  AgentAppHttpClient::Deadlines& deadlines_;
  AgentAppHttpClient::Deadlines::Key timer_{};
  std::string request_;
  std::shared_ptr<AgentStream> stream_;
  std::string raw_;
  bool ended_ = false;
};

}  // namespace

AgentAppHttpClient::AgentAppHttpClient(coderd::AgentRegistry& registry, std::size_t max_in_flight,
                                       std::chrono::milliseconds timeout)
    : registry_(registry),
      max_in_flight_(max_in_flight ? max_in_flight : 1),
      timeout_(timeout),
      in_flight_(std::make_shared<std::atomic<std::size_t>>(0)),
      deadlines_(std::make_unique<Deadlines>()) {}

AgentAppHttpClient::~AgentAppHttpClient() = default;

std::shared_ptr<coderd::AppHttpCall> AgentAppHttpClient::start(const Uuid& agent_id,
                                                               const std::string& method,
                                                               const std::string& url,
                                                               const std::string& body, Done done) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "http")
    throw Error{ErrorCode::invalid, "Only http scheme is supported for agent app requests."};
  auto host = lower(parsed->host());
  if (host != "localhost" && host != "127.0.0.1")
    throw Error{ErrorCode::invalid, "The app URL must point at localhost.", url};
  int port = 80;
  if (parsed->has_port()) {
    auto p = parsed->port_number();
    if (p == 0) throw Error{ErrorCode::invalid, "The app URL has a bad port.", url};
    port = p;
  }
  std::string target = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
  if (parsed->has_query()) {
    target.push_back('?');
    target.append(parsed->encoded_query());
  }

  auto refuse = [&](const char* why) -> std::shared_ptr<coderd::AppHttpCall> {
    done(coderd::AppHttpResult{std::nullopt, why});
    return std::make_shared<EndedCall>();
  };
  auto session = std::dynamic_pointer_cast<AgentRpcSession>(registry_.find(agent_id));
  if (!session) return refuse("the agent is not connected");
  if (in_flight_->fetch_add(1) >= max_in_flight_) {
    --*in_flight_;
    return refuse("too many requests to task apps are in flight; try again");
  }

  std::string request;
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost:");
  request.append(std::to_string(port)).append("\r\nConnection: close\r\nUser-Agent: berth\r\n");
  if (!body.empty()) request.append("Content-Type: application/json\r\n");
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  request.append("\r\n").append(body);

  auto exchange =
      std::make_shared<Exchange>(std::move(done), in_flight_, *deadlines_, std::move(request));
  exchange->begin(session, port, std::chrono::steady_clock::now() + timeout_);
  return exchange;
}

}  // namespace berth::api
