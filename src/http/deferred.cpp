#include "http/deferred.hpp"

#include <utility>

namespace berth::http {

bool DeferredResponse::complete(Response response) {
  std::function<void()> waker;
  {
    std::lock_guard lock(mutex_);
    if (finished_) return false;
    finished_ = true;
    response_ = std::move(response);
    on_abandoned_.clear();  // nothing will be abandoned now (and no cycles stay behind)
    waker = waker_;
  }
  if (waker) waker();
  return true;
}

void DeferredResponse::on_abandoned(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    if (!abandoned_) {
      if (!finished_) on_abandoned_.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

void DeferredResponse::set_waker(std::function<void()> waker) {
  std::lock_guard lock(mutex_);
  waker_ = std::move(waker);
}

std::optional<Response> DeferredResponse::take() {
  std::lock_guard lock(mutex_);
  return std::exchange(response_, std::nullopt);
}

Response DeferredResponse::abandon() {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(mutex_);
    if (response_) return *std::exchange(response_, std::nullopt);
    finished_ = true;
    abandoned_ = true;
    hooks.swap(on_abandoned_);
    waker_ = nullptr;
  }
  for (auto& fn : hooks) fn();
  return std::move(timeout_response_);
}

}  // namespace berth::http
