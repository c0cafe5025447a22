#include "coderd/session_cache.hpp"

#include <functional>
#include <mutex>

namespace berth::coderd {

SessionCache::SessionCache(std::size_t capacity) {
  std::size_t per_shard = std::max<std::size_t>(1, (capacity + kShards - 1) / kShards);
  for (auto& shard : shards_) {
    shard.capacity = per_shard;
    shard.slots = std::make_unique<Slot[]>(per_shard);
    shard.index.reserve(per_shard);
  }
}

SessionCache::Shard& SessionCache::shard_of(std::string_view key_id) {
  return shards_[std::hash<std::string_view>{}(key_id) % kShards];
}

void SessionCache::Shard::erase(std::size_t slot) {
  index.erase(slots[slot].entry->key.id);
  slots[slot].entry.reset();
  slots[slot].referenced.store(false, std::memory_order_relaxed);
}

SessionCache::Entry SessionCache::find(std::string_view key_id) {
  auto& shard = shard_of(key_id);
  std::shared_lock lock(shard.mutex);
  auto it = shard.index.find(std::string(key_id));
  if (it == shard.index.end()) return nullptr;
  auto& slot = shard.slots[it->second];
  // Written only when clear, so that a hot entry's cache line is not written on every hit.
  if (!slot.referenced.load(std::memory_order_relaxed))
    slot.referenced.store(true, std::memory_order_relaxed);
  return slot.entry;
}

void SessionCache::insert(std::uint64_t epoch, Entry entry) {
  auto& shard = shard_of(entry->key.id);
  std::unique_lock lock(shard.mutex);
  // Checked under the shard's lock: a drop bumps the epoch before it takes the lock, so an
  // entry read before a change either fails here or is already in place for the drop to find.
  if (epoch_.load() != epoch) return;
  if (auto it = shard.index.find(entry->key.id); it != shard.index.end()) {
    shard.slots[it->second].entry = std::move(entry);
    return;
  }
  // Clock: pass over recently used entries once, clearing their mark; take the first free or
  // unmarked slot.
  for (;;) {
    auto& slot = shard.slots[shard.hand];
    if (!slot.entry) break;
    if (!slot.referenced.exchange(false, std::memory_order_relaxed)) {
      shard.erase(shard.hand);
      break;
    }
    shard.hand = (shard.hand + 1) % shard.capacity;
  }
  std::size_t at = shard.hand;
  shard.hand = (shard.hand + 1) % shard.capacity;
  shard.index.emplace(entry->key.id, at);
  shard.slots[at].entry = std::move(entry);
}

void SessionCache::drop_key(std::string_view key_id) {
  ++epoch_;
  auto& shard = shard_of(key_id);
  std::unique_lock lock(shard.mutex);
  if (auto it = shard.index.find(std::string(key_id)); it != shard.index.end())
    shard.erase(it->second);
}

void SessionCache::drop_user(const Uuid& user_id) {
  ++epoch_;
  // A user has few keys and changes are rare: a pass over every shard is cheaper than an
  // index by user that each insert and eviction would keep up.
  for (auto& shard : shards_) {
    std::unique_lock lock(shard.mutex);
    for (std::size_t i = 0; i < shard.capacity; ++i)
      if (shard.slots[i].entry && shard.slots[i].entry->user.id == user_id) shard.erase(i);
  }
}

void SessionCache::clear() {
  ++epoch_;
  for (auto& shard : shards_) {
    std::unique_lock lock(shard.mutex);
    for (std::size_t i = 0; i < shard.capacity; ++i)
      if (shard.slots[i].entry) shard.erase(i);
  }
}

std::size_t SessionCache::size() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    std::shared_lock lock(shard.mutex);
    n += shard.index.size();
  }
  return n;
}

}  // namespace berth::coderd
