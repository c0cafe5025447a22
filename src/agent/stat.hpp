#pragma once

#include <optional>
#include <string>

namespace berth::agent {

// One measurement, as Coder's `coder stat` prints it: "used/total unit (percent)".
struct StatResult {
  double used = 0;
  std::optional<double> total;
  std::string unit;    // "cores", "B"
  double scale = 1;    // 1, 1024, 1024², … for the prefix
  std::string prefix;  // "", "Ki", "Mi", "Gi", "Ti"

  // "1.23/4 cores (31%)", "2.5/15.6 GiB (16%)": at most three significant decimals.
  std::string to_string() const;
};

// `value` with at most three significant decimals, shortest form: 0.0581, 1.23, 15.6, 250.
std::string humanize(double value);

// The prefix named by `text` (Ki, Mi, Gi, Ti; anything else: none) and its scale.
std::pair<std::string, double> parse_prefix(const std::string& text);

// CPU in use, in cores, sampled over 100 ms: the container's cgroup (v1 or v2) when the process
// is in one that accounts CPU and `host` is false, else the whole host (/proc/stat). The total
// is the cgroup's quota when it has one, else the number of CPUs.
StatResult cpu_usage(bool host);
// Memory in use: the cgroup's usage and limit (the host's memory when unlimited), or the host's
// MemTotal - MemAvailable.
StatResult memory_usage(bool host, const std::string& prefix);
// Space used on the file system holding `path`.
StatResult disk_usage(const std::string& path, const std::string& prefix);

}  // namespace berth::agent
