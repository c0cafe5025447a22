#pragma once

#include <chrono>
#include <string>

namespace berth::agent {

// One app healthcheck: GET `url` (http:// only); true if a response with status < 500 came
// back within `timeout`, as Coder's agent counts success.
bool probe_http(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace berth::agent
