#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"

namespace berth::http {

// What serves a matched request; it may throw berth::Error.
using Handler = std::function<Response(Request&)>;

// Maps method + path template (`/api/v2/users/{user}`) to a handler. Unknown paths answer
// 404 "Route not found.", known paths with another method 405, both as JSON.
class Router {
 public:
  void add(std::string method, std::string_view pattern, Handler handler);
  // Finds the route, fills request.params, and runs it.
  Response dispatch(Request& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" captures one segment
    Handler handler;
  };
  static bool match(const Route& route, const std::vector<std::string_view>& segments,
                    std::map<std::string, std::string>& params);

  std::vector<Route> routes_;
};

}  // namespace berth::http
