#pragma once

// The Berth agent protocol: how `berth agent` and the server talk over the agent's ONE
// outbound WebSocket, `GET /api/v2/workspaceagents/me/rpc` with the agent token in the
// `Coder-Session-Token` header. Every WebSocket text frame is one JSON object:
//
//   request       {"id": 7, "method": "update_lifecycle", "params": {...}}
//   response      {"id": 7, "result": {...}}
//   error         {"id": 7, "error": {"code": "invalid", "message": "...", "detail": "..."}}
//   notification  {"method": "...", "params": {...}}                   (no id, no response)
//   stream data   {"stream": 3, "data": "<base64>"}   stream close  {"stream": 3, "close": true}
//
// Both sides send requests. Ids are chosen by the sender (increasing integers) and a response
// answers the receiver's own request with that id, so the two id spaces never mix. `code` is
// a berth::ErrorCode name (invalid, too_large, ...).
//
// Agent → server methods (params → result):
//   update_startup   {version, api_version, expanded_directory} → {}       first, on every connect
//   get_manifest     {} → manifest (agent_id, agent_name, workspace_id, workspace_name,
//                        owner_name, directory, environment_variables, scripts, apps,
//                        metadata, log_sources)
//   heartbeat        {} → {}                                               every ~15 s
//   update_lifecycle {state, changed_at?} → {}
//   batch_create_logs {log_source_id?, logs: [{created_at, output, level}]} → {}
//                    (error code too_large once the agent's 1 MiB of logs is used up)
//   batch_update_app_healths {updates: [{id, health}]} → {}
//   batch_update_metadata {metadata: [{key, value, error, collected_at}]} → {}
//   script_completed {script_id, display_name, started_at, ended_at, exit_code, stage,
//                     status} → {}
//   update_stats     {stats?: agentsdk.Stats (connections_by_proto, connection_count,
//                    connection_median_latency_ms, rx/tx_packets, rx/tx_bytes,
//                    session_count_vscode/jetbrains/reconnecting_pty/ssh), latency_ms?}
//                    → {report_interval_ms}. Sent once without stats on start to learn the
//                    interval, then every interval; open sessions bump the workspace's
//                    deadline. latency_ms is the agent's last heartbeat round trip.
// Server → agent methods (for port forwarding, app proxy and terminals; streams are
// multiplexed by the server-chosen stream number):
//   open_stream      {stream, port, window?} → {}   the agent connects to 127.0.0.1:port
//                    (loopback only; error code unavailable if it cannot), then stream frames
//                    flow both ways until either side sends a close. Data for an unknown stream
//                    is answered with a close. Each side bounds what it buffers per stream and
//                    closes a stream whose reader falls too far behind. With a `window`, the
//                    agent keeps at most that many bytes sent and not yet acknowledged
//                    ({"stream": 3, "ack": <bytes>} from the server, once its client took
//                    them), so a slow client slows the port instead of losing the stream;
//                    the agent likewise acknowledges the server's bytes as the port takes them,
//                    and the server sends at most a window ahead.
//   open_pty         {stream, reconnect, width?, height?, command?} → {}   a terminal
//                    (Coder's reconnecting PTY). `reconnect` is a client-chosen UUID naming
//                    the session: a live one is attached to (several attachments may be live
//                    at once; a width and height resize it), else `command` starts via
//                    `sh -c` (empty: $SHELL or /bin/sh) in a new PTY of width x height
//                    (0: 80 x 24) with the manifest environment plus TERM=xterm-256color, in
//                    the agent's directory. Agent → server stream data: terminal output,
//                    starting with the session's recent output (64 KiB) so a reconnecting
//                    client sees the screen. Server → agent stream data: the client's bytes,
//                    concatenated JSON objects {"data": "...", "height": N, "width": N} split
//                    or merged in any way (Coder's ReconnectingPTYRequest): data is typed in,
//                    a nonzero height and width resize. An invalid object, or one over 1 MiB,
//                    closes the stream. A server close detaches only that attachment; the
//                    program's exit closes all its streams and ends the session; a session
//                    with no attachment for the agent's --pty-timeout (5 min) is killed.
//                    With a `window`, output waits for the server's acks as on open_stream
//                    (without one, the agent paces it by its own send queue).
//                    Errors: invalid (bad params), conflict (stream in use), unavailable (64
//                    sessions or 32 attachments to one already, or the program cannot start).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.hpp"

namespace berth::sdk::agentproto {

inline constexpr const char* kApiVersion = "1.0";
// A frame larger than this ends the connection (a log batch is far smaller).
inline constexpr std::size_t kMaxMessageBytes = 4 * 1024 * 1024;
inline constexpr const char* kRpcPath = "/api/v2/workspaceagents/me/rpc";

// One decoded frame.
struct Message {
  enum class Kind { request, notification, response, error, stream, invalid };
  Kind kind = Kind::invalid;
  std::int64_t id = 0;
  std::string method;
  json::object params;
  json::value result;
  std::string error_code;  // for Kind::error (and the reason for Kind::invalid)
  std::string error_message;
  std::string error_detail;
  std::int64_t stream = 0;
  std::string data;  // decoded stream bytes
  bool close = false;
  std::int64_t ack = 0;  // stream bytes the peer has taken (flow control)
};

// Never throws: malformed input is Kind::invalid with the reason in error_message.
Message parse_message(std::string_view text);

std::string encode_request(std::int64_t id, std::string_view method, json::object params);
std::string encode_notification(std::string_view method, json::object params);
std::string encode_result(std::int64_t id, json::value result);
std::string encode_error(std::int64_t id, std::string_view code, std::string_view message,
                         std::string_view detail = {});
std::string encode_stream_data(std::int64_t stream, std::string_view bytes);
std::string encode_stream_close(std::int64_t stream);
std::string encode_stream_ack(std::int64_t stream, std::int64_t bytes);

}  // namespace berth::sdk::agentproto
