// `berth stat`: the numbers as Coder's `coder stat` prints them, and readings of this machine.
#include <gtest/gtest.h>

#include <regex>

#include "agent/stat.hpp"
#include "common/error.hpp"

namespace berth::agent {
namespace {

TEST(Stat, HumanizesWithAtMostThreeSignificantDecimals) {
  EXPECT_EQ(humanize(0), "0");
  EXPECT_EQ(humanize(0.05814), "0.058");
  EXPECT_EQ(humanize(1.2345), "1.23");
  EXPECT_EQ(humanize(15.66), "15.7");
  EXPECT_EQ(humanize(250.4), "250");
  EXPECT_EQ(humanize(4), "4");
}

TEST(Stat, PrintsUsedTotalUnitAndPercent) {
  StatResult cores{1.5, 4.0, "cores", 1, ""};
  EXPECT_EQ(cores.to_string(), "1.5/4 cores (38%)");
  auto [prefix, scale] = parse_prefix("Gi");
  StatResult memory{2.5 * scale, 16 * scale, "B", scale, prefix};
  EXPECT_EQ(memory.to_string(), "2.5/16 GiB (16%)");
  StatResult unbounded{3, std::nullopt, "B", 1, ""};
  EXPECT_EQ(unbounded.to_string(), "3 B");
  EXPECT_EQ(parse_prefix("bogus").second, 1.0);
}

TEST(Stat, ReadsThisMachine) {
  std::regex shape(R"(^[0-9.]+/[0-9.]+ (cores|GiB|MiB) \([0-9]+%\)$)");
  for (const auto& r : {cpu_usage(true), cpu_usage(false), memory_usage(true, "Gi"),
                        memory_usage(false, "Mi"), disk_usage("/", "Gi")}) {
    EXPECT_TRUE(std::regex_match(r.to_string(), shape)) << r.to_string();
    ASSERT_TRUE(r.total.has_value());
    EXPECT_GT(*r.total, 0);
    EXPECT_LE(r.used, *r.total);
  }
  EXPECT_THROW(disk_usage("/nonexistent/path", "Gi"), Error);
}

}  // namespace
}  // namespace berth::agent
