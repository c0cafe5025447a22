#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace berth::agent {

// Open sessions the agent serves, by kind. Terminal, SSH and IDE code count theirs (via
// Session or the raw calls) from any thread; the stats report reads them. Open sessions are
// what keeps a workspace's deadline moving.
class SessionCounters {
 public:
  enum class Kind : std::size_t { vscode, jetbrains, reconnecting_pty, ssh };

  // Counts one session of `kind` for as long as it lives.
  class Session {
   public:
    Session(SessionCounters& counters, Kind kind) : counters_(&counters), kind_(kind) {
      counters_->opened(kind_);
    }
    ~Session() {
      if (counters_) counters_->closed(kind_);
    }
    Session(Session&& other) noexcept : counters_(other.counters_), kind_(other.kind_) {
      other.counters_ = nullptr;
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    Session& operator=(Session&&) = delete;

   private:
    SessionCounters* counters_;
    Kind kind_;
  };

  void opened(Kind kind) { counts_[index(kind)].fetch_add(1, std::memory_order_relaxed); }
  void closed(Kind kind) { counts_[index(kind)].fetch_sub(1, std::memory_order_relaxed); }
  std::int64_t count(Kind kind) const {
    return counts_[index(kind)].load(std::memory_order_relaxed);
  }

 private:
  static std::size_t index(Kind kind) { return static_cast<std::size_t>(kind); }

  std::array<std::atomic<std::int64_t>, 4> counts_{};
};

}  // namespace berth::agent
