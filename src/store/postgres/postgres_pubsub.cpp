#include "store/postgres/postgres_pubsub.hpp"

#include <errno.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "common/error.hpp"

namespace berth::store::postgres {

namespace {

// After a lost LISTEN connection: the first attempt at once, then doubling up to the cap, so
// that a database that is down is not hammered, and one that is back is found soon.
constexpr auto kFirstRetryDelay = std::chrono::milliseconds(100);
constexpr auto kMaxRetryDelay = std::chrono::seconds(5);

struct ConnectionCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;
struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultClearer>;

std::string trimmed_error(PGconn* conn) {
  std::string message = conn ? PQerrorMessage(conn) : "out of memory";
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
}

// Server notices ("terminating connection due to administrator command") go to the log, not
// stderr: a lost connection is logged where it is handled.
void log_notice(void*, const PGresult* notice) {
  const char* text = PQresultErrorField(notice, PG_DIAG_MESSAGE_PRIMARY);
  spdlog::debug("pubsub: PostgreSQL: {}", text ? text : "");
}

// Connects with `url`, naming the connection for pg_stat_activity. The URL may override the
// timeouts (they come before it) but not the name or the encoding (after it).
Connection connect(const std::string& url, const char* application_name) {
  // A silent network cut must end a LISTEN that would otherwise wait forever: keepalives
  // notice it within about a minute.
  const char* keys[] = {
      "connect_timeout", "keepalives_idle",  "keepalives_interval", "keepalives_count",
      "dbname",          "application_name", "client_encoding",     nullptr};
  const char* values[] = {"10", "30", "10", "3", url.c_str(), application_name, "UTF8", nullptr};
  Connection conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK)
    // The detail names the host and port; the URL itself may hold a password.
    throw Error{ErrorCode::unavailable, "Cannot connect to PostgreSQL.", trimmed_error(conn.get())};
  PQsetNoticeReceiver(conn.get(), log_notice, nullptr);
  return conn;
}

// Runs a command without parameters; false when it failed (the reason is in the connection).
bool run_command(PGconn* conn, const std::string& sql) {
  Result result(PQexec(conn, sql.c_str()));
  auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

// FNV-1a: stable across processes, builds and versions, unlike std::hash, so that replicas of
// different versions still meet on the same PostgreSQL channel.
std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// "<length of channel>:<channel><message>": the length says where the channel ends whatever
// bytes either holds.
std::string encode_payload(std::string_view channel, std::string_view message) {
  std::string payload = std::to_string(channel.size());
  payload += ':';
  payload.append(channel);
  payload.append(message);
  return payload;
}

struct Decoded {
  std::string_view channel;
  std::string_view message;
};

std::optional<Decoded> decode_payload(std::string_view payload) {
  std::size_t length = 0;
  auto [rest, error] = std::from_chars(payload.data(), payload.data() + payload.size(), length);
  if (error != std::errc{} || rest == payload.data() + payload.size() || *rest != ':')
    return std::nullopt;
  std::size_t start = std::size_t(rest - payload.data()) + 1;
  if (length > payload.size() - start) return std::nullopt;
  return Decoded{payload.substr(start, length), payload.substr(start + length)};
}

// Wakes the LISTEN thread out of poll(): after a command on its connection (which may have
// read notifications into libpq's buffer, where poll() cannot see them) and to stop it.
class WakeFd {
 public:
  WakeFd() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0)
      throw Error{ErrorCode::internal, "An internal server error occurred.",
                  std::string("eventfd: ") + std::strerror(errno)};
  }
  ~WakeFd() { ::close(fd_); }
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;

  int fd() const { return fd_; }
  void signal() const {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);  // full only after 2^64 - 1
  }
  void drain() const {
    std::uint64_t count;
    [[maybe_unused]] auto n = ::read(fd_, &count, sizeof count);
  }

 private:
  int fd_;
};

}  // namespace

// Everything the thread and the Subscriptions share; outlives PostgresPubsub while a
// Subscription is ending.
struct PostgresPubsub::Core {
  // One subscription; `alive` is cleared under `mutex` when it ends, so that once
  // unsubscribing returns, its listener is neither running nor will run again.
  struct Entry {
    std::recursive_mutex mutex;
    bool alive = true;
    Listener listener;
  };
  using Targets = std::vector<std::shared_ptr<Entry>>;
  struct Received {
    std::string postgres_channel;
    std::string payload;
  };

  Core(std::string url, const Clock& clock)
      : url(std::move(url)),
        clock(clock),
        notify_conn(connect(this->url, kNotifyApplicationName)),
        listen_conn(connect(this->url, kListenApplicationName)) {}

  void run();
  bool listen_once();
  std::vector<Received> take_notifications();
  void reconnect();
  bool try_reconnect();
  void dispatch(const std::vector<Received>& received);
  Targets targets_of(const std::string& channel);
  static void deliver(const Targets& targets, const std::string& message);
  // With `mutex` held: runs a LISTEN or UNLISTEN; false when that found the connection lost.
  bool listen_command(const std::string& sql);
  void unsubscribe(const std::string& channel, std::uint64_t id);
  bool notify(const std::string& name, const std::string& payload);
  void stop();

  const std::string url;
  const Clock& clock;
  WakeFd wake;

  std::mutex notify_mutex;  // one publisher at a time on notify_conn
  Connection notify_conn;

  std::mutex mutex;  // guards everything below
  std::condition_variable stop_cv;
  bool stopping = false;
  // Replaced only by the thread; while `connected` is false nobody else uses it.
  Connection listen_conn;
  bool connected = true;
  std::multimap<std::string, std::pair<std::uint64_t, std::shared_ptr<Entry>>> listeners;
  // Subscriptions per PostgreSQL channel (several Berth channels may share one): LISTENed
  // while above zero.
  std::unordered_map<std::string, std::size_t> listened;
  std::uint64_t next_id = 0;
};

void PostgresPubsub::Core::run() {
  while (true) {
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
    }
    if (!listen_once()) reconnect();
  }
}

// Waits for the socket (or a wake-up) once and delivers what arrived; false when the
// connection is lost.
bool PostgresPubsub::Core::listen_once() {
  int socket;
  {
    std::lock_guard lock(mutex);
    if (!connected) return false;
    socket = PQsocket(listen_conn.get());
  }
  // The socket stays open while we wait: only this thread replaces the connection, and a
  // command of another thread that finds it lost also wakes us.
  pollfd fds[2] = {{socket, POLLIN, 0}, {wake.fd(), POLLIN, 0}};
  if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
    spdlog::error("pubsub: poll failed: {}", std::strerror(errno));
    std::lock_guard lock(mutex);
    connected = false;
    return false;
  }
  if (fds[1].revents) wake.drain();
  auto received = take_notifications();
  dispatch(received);
  std::lock_guard lock(mutex);
  return connected || stopping;
}

std::vector<PostgresPubsub::Core::Received> PostgresPubsub::Core::take_notifications() {
  std::vector<Received> received;
  std::lock_guard lock(mutex);
  if (!connected || stopping) return received;
  PGconn* conn = listen_conn.get();
  bool ok = PQconsumeInput(conn) == 1 && PQstatus(conn) == CONNECTION_OK;
  // Notifications read before a failure are still delivered.
  while (PGnotify* notify = PQnotifies(conn)) {
    received.push_back({notify->relname, notify->extra});
    PQfreemem(notify);
  }
  if (!ok) {
    spdlog::warn("pubsub: lost the LISTEN connection to PostgreSQL: {}", trimmed_error(conn));
    connected = false;
  }
  return received;
}

void PostgresPubsub::Core::reconnect() {
  auto delay = std::chrono::steady_clock::duration(kFirstRetryDelay);
  while (!try_reconnect()) {
    std::unique_lock lock(mutex);
    if (clock.wait_for(lock, stop_cv, delay, [this] { return stopping; })) return;
    delay = std::min<std::chrono::steady_clock::duration>(delay * 2, kMaxRetryDelay);
  }
}

// One attempt: connect, LISTEN everything, then tell every subscriber to re-read. True when
// done (or stopping).
bool PostgresPubsub::Core::try_reconnect() {
  Connection conn;
  try {
    conn = connect(url, kListenApplicationName);
  } catch (const Error& e) {
    spdlog::warn("pubsub: cannot reconnect the LISTEN connection: {}", e.detail());
    return false;
  }
  Targets everyone;
  {
    // Held throughout, so that no subscription comes or goes between the LISTENs and the
    // switch to the new connection.
    std::lock_guard lock(mutex);
    if (stopping) return true;
    std::string sql;
    for (const auto& [name, count] : listened) sql += "LISTEN " + name + ";";
    if (!sql.empty() && !run_command(conn.get(), sql)) {
      spdlog::warn("pubsub: cannot LISTEN again: {}", trimmed_error(conn.get()));
      return false;
    }
    listen_conn = std::move(conn);
    connected = true;
    for (const auto& [channel, entry] : listeners) everyone.push_back(entry.second);
  }
  spdlog::info("pubsub: LISTEN connection to PostgreSQL restored; {} subscriber(s) re-read",
               everyone.size());
  deliver(everyone, kResync);
  return true;
}

void PostgresPubsub::Core::dispatch(const std::vector<Received>& received) {
  for (const auto& r : received) {
    auto decoded = decode_payload(r.payload);
    // Someone else's NOTIFY on our channel name, or a hash collision: not ours to deliver.
    if (!decoded || postgres_channel(decoded->channel) != r.postgres_channel) {
      spdlog::debug("pubsub: ignored a notification on {}", r.postgres_channel);
      continue;
    }
    deliver(targets_of(std::string(decoded->channel)), std::string(decoded->message));
  }
}

PostgresPubsub::Core::Targets PostgresPubsub::Core::targets_of(const std::string& channel) {
  Targets targets;
  std::lock_guard lock(mutex);
  auto [begin, end] = listeners.equal_range(channel);
  for (auto it = begin; it != end; ++it) targets.push_back(it->second.second);
  return targets;
}

// Called without `mutex`, so that a listener may subscribe or unsubscribe.
void PostgresPubsub::Core::deliver(const Targets& targets, const std::string& message) {
  for (const auto& entry : targets) {
    std::lock_guard lock(entry->mutex);
    if (!entry->alive) continue;
    // One listener's failure must not stop delivery to the others, nor end the thread.
    try {
      entry->listener(message);
    } catch (const std::exception& e) {
      spdlog::error("pubsub: a listener failed: {}", e.what());
    }
  }
}

bool PostgresPubsub::Core::listen_command(const std::string& sql) {
  bool ok = run_command(listen_conn.get(), sql);
  wake.signal();  // the round trip may have buffered notifications
  if (ok) return true;
  if (PQstatus(listen_conn.get()) == CONNECTION_OK)
    throw Error{ErrorCode::internal, "An internal server error occurred.",
                sql + ": " + trimmed_error(listen_conn.get())};
  // The thread finds it lost too, reconnects, LISTENs what is subscribed then and resyncs.
  spdlog::warn("pubsub: lost the LISTEN connection to PostgreSQL: {}",
               trimmed_error(listen_conn.get()));
  connected = false;
  return false;
}

void PostgresPubsub::Core::unsubscribe(const std::string& channel, std::uint64_t id) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mutex);
    auto [begin, end] = listeners.equal_range(channel);
    auto it = std::find_if(begin, end, [id](const auto& item) { return item.second.first == id; });
    if (it == end) return;
    entry = it->second.second;
    listeners.erase(it);
    auto name = postgres_channel(channel);
    if (--listened[name] == 0) {
      listened.erase(name);
      try {
        if (connected && !stopping) listen_command("UNLISTEN " + name);
      } catch (const Error& e) {
        // Left listening: its notifications find no subscriber and are dropped.
        spdlog::warn("pubsub: {}", e.detail());
      }
    }
  }
  std::lock_guard lock(entry->mutex);  // waits for a call in progress
  entry->alive = false;
}

// One NOTIFY; false when the connection is lost (after trying to connect it again).
bool PostgresPubsub::Core::notify(const std::string& name, const std::string& payload) {
  std::lock_guard lock(notify_mutex);
  const char* values[] = {name.c_str(), payload.c_str()};
  // Once more after a reconnect: a connection that dropped since the last publish (a
  // database restart, an idle timeout) should cost no message.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (PQstatus(notify_conn.get()) != CONNECTION_OK) {
      PQreset(notify_conn.get());
      if (PQstatus(notify_conn.get()) != CONNECTION_OK) continue;
    }
    Result result(PQexecParams(notify_conn.get(), "SELECT pg_notify($1, $2)", 2, nullptr, values,
                               nullptr, nullptr, 0));
    if (result && PQresultStatus(result.get()) == PGRES_TUPLES_OK) return true;
    if (PQstatus(notify_conn.get()) == CONNECTION_OK)
      throw Error{ErrorCode::internal, "An internal server error occurred.",
                  "NOTIFY failed: " + trimmed_error(notify_conn.get())};
  }
  spdlog::error("pubsub: cannot NOTIFY, other replicas miss a change: {}",
                trimmed_error(notify_conn.get()));
  return false;
}

void PostgresPubsub::Core::stop() {
  {
    std::lock_guard lock(mutex);
    stopping = true;
  }
  stop_cv.notify_all();
  wake.signal();
}

PostgresPubsub::PostgresPubsub(const std::string& url, const Clock& clock)
    : core_(std::make_shared<Core>(url, clock)) {
  thread_ = std::thread([core = core_] { core->run(); });
}

PostgresPubsub::~PostgresPubsub() {
  core_->stop();
  thread_.join();
}

std::size_t PostgresPubsub::max_message_bytes(std::string_view channel) {
  auto overhead = encode_payload(channel, "").size();
  return overhead >= kMaxPayloadBytes ? 0 : kMaxPayloadBytes - overhead;
}

std::string PostgresPubsub::postgres_channel(std::string_view channel) {
  return fmt::format("berth_{:016x}", stable_hash(channel));
}

void PostgresPubsub::publish(const std::string& channel, const std::string& message) {
  auto payload = encode_payload(channel, message);
  if (payload.size() > kMaxPayloadBytes)
    throw Error{ErrorCode::internal, "An internal server error occurred.",
                fmt::format("pubsub: a {}-byte message on channel \"{}\" exceeds PostgreSQL's "
                            "NOTIFY limit ({} bytes for this channel)",
                            message.size(), channel, max_message_bytes(channel))};
  // libpq passes parameters as C strings: a NUL would cut the message short.
  if (payload.find('\0') != std::string::npos)
    throw Error{ErrorCode::internal, "An internal server error occurred.",
                fmt::format("pubsub: a message on channel \"{}\" holds a NUL byte", channel)};
  if (core_->notify(postgres_channel(channel), payload)) return;
  // The change is committed: at least this replica's watchers see it.
  Core::deliver(core_->targets_of(channel), message);
}

Pubsub::Subscription PostgresPubsub::subscribe(const std::string& channel, Listener listener) {
  auto entry = std::make_shared<Core::Entry>();
  entry->listener = std::move(listener);
  auto name = postgres_channel(channel);
  std::uint64_t id;
  {
    std::lock_guard lock(core_->mutex);
    id = core_->next_id++;
    core_->listeners.emplace(channel, std::make_pair(id, entry));
    if (core_->listened[name]++ == 0 && core_->connected) {
      try {
        core_->listen_command("LISTEN " + name);
      } catch (...) {
        auto [begin, end] = core_->listeners.equal_range(channel);
        core_->listeners.erase(
            std::find_if(begin, end, [id](const auto& item) { return item.second.first == id; }));
        core_->listened.erase(name);
        throw;
      }
    }
  }
  std::weak_ptr<Core> weak = core_;
  return Subscription([weak, channel, id] {
    if (auto core = weak.lock()) core->unsubscribe(channel, id);
  });
}

std::vector<std::string> PostgresPubsub::listening_channels_for_test() {
  std::vector<std::string> channels;
  std::lock_guard lock(core_->mutex);
  if (!core_->connected) return channels;
  Result result(PQexec(core_->listen_conn.get(), "SELECT pg_listening_channels()"));
  core_->wake.signal();
  if (result && PQresultStatus(result.get()) == PGRES_TUPLES_OK)
    for (int row = 0; row < PQntuples(result.get()); ++row)
      channels.emplace_back(PQgetvalue(result.get(), row, 0));
  std::sort(channels.begin(), channels.end());
  return channels;
}

}  // namespace berth::store::postgres
