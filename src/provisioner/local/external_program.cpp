#include "provisioner/local/external_program.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <boost/json/parse.hpp>

#include <cerrno>
#include <cstring>

namespace berth::provisioner::local {

namespace {

// Writes to a program that may have exited already: EPIPE instead of a SIGPIPE that would end
// this process when it does not ignore the signal (the server does; its tests need not). The
// signal is blocked on this thread for the write, and one the write raised is consumed.
ssize_t write_without_sigpipe(int fd, const char* data, std::size_t size) {
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  auto n = ::write(fd, data, size);
  auto saved = errno;
  if (n < 0 && errno == EPIPE) {
    timespec now{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &now) > 0) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return n;
}

constexpr auto kExternalTimeout = std::chrono::seconds(60);

// A pipe whose ends close themselves.
struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fd, O_CLOEXEC) != 0)
      throw Error{ErrorCode::unavailable, std::string("pipe: ") + std::strerror(errno)};
  }
  ~Pipe() {
    close_end(0);
    close_end(1);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

[[noreturn]] void exec_child(const std::vector<std::string>& argv, const std::string& dir, Pipe& in,
                             Pipe& out, Pipe& err, Pipe& status) {
  ::setpgid(0, 0);
  ::signal(SIGPIPE, SIG_DFL);  // the server ignores it; the program should not inherit that
  ::dup2(in.fd[0], 0);
  ::dup2(out.fd[1], 1);
  ::dup2(err.fd[1], 2);
  int code = 0;
  if (!dir.empty() && ::chdir(dir.c_str()) != 0) {
    code = errno;
  } else {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    code = errno;
  }
  // Tells the parent why exec failed; the pipe is close-on-exec, so success says nothing.
  [[maybe_unused]] auto written = ::write(status.fd[1], &code, sizeof code);
  ::_exit(127);
}

}  // namespace

ProgramOutput run_program(const std::vector<std::string>& argv, const std::string& dir,
                          const std::string& input, std::chrono::milliseconds timeout,
                          std::size_t max_output) {
  if (argv.empty() || argv[0].empty()) throw Error{ErrorCode::invalid, "program is empty"};
  Pipe in, out, err, status;
  pid_t pid = ::fork();
  if (pid < 0) throw Error{ErrorCode::unavailable, std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) exec_child(argv, dir, in, out, err, status);
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);
  status.close_end(1);
  int exec_errno = 0;
  if (::read(status.fd[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
    ::waitpid(pid, nullptr, 0);
    throw Error{ErrorCode::invalid,
                fmt::format("cannot run \"{}\"{}: {}", argv[0], dir.empty() ? "" : " in " + dir,
                            std::strerror(exec_errno))};
  }
  ::fcntl(in.fd[1], F_SETFL, O_NONBLOCK);
  ProgramOutput result;
  std::size_t written = 0;
  if (input.empty()) in.close_end(1);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    std::vector<pollfd> fds;
    if (in.fd[1] >= 0) fds.push_back({in.fd[1], POLLOUT, 0});
    if (out.fd[0] >= 0) fds.push_back({out.fd[0], POLLIN, 0});
    if (err.fd[0] >= 0) fds.push_back({err.fd[0], POLLIN, 0});
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ::poll(fds.data(), fds.size(), static_cast<int>(left.count())) == 0) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      throw Error{ErrorCode::unavailable, fmt::format("\"{}\" did not finish within {} s", argv[0],
                                                      timeout.count() / 1000)};
    }
    for (const auto& p : fds) {
      if (!p.revents) continue;
      if (p.fd == in.fd[1]) {
        auto n = write_without_sigpipe(p.fd, input.data() + written, input.size() - written);
        if (n > 0) written += static_cast<std::size_t>(n);
        if (n < 0 && errno != EAGAIN) written = input.size();
        if (written == input.size()) in.close_end(1);
        continue;
      }
      char buffer[8192];
      auto n = ::read(p.fd, buffer, sizeof buffer);
      auto& sink = p.fd == out.fd[0] ? result.out : result.err;
      if (n <= 0) {
        (p.fd == out.fd[0] ? out : err).close_end(0);
        continue;
      }
      if (sink.size() + static_cast<std::size_t>(n) > max_output) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        throw Error{ErrorCode::too_large,
                    fmt::format("\"{}\" wrote more than {} bytes", argv[0], max_output)};
      }
      sink.append(buffer, static_cast<std::size_t>(n));
    }
  }
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return result;
}

json::value plan_external(json::object config, const std::string& default_dir,
                          const hcl::Position& position) {
  auto fail = [&](const std::string& what) -> json::value {
    throw Error{ErrorCode::invalid, position.to_string() + ": data \"external\": " + what};
  };
  std::vector<std::string> argv;
  if (auto* program = config.if_contains("program"); program && program->is_array())
    for (const auto& a : program->get_array())
      if (a.is_string()) argv.emplace_back(a.get_string());
  if (argv.empty()) return fail("program must be a non-empty list of strings");
  json::object query;
  if (auto* q = config.if_contains("query"); q && q->is_object()) query = q->get_object();
  auto dir = json::string_at(config, "working_dir");
  ProgramOutput output;
  try {
    output = run_program(argv, dir.empty() ? default_dir : dir, json::serialize(query),
                         kExternalTimeout);
  } catch (const Error& e) {
    return fail(e.message());
  }
  if (output.exit_code != 0)
    return fail(fmt::format("program \"{}\" exited with code {}: {}", argv[0], output.exit_code,
                            output.err.substr(0, 2048)));
  boost::system::error_code ec;
  auto result = boost::json::parse(output.out, ec);
  if (ec || !result.is_object())
    return fail("the program must print a JSON object, got: " + output.out.substr(0, 256));
  for (const auto& [k, v] : result.get_object())
    if (!v.is_string())
      return fail("the program's result must map strings to strings; \"" + std::string(k) +
                  "\" is not a string");
  config["result"] = std::move(result);
  config["id"] = "-";
  return config;
}

}  // namespace berth::provisioner::local
