#include "support/postgres_server.hpp"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "common/uuid.hpp"
#include "support/ports.hpp"

namespace berth::testing {

namespace {

// Debian installs each major version's programs under its own directory; take the newest,
// unless BERTH_PG_BINDIR names one.
std::filesystem::path postgres_bindir() {
  if (const char* dir = std::getenv("BERTH_PG_BINDIR")) return dir;
  std::filesystem::path newest;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    auto bin = entry.path() / "bin";
    if (std::filesystem::exists(bin / "initdb") && (newest.empty() || bin > newest)) newest = bin;
  }
  if (newest.empty())
    throw std::runtime_error(
        "PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/initdb "
        "(scripts/setup.sh installs Debian's postgresql)");
  return newest;
}

const passwd* postgres_user() {
  const passwd* user = getpwnam("postgres");
  if (!user)
    throw std::runtime_error(
        "no `postgres` system user to run PostgreSQL as (the tests run as "
        "root, and initdb refuses root)");
  return user;
}

std::string read_tail(const std::filesystem::path& file, std::size_t bytes) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

struct ConnectionCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};

}  // namespace

PostgresServer::PostgresServer() {
  if (const char* file = std::getenv("BERTH_TEST_POSTGRES_URL_FILE")) {
    std::ifstream in(file);
    std::string url;
    std::getline(in, url);
    auto colon = url.rfind(':');
    if (url.empty() || colon == std::string::npos)
      throw std::runtime_error(std::string("no PostgreSQL server URL in ") + file);
    port_ = std::atoi(url.c_str() + colon + 1);
    attached_ = true;
    return;
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "berth-pg-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for PostgreSQL");
  dir_ = pattern;
  if (geteuid() == 0) {
    const passwd* user = postgres_user();
    if (chown(dir_.c_str(), user->pw_uid, user->pw_gid) != 0)
      throw std::runtime_error("cannot hand " + dir_.string() + " to the postgres user");
  }
  try {
    // fsync is off: the cluster is thrown away with the test, and syncing would cost seconds.
    if (!run_tool({"initdb", "-D", (dir_ / "data").string(), "--no-locale", "-E", "UTF8", "-A",
                   "trust", "-U", "postgres", "--no-sync"}))
      throw std::runtime_error("initdb failed:\n" + log_tail());
    // A port picked free can be taken before the server binds it: try a few.
    for (int attempt = 0; attempt < 3 && !running_; ++attempt) running_ = start();
    if (!running_) throw std::runtime_error("PostgreSQL did not start:\n" + log_tail());
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw;
  }
}

PostgresServer::~PostgresServer() {
  if (attached_) return;
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool PostgresServer::start() {
  port_ = free_loopback_port();
  std::string options = "-p " + std::to_string(port_) + " -k " + dir_.string() +
                        " -c listen_addresses=127.0.0.1 -c fsync=off"
                        " -c synchronous_commit=off -c full_page_writes=off";
  return run_tool({"pg_ctl", "-D", (dir_ / "data").string(), "-l", (dir_ / "server.log").string(),
                   "-o", options, "-w", "-t", "60", "start"});
}

void PostgresServer::stop() {
  if (!running_) return;
  running_ = false;
  run_tool({"pg_ctl", "-D", (dir_ / "data").string(), "-m", "fast", "-w", "stop"});
}

std::string PostgresServer::url_for(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::create_database(const std::string& name,
                                            const std::string& template_name) {
  std::unique_ptr<PGconn, ConnectionCloser> conn(PQconnectdb(url().c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error(std::string("cannot connect to the test PostgreSQL: ") +
                             PQerrorMessage(conn.get()));
  auto identifier = [&](const std::string& text) {
    std::unique_ptr<char, decltype(&PQfreemem)> quoted(
        PQescapeIdentifier(conn.get(), text.c_str(), text.size()), &PQfreemem);
    return std::string(quoted.get());
  };
  // PostgreSQL cuts identifiers at 63 bytes: the name is cut first, so the suffix stays.
  auto database =
      attached_ ? name.substr(0, 50) + "_" + Uuid::random_v4().to_string().substr(0, 8) : name;
  std::string sql = "CREATE DATABASE " + identifier(database);
  if (!template_name.empty()) sql += " TEMPLATE " + identifier(template_name);
  std::unique_ptr<PGresult, ResultClearer> result(PQexec(conn.get(), sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK)
    throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
  return url_for(database);
}

bool PostgresServer::run_tool(std::vector<std::string> args) const {
  args[0] = (postgres_bindir() / args[0]).string();
  if (geteuid() == 0) args.insert(args.begin(), {"runuser", "-u", "postgres", "--"});
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::string log = (dir_ / "tools.log").string();

  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    // Into a file, not a pipe: the server pg_ctl starts would inherit a pipe and hold it open.
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0 || chdir(dir_.c_str()) != 0) _exit(127);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string PostgresServer::log_tail() const {
  return read_tail(dir_ / "tools.log", 4000) + read_tail(dir_ / "server.log", 4000);
}

}  // namespace berth::testing
