#include "sdk/templates.hpp"

#include <gtest/gtest.h>

namespace berth::sdk {
namespace {

TEST(TemplateWire, RoundTripsEveryField) {
  Template t;
  t.id = *Uuid::parse("6f1c3b4e-1f7a-4a9e-9d7e-1a2b3c4d5e6f");
  t.created_at = from_unix_micros(1'700'000'000'000'000LL);
  t.updated_at = from_unix_micros(1'700'000'100'000'000LL);
  t.organization_id = *Uuid::parse("0b1c3b4e-1f7a-4a9e-9d7e-1a2b3c4d5e6f");
  t.organization_name = "coder";
  t.name = "docker";
  t.display_name = "Docker";
  t.provisioner = "terraform";
  t.active_version_id = *Uuid::parse("1b1c3b4e-1f7a-4a9e-9d7e-1a2b3c4d5e6f");
  t.deprecated = true;
  t.deprecation_message = "use docker-v2";
  t.default_ttl_ms = 3'600'000;
  t.autostop_requirement = {{"monday", "friday"}, 2};
  t.autostart_days_of_week = {"saturday"};
  t.allow_user_autostop = true;
  t.max_port_share_level = "owner";
  auto json = to_json(t);
  const auto& o = json.as_object();
  EXPECT_EQ(o.at("autostop_requirement").as_object().at("weeks").as_int64(), 2);
  EXPECT_TRUE(o.at("build_time_stats").as_object().at("start").as_object().at("p50").is_null());
  auto again = template_from_json(json);
  EXPECT_EQ(again.active_version_id, t.active_version_id);
  EXPECT_EQ(again.autostop_requirement.days_of_week, t.autostop_requirement.days_of_week);
  EXPECT_EQ(again.autostart_days_of_week, t.autostart_days_of_week);
  EXPECT_EQ(json::serialize(to_json(again)), json::serialize(json));
}

TEST(TemplateWire, ReadsWhatIsMissingAsZero) {
  auto t = template_from_json(json::parse(R"({"name": "x", "deprecated": "yes"})"));
  EXPECT_EQ(t.name, "x");
  EXPECT_FALSE(t.deprecated);
  EXPECT_EQ(t.active_version_id, Uuid{});
}

}  // namespace
}  // namespace berth::sdk
