#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "store/pubsub.hpp"

namespace berth::store::postgres {

// Pubsub over PostgreSQL's LISTEN/NOTIFY, so that every replica on one database sees every
// other's changes.
//
// Two connections of its own: one LISTENs, read by a thread of this object that waits on its
// socket; one NOTIFYs, shared by publishers under a mutex. A Berth channel ("workspace:<id>",
// any text) becomes the PostgreSQL channel "berth_" + 16 hex digits of a stable 64-bit hash of
// it (PostgreSQL's are identifiers of at most 63 bytes); the payload carries the Berth channel
// too, so that a hash collision is filtered out rather than delivered.
//
// Local delivery goes through the database like any other: a message published here reaches
// this process's subscribers when PostgreSQL sends it back. That keeps one order for every
// subscriber of a channel, local or not (the database's commit order), and one delivery path;
// the price is a round trip of latency. Listeners run on this object's thread.
//
// When the LISTEN connection drops, the thread connects again (backing off on the Clock),
// LISTENs every channel again, and then sends Pubsub::kResync to every subscriber: whatever
// was published while it was away has to be re-read.
class PostgresPubsub final : public Pubsub {
 public:
  // NOTIFY's payload must be shorter than 8000 bytes (PostgreSQL's NOTIFY_PAYLOAD_MAX_LENGTH).
  static constexpr std::size_t kMaxPayloadBytes = 7999;
  // What pg_stat_activity shows for the two connections.
  static constexpr const char* kListenApplicationName = "berth-pubsub-listen";
  static constexpr const char* kNotifyApplicationName = "berth-pubsub-notify";

  // Connects both connections (a libpq URL or conninfo string) and starts the thread; throws
  // Error{unavailable} when the database cannot be reached.
  PostgresPubsub(const std::string& url, const Clock& clock);
  // Stops and joins the thread; subscriptions that outlive this object end as no-ops.
  ~PostgresPubsub() override;
  PostgresPubsub(const PostgresPubsub&) = delete;
  PostgresPubsub& operator=(const PostgresPubsub&) = delete;

  // Throws Error{internal}, naming the channel, for a message that does not fit in one
  // NOTIFY (see max_message_bytes) or holds a NUL byte: never truncated. When the database
  // cannot be reached even after reconnecting once, the message is logged and delivered to
  // this process's subscribers only: the change it announces has already been committed.
  void publish(const std::string& channel, const std::string& message) override;
  // Returns once the channel is LISTENed (a round trip on the first subscription of a
  // channel), or once the LISTEN connection is known lost: its reconnection then LISTENs and
  // sends kResync. Once the returned Subscription is destroyed, the listener is neither
  // running nor will run again; the last one of a channel UNLISTENs it.
  Subscription subscribe(const std::string& channel, Listener listener) override;

  // The longest message that publish() takes on `channel`.
  static std::size_t max_message_bytes(std::string_view channel);
  // The PostgreSQL channel that carries `channel`.
  static std::string postgres_channel(std::string_view channel);

  // What the LISTEN connection's server session listens to now (pg_listening_channels());
  // empty while it is disconnected. For tests.
  std::vector<std::string> listening_channels_for_test();

 private:
  struct Core;
  std::shared_ptr<Core> core_;
  std::thread thread_;
};

}  // namespace berth::store::postgres
