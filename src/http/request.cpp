#include "http/request.hpp"

#include <boost/url/parse.hpp>

#include <cctype>

namespace berth::http {

std::optional<std::string_view> Request::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return value;
  return std::nullopt;
}

std::vector<std::string> Request::query_values(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : query)
    if (key == name) out.push_back(value);
  return out;
}

std::optional<std::string> Request::cookie(std::string_view wanted) const {
  for (const auto& [name, value] : headers) {
    if (name != "cookie") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      auto end = rest.find(';');
      auto pair = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      auto eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (pair.substr(0, eq) == wanted) {
        auto v = pair.substr(eq + 1);
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        return std::string(v);
      }
    }
  }
  return std::nullopt;
}

const std::string& Request::param(const std::string& name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

bool Request::is_websocket_upgrade() const {
  auto upgrade = header("upgrade");
  if (method != "GET" || !upgrade) return false;
  std::string lower(*upgrade);
  for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  return lower == "websocket";
}

bool is_hop_by_hop_header(std::string_view lower_name) {
  for (std::string_view hop : {"connection", "keep-alive", "proxy-connection", "te", "trailer",
                               "transfer-encoding", "upgrade", "content-length"})
    if (lower_name == hop) return true;
  return false;
}

void append_forwarded_request_end(std::string& out, const Request& request) {
  if (request.is_websocket_upgrade())
    out.append("connection: Upgrade\r\nupgrade: websocket\r\n");
  else
    out.append("connection: close\r\n");
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH")
    out.append("content-length: ").append(std::to_string(request.body.size())).append("\r\n");
  out.append("\r\n").append(request.body);
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [n, v] : headers) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

bool parse_target(std::string_view target, std::string& path,
                  std::vector<std::pair<std::string, std::string>>& query) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return false;
  path = url->path();
  query.clear();
  for (auto param : url->params()) query.emplace_back(param.key, param.value);
  return true;
}

}  // namespace berth::http
