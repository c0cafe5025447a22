#include "store/sqlite/connection_pool.hpp"

namespace berth::store::sqlite {

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), db_(other.db_), kind_(other.kind_) {
  other.pool_ = nullptr;
}

ConnectionPool::Lease::~Lease() {
  if (!pool_) return;
  if (kind_ == Kind::reader) {
    pool_->give_back(db_);
  } else if (kind_ == Kind::owned_writer) {
    pool_->writer_owner_.store(std::thread::id{}, std::memory_order_release);
    pool_->writer_mutex_.unlock();
  }
}

ConnectionPool::ConnectionPool(std::unique_ptr<Database> writer, ReaderFactory open_reader,
                               std::size_t max_readers)
    : writer_(std::move(writer)), open_reader_(std::move(open_reader)), max_readers_(max_readers) {}

ConnectionPool::Lease ConnectionPool::writer() {
  if (this_thread_owns_writer()) return Lease(*this, *writer_, Lease::Kind::shared_writer);
  writer_mutex_.lock();
  writer_owner_.store(std::this_thread::get_id(), std::memory_order_release);
  return Lease(*this, *writer_, Lease::Kind::owned_writer);
}

ConnectionPool::Lease ConnectionPool::reader() {
  if (this_thread_owns_writer()) return Lease(*this, *writer_, Lease::Kind::shared_writer);
  std::unique_lock lock(readers_mutex_);
  for (const auto& [thread, db] : pinned_readers_)
    if (thread == std::this_thread::get_id()) return Lease(*this, *db, Lease::Kind::pinned_reader);
  if (free_readers_.empty() && readers_.size() < max_readers_) {
    readers_.push_back(open_reader_());
    return Lease(*this, *readers_.back(), Lease::Kind::reader);
  }
  reader_free_.wait(lock, [&] { return !free_readers_.empty(); });
  Database* db = free_readers_.back();
  free_readers_.pop_back();
  return Lease(*this, *db, Lease::Kind::reader);
}

void ConnectionPool::give_back(Database* reader) {
  {
    std::lock_guard lock(readers_mutex_);
    free_readers_.push_back(reader);
  }
  reader_free_.notify_one();
}

void ConnectionPool::transaction(const std::function<void()>& fn) {
  std::vector<std::function<void()>> committed;
  {
    auto lease = writer();
    if (tx_depth_ > 0) {
      fn();
      return;
    }
    (*lease).begin_write();
    ++tx_depth_;
    try {
      fn();
      --tx_depth_;
      (*lease).exec("COMMIT");
    } catch (...) {
      --tx_depth_;
      after_commit_.clear();
      (*lease).exec("ROLLBACK");
      throw;
    }
    committed.swap(after_commit_);
  }
  // With the writer given back: what they wake may write in turn.
  for (auto& fn_after : committed) fn_after();
}

void ConnectionPool::after_commit(std::function<void()> fn) {
  if (this_thread_owns_writer() && tx_depth_ > 0) {
    after_commit_.push_back(std::move(fn));
    return;
  }
  fn();
}

void ConnectionPool::read_transaction(const std::function<void()>& fn) {
  auto lease = reader();
  if (lease.kind_ != Lease::Kind::reader) {
    fn();  // this thread already reads through the writer or a pinned reader
    return;
  }
  auto id = std::this_thread::get_id();
  (*lease).begin_read();
  {
    std::lock_guard lock(readers_mutex_);
    pinned_readers_.emplace_back(id, &*lease);
  }
  auto unpin = [&] {
    std::lock_guard lock(readers_mutex_);
    std::erase_if(pinned_readers_, [&](const auto& entry) { return entry.first == id; });
  };
  try {
    fn();
  } catch (...) {
    unpin();
    (*lease).exec("ROLLBACK");
    throw;
  }
  unpin();
  (*lease).exec("COMMIT");
}

}  // namespace berth::store::sqlite
