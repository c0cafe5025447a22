#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace berth::testing {

// A throwaway PostgreSQL server (Debian's postgresql package) for one test process: initdb in
// a fresh temp directory, started on a free loopback port, stopped and removed at the end.
// As root it runs as the `postgres` system user, since initdb refuses root. Throws
// std::runtime_error, with the server's log, when it cannot start. Under CTest it attaches to
// the run's shared server instead (BERTH_TEST_POSTGRES_URL_FILE, tests/support/test_store.hpp)
// and leaves it running; database names then get a random suffix, as other test processes
// (and a rerun of the same test) share that server.
class PostgresServer {
 public:
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // The URL of the `postgres` database, as the superuser `postgres` (trust authentication).
  std::string url() const { return url_for("postgres"); }
  // Creates a database (a copy of `template_name` when given, e.g. a migrated one) and
  // returns its URL.
  std::string create_database(const std::string& name, const std::string& template_name = {});
  int port() const { return port_; }

 private:
  std::string url_for(const std::string& database) const;
  bool start();
  void stop();
  // Runs a PostgreSQL program (`args[0]`, from its bin directory) as `postgres` when we are
  // root, its output appended to tools.log; returns whether it exited with 0.
  bool run_tool(std::vector<std::string> args) const;
  std::string log_tail() const;

  std::filesystem::path dir_;
  int port_ = 0;
  bool running_ = false;
  bool attached_ = false;
};

}  // namespace berth::testing
