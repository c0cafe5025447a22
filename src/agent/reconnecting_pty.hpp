#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.hpp"

namespace berth::agent {

class SessionCounters;

// Limits and defaults of the agent's terminals.
struct ReconnectingPtyOptions {
  // A session nobody is attached to is killed after this long (Coder: 5 minutes).
  std::chrono::milliseconds idle_timeout = std::chrono::minutes(5);
  // How often idle sessions are looked for.
  std::chrono::milliseconds reap_interval = std::chrono::seconds(1);
  std::size_t max_sessions = 64;
  std::size_t max_attachments = 32;          // per session
  std::size_t replay_bytes = 64 * 1024;      // the recent output a new attachment sees first
  std::size_t max_request_bytes = 1 << 20;   // one client request (JSON object) at most
  std::size_t max_queued_input = 1 << 20;    // typed bytes the program has not read yet
  std::size_t max_unacked_output = 1 << 20;  // per attachment, before the program is paused
  const Clock* clock = nullptr;              // null: the system clock
  SessionCounters* counters = nullptr;       // counts live attachments, if set
};

// Where an attachment's output goes. Both are called from the session's reader thread, with
// the session locked: they must not block or call back into the manager.
struct PtySink {
  std::function<void(std::string bytes)> output;
  std::function<void()> closed;  // the program exited or the session was killed
  // Output bytes not yet acknowledged above which the program waits (the replay aside);
  // 0: the manager's max_unacked_output.
  std::size_t window = 0;
};

// One client's connection to a session. The owner calls input() and acknowledged() from one
// thread at a time, and detach() (or drops it) when the client goes.
class PtyAttachment {
 public:
  virtual ~PtyAttachment() = default;
  // Feeds the client's raw bytes: concatenated JSON objects {"data","height","width"} in any
  // framing. Throws Error{invalid} (bad JSON, wrong types) or Error{too_large} (an object
  // over the limit, or input the program does not read); the caller then closes the stream.
  virtual void input(std::string_view bytes) = 0;
  // The sink's bytes were passed on; the program may write more (output backpressure).
  virtual void acknowledged(std::size_t bytes) = 0;
  // Stops the output; the session lives on. Idempotent; also done by the destructor.
  virtual void detach() = 0;
};

// The agent's reconnecting terminals (Coder's "reconnecting PTY"): programs in PTYs named by
// a client-chosen id, which outlive the client connections attached to them and replay
// their recent output to each new attachment. One reader and one writer thread per session.
class ReconnectingPtys {
 public:
  explicit ReconnectingPtys(ReconnectingPtyOptions options = {});
  // Kills every session and waits for its threads.
  ~ReconnectingPtys();
  ReconnectingPtys(const ReconnectingPtys&) = delete;
  ReconnectingPtys& operator=(const ReconnectingPtys&) = delete;

  // What new sessions run in: the environment (TERM is set to xterm-256color; before this
  // is called, the agent's own) and the working directory (empty: the agent's).
  void set_environment(std::map<std::string, std::string> environment, std::string directory);

  // Attaches to the live session `id`, or starts `command` (via `sh -c`; empty: $SHELL or
  // /bin/sh) there at cols x rows. The sink first gets the session's recent output.
  // Throws Error{invalid} for a bad id or size, Error{unavailable} when at the session or
  // attachment limit or the program cannot start.
  std::shared_ptr<PtyAttachment> attach(const std::string& id, const std::string& command,
                                        unsigned cols, unsigned rows, PtySink sink);

  std::size_t session_count() const;
  // Kills sessions idle past the timeout now (also done every reap_interval).
  void reap_idle();

  struct State;  // defined in the .cpp; threads and attachments share it

 private:
  std::shared_ptr<State> state_;
};

}  // namespace berth::agent
