#include "sdk/workspace_enums.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace berth::sdk {
namespace {

// Every value's wire string parses back to it, and no two values share a string.
template <typename E>
void expect_round_trip() {
  std::set<std::string_view> seen;
  for (auto e : all_values<E>()) {
    auto s = to_string(e);
    EXPECT_FALSE(s.empty());
    EXPECT_TRUE(seen.insert(s).second) << s;
    EXPECT_EQ(parse<E>(s), e) << s;
  }
  EXPECT_EQ(parse<E>(""), std::nullopt);
  EXPECT_EQ(parse<E>("no-such-value"), std::nullopt);
}

TEST(WorkspaceEnums, EveryValueRoundTripsThroughItsWireString) {
  expect_round_trip<WorkspaceTransition>();
  expect_round_trip<ProvisionerJobStatus>();
  expect_round_trip<WorkspaceStatus>();
  expect_round_trip<WorkspaceAgentStatus>();
  expect_round_trip<WorkspaceAgentLifecycle>();
}

TEST(WorkspaceEnums, WireStringsAreCoders) {
  EXPECT_EQ(to_string(WorkspaceTransition::delete_), "delete");
  EXPECT_EQ(all_values<WorkspaceTransition>().size(), 3u);
  EXPECT_EQ(all_values<ProvisionerJobStatus>().size(), 6u);
  EXPECT_EQ(all_values<WorkspaceStatus>().size(), 10u);
  EXPECT_EQ(all_values<WorkspaceAgentStatus>().size(), 4u);
  EXPECT_EQ(all_values<WorkspaceAgentLifecycle>().size(), 9u);
  EXPECT_EQ(to_string(WorkspaceAgentLifecycle::shutdown_timeout), "shutdown_timeout");
  EXPECT_EQ(parse<WorkspaceStatus>("Running"), std::nullopt);  // case matters on the wire
}

}  // namespace
}  // namespace berth::sdk
