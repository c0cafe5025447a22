#include "support/swagger_validator.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace berth::testing {
namespace {

constexpr const char* kValidUser = R"({
  "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08",
  "username": "alice",
  "email": "alice@example.com",
  "name": "Alice",
  "created_at": "2024-05-01T10:20:30.123456Z",
  "updated_at": "2024-05-01T12:00:00+02:00",
  "last_seen_at": "2024-05-01T10:20:30Z",
  "status": "active",
  "login_type": "password",
  "theme_preference": "",
  "avatar_url": "",
  "organization_ids": ["0ba39c92-1f1b-4c32-aa3e-9925d7713eb1"],
  "roles": [{"name": "owner", "display_name": "Owner"}],
  "a_field_added_later": {"anything": [1, 2]}
})";

class SwaggerValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    validator_ = SwaggerValidator::load_default();
    if (!validator_) {
      GTEST_SKIP() << "swagger.json not found at " << SwaggerValidator::default_path()
                   << "; skipping the OpenAPI response checks";
    }
  }

  static json::object user() { return json::parse(kValidUser).as_object(); }

  std::vector<std::string> check_user(const json::object& u) const {
    return validator_->validate(u, "codersdk.User");
  }

  std::optional<SwaggerValidator> validator_;
};

bool contains(const std::vector<std::string>& problems, const std::string& wanted) {
  return std::find(problems.begin(), problems.end(), wanted) != problems.end();
}

TEST_F(SwaggerValidatorTest, AcceptsAValidUserWithUnknownExtraFields) {
  auto problems = check_user(user());
  EXPECT_TRUE(problems.empty()) << describe(problems);
}

TEST_F(SwaggerValidatorTest, ParsesTheFileOncePerProcess) {
  auto again = SwaggerValidator::load(SwaggerValidator::default_path());
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->validate(json::parse(kValidUser), "codersdk.User").empty());
  EXPECT_FALSE(SwaggerValidator::load("/nonexistent/swagger.json"));
}

TEST_F(SwaggerValidatorTest, ReportsAMissingRequiredField) {
  auto u = user();
  u.erase("id");
  EXPECT_EQ(check_user(u), std::vector<std::string>{"$.id: required property is missing"});
}

TEST_F(SwaggerValidatorTest, ReportsAValueOutsideASiblingEnumOfAnAllOfRef) {
  auto u = user();
  u["status"] = "bogus";
  EXPECT_EQ(check_user(u),
            std::vector<std::string>{R"($.status: "bogus" is not one of ["active", "suspended"])"});
  u["status"] = "suspended";
  EXPECT_TRUE(check_user(u).empty());
  u["login_type"] = "kerberos";  // enum given on the referenced definition itself
  EXPECT_EQ(check_user(u).size(), 1u) << describe(check_user(u));
}

TEST_F(SwaggerValidatorTest, ReportsMalformedUuidsAndDateTimes) {
  auto u = user();
  u["id"] = "not-a-uuid";
  EXPECT_EQ(check_user(u), std::vector<std::string>{R"($.id: "not-a-uuid" is not a valid uuid)"});
  u["id"] = "497F6ECA-6276-4993-BFEB-53CBBBBA6F08";  // Go prints lower case
  EXPECT_EQ(check_user(u).size(), 1u);
  u = user();
  u["created_at"] = "2024-05-01 10:20:30";
  EXPECT_EQ(check_user(u),
            std::vector<std::string>{
                R"($.created_at: "2024-05-01 10:20:30" is not an RFC 3339 date-time)"});
  u = user();
  u["organization_ids"] = json::array{"0ba39c92-1f1b-4c32-aa3e-9925d7713eb1", "x"};
  EXPECT_EQ(check_user(u),
            std::vector<std::string>{R"($.organization_ids[1]: "x" is not a valid uuid)"});
}

TEST_F(SwaggerValidatorTest, ReportsWrongTypesIncludingIntegerVersusNumber) {
  auto u = user();
  u["username"] = 7;
  EXPECT_EQ(check_user(u), std::vector<std::string>{"$.username: expected string, got integer 7"});
  auto build = json::parse(R"({"build_number": 1.5, "daily_cost": 3})");
  auto problems = validator_->validate(build, "codersdk.WorkspaceBuild");
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_TRUE(problems[0].starts_with("$.build_number: expected integer, got number "))
      << problems[0];
  EXPECT_EQ(validator_->validate(json::parse("[]"), "codersdk.User"),
            std::vector<std::string>{"$: expected object, got array []"});
}

TEST_F(SwaggerValidatorTest, NestedRefErrorsCarryTheirPath) {
  auto build =
      json::parse(R"({"job": {"status": "bogus", "id": "497f6eca-6276-4993-bfeb-53cbbbba6f08"},
                               "status": "running"})");
  auto problems = validator_->validate(build, "codersdk.WorkspaceBuild");
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_TRUE(problems[0].starts_with(R"($.job.status: "bogus" is not one of ["pending", )"))
      << problems[0];
}

TEST_F(SwaggerValidatorTest, ArrayItemErrorsCarryTheirIndex) {
  auto u = user();
  u["roles"] = json::parse(R"([{"name": "owner"}, {"name": 5}])");
  EXPECT_EQ(check_user(u),
            std::vector<std::string>{"$.roles[1].name: expected string, got integer 5"});

  json::array users{user(), user()};
  users[1].as_object().erase("username");
  EXPECT_EQ(validator_->validate_array(users, "codersdk.User"),
            std::vector<std::string>{"$[1].username: required property is missing"});
  EXPECT_EQ(validator_->validate_array(user(), "codersdk.User"),
            std::vector<std::string>{"$: expected array, got object " +
                                     json::serialize(user()).substr(0, 80) + "..."});
}

TEST_F(SwaggerValidatorTest, ChecksMapValuesAgainstAdditionalProperties) {
  auto ok = json::parse(R"({"read_workspace": true, "update_template": false})");
  EXPECT_TRUE(validator_->validate(ok, "codersdk.AuthorizationResponse").empty());
  auto bad = json::parse(R"({"read_workspace": true, "odd key": "yes"})");
  EXPECT_EQ(validator_->validate(bad, "codersdk.AuthorizationResponse"),
            std::vector<std::string>{R"($["odd key"]: expected boolean, got string "yes")"});
}

TEST_F(SwaggerValidatorTest, AcceptsNullWhereGoEmitsIt) {
  auto u = user();
  u["name"] = nullptr;        // optional
  u["roles"] = nullptr;       // optional nil slice
  u["created_at"] = nullptr;  // required, but a NullTime
  EXPECT_TRUE(check_user(u).empty()) << describe(check_user(u));
  u["username"] = nullptr;  // required string
  EXPECT_EQ(check_user(u),
            std::vector<std::string>{"$.username: null is not allowed (expected string)"});
  u = user();
  u["organization_ids"] = json::array{nullptr};
  EXPECT_EQ(check_user(u), std::vector<std::string>{
                               "$.organization_ids[0]: null is not allowed (expected string)"});
}

TEST_F(SwaggerValidatorTest, TreatsNullUuidAsAUuidStringOrNull) {
  auto task = json::parse(R"({"workspace_id": "497f6eca-6276-4993-bfeb-53cbbbba6f08",
                              "workspace_agent_id": null, "status": "active"})");
  EXPECT_TRUE(validator_->validate(task, "codersdk.Task").empty());
  task.as_object()["workspace_id"] = json::parse(R"({"uuid": "x", "valid": true})");
  task.as_object()["workspace_app_id"] = "nope";
  auto problems = validator_->validate(task, "codersdk.Task");
  ASSERT_EQ(problems.size(), 2u) << describe(problems);
  EXPECT_TRUE(contains(problems, R"($.workspace_app_id: "nope" is not a valid uuid)"))
      << describe(problems);
  EXPECT_TRUE(problems[0].starts_with("$.workspace_id: expected a uuid string or null"))
      << problems[0];
}

TEST_F(SwaggerValidatorTest, ValidatesAnOperationsResponse) {
  EXPECT_TRUE(validator_->validate_response("GET", "/users/{user}", 200, user()).empty());
  auto u = user();
  u["status"] = "bogus";
  EXPECT_EQ(validator_->validate_response("GET", "/users/{user}", 200, u).size(), 1u);
  EXPECT_EQ(validator_->validate_response("GET", "/no/such/{path}", 200, u),
            std::vector<std::string>{"$: swagger.json has no operation GET /no/such/{path}"});
  // A list endpoint; an error body is checked as codersdk.Response.
  EXPECT_TRUE(
      validator_->validate_response("GET", "/users/{user}/organizations", 200, json::array{})
          .empty());
  EXPECT_TRUE(validator_
                  ->validate_response("GET", "/users/{user}", 404,
                                      json::parse(R"({"message": "Resource not found."})"))
                  .empty());
  EXPECT_EQ(
      validator_->validate_response("GET", "/users/{user}", 404, json::parse(R"({"message": 1})"))
          .size(),
      1u);
}

TEST_F(SwaggerValidatorTest, FallsBackToTheDeclared2xxAndKnowsTheSeedOnlyShapes) {
  // Coder answers 201 where the generated description says 200.
  auto build = json::parse(R"({"status": "pending"})");
  EXPECT_TRUE(
      validator_->validate_response("POST", "/workspaces/{workspace}/builds", 201, build).empty());
  EXPECT_TRUE(validator_->has_definition("codersdk.PauseTaskResponse"));
  auto paused = json::parse(R"({"workspace_build": {"status": "bogus"}})");
  auto problems = validator_->validate_response("POST", "/tasks/{user}/{task}/resume", 202, paused);
  ASSERT_EQ(problems.size(), 1u) << describe(problems);
  EXPECT_TRUE(problems[0].starts_with("$.workspace_build.status: ")) << problems[0];
  EXPECT_EQ(validator_->validate(json::object{}, "codersdk.NoSuchThing"),
            std::vector<std::string>{"$: unknown definition codersdk.NoSuchThing"});
}

}  // namespace
}  // namespace berth::testing
