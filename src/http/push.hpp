#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace berth::http {

// What a push source has for the client now.
struct PushBatch {
  std::vector<std::string> messages;  // each one WebSocket text frame
  bool done = false;                  // close the stream after sending these
};

// A server-to-client stream (log follow, watch): the connection calls next() once at the
// start and again each time the source calls wake() (typically from a pubsub listener), so
// the stream is driven by notifications, never by polling. Sources know nothing of sockets.
class PushSource {
 public:
  virtual ~PushSource() = default;
  virtual PushBatch next() = 0;

  // Set by the connection before the first next().
  void set_waker(std::function<void()> waker) {
    std::lock_guard lock(mutex_);
    waker_ = std::move(waker);
  }

 protected:
  // Thread-safe; may be called before the waker is set (then the first next() covers it).
  void wake() {
    std::function<void()> waker;
    {
      std::lock_guard lock(mutex_);
      waker = waker_;
    }
    if (waker) waker();
  }

 private:
  std::mutex mutex_;
  std::function<void()> waker_;
};

}  // namespace berth::http
