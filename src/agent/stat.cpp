#include "agent/stat.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/error.hpp"

namespace berth::agent {

namespace {

constexpr auto kSampleInterval = std::chrono::milliseconds(100);

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<double> read_number(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::nullopt;
  try {
    return std::stod(*text);
  } catch (const std::exception&) {
    return std::nullopt;  // "max" and other words
  }
}

// "key value" lines (cpu.stat, memory.stat, /proc/meminfo): the value of `key`.
std::optional<double> field(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string name;
    double value = 0;
    if (words >> name >> value && (name == key || name == key + ":")) return value;
  }
  return std::nullopt;
}

bool cgroup_v2() {
  return read_file("/sys/fs/cgroup/cgroup.controllers").has_value();
}

double cpu_count() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? double(n) : 1.0;
}

// Seconds of CPU the cgroup has used, or nullopt outside one that accounts it.
std::optional<double> cgroup_cpu_seconds() {
  if (cgroup_v2()) {
    auto stat = read_file("/sys/fs/cgroup/cpu.stat");
    if (!stat) return std::nullopt;
    auto usec = field(*stat, "usage_usec");
    return usec ? std::optional(*usec / 1e6) : std::nullopt;
  }
  auto ns = read_number("/sys/fs/cgroup/cpuacct/cpuacct.usage");
  if (!ns) ns = read_number("/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage");
  return ns ? std::optional(*ns / 1e9) : std::nullopt;
}

// The cgroup's CPU quota in cores, when it has one.
std::optional<double> cgroup_cpu_limit() {
  if (cgroup_v2()) {
    auto max = read_file("/sys/fs/cgroup/cpu.max");
    std::istringstream words(max.value_or(""));
    std::string quota;
    double period = 0;
    if (words >> quota >> period && quota != "max" && period > 0) return std::stod(quota) / period;
    return std::nullopt;
  }
  auto quota = read_number("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  auto period = read_number("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  if (quota && period && *quota > 0 && *period > 0) return *quota / *period;
  return std::nullopt;
}

// Whether this process runs in a container: its cgroup is not the root one.
bool in_container() {
  auto cgroups = read_file("/proc/self/cgroup").value_or("");
  std::istringstream lines(cgroups);
  for (std::string line; std::getline(lines, line);) {
    auto path = line.substr(line.rfind(':') + 1);
    if (path != "/" && !path.empty()) return true;
  }
  return false;
}

// (busy, total) jiffies of all CPUs from /proc/stat.
std::pair<double, double> host_cpu_times() {
  std::istringstream words(read_file("/proc/stat").value_or(""));
  std::string cpu;
  words >> cpu;
  double total = 0, idle = 0, value = 0;
  // user nice system idle iowait irq softirq steal; guest time is already counted in user.
  for (int i = 0; i < 8 && words >> value; ++i) {
    total += value;
    if (i == 3 || i == 4) idle += value;  // idle, iowait
  }
  return {total - idle, total};
}

}  // namespace

std::string humanize(double value) {
  double magnitude = std::fabs(value);
  int precision = magnitude == 0    ? 0
                  : magnitude < 1   ? 3
                  : magnitude < 10  ? 2
                  : magnitude < 100 ? 1
                                    : 0;
  double scale = std::pow(10.0, precision);
  return fmt::format("{}", std::round(value * scale) / scale);
}

std::string StatResult::to_string() const {
  std::string out = humanize(used / scale);
  if (total) {
    out += '/';
    out += humanize(*total / scale);
  }
  out += ' ';
  out += prefix;
  out += unit;
  if (total && *total > 0) out += fmt::format(" ({:.0f}%)", used / *total * 100.0);
  return out;
}

std::pair<std::string, double> parse_prefix(const std::string& text) {
  if (text == "Ki") return {"Ki", 1024.0};
  if (text == "Mi") return {"Mi", 1024.0 * 1024};
  if (text == "Gi") return {"Gi", 1024.0 * 1024 * 1024};
  if (text == "Ti") return {"Ti", 1024.0 * 1024 * 1024 * 1024};
  return {"", 1.0};
}

StatResult cpu_usage(bool host) {
  StatResult r{0, std::nullopt, std::string("cores"), 1, std::string()};
  if (!host && in_container())
    if (auto before = cgroup_cpu_seconds()) {
      auto start = std::chrono::steady_clock::now();
      std::this_thread::sleep_for(kSampleInterval);
      auto after = cgroup_cpu_seconds().value_or(*before);
      double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      r.total = cgroup_cpu_limit().value_or(cpu_count());
      r.used = std::min((after - *before) / elapsed, *r.total);
      return r;
    }
  auto [busy1, total1] = host_cpu_times();
  std::this_thread::sleep_for(kSampleInterval);
  auto [busy2, total2] = host_cpu_times();
  r.total = cpu_count();
  // Jiffies are coarse over 100 ms: the share is clamped to what the CPUs can give.
  r.used = total2 > total1 ? std::min(1.0, (busy2 - busy1) / (total2 - total1)) * *r.total : 0;
  return r;
}

// A result in bytes with the prefix named by `prefix`.
StatResult bytes_result(const std::string& prefix) {
  auto [name, scale] = parse_prefix(prefix);
  return StatResult{0, std::nullopt, std::string("B"), scale, std::move(name)};
}

StatResult memory_usage(bool host, const std::string& prefix) {
  StatResult r = bytes_result(prefix);
  auto meminfo = read_file("/proc/meminfo").value_or("");
  double host_total = field(meminfo, "MemTotal").value_or(0) * 1024;
  if (!host && in_container()) {
    std::optional<double> used, limit;
    if (cgroup_v2()) {
      used = read_number("/sys/fs/cgroup/memory.current");
      limit = read_number("/sys/fs/cgroup/memory.max");
    } else {
      used = read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes");
      limit = read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    }
    if (used) {
      r.used = *used;
      // cgroup v1 reports "no limit" as a number near 2^63.
      r.total = limit && *limit > 0 && *limit < host_total ? *limit : host_total;
      return r;
    }
  }
  r.total = host_total;
  r.used = host_total - field(meminfo, "MemAvailable").value_or(0) * 1024;
  return r;
}

StatResult disk_usage(const std::string& path, const std::string& prefix) {
  struct statvfs fs {};
  if (::statvfs(path.c_str(), &fs) != 0)
    throw Error{ErrorCode::invalid, fmt::format("Cannot read the file system of \"{}\".", path)};
  StatResult r = bytes_result(prefix);
  double block = double(fs.f_frsize ? fs.f_frsize : fs.f_bsize);
  r.total = double(fs.f_blocks) * block;
  r.used = double(fs.f_blocks - fs.f_bfree) * block;
  return r;
}

}  // namespace berth::agent
