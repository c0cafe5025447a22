#include "agent/stats.hpp"

namespace berth::agent {

Stats stats_from(const SessionCounters& counters) {
  using Kind = SessionCounters::Kind;
  Stats s;
  s.session_count_vscode = counters.count(Kind::vscode);
  s.session_count_jetbrains = counters.count(Kind::jetbrains);
  s.session_count_reconnecting_pty = counters.count(Kind::reconnecting_pty);
  s.session_count_ssh = counters.count(Kind::ssh);
  return s;
}

json::object stats_params(const Stats& s, std::optional<double> latency_ms) {
  json::object by_proto;
  for (const auto& [proto, n] : s.connections_by_proto) by_proto[proto] = n;
  json::object stats{{"connections_by_proto", std::move(by_proto)},
                     {"connection_count", s.connection_count},
                     {"connection_median_latency_ms", s.connection_median_latency_ms},
                     {"rx_packets", s.rx_packets},
                     {"rx_bytes", s.rx_bytes},
                     {"tx_packets", s.tx_packets},
                     {"tx_bytes", s.tx_bytes},
                     {"session_count_vscode", s.session_count_vscode},
                     {"session_count_jetbrains", s.session_count_jetbrains},
                     {"session_count_reconnecting_pty", s.session_count_reconnecting_pty},
                     {"session_count_ssh", s.session_count_ssh}};
  json::object params{{"stats", std::move(stats)}};
  if (latency_ms) params["latency_ms"] = *latency_ms;
  return params;
}

}  // namespace berth::agent
