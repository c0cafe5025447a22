#include "api/agent_app_http.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

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

coderd::AppHttpResponse AgentAppHttpClient::request(const Uuid& agent_id, const std::string& method,
                                                    const std::string& url,
                                                    const std::string& body) {
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

  auto session = std::dynamic_pointer_cast<AgentRpcSession>(registry_.find(agent_id));
  if (!session) throw Error{ErrorCode::unavailable, kUnreachable, "the agent is not connected"};
  // This thread waits for frames that other I/O threads read: never let every thread wait.
  if (in_flight_.fetch_add(1) >= max_in_flight_) {
    --in_flight_;
    throw Error{ErrorCode::unavailable, kUnreachable,
                "too many requests to task apps are in flight; try again"};
  }
  struct Slot {
    std::atomic<unsigned>& count;
    ~Slot() { --count; }
  } slot{in_flight_};
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now());
  };

  std::shared_ptr<AgentStream> stream;
  try {
    stream = session->open_stream(port, timeout_);
  } catch (const Error& e) {
    throw Error{ErrorCode::unavailable, kUnreachable, e.detail()};
  }
  struct Closer {
    std::shared_ptr<AgentStream>& s;
    ~Closer() { s->close(); }
  } closer{stream};

  std::string req = method + " " + target + " HTTP/1.1\r\nHost: localhost:" + std::to_string(port) +
                    "\r\nConnection: close\r\nUser-Agent: berth\r\n";
  if (!body.empty()) req += "Content-Type: application/json\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  req += body;
  if (!stream->write(req))
    throw Error{ErrorCode::unavailable, kUnreachable, "the stream closed while sending"};

  std::string raw;
  while (!stream->closed()) {
    auto wait = left();
    if (wait.count() <= 0)
      throw Error{ErrorCode::unavailable, kUnreachable, "the app did not answer in time"};
    auto chunk = stream->read(wait);
    if (!chunk) continue;
    raw += *chunk;
    if (raw.size() > kMaxResponseBytes)
      throw Error{ErrorCode::unavailable, kUnreachable, "the app's response is too large"};
  }
  try {
    return parse_http_response(raw);
  } catch (const std::exception& e) {
    throw Error{ErrorCode::unavailable, kUnreachable, e.what()};
  }
}

}  // namespace berth::api
