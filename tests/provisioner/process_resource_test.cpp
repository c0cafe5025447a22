#include "provisioner/local/process_resource.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "common/error.hpp"
#include "support/polling.hpp"

namespace berth::provisioner::local {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testing::read_file;
using testing::wait_until;

// Fields of /proc/<pid>/stat from the state on (field 3), or nothing once the pid is gone.
std::optional<std::vector<std::string>> stat_fields(int pid) {
  std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(text.substr(close + 2));
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  return fields;
}

// Gone, or a zombie that nobody reaps (some container inits do not).
bool pid_gone(int pid) {
  auto fields = stat_fields(pid);
  return !fields || fields->at(0) == "Z" || fields->at(0) == "X";
}

// No live process is left in the group, wherever it runs (inside a sandbox's pid namespace too).
bool group_gone(int pgid) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto fields = stat_fields(std::stoi(name));
    if (fields && fields->at(2) == std::to_string(pgid) && fields->at(0) != "Z") return false;
  }
  return true;
}

// KILLs the process group a test started, whatever the test's outcome.
struct GroupGuard {
  ProcessState state;
  ~GroupGuard() {
    if (state.pid > 1 && state.pid != ::getpgrp()) ::kill(-state.pid, SIGKILL);
  }
};

bool throws_invalid(const std::function<void()>& f, const std::string& needle = {}) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    return e.code() == ErrorCode::invalid;
  }
  ADD_FAILURE() << "no Error thrown";
  return false;
}

class ProcessResourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-process-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ / "workspace";
    log_ = root_ / "logs" / "workspace.log";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  ProcessSpec shell(const std::string& script) const {
    ProcessSpec spec;
    spec.command = {"sh", "-c", script};
    spec.dir = dir_.string();
    spec.log_path = log_.string();
    return spec;
  }

  // Waits for a file the child writes with `> x.tmp && mv x.tmp x`, so it is complete.
  std::string wait_for_file(const std::string& name) const {
    EXPECT_TRUE(wait_until([&] { return fs::exists(dir_ / name); })) << name;
    return read_file(dir_ / name);
  }

  fs::path root_;
  fs::path dir_;
  fs::path log_;
};

// Writes a marker, records its background child, and exits cleanly on TERM.
constexpr const char* kTrapScript =
    "trap 'exit 0' TERM; sleep 1000 & echo $! > child.tmp && mv child.tmp child.pid; "
    "echo started > started; wait";

TEST_F(ProcessResourceTest, StartsADetachedProcessInItsDir) {
  GroupGuard guard{start_process(shell(kTrapScript))};
  const ProcessState& state = guard.state;
  EXPECT_GT(state.pid, 1);
  EXPECT_GT(state.start_ticks, 0);
  EXPECT_EQ(state.dir, dir_.string());
  EXPECT_EQ(wait_for_file("started"), "started\n");
  EXPECT_TRUE(process_alive(state));

  // Its own session and process group, not our child, stdin from /dev/null, no stray fds.
  auto fields = stat_fields(state.pid);
  ASSERT_TRUE(fields);
  EXPECT_NE(fields->at(1), std::to_string(::getpid()));  // ppid
  EXPECT_EQ(fields->at(2), std::to_string(state.pid));   // pgrp
  EXPECT_EQ(fields->at(3), std::to_string(state.pid));   // session
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(state.pid) + "/fd/0"), "/dev/null");
  std::set<std::string> fds;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(state.pid) + "/fd"))
    fds.insert(e.path().filename().string());
  EXPECT_EQ(fds, (std::set<std::string>{"0", "1", "2"}));

  // The state survives the provisioner state's JSON.
  ProcessState back = process_state_from(json::parse(json::serialize(to_json(state))));
  EXPECT_EQ(back.pid, state.pid);
  EXPECT_EQ(back.start_ticks, state.start_ticks);
  EXPECT_EQ(back.dir, state.dir);
  EXPECT_EQ(back.log_path, state.log_path);
  EXPECT_EQ(back.sandbox, state.sandbox);
  EXPECT_TRUE(process_alive(back));
}

TEST_F(ProcessResourceTest, OutlivesTheStartingThread) {
  GroupGuard guard;
  std::thread([&] { guard.state = start_process(shell(kTrapScript)); }).join();
  wait_for_file("started");
  EXPECT_TRUE(process_alive(guard.state));
}

TEST_F(ProcessResourceTest, GetsAMinimalEnvironmentPlusItsOwn) {
  ::setenv("BERTH_PROCESS_TEST_SECRET", "leaked", 1);
  ProcessSpec spec = shell(
      "printf '%s|%s|%s' \"$GREETING\" \"${BERTH_PROCESS_TEST_SECRET-unset}\" \"$PATH\" "
      "> env.tmp && mv env.tmp env.txt; echo to-stdout; echo to-stderr >&2");
  spec.env = {"GREETING=hello world", "LANG=C.UTF-8"};
  GroupGuard guard{start_process(spec)};
  const char* path = std::getenv("PATH");
  EXPECT_EQ(wait_for_file("env.txt"),
            std::string("hello world|unset|") + (path ? path : "/usr/local/bin:/usr/bin:/bin"));
  ::unsetenv("BERTH_PROCESS_TEST_SECRET");
  ASSERT_TRUE(wait_until([&] { return !process_alive(guard.state); }));
  std::string log = read_file(log_);
  EXPECT_NE(log.find("to-stdout\n"), std::string::npos) << log;
  EXPECT_NE(log.find("to-stderr\n"), std::string::npos) << log;
}

TEST_F(ProcessResourceTest, StopTerminatesTheWholeGroupGracefully) {
  GroupGuard guard{start_process(shell(kTrapScript))};
  int child = std::stoi(wait_for_file("child.pid"));
  wait_for_file("started");
  EXPECT_FALSE(pid_gone(child));

  EXPECT_FALSE(stop_process(guard.state, 10s));  // no KILL needed
  EXPECT_FALSE(process_alive(guard.state));
  EXPECT_TRUE(pid_gone(guard.state.pid));
  EXPECT_TRUE(pid_gone(child));
  EXPECT_TRUE(group_gone(guard.state.pid));
}

TEST_F(ProcessResourceTest, StopKillsAGroupThatIgnoresTerm) {
  GroupGuard guard{start_process(
      shell("trap '' TERM; sleep 1000 & echo $! > child.tmp && mv child.tmp child.pid; wait"))};
  int child = std::stoi(wait_for_file("child.pid"));

  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(stop_process(guard.state, 200ms));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 200ms);
  EXPECT_TRUE(pid_gone(guard.state.pid));
  EXPECT_TRUE(pid_gone(child));
  EXPECT_TRUE(group_gone(guard.state.pid));
}

TEST_F(ProcessResourceTest, StopReachesWhatAnExitedLeaderLeftInItsGroup) {
  GroupGuard guard{
      start_process(shell("sleep 1000 & echo $! > child.tmp && mv child.tmp child.pid; exit 0"))};
  int child = std::stoi(wait_for_file("child.pid"));
  ASSERT_TRUE(wait_until([&] { return !process_alive(guard.state); }));
  EXPECT_FALSE(pid_gone(child));

  EXPECT_FALSE(stop_process(guard.state, 10s));
  EXPECT_TRUE(pid_gone(child));
  EXPECT_TRUE(group_gone(guard.state.pid));
}

TEST_F(ProcessResourceTest, StopOfAnExitedProcessIsANoOp) {
  GroupGuard guard{start_process(shell("echo done > done.tmp && mv done.tmp done"))};
  wait_for_file("done");
  ASSERT_TRUE(wait_until([&] { return !process_alive(guard.state); }));
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(stop_process(guard.state, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(ProcessResourceTest, AReusedPidIsNeitherAliveNorStopped) {
  GroupGuard guard{start_process(shell(kTrapScript))};
  wait_for_file("started");

  ProcessState other = guard.state;
  other.start_ticks += 1;  // what a later process under the same pid would look like
  EXPECT_FALSE(process_alive(other));
  EXPECT_FALSE(stop_process(other, 0ms));
  EXPECT_TRUE(process_alive(guard.state));

  // Never init, nobody, or the caller's own group.
  for (int pid : {0, 1, ::getpid()}) {
    ProcessState bogus;
    bogus.pid = pid;
    EXPECT_FALSE(stop_process(bogus, 0ms)) << pid;
  }
  EXPECT_TRUE(process_alive(guard.state));
}

TEST_F(ProcessResourceTest, ReportsCommandsThatCannotRun) {
  ProcessSpec spec = shell("");
  spec.command = {"berth-no-such-binary"};
  EXPECT_TRUE(throws_invalid([&] { start_process(spec); }, "\"berth-no-such-binary\""));

  // Found only when exec runs: the errno comes back through the pipe.
  spec.command = {"/nonexistent/berth-missing", "arg"};
  EXPECT_TRUE(throws_invalid([&] { start_process(spec); }, "\"/nonexistent/berth-missing\""));
  EXPECT_TRUE(throws_invalid([&] { start_process(spec); }, std::strerror(ENOENT)));

  fs::create_directories(dir_);
  std::ofstream(dir_ / "not-executable") << "#!/bin/sh\n";
  fs::permissions(dir_ / "not-executable", fs::perms::owner_read | fs::perms::owner_write);
  spec.command = {"./not-executable"};
  // Even root needs an x bit somewhere.
  EXPECT_TRUE(throws_invalid([&] { start_process(spec); }, "\"./not-executable\""));
  EXPECT_TRUE(throws_invalid([&] { start_process(spec); }, std::strerror(EACCES)));
}

TEST_F(ProcessResourceTest, RefusesBadSpecs) {
  ProcessSpec spec = shell("true");
  spec.command = {};
  EXPECT_TRUE(throws_invalid([&] { start_process(spec); }, "command must not be empty"));
  spec.command = {""};
  EXPECT_TRUE(throws_invalid([&] { start_process(spec); }, "command"));
  spec.command = {"sh", std::string("-c\0x", 4)};
  EXPECT_TRUE(throws_invalid([&] { start_process(spec); }, "NUL"));

  spec = shell("true");
  spec.dir = "relative/dir";
  EXPECT_TRUE(throws_invalid([&] { start_process(spec); }, "absolute"));
  spec.dir = (root_ / ".." / "escape").string();
  EXPECT_TRUE(throws_invalid([&] { start_process(spec); }, "\"..\""));
  spec.dir = "";
  EXPECT_TRUE(throws_invalid([&] { start_process(spec); }, "dir"));

  spec = shell("true");
  spec.env = {"NOEQUALS"};
  EXPECT_TRUE(throws_invalid([&] { start_process(spec); }, "KEY=VALUE"));
  spec.env = {"=value"};
  EXPECT_TRUE(throws_invalid([&] { start_process(spec); }, "KEY=VALUE"));
  EXPECT_FALSE(fs::exists(root_ / "escape"));
}

TEST_F(ProcessResourceTest, SandboxWithoutBwrapIsAClearError) {
  const char* saved = std::getenv("PATH");
  std::string old_path = saved ? saved : "";
  fs::create_directories(root_ / "empty-bin");
  ::setenv("PATH", (root_ / "empty-bin").c_str(), 1);
  ProcessSpec spec = shell("true");
  spec.command = {"/bin/sh", "-c", "true"};
  spec.sandbox = true;
  bool ok = throws_invalid([&] { start_process(spec); }, "bubblewrap (bwrap) is not installed");
  ::setenv("PATH", old_path.c_str(), 1);
  EXPECT_TRUE(ok);
}

bool bwrap_installed() {
  const char* path = std::getenv("PATH");
  std::stringstream in(path ? path : "");
  for (std::string entry; std::getline(in, entry, ':');)
    if (!entry.empty() && ::access((fs::path(entry) / "bwrap").c_str(), X_OK) == 0) return true;
  return false;
}

TEST_F(ProcessResourceTest, SandboxOnlyItsDirIsWritable) {
  ProcessSpec spec = shell(
      "if echo x > /usr/berth-sandbox-probe 2>/dev/null; then echo writable; else echo "
      "read-only; fi > usr.tmp && mv usr.tmp usr.txt; " +
      std::string(kTrapScript));
  spec.sandbox = true;
  if (!bwrap_installed()) {
    EXPECT_TRUE(
        throws_invalid([&] { start_process(spec); }, "bubblewrap (bwrap) is not installed"));
    return;
  }
  GroupGuard guard{start_process(spec)};
  EXPECT_TRUE(guard.state.sandbox);
  EXPECT_EQ(wait_for_file("usr.txt"), "read-only\n") << read_file(log_);
  EXPECT_FALSE(fs::exists("/usr/berth-sandbox-probe"));
  wait_for_file("started");
  EXPECT_TRUE(process_alive(guard.state));

  // TERM reaches the command inside (bwrap stays in the group), which exits on its own.
  EXPECT_FALSE(group_gone(guard.state.pid));
  EXPECT_FALSE(stop_process(guard.state, 10s)) << read_file(log_);
  EXPECT_TRUE(pid_gone(guard.state.pid));
  EXPECT_TRUE(group_gone(guard.state.pid));
}

TEST_F(ProcessResourceTest, RemoveProcessDirDeletesItAndRefusesTheRoot) {
  fs::create_directories(dir_ / "sub");
  std::ofstream(dir_ / "sub" / "file") << "data";
  ProcessState state;
  state.dir = dir_.string();
  remove_process_dir(state);
  EXPECT_FALSE(fs::exists(dir_));
  remove_process_dir(state);  // already gone: fine

  for (std::string bad : {"/", "", "//", "/./", "relative", "/tmp/../"}) {
    state.dir = bad;
    EXPECT_TRUE(throws_invalid([&] { remove_process_dir(state); })) << bad;
  }
  EXPECT_TRUE(fs::exists(root_));
}

TEST_F(ProcessResourceTest, RemoveProcessDirRefusesARunningProcess) {
  GroupGuard guard{start_process(shell(kTrapScript))};
  wait_for_file("started");
  try {
    remove_process_dir(guard.state);
    ADD_FAILURE() << "no Error thrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
  }
  EXPECT_TRUE(fs::exists(dir_ / "started"));
}

TEST(ProcessStateJson, RejectsMalformedState) {
  for (const char* text :
       {R"([])", R"({})", R"({"pid":"12","start_ticks":1,"dir":"/w"})",
        R"({"pid":0,"start_ticks":1,"dir":"/w"})", R"({"pid":12,"start_ticks":-1,"dir":"/w"})",
        R"({"pid":12,"start_ticks":1})", R"({"pid":12,"start_ticks":1,"dir":"/w","sandbox":1})",
        R"({"pid":1.5,"start_ticks":1,"dir":"/w"})"}) {
    EXPECT_TRUE(throws_invalid([&] { process_state_from(json::parse(text)); }, "malformed"))
        << text;
  }
  ProcessState s = process_state_from(json::parse(R"({"pid":12,"start_ticks":7,"dir":"/w"})"));
  EXPECT_EQ(s.pid, 12);
  EXPECT_EQ(s.start_ticks, 7);
  EXPECT_EQ(s.dir, "/w");
  EXPECT_EQ(s.log_path, "");
  EXPECT_FALSE(s.sandbox);
}

}  // namespace
}  // namespace berth::provisioner::local
