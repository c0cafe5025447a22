#include "http/router.hpp"

#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto end = path.find('/');
    out.push_back(path.substr(0, end));
    path = end == std::string_view::npos ? std::string_view{} : path.substr(end);
  }
  return out;
}

bool is_capture(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::add(std::string method, std::string_view pattern, Handler handler) {
  Route route{std::move(method), {}, std::move(handler)};
  for (auto segment : split_path(pattern)) route.segments.emplace_back(segment);
  routes_.push_back(std::move(route));
}

bool Router::match(const Route& route, const std::vector<std::string_view>& segments,
                   std::map<std::string, std::string>& params) {
  if (route.segments.size() != segments.size()) return false;
  params.clear();
  for (size_t i = 0; i < segments.size(); ++i) {
    const auto& want = route.segments[i];
    if (is_capture(want)) {
      if (segments[i].empty()) return false;
      params[want.substr(1, want.size() - 2)] = std::string(segments[i]);
    } else if (want != segments[i]) {
      return false;
    }
  }
  return true;
}

Response Router::dispatch(Request& request) const {
  auto segments = split_path(request.path);
  std::map<std::string, std::string> params;
  std::string allowed;
  // Literal routes are registered before captures that could shadow them (`keys/tokens` before
  // `keys/{keyid}`), so the first match wins.
  for (const auto& route : routes_) {
    if (!match(route, segments, params)) continue;
    if (route.method == request.method) {
      request.params = std::move(params);
      return route.handler(request);
    }
    if (allowed.find(route.method) != std::string::npos) continue;
    if (!allowed.empty()) allowed += ", ";
    allowed += route.method;
  }
  if (!allowed.empty()) {
    auto response = error_response(
        Error{ErrorCode::invalid, "Method not allowed.",
              "Method " + request.method + " is not allowed on this route; allowed: " + allowed});
    response.status = 405;
    response.set_header("Allow", allowed);
    return response;
  }
  throw Error{ErrorCode::not_found, "Route not found."};
}

}  // namespace berth::http
