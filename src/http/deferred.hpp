#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "http/request.hpp"

namespace berth::http {

// A response that a handler finishes later, from any thread: an answer relayed from inside a
// workspace. The connection waits for it without holding a thread, and gives up at a deadline
// with the response the handler chose for that. Thread-safe; knows nothing of sockets.
class DeferredResponse {
 public:
  DeferredResponse(std::chrono::milliseconds timeout, Response timeout_response)
      : timeout_(timeout), timeout_response_(std::move(timeout_response)) {}

  // Finishes the request with `response` (a plain one: no stream, no upgrade). The first of
  // complete() and the deadline wins; false when this call came too late.
  bool complete(Response response);
  // Runs `fn` if the connection gives up before complete(), so that whatever the response was
  // waiting on can let go (close a stream, cancel a call); at once when it already has.
  void on_abandoned(std::function<void()> fn);

  // For the server: how long it waits; `waker` is called (from complete()'s thread) once the
  // response is there; take() hands it over; abandon() gives up at the deadline and returns
  // what to send instead (the completed response if it won the race after all).
  std::chrono::milliseconds timeout() const { return timeout_; }
  void set_waker(std::function<void()> waker);
  std::optional<Response> take();
  Response abandon();

 private:
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  Response timeout_response_;
  std::optional<Response> response_;
  bool finished_ = false;  // completed or abandoned
  bool abandoned_ = false;
  std::function<void()> waker_;
  std::vector<std::function<void()>> on_abandoned_;
};

}  // namespace berth::http
