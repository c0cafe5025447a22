#include "agent/reconnecting_pty.hpp"

#include <spdlog/spdlog.h>
#include <boost/json/stream_parser.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "agent/session_counters.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "common/uuid.hpp"
#include "pty/pty_process.hpp"

extern char** environ;

namespace berth::agent {

namespace {

using std::chrono::milliseconds;
constexpr unsigned kDefaultCols = 80;
constexpr unsigned kDefaultRows = 24;
constexpr unsigned kMaxSize = 65535;
constexpr std::size_t kMaxCommandBytes = 64 * 1024;
// How long the reader waits for output before it looks at the program and the stop flag.
constexpr milliseconds kPollInterval{100};
// What a program that exited may still leave in the terminal, read before its session ends.
constexpr std::size_t kMaxDrainBytes = 1 << 20;

// One attachment as its session sees it.
struct Core {
  PtySink sink;
  std::size_t unacked = 0;
  std::size_t window = 0;
  bool detached = false;
  std::optional<SessionCounters::Session> counted;
};

// A program in a PTY and who is attached to it; everything below `mutex` is guarded by it.
struct Session {
  std::string id;
  std::unique_ptr<pty::PtyProcess> process;
  std::mutex mutex;
  std::condition_variable room;   // the reader waits for output room or the stop
  std::condition_variable typed;  // the writer waits for input or the stop
  std::string recent;             // the last replay_bytes of output
  std::vector<std::shared_ptr<Core>> attachments;
  std::deque<std::string> input;
  std::size_t input_bytes = 0;
  std::chrono::steady_clock::time_point idle_since;
  bool stop = false;  // killed, or the program ended

  void request_stop() {
    stop = true;
    room.notify_all();
    typed.notify_all();
  }
};

std::map<std::string, std::string> own_environment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) out[std::string(kv.substr(0, eq))] = kv.substr(eq + 1);
  }
  return out;
}

unsigned checked_size(unsigned value, unsigned fallback, const char* what) {
  if (value == 0) return fallback;
  if (value > kMaxSize)
    throw Error{ErrorCode::invalid, std::string("The terminal ") + what + " is too large.",
                "at most " + std::to_string(kMaxSize)};
  return value;
}

std::uint16_t request_size(const json::object& request, const char* key) {
  auto* v = request.if_contains(key);
  if (!v || v->is_null()) return 0;
  if (v->is_int64() && v->get_int64() >= 0 && v->get_int64() <= kMaxSize)
    return static_cast<std::uint16_t>(v->get_int64());
  if (v->is_uint64() && v->get_uint64() <= kMaxSize)
    return static_cast<std::uint16_t>(v->get_uint64());
  throw Error{ErrorCode::invalid,
              std::string("The terminal request's ") + key + " must be an integer 0-65535."};
}

}  // namespace

struct ReconnectingPtys::State {
  explicit State(ReconnectingPtyOptions o) : options(o), clock(o.clock ? o.clock : &system_clock) {}

  ReconnectingPtyOptions options;
  SystemClock system_clock;
  const Clock* clock;
  mutable std::mutex mutex;  // guards everything below; taken before a Session's mutex
  std::condition_variable changed;
  std::map<std::string, std::shared_ptr<Session>> sessions;
  std::optional<std::map<std::string, std::string>> environment;
  std::string directory;
  std::size_t threads = 0;  // readers and writers still running
  bool stopping = false;
  std::thread reaper;
};

namespace {

using State = ReconnectingPtys::State;

// The session's end: it leaves the map and every attachment hears of it.
void end_session(State& st, const std::shared_ptr<Session>& s) {
  {
    std::lock_guard lock(st.mutex);
    if (auto it = st.sessions.find(s->id); it != st.sessions.end() && it->second == s)
      st.sessions.erase(it);
  }
  std::lock_guard lock(s->mutex);
  s->request_stop();
  for (auto& core : s->attachments) {
    core->detached = true;
    core->counted.reset();
    if (core->sink.closed) core->sink.closed();
  }
  s->attachments.clear();
}

void deliver(State& st, Session& s, const std::string& bytes) {
  std::lock_guard lock(s.mutex);
  s.recent += bytes;
  auto cap = st.options.replay_bytes;
  if (s.recent.size() > cap) s.recent.erase(0, s.recent.size() - cap);
  for (auto& core : s.attachments) {
    core->unacked += bytes.size();
    core->sink.output(bytes);
  }
}

// Waits while an attachment has more output outstanding than it may; false once stopping.
bool wait_for_room(Session& s) {
  std::unique_lock lock(s.mutex);
  s.room.wait(lock, [&] {
    return s.stop || std::none_of(s.attachments.begin(), s.attachments.end(), [&](auto& c) {
             return c->unacked + pty::PtyProcess::kReadBytes > c->window;
           });
  });
  return !s.stop;
}

void read_loop(State& st, const std::shared_ptr<Session>& s) {
  std::string chunk;
  bool killed = false;
  for (;;) {
    if (!wait_for_room(*s)) {
      killed = true;
      break;
    }
    chunk.clear();
    auto n = s->process->read_some(chunk, kPollInterval);
    if (n > 0) {
      deliver(st, *s, chunk);
    } else if (n < 0) {
      break;
    } else if (s->process->try_wait()) {
      // What it wrote just before exiting is still in the terminal.
      std::size_t drained = 0;
      while (drained < kMaxDrainBytes) {
        chunk.clear();
        if (s->process->read_some(chunk, milliseconds(0)) <= 0) break;
        drained += chunk.size();
        deliver(st, *s, chunk);
      }
      break;
    }
  }
  // An interactive shell ignores SIGTERM; a hangup is what ends it, as when a terminal closes.
  auto code = s->process->terminate(milliseconds(2000), SIGHUP);
  spdlog::info("terminal session {} ended ({}, exit code {})", s->id,
               killed ? "killed" : "program exited", code);
  end_session(st, s);
}

void write_loop(Session& s) {
  std::unique_lock lock(s.mutex);
  for (;;) {
    s.typed.wait(lock, [&] { return s.stop || !s.input.empty(); });
    if (s.stop) return;
    auto& front = s.input.front();
    lock.unlock();
    auto n = s.process->write_some(front, kPollInterval);
    lock.lock();
    if (n < 0) return;  // the terminal closed; the reader ends the session
    auto written = static_cast<std::size_t>(n);
    s.input_bytes -= written;
    if (written == front.size())
      s.input.pop_front();
    else
      front.erase(0, written);
  }
}

// Runs `body` on a detached thread the manager's destructor waits for; the caller counted
// it in st->threads under st->mutex.
template <class Body>
void start_thread(std::shared_ptr<State> st, Body body) {
  std::thread([st = std::move(st), body = std::move(body)]() mutable {
    {
      auto run = std::move(body);  // its Session goes here, before the manager stops waiting
      run();
    }
    std::lock_guard lock(st->mutex);
    --st->threads;
    st->changed.notify_all();
  }).detach();
}

std::vector<std::string> environment_for(const State& st) {
  auto env = st.environment.value_or(own_environment());
  env["TERM"] = "xterm-256color";
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) {
    std::string entry = k;
    entry.append("=").append(v);
    out.push_back(std::move(entry));
  }
  return out;
}

std::vector<std::string> argv_for(const State& st, const std::string& command) {
  if (!command.empty()) return {"/bin/sh", "-c", command};
  const auto env = st.environment.value_or(own_environment());
  auto it = env.find("SHELL");
  return {it != env.end() && !it->second.empty() ? it->second : std::string("/bin/sh")};
}

// Starts a session; st.mutex is held.
std::shared_ptr<Session> start_session(State& st, const std::string& id, const std::string& command,
                                       unsigned cols, unsigned rows) {
  auto s = std::make_shared<Session>();
  s->id = id;
  pty::PtyOptions options{st.directory, environment_for(st)};
  try {
    s->process =
        std::make_unique<pty::PtyProcess>(argv_for(st, command), static_cast<unsigned short>(cols),
                                          static_cast<unsigned short>(rows), options);
  } catch (const Error& e) {
    throw Error{ErrorCode::unavailable, "The terminal could not start.", e.message()};
  }
  s->idle_since = st.clock->steady_now();
  spdlog::info("terminal session {} started (pid {})", id, s->process->pid());
  return s;
}

// The owner's handle on one attachment.
class Attachment final : public PtyAttachment {
 public:
  Attachment(std::shared_ptr<State> st, std::shared_ptr<Session> s, std::shared_ptr<Core> core)
      : st_(std::move(st)), s_(std::move(s)), core_(std::move(core)) {}
  ~Attachment() override { detach(); }

  void input(std::string_view bytes) override {
    while (!bytes.empty()) {
      boost::system::error_code ec;
      auto n = parser_.write_some(bytes.data(), bytes.size(), ec);
      if (ec)
        throw Error{ErrorCode::invalid, "The terminal request is not valid JSON.", ec.message()};
      partial_ += n;
      bytes.remove_prefix(n);
      if (partial_ > st_->options.max_request_bytes)
        throw Error{ErrorCode::too_large, "The terminal request is too large.",
                    "at most " + std::to_string(st_->options.max_request_bytes) + " bytes"};
      if (!parser_.done()) continue;
      auto value = parser_.release();
      parser_.reset();
      partial_ = 0;
      apply(value);
    }
  }

  void acknowledged(std::size_t bytes) override {
    std::lock_guard lock(s_->mutex);
    core_->unacked -= std::min(bytes, core_->unacked);
    s_->room.notify_all();
  }

  void detach() override {
    std::lock_guard lock(s_->mutex);
    if (core_->detached) return;
    core_->detached = true;
    core_->counted.reset();
    std::erase(s_->attachments, core_);
    if (s_->attachments.empty()) s_->idle_since = st_->clock->steady_now();
    s_->room.notify_all();
  }

 private:
  void apply(const json::value& value) {
    if (!value.is_object())
      throw Error{ErrorCode::invalid, "Each terminal request must be a JSON object."};
    const auto& request = value.get_object();
    auto height = request_size(request, "height");
    auto width = request_size(request, "width");
    if (auto* data = request.if_contains("data"); data && !data->is_null()) {
      if (!data->is_string())
        throw Error{ErrorCode::invalid, "The terminal request's data must be a string."};
      const auto& text = data->get_string();
      type(std::string_view(text.data(), text.size()));
    }
    if (height > 0 && width > 0) s_->process->resize(width, height);
  }

  void type(std::string_view bytes) {
    if (bytes.empty()) return;
    std::lock_guard lock(s_->mutex);
    if (s_->stop) return;
    if (s_->input_bytes + bytes.size() > st_->options.max_queued_input)
      throw Error{ErrorCode::too_large, "The terminal's program is not reading its input."};
    s_->input_bytes += bytes.size();
    s_->input.emplace_back(bytes);
    s_->typed.notify_all();
  }

  std::shared_ptr<State> st_;
  std::shared_ptr<Session> s_;
  std::shared_ptr<Core> core_;
  boost::json::stream_parser parser_;
  std::size_t partial_ = 0;  // bytes of the request being parsed
};

}  // namespace

ReconnectingPtys::ReconnectingPtys(ReconnectingPtyOptions options)
    : state_(std::make_shared<State>(options)) {
  state_->reaper = std::thread([this] {
    std::unique_lock lock(state_->mutex);
    while (!state_->stopping) {
      state_->changed.wait_for(lock, state_->options.reap_interval);
      if (state_->stopping) break;
      lock.unlock();
      reap_idle();
      lock.lock();
    }
  });
}

ReconnectingPtys::~ReconnectingPtys() {
  std::unique_lock lock(state_->mutex);
  state_->stopping = true;
  for (auto& [id, s] : state_->sessions) {
    std::lock_guard session_lock(s->mutex);
    s->request_stop();
  }
  state_->changed.notify_all();
  state_->changed.wait(lock, [&] { return state_->threads == 0; });
  lock.unlock();
  state_->reaper.join();
}

void ReconnectingPtys::set_environment(std::map<std::string, std::string> environment,
                                       std::string directory) {
  std::lock_guard lock(state_->mutex);
  state_->environment = std::move(environment);
  state_->directory = std::move(directory);
}

std::shared_ptr<PtyAttachment> ReconnectingPtys::attach(const std::string& id,
                                                        const std::string& command, unsigned cols,
                                                        unsigned rows, PtySink sink) {
  if (!Uuid::parse(id))
    throw Error{ErrorCode::invalid, "The terminal's reconnect id must be a UUID.", id};
  if (command.size() > kMaxCommandBytes)
    throw Error{ErrorCode::invalid, "The terminal's command is too long."};
  // A new attachment with a size resizes the session to its window, as Coder's does.
  bool sized = cols > 0 && rows > 0;
  cols = checked_size(cols, kDefaultCols, "width");
  rows = checked_size(rows, kDefaultRows, "height");
  if (!sink.output) throw Error{ErrorCode::invalid, "A terminal attachment needs an output."};
  auto& st = *state_;
  std::lock_guard lock(st.mutex);
  if (st.stopping) throw Error{ErrorCode::unavailable, "The agent is stopping."};
  std::shared_ptr<Session> s;
  if (auto it = st.sessions.find(id); it != st.sessions.end()) {
    std::lock_guard session_lock(it->second->mutex);
    if (!it->second->stop) s = it->second;
  }
  bool fresh = !s;
  if (fresh) {
    st.sessions.erase(id);  // a session being killed: the id starts afresh
    if (st.sessions.size() >= st.options.max_sessions)
      throw Error{ErrorCode::unavailable, "Too many terminal sessions are open.",
                  "at most " + std::to_string(st.options.max_sessions)};
    s = start_session(st, id, command, cols, rows);
    st.sessions[id] = s;
  }
  auto core = std::make_shared<Core>();
  core->window = std::max(sink.window ? sink.window : st.options.max_unacked_output,
                          pty::PtyProcess::kReadBytes);
  core->sink = std::move(sink);
  {
    std::lock_guard session_lock(s->mutex);
    if (s->attachments.size() >= st.options.max_attachments)
      throw Error{ErrorCode::unavailable, "Too many connections to this terminal.",
                  "at most " + std::to_string(st.options.max_attachments)};
    if (!fresh && sized)
      s->process->resize(static_cast<unsigned short>(cols), static_cast<unsigned short>(rows));
    if (!s->recent.empty()) {
      core->unacked += s->recent.size();
      core->sink.output(s->recent);
    }
    if (st.options.counters)
      core->counted.emplace(*st.options.counters, SessionCounters::Kind::reconnecting_pty);
    s->attachments.push_back(core);
  }
  if (fresh) {
    st.threads += 2;  // under st.mutex, so the destructor cannot miss them
    start_thread(state_, [&st, s] { read_loop(st, s); });
    start_thread(state_, [s] { write_loop(*s); });
  }
  return std::make_shared<Attachment>(state_, s, core);
}

std::size_t ReconnectingPtys::session_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->sessions.size();
}

void ReconnectingPtys::reap_idle() {
  auto& st = *state_;
  std::lock_guard lock(st.mutex);
  auto now = st.clock->steady_now();
  for (auto& [id, s] : st.sessions) {
    std::lock_guard session_lock(s->mutex);
    if (s->stop || !s->attachments.empty() || now - s->idle_since < st.options.idle_timeout)
      continue;
    spdlog::info("terminal session {} had no connection for {} ms; killing it", id,
                 st.options.idle_timeout.count());
    s->request_stop();
  }
}

}  // namespace berth::agent
