#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "coderd/rbac.hpp"
#include "common/uuid.hpp"
#include "store/rows.hpp"

namespace berth::coderd {

// The caller of a request, once its token checked out.
struct Authenticated {
  store::UserRow user;
  store::ApiKeyRow key;
  Subject subject;
  std::vector<Uuid> organization_ids;  // the user's organizations, in the store's order
};

// How many sessions stay in memory: enough for every active client of a large deployment.
inline constexpr std::size_t kSessionCacheCapacity = 10'000;

// What authenticate() read from the store for a key id (the key row with its hashed secret,
// its user and that user's permissions), so that a busy client costs no store read. Entries
// are immutable snapshots shared with the requests that use them. Sharded by key id; a
// lookup takes one shard's lock shared and marks the entry for the clock (second chance)
// eviction, so that concurrent requests do not serialize.
//
// Invalidation: every change to a row an entry was built from drops it (drop_key,
// drop_user). A load that raced with such a change must not put back what it read before
// the change: insert() takes the epoch read before the load and refuses the entry when
// anything was dropped since.
class SessionCache {
 public:
  using Entry = std::shared_ptr<const Authenticated>;

  explicit SessionCache(std::size_t capacity = kSessionCacheCapacity);

  // Read before loading an entry from the store; hand it to insert().
  std::uint64_t epoch() const { return epoch_.load(); }

  Entry find(std::string_view key_id);
  // Keeps `entry` unless something was dropped since `epoch`.
  void insert(std::uint64_t epoch, Entry entry);

  void drop_key(std::string_view key_id);
  void drop_user(const Uuid& user_id);
  void clear();

  std::size_t size() const;

 private:
  struct Slot {
    Entry entry;  // null when free
    std::atomic<bool> referenced{false};
  };
  struct Shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<std::string, std::size_t> index;  // key id -> slot
    std::unique_ptr<Slot[]> slots;
    std::size_t capacity = 0;
    std::size_t hand = 0;
    void erase(std::size_t slot);
  };
  static constexpr std::size_t kShards = 16;

  Shard& shard_of(std::string_view key_id);

  std::atomic<std::uint64_t> epoch_{0};
  Shard shards_[kShards];
};

}  // namespace berth::coderd
