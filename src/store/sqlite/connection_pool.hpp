#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/sqlite/statement.hpp"

namespace berth::store::sqlite {

// SQLite's connections for many threads: one writer, owned by one thread at a time (from the
// first write or BEGIN to COMMIT), and a pool of readers that see the last committed state
// (WAL) and wait neither for the writer nor for each other. The thread that owns the writer
// reads through it too, so a transaction sees its own changes. The PostgreSQL backend has the
// same shape: a pool of connections, one of them pinned to a transaction's thread.
class ConnectionPool {
 public:
  // A borrowed connection, given back when the lease goes away.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Database& operator*() const { return *db_; }

   private:
    friend class ConnectionPool;
    enum class Kind { shared_writer, owned_writer, reader, pinned_reader };
    Lease(ConnectionPool& pool, Database& db, Kind kind) : pool_(&pool), db_(&db), kind_(kind) {}
    ConnectionPool* pool_;
    Database* db_;
    Kind kind_;
  };

  // Opens a reader connection, configured to read.
  using ReaderFactory = std::function<std::unique_ptr<Database>()>;

  // Takes the writer (already configured and migrated); readers are opened on demand with
  // `open_reader`, at most `max_readers`.
  ConnectionPool(std::unique_ptr<Database> writer, ReaderFactory open_reader,
                 std::size_t max_readers);

  // A connection to read with: the writer when this thread owns it, else a pooled reader.
  Lease reader();
  // The writer, owned by this thread until the lease (and any outer one) goes away.
  Lease writer();
  // Runs `fn` in one transaction on the writer; a nested call joins the open transaction, and
  // an exception rolls it back.
  void transaction(const std::function<void()>& fn);
  // Runs `fn` after this thread's open write transaction commits (dropped if it rolls back),
  // or now when this thread has none open.
  void after_commit(std::function<void()> fn);
  // Runs `fn` with one reader pinned to this thread in one read transaction, so that its
  // reads share a snapshot and the cost of starting a transaction is paid once. Joins an
  // open transaction (read or write) of this thread instead.
  void read_transaction(const std::function<void()>& fn);

 private:
  bool this_thread_owns_writer() const {
    return writer_owner_.load(std::memory_order_acquire) == std::this_thread::get_id();
  }
  void give_back(Database* reader);

  std::unique_ptr<Database> writer_;
  ReaderFactory open_reader_;
  std::size_t max_readers_;
  std::mutex writer_mutex_;
  std::atomic<std::thread::id> writer_owner_{};
  int tx_depth_ = 0;                                 // touched only by the writer's owner
  std::vector<std::function<void()>> after_commit_;  // the same

  std::mutex readers_mutex_;
  std::condition_variable reader_free_;
  std::vector<std::unique_ptr<Database>> readers_;  // guarded by readers_mutex_
  std::vector<Database*> free_readers_;             // guarded by readers_mutex_
  // Readers pinned to a thread by read_transaction; guarded by readers_mutex_.
  std::vector<std::pair<std::thread::id, Database*>> pinned_readers_;
};

}  // namespace berth::store::sqlite
