#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "agent/session_counters.hpp"
#include "common/json.hpp"

namespace berth::agent {

// One stats report, Coder's agentsdk.Stats (the fields Berth's server keeps).
struct Stats {
  std::map<std::string, std::int64_t> connections_by_proto;
  std::int64_t connection_count = 0;
  double connection_median_latency_ms = 0;
  std::int64_t rx_packets = 0;
  std::int64_t rx_bytes = 0;
  std::int64_t tx_packets = 0;
  std::int64_t tx_bytes = 0;
  std::int64_t session_count_vscode = 0;
  std::int64_t session_count_jetbrains = 0;
  std::int64_t session_count_reconnecting_pty = 0;
  std::int64_t session_count_ssh = 0;
};

// The sessions `counters` currently count, as a report.
Stats stats_from(const SessionCounters& counters);

// The update_stats params: the report, and the last round trip to the server if measured.
json::object stats_params(const Stats& stats, std::optional<double> latency_ms);

}  // namespace berth::agent
