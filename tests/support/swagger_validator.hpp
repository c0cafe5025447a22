#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace berth::testing {

// Validates JSON response bodies against the definitions of Coder's OpenAPI 2.0 description
// (`/work/shared/coder-api/swagger.json`), so tests catch a field of the wrong type, a missing
// required field or an unknown enum value before a Coder client does.
//
// Leniencies, each because Coder's Go encoder or the seeds behave so:
// - properties absent from the schema are allowed (Coder adds fields over time);
// - null is accepted for a property that is not `required` (Go emits null for nil slices,
//   maps and pointers), for `format: date-time` (NullTime) and for `uuid.NullUUID`, which
//   Coder sends as a plain UUID string or null although swagger describes an object;
// - `codersdk.PauseTaskResponse`, `codersdk.ResumeTaskResponse` and their routes, which exist
//   only in the seeds, are added when the file lacks them.
// Formats `uuid` (canonical lower case) and `date-time` (RFC 3339) are checked; others are not.
class SwaggerValidator {
 public:
  // Loads swagger.json from `path`, parsing each file once per process; nullopt if the file is
  // absent (callers skip with a visible message). Throws if the file is not valid JSON.
  static std::optional<SwaggerValidator> load(const std::string& path);
  // `load(default_path())`: the environment variable BERTH_SWAGGER_PATH if set, else the
  // copy under /work/shared that CMake names in the BERTH_SWAGGER_PATH definition.
  static std::optional<SwaggerValidator> load_default();
  static const char* default_path();

  // Validates `value` against definition `name` (e.g. "codersdk.Workspace"). Each problem
  // starts with a JSON path: `$.latest_build.job.status: "bogus" is not one of [...]`.
  // Empty means valid.
  std::vector<std::string> validate(const json::value& value, const std::string& definition) const;
  // Validates `value` as an array of `definition`.
  std::vector<std::string> validate_array(const json::value& value,
                                          const std::string& definition) const;
  // Validates against the response schema of an operation, given as in swagger: "GET",
  // "/workspaces/{workspace}". `status` picks the response; a 2xx status the file does not list
  // falls back to the operation's lowest 2xx (Berth answers 201 where swagger says 200), and an
  // unlisted 4xx/5xx is checked as `codersdk.Response`, Coder's error body.
  std::vector<std::string> validate_response(const std::string& method,
                                             const std::string& path_template, int status,
                                             const json::value& value) const;

  bool has_definition(const std::string& name) const;

  // The parsed file, shared by every copy; public only so the .cpp's helpers can name it.
  struct Document;

 private:
  explicit SwaggerValidator(std::shared_ptr<const Document> document);

  std::shared_ptr<const Document> document_;
};

// Joins problems one per line, for gtest messages: `EXPECT_TRUE(p.empty()) << describe(p);`.
std::string describe(const std::vector<std::string>& problems);

}  // namespace berth::testing
