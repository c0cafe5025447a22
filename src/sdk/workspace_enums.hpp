#pragma once

// The states of workspaces, builds, jobs and agents as codersdk names them, each with its wire
// string (`to_string`) and the reverse (`parse<E>`, empty for an unknown string).
//
// Header-only with no dependency beyond the standard library (target berth_sdk_enums), so
// that store/ can carry these in its rows without depending on the rest of sdk/.

#include <array>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string_view>

namespace berth::sdk {

// codersdk.WorkspaceTransition
enum class WorkspaceTransition { start, stop, delete_ };

// codersdk.ProvisionerJobStatus
enum class ProvisionerJobStatus { pending, running, succeeded, canceling, canceled, failed };

// codersdk.WorkspaceStatus: a build's, and so its workspace's, status.
enum class WorkspaceStatus {
  pending,
  starting,
  running,
  stopping,
  stopped,
  failed,
  canceling,
  canceled,
  deleting,
  deleted
};

// codersdk.WorkspaceAgentStatus
enum class WorkspaceAgentStatus { connecting, connected, disconnected, timeout };

// codersdk.WorkspaceAgentLifecycle
enum class WorkspaceAgentLifecycle {
  created,
  starting,
  start_timeout,
  start_error,
  ready,
  shutting_down,
  shutdown_timeout,
  shutdown_error,
  off
};

// The wire strings of an enum's values, in declaration order.
template <typename E>
struct EnumNames;

template <>
struct EnumNames<WorkspaceTransition> {
  static constexpr std::array<std::string_view, 3> values{"start", "stop", "delete"};
};
template <>
struct EnumNames<ProvisionerJobStatus> {
  static constexpr std::array<std::string_view, 6> values{"pending",   "running",  "succeeded",
                                                          "canceling", "canceled", "failed"};
};
template <>
struct EnumNames<WorkspaceStatus> {
  static constexpr std::array<std::string_view, 10> values{
      "pending", "starting",  "running",  "stopping", "stopped",
      "failed",  "canceling", "canceled", "deleting", "deleted"};
};
template <>
struct EnumNames<WorkspaceAgentStatus> {
  static constexpr std::array<std::string_view, 4> values{"connecting", "connected", "disconnected",
                                                          "timeout"};
};
template <>
struct EnumNames<WorkspaceAgentLifecycle> {
  static constexpr std::array<std::string_view, 9> values{
      "created",       "starting",         "start_timeout",  "start_error", "ready",
      "shutting_down", "shutdown_timeout", "shutdown_error", "off"};
};

// An enum with wire strings.
template <typename E>
concept WireEnum = requires {
  EnumNames<E>::values;
};

// The wire string of `e`.
template <WireEnum E>
constexpr std::string_view to_string(E e) {
  return EnumNames<E>::values[static_cast<std::size_t>(e)];
}

// The value whose wire string is `s`, or empty when none is.
template <WireEnum E>
constexpr std::optional<E> parse(std::string_view s) {
  const auto& names = EnumNames<E>::values;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

// Every value of E, in declaration order.
template <WireEnum E>
constexpr auto all_values() {
  std::array<E, EnumNames<E>::values.size()> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<E>(i);
  return out;
}

// Writes the wire string (test failures and logs read as words, not numbers).
template <WireEnum E>
std::ostream& operator<<(std::ostream& os, E e) {
  return os << to_string(e);
}

}  // namespace berth::sdk
