#include "integration/podman_service.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace berth::testing {

namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& contents) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << contents;
}

// Runs argv with `env` added to this process's environment; returns status and stdout+stderr.
std::pair<int, std::string> run(std::vector<std::string> argv, const std::vector<std::string>& env,
                                const std::string& output_path) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int out = open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream in(output_path);
  std::stringstream s;
  s << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), s.str()};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

}  // namespace

PodmanService::PodmanService() : socket_(dir_.file("podman.sock")) {
  auto root = dir_.path();
  // crun refuses this machine's hybrid cgroup layout, and podman's default open-files limit is
  // above the machine's hard limit: runc and explicit limits make containers start.
  write_file(root / "containers.conf",
             "[containers]\n"
             "default_ulimits = [\"nofile=20000:20000\", \"nproc=4096:4096\"]\n"
             "[engine]\n"
             "runtime = \"runc\"\n"
             "cgroup_manager = \"cgroupfs\"\n"
             "events_logger = \"file\"\n"
             "events_logfile_path = \"" +
                 (root / "events.log").string() +
                 "\"\n"
                 "tmp_dir = \"" +
                 (root / "tmp").string() +
                 "\"\n"
                 "volume_path = \"" +
                 (root / "volumes").string() + "\"\n");
  write_file(root / "storage.conf",
             "[storage]\n"
             "driver = \"vfs\"\n"
             "graphroot = \"" +
                 (root / "graph").string() +
                 "\"\n"
                 "runroot = \"" +
                 (root / "run").string() + "\"\n");
  fs::create_directories(root / "tmp");
  auto env = environment();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setpgid(0, 0);
    int out = open(dir_.file("service.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    auto address = "unix://" + socket_;
    execlp("podman", "podman", "system", "service", "--time=0", address.c_str(), nullptr);
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  struct stat st {};
  while (::stat(socket_.c_str(), &st) != 0) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream in(dir_.file("service.log"));
      std::stringstream s;
      s << in.rdbuf();
      throw std::runtime_error("podman system service exited: " + s.str());
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("podman system service did not create its socket");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

PodmanService::~PodmanService() {
  podman({"rm", "--all", "--force", "--time", "0"});
  podman({"volume", "prune", "--force"});
  if (pid_ > 0) {
    kill(-pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

std::vector<std::string> PodmanService::environment() const {
  return {"CONTAINERS_CONF=" + dir_.file("containers.conf"),
          "CONTAINERS_STORAGE_CONF=" + dir_.file("storage.conf"),
          "XDG_RUNTIME_DIR=" + dir_.file("tmp"), "TMPDIR=" + dir_.file("tmp")};
}

std::pair<int, std::string> PodmanService::podman(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"podman"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, environment(), dir_.file("podman-cli.log"));
}

void PodmanService::import_busybox_image(const std::string& name) const {
  auto rootfs = dir_.path() / "rootfs";
  fs::create_directories(rootfs / "bin");
  fs::copy_file("/bin/busybox", rootfs / "bin/busybox", fs::copy_options::overwrite_existing);
  auto applets = run({"/bin/busybox", "--list"}, {}, dir_.file("applets.txt")).second;
  for (const auto& applet : lines(applets))
    if (applet != "busybox" && applet.find('/') == std::string::npos)
      fs::create_symlink("busybox", rootfs / "bin" / applet);
  write_file(rootfs / "etc/passwd", "root:x:0:0:root:/home/coder:/bin/sh\n");
  write_file(rootfs / "etc/group", "root:x:0:\n");
  fs::create_directories(rootfs / "etc/skel");
  fs::create_directories(rootfs / "tmp");
  fs::create_directories(rootfs / "home/coder");
  fs::permissions(rootfs / "tmp", fs::perms::all | fs::perms::sticky_bit);
  auto tar = dir_.file("rootfs.tar");
  auto [status, output] =
      run({"tar", "-C", rootfs.string(), "-cf", tar, "."}, {}, dir_.file("tar.log"));
  if (status != 0) throw std::runtime_error("tar failed: " + output);
  auto [imported, log] = podman({"import", tar, name});
  if (imported != 0) throw std::runtime_error("podman import failed: " + log);
}

std::vector<std::string> PodmanService::containers() const {
  return lines(podman({"ps", "--all", "--format", "{{.Names}}"}).second);
}

std::vector<std::string> PodmanService::networks() const {
  return lines(podman({"network", "ls", "--format", "{{.Name}}"}).second);
}

std::vector<std::string> PodmanService::volumes() const {
  return lines(podman({"volume", "ls", "--format", "{{.Name}}"}).second);
}

}  // namespace berth::testing
