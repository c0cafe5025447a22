#include "provisioner/local/process_resource.hpp"

#include <poll.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>

#include "common/error.hpp"

extern char** environ;

namespace berth::provisioner::local {

namespace {

namespace fs = std::filesystem;

// The variables a workspace process inherits from the daemon; everything else comes from the
// resource's `env`.
constexpr const char* kInheritedEnv[] = {"PATH", "HOME", "USER", "LANG", "TERM"};
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";
// How often stop_process looks at /proc while it waits for the group to exit.
constexpr auto kPollInterval = std::chrono::milliseconds(10);
// How long stop_process waits for KILLed processes to disappear (they may be in D state).
constexpr auto kKillWait = std::chrono::seconds(5);

[[noreturn]] void invalid(const std::string& what, std::string detail = {}) {
  std::string message = "berth_process: " + what;
  if (!detail.empty()) message += ": " + detail;
  throw Error{ErrorCode::invalid, std::move(message), std::move(detail)};
}

[[noreturn]] void internal(const std::string& what, int err) {
  std::string detail = std::strerror(err);
  throw Error{ErrorCode::internal, "berth_process: " + what + ": " + detail, detail};
}

// ---- /proc/<pid>/stat, parsed without allocating (it also runs between fork and exec) ----

struct StatFields {
  char state = 0;
  long pgrp = 0;
  std::int64_t start_ticks = 0;
};

// Fields after the command name, which is in parentheses and may itself contain ") ".
bool parse_stat(const char* buf, std::size_t n, StatFields& out) {
  std::size_t close = n;
  for (std::size_t i = 0; i < n; ++i)
    if (buf[i] == ')') close = i;
  if (close == n) return false;
  // Field 3 (state) starts two characters after the ')'.
  std::size_t i = close + 2;
  int field = 3;
  while (i < n && field <= 22) {
    std::size_t end = i;
    while (end < n && buf[end] != ' ' && buf[end] != '\n') ++end;
    if (field == 3) {
      if (end == i) return false;
      out.state = buf[i];
    } else if (field == 5 || field == 22) {
      std::int64_t v = 0;
      bool negative = false;
      std::size_t j = i;
      if (j < end && buf[j] == '-') negative = true, ++j;
      if (j == end) return false;
      for (; j < end; ++j) {
        if (buf[j] < '0' || buf[j] > '9') return false;
        v = v * 10 + (buf[j] - '0');
      }
      if (negative) v = -v;
      if (field == 5)
        out.pgrp = static_cast<long>(v);
      else
        out.start_ticks = v;
    }
    i = end + 1;
    ++field;
  }
  return field > 22;
}

bool read_stat(pid_t pid, StatFields& out) {
  char path[40] = "/proc/";
  char digits[16];
  int nd = 0;
  for (unsigned long v = static_cast<unsigned long>(pid); nd == 0 || v > 0; v /= 10)
    digits[nd++] = static_cast<char>('0' + v % 10);
  std::size_t p = 6;
  while (nd > 0) path[p++] = digits[--nd];
  const char suffix[] = "/stat";
  for (char c : suffix) path[p++] = c;

  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  std::size_t n = 0;
  while (n < sizeof buf) {
    ssize_t r = ::read(fd, buf + n, sizeof buf - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += static_cast<std::size_t>(r);
  }
  ::close(fd);
  return parse_stat(buf, n, out);
}

bool exited(char state) {
  return state == 'Z' || state == 'X' || state == 'x';
}

// Whether a pid is one we may signal as a group: never init, the kernel, or ourselves.
bool signalable(int pid) {
  return pid > 1 && pid != ::getpid() && pid != ::getpgrp();
}

// Whether any live process remains in the group that `state` started. The group id is the
// leader's pid; while any member lives, that number cannot be handed to a new process.
bool group_alive(const ProcessState& state) {
  pid_t pgid = state.pid;
  if (::kill(-pgid, 0) != 0 && errno == ESRCH) return false;
  // kill() also counts zombies, which an init that does not reap would keep forever.
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    StatFields f;
    if (!read_stat(static_cast<pid_t>(std::stol(name)), f)) continue;
    if (f.pgrp == pgid && !exited(f.state) && f.start_ticks >= state.start_ticks) return true;
  }
  return false;
}

// Waits until the group is gone or `deadline` passes; true if it is gone.
bool wait_group_gone(const ProcessState& state, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (!group_alive(state)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

// ---- validation and the child's environment ----

bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

void check_path(const std::string& field, const std::string& path) {
  if (has_nul(path)) invalid(field + " must not contain NUL bytes");
  fs::path p(path);
  if (!p.is_absolute()) invalid(field + " must be an absolute path", path);
  for (const auto& part : p)
    if (part == "..") invalid(field + " must not contain \"..\"", path);
}

void validate(const ProcessSpec& spec) {
  if (spec.command.empty()) invalid("command must not be empty");
  if (spec.command.front().empty()) invalid("command[0] must not be empty");
  for (const auto& arg : spec.command)
    if (has_nul(arg)) invalid("command must not contain NUL bytes");
  for (const auto& entry : spec.env) {
    if (has_nul(entry)) invalid("env must not contain NUL bytes");
    auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) invalid("env entries must look like KEY=VALUE", entry);
  }
  if (spec.dir.empty()) invalid("dir must not be empty");
  check_path("dir", spec.dir);
  if (!spec.log_path.empty()) check_path("log_path", spec.log_path);
}

std::vector<std::string> build_env(const ProcessSpec& spec) {
  std::vector<std::string> env;
  auto set = [&env](const std::string& entry) {
    std::string_view key(entry.data(), entry.find('=') + 1);
    for (auto& existing : env)
      if (std::string_view(existing).substr(0, key.size()) == key) {
        existing = entry;
        return;
      }
    env.push_back(entry);
  };
  for (const char* name : kInheritedEnv)
    if (const char* value = std::getenv(name)) set(std::string(name) + "=" + value);
  bool has_path = false;
  for (const auto& e : env) has_path = has_path || e.starts_with("PATH=");
  if (!has_path) set(std::string("PATH=") + kDefaultPath);
  // The daemon's home is not visible inside the sandbox.
  if (spec.sandbox) set("HOME=" + spec.dir);
  for (const auto& entry : spec.env) set(entry);
  return env;
}

std::string env_value(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& e : env)
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
      return e.substr(key.size() + 1);
  return {};
}

bool executable_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// Finds `name` (no slash) in a PATH value; empty entries mean `cwd`, as in execvp.
std::optional<std::string> find_in_path(const std::string& name, std::string_view path,
                                        const std::string& cwd) {
  std::size_t start = 0;
  for (;;) {
    std::size_t colon = path.find(':', start);
    std::string_view entry = path.substr(
        start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
    fs::path candidate = entry.empty() ? fs::path(cwd) : fs::path(std::string(entry));
    if (candidate.is_relative()) candidate = fs::path(cwd) / candidate;
    candidate /= name;
    if (executable_file(candidate)) return candidate.string();
    if (colon == std::string_view::npos) return std::nullopt;
    start = colon + 1;
  }
}

std::vector<std::string> bwrap_args(const std::string& bwrap, const ProcessSpec& spec) {
  std::vector<std::string> args = {bwrap,       "--unshare-all", "--share-net",
                                   "--ro-bind", "/usr",          "/usr"};
  // Merged-/usr systems have these as symlinks; others as directories.
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    std::error_code ec;
    auto status = fs::symlink_status(top, ec);
    if (ec) continue;
    if (fs::is_symlink(status)) {
      auto target = fs::read_symlink(top, ec);
      if (!ec) args.insert(args.end(), {"--symlink", target.string(), top});
    } else if (fs::is_directory(status)) {
      args.insert(args.end(), {"--ro-bind", top, top});
    }
  }
  args.insert(args.end(), {"--ro-bind", "/etc", "/etc",
                           // Where /etc/resolv.conf points under systemd-resolved.
                           "--ro-bind-try", "/run/systemd/resolve", "/run/systemd/resolve",
                           "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                           // After /tmp, so that a dir under /tmp is the real one.
                           "--bind", spec.dir, spec.dir, "--chdir", spec.dir,
                           // No --new-session and no --die-with-parent: the process already
                           // leads its own session without a terminal, and must stay in the
                           // process group that stop_process signals, and outlive us.
                           "--"});
  args.insert(args.end(), spec.command.begin(), spec.command.end());
  return args;
}

// ---- the fork/exec, with failures reported through a CLOEXEC pipe ----

enum class Stage : std::int32_t { pid, fork, setsid, chdir, exec };

// Small enough to be written atomically to a pipe.
struct Report {
  Stage stage;
  std::int32_t value;  // the pid for Stage::pid, errno otherwise
  std::int64_t start_ticks;
};

void write_report(int fd, Stage stage, std::int32_t value, std::int64_t ticks = 0) {
  Report r{stage, value, ticks};
  while (::write(fd, &r, sizeof r) < 0 && errno == EINTR) {
  }
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// Moves `fd` above the standard descriptors, so that dup2() onto 0-2 cannot clobber it.
int above_stdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int err = errno;
  ::close(fd);
  if (moved < 0) internal("fcntl", err);
  return moved;
}

void close_other_fds(int keep, int max_fd) {
  auto close_from_to = [max_fd](unsigned first, unsigned last) {
    if (first > last) return;
    if (::close_range(first, last, 0) == 0) return;
    for (unsigned fd = first; fd <= last && fd < static_cast<unsigned>(max_fd); ++fd) ::close(fd);
  };
  close_from_to(3, static_cast<unsigned>(keep) - 1);
  close_from_to(static_cast<unsigned>(keep) + 1, ~0U);
}

// In the grandchild: only async-signal-safe calls from here to exec.
[[noreturn]] void exec_child(int report_fd, int go_read_fd, int go_write_fd, int null_fd,
                             int log_fd, const char* dir, const char* exe, char* const* argv,
                             char* const* envp, int max_fd) {
  // Until exec this process carries the daemon's environment, not the marker that lets a
  // restarted daemon find it; so it execs only once the daemon has its pid (one byte), and
  // gives up if the daemon died first (end of file: no writer is left).
  ::close(go_write_fd);
  char go = 0;
  ssize_t got;
  while ((got = ::read(go_read_fd, &go, 1)) < 0 && errno == EINTR) {
  }
  if (got != 1) ::_exit(127);
  ::close(go_read_fd);
  if (::setsid() < 0) {
    write_report(report_fd, Stage::setsid, errno);
    ::_exit(127);
  }
  // Undo what the daemon set up for itself (an ignored SIGPIPE would survive exec).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  ::dup2(null_fd, 0);
  ::dup2(log_fd, 1);
  ::dup2(log_fd, 2);
  close_other_fds(report_fd, max_fd);
  if (::chdir(dir) < 0) {
    write_report(report_fd, Stage::chdir, errno);
    ::_exit(127);
  }
  ::execve(exe, argv, envp);
  write_report(report_fd, Stage::exec, errno);
  ::_exit(127);
}

std::vector<char*> c_strings(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (auto& s : items) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

json::value to_json(const ProcessState& state) {
  return json::object{{"pid", state.pid},
                      {"start_ticks", state.start_ticks},
                      {"dir", state.dir},
                      {"log_path", state.log_path},
                      {"sandbox", state.sandbox}};
}

ProcessState process_state_from(const json::value& v) {
  auto malformed = [](const std::string& detail) -> Error {
    return Error{ErrorCode::invalid, "berth_process: malformed state: " + detail, detail};
  };
  const json::object* o = v.if_object();
  if (!o) throw malformed("not an object");
  auto integer = [&](const char* key) -> std::int64_t {
    const json::value* f = o->if_contains(key);
    if (f && f->is_int64()) return f->get_int64();
    if (f && f->is_uint64() && f->get_uint64() <= INT64_MAX) return std::int64_t(f->get_uint64());
    throw malformed(std::string("\"") + key + "\" must be an integer");
  };
  auto string = [&](const char* key, bool required) -> std::string {
    const json::value* f = o->if_contains(key);
    if (!f && !required) return {};
    if (!f || !f->is_string()) throw malformed(std::string("\"") + key + "\" must be a string");
    return std::string(f->get_string());
  };
  ProcessState state;
  std::int64_t pid = integer("pid");
  if (pid <= 1 || pid > INT_MAX) throw malformed("\"pid\" is out of range");
  state.pid = static_cast<int>(pid);
  state.start_ticks = integer("start_ticks");
  if (state.start_ticks < 0) throw malformed("\"start_ticks\" is negative");
  state.dir = string("dir", true);
  state.log_path = string("log_path", false);
  if (const json::value* f = o->if_contains("sandbox")) {
    if (!f->is_bool()) throw malformed("\"sandbox\" must be a boolean");
    state.sandbox = f->get_bool();
  }
  return state;
}

ProcessState start_process(const ProcessSpec& spec) {
  validate(spec);
  std::vector<std::string> env = build_env(spec);

  std::error_code ec;
  fs::create_directories(spec.dir, ec);
  if (ec) invalid("cannot create dir \"" + spec.dir + "\"", ec.message());
  if (!fs::is_directory(spec.dir, ec)) invalid("dir is not a directory", spec.dir);

  // Resolve the command now, for an error message that names it.
  const std::string& name = spec.command.front();
  std::string exe = name;
  if (name.find('/') == std::string::npos) {
    auto found = find_in_path(name, env_value(env, "PATH"), spec.dir);
    if (!found) invalid("command \"" + name + "\" not found in PATH");
    exe = *found;
  }
  std::vector<std::string> argv = spec.command;
  if (spec.sandbox) {
    const char* host_path = std::getenv("PATH");
    auto bwrap = find_in_path("bwrap", host_path ? host_path : kDefaultPath, "/");
    if (!bwrap) invalid("bubblewrap (bwrap) is not installed");
    exe = *bwrap;
    argv = bwrap_args(exe, spec);
  } else if (exe.front() != '/') {
    exe = (fs::path(spec.dir) / exe).string();  // relative to dir, where the child runs
  }

  Fd null_fd(above_stdio(::open("/dev/null", O_RDONLY | O_CLOEXEC)));
  if (null_fd.get() < 0) internal("open /dev/null", errno);
  Fd log_fd;
  if (spec.log_path.empty()) {
    log_fd.reset(above_stdio(::open("/dev/null", O_WRONLY | O_CLOEXEC)));
  } else {
    fs::create_directories(fs::path(spec.log_path).parent_path(), ec);
    log_fd.reset(above_stdio(
        ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600)));
    if (log_fd.get() < 0) {
      std::string reason = std::strerror(errno);
      invalid("cannot open log_path \"" + spec.log_path + "\"", reason);
    }
  }
  if (log_fd.get() < 0) internal("open /dev/null", errno);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0) internal("pipe", errno);
  Fd read_end(pipe_fds[0]);
  Fd write_end(above_stdio(pipe_fds[1]));
  int go_fds[2];
  if (::pipe2(go_fds, O_CLOEXEC) < 0) internal("pipe", errno);
  Fd go_read(above_stdio(go_fds[0]));
  Fd go_write(above_stdio(go_fds[1]));

  std::vector<char*> c_argv = c_strings(argv);
  std::vector<char*> c_envp = c_strings(env);
  long open_max = ::sysconf(_SC_OPEN_MAX);
  int max_fd = open_max > 0 && open_max < 65536 ? static_cast<int>(open_max) : 65536;

  pid_t middle = ::fork();
  if (middle < 0) internal("fork", errno);
  if (middle == 0) {
    // The middle child exits at once, so the grandchild is reparented and never becomes a
    // zombie of the daemon. Until then it is our child, so its stat is readable here.
    // _Fork: no atfork handlers, which could wait on locks other threads held at fork.
    pid_t child = ::_Fork();
    if (child < 0) {
      write_report(write_end.get(), Stage::fork, errno);
      ::_exit(127);
    }
    if (child == 0)
      exec_child(write_end.get(), go_read.get(), go_write.get(), null_fd.get(), log_fd.get(),
                 spec.dir.c_str(), exe.c_str(), c_argv.data(), c_envp.data(), max_fd);
    StatFields f;
    write_report(write_end.get(), Stage::pid, child, read_stat(child, f) ? f.start_ticks : 0);
    ::_exit(0);
  }
  write_end.reset();
  go_read.reset();
  while (::waitpid(middle, nullptr, 0) < 0 && errno == EINTR) {
  }

  // EOF once the grandchild has exec'd (CLOEXEC) or exited; it execs once told to go, which it
  // is as soon as its pid is known here.
  std::optional<Report> started;
  std::optional<Report> failed;
  for (;;) {
    Report r;
    ssize_t n = ::read(read_end.get(), &r, sizeof r);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof r)) break;
    (r.stage == Stage::pid ? started : failed) = r;
    if (r.stage == Stage::pid) {
      const char go = 1;
      while (::write(go_write.get(), &go, 1) < 0 && errno == EINTR) {
      }
      go_write.reset();
    }
  }
  go_write.reset();
  if (failed) {
    int err = failed->value;
    switch (failed->stage) {
      case Stage::exec:
        invalid("cannot execute \"" + (spec.sandbox ? exe : name) + "\"", std::strerror(err));
      case Stage::chdir:
        invalid("cannot enter dir \"" + spec.dir + "\"", std::strerror(err));
      case Stage::setsid:
        internal("setsid", err);
      default:
        internal("fork", err);
    }
  }
  if (!started) internal("the process did not report its pid", EIO);

  ProcessState state;
  state.pid = started->value;
  state.start_ticks = started->start_ticks;
  state.dir = spec.dir;
  state.log_path = spec.log_path;
  state.sandbox = spec.sandbox;
  return state;
}

bool process_alive(const ProcessState& state) {
  if (state.pid <= 0) return false;
  StatFields f;
  if (!read_stat(state.pid, f)) return false;
  return !exited(f.state) && f.start_ticks == state.start_ticks;
}

bool stop_process(const ProcessState& state, std::chrono::milliseconds grace) {
  if (!signalable(state.pid)) return false;
  StatFields leader;
  // A different process under our pid means our group is long gone: while any member of it
  // lived, the number could not have been reused.
  if (read_stat(state.pid, leader) && leader.start_ticks != state.start_ticks) return false;
  if (!group_alive(state)) return false;

  auto deadline = std::chrono::steady_clock::now() + grace;
  // The main process (the agent) hears first, so that its shutdown scripts can still talk to
  // what it started (a task's agentapi); the rest of the group follows once it has exited.
  ::kill(state.pid, SIGTERM);
  ::kill(state.pid, SIGCONT);
  while (process_alive(state) && std::chrono::steady_clock::now() < deadline)
    ::poll(nullptr, 0, 10);
  ::kill(-state.pid, SIGTERM);
  ::kill(-state.pid, SIGCONT);
  if (wait_group_gone(state, deadline + std::chrono::seconds(2))) return false;

  ::kill(-state.pid, SIGKILL);
  wait_group_gone(state, std::chrono::steady_clock::now() + kKillWait);
  return true;
}

namespace {

// Bounds what is read of one process's environment (Linux allows a few MiB).
constexpr std::size_t kMaxEnvironBytes = 4 << 20;
// How often stop_processes_with_env looks again for processes started while it stopped others.
constexpr int kMaxStopRounds = 5;

bool environ_has(pid_t pid, std::string_view entry) {
  std::string path = "/proc/" + std::to_string(pid) + "/environ";
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  std::string data;
  char buf[8192];
  while (data.size() < kMaxEnvironBytes) {
    ssize_t r = ::read(fd.get(), buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    data.append(buf, static_cast<std::size_t>(r));
  }
  std::string_view all(data);
  for (std::size_t start = 0; start < all.size();) {
    std::size_t end = std::min(all.find('\0', start), all.size());
    if (all.substr(start, end - start) == entry) return true;
    start = end + 1;
  }
  return false;
}

// Signals the process if it is still the one found, and the group it leads.
void signal_found(const ProcessState& p, int sig) {
  StatFields f;
  if (!signalable(p.pid) || !read_stat(p.pid, f) || f.start_ticks != p.start_ticks) return;
  ::kill(p.pid, sig);
  if (f.pgrp == p.pid) ::kill(-p.pid, sig);
}

bool all_gone(const std::vector<ProcessState>& found,
              std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    bool alive = false;
    for (const auto& p : found) alive = alive || process_alive(p);
    if (!alive) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

std::vector<ProcessState> find_processes_with_env(std::string_view entry) {
  std::vector<ProcessState> out;
  if (entry.empty()) return out;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto pid = static_cast<pid_t>(std::stol(name));
    StatFields f;
    if (pid == ::getpid() || !read_stat(pid, f) || exited(f.state)) continue;
    if (!environ_has(pid, entry)) continue;
    ProcessState found;
    found.pid = pid;
    found.start_ticks = f.start_ticks;
    out.push_back(found);
  }
  return out;
}

std::size_t stop_processes_with_env(std::string_view entry, std::chrono::milliseconds grace) {
  std::size_t count = 0;
  for (int round = 0; round < kMaxStopRounds; ++round) {
    auto found = find_processes_with_env(entry);
    std::erase_if(found, [](const ProcessState& p) { return !signalable(p.pid); });
    if (found.empty()) break;
    count += found.size();
    for (const auto& p : found) signal_found(p, SIGTERM), signal_found(p, SIGCONT);
    if (all_gone(found, std::chrono::steady_clock::now() + grace)) continue;
    for (const auto& p : found) signal_found(p, SIGKILL);
    all_gone(found, std::chrono::steady_clock::now() + kKillWait);
  }
  return count;
}

void remove_process_dir(const ProcessState& state) {
  if (state.dir.empty()) invalid("refusing to remove an empty dir");
  check_path("dir", state.dir);
  fs::path dir = fs::path(state.dir).lexically_normal();
  if (dir == dir.root_path()) invalid("refusing to remove \"/\"");
  if (process_alive(state))
    throw Error{ErrorCode::conflict, "berth_process: the process is still running", state.dir};
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec)
    throw Error{ErrorCode::internal,
                "berth_process: cannot remove dir \"" + state.dir + "\": " + ec.message(),
                ec.message()};
}

}  // namespace berth::provisioner::local
