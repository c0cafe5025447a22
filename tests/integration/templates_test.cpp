// Files, template versions and templates against the real binary, with the built-in
// provisioner importing the example templates.
#include <gtest/gtest.h>

#include <thread>

#include "common/utf8.hpp"
#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
#include "support/tar_builder.hpp"
#include "support/temp_dir.hpp"

namespace berth::testing {
namespace {

const std::filesystem::path kExamples =
    std::filesystem::path(BERTH_SOURCE_DIR) / "examples/templates";

json::object obj(const sdk::HttpResponse& r) {
  return r.json().as_object();
}
std::string str(const json::value& v) {
  return std::string(v.as_string());
}

std::string upload(sdk::Client& client, const std::string& tar, int expected_status = 201) {
  auto r = client.request("POST", "/api/v2/files", tar, {{"Content-Type", "application/x-tar"}});
  EXPECT_EQ(r.status, expected_status) << r.body;
  return r.status < 300 ? str(obj(r).at("hash")) : "";
}

json::object create_version(sdk::Client& client, const std::string& file_id,
                            json::object extra = {}) {
  json::object body{{"storage_method", "file"}, {"provisioner", "terraform"}, {"file_id", file_id}};
  for (auto& [k, v] : extra) body[k] = v;
  auto r = client.request_json("POST", "/api/v2/organizations/default/templateversions", body);
  EXPECT_EQ(r.status, 201) << r.body;
  return obj(r);
}

// Follows the version's logs until the server closes the stream, which it does when the
// import job ends; returns the lines received.
std::vector<json::object> follow_logs(sdk::Client& client, const std::string& version_id) {
  std::vector<json::object> lines;
  bool closed_by_server = client.follow_websocket(
      "/api/v2/templateversions/" + version_id + "/logs?follow", [&](const std::string& m) {
        lines.push_back(json::parse(m).as_object());
        return true;
      });
  EXPECT_TRUE(closed_by_server);
  return lines;
}

json::object wait_for_import(sdk::Client& client, const std::string& version_id) {
  follow_logs(client, version_id);
  return obj(client.request("GET", "/api/v2/templateversions/" + version_id));
}

std::string job_status(const json::object& version) {
  return str(version.at("job").as_object().at("status"));
}

class TemplatesApi : public ::testing::Test {
 protected:
  TempDir dir_;
  ServerProcess server_{dir_.path().string()};
  sdk::Client owner_ = sign_in_owner(server_.url());
};

TEST_F(TemplatesApi, ImportsTheRichParametersExample) {
  auto file = upload(owner_, tar_directory(kExamples / "rich-parameters"));
  auto version = create_version(owner_, file, {{"name", "v1"}, {"message", "first"}});
  EXPECT_EQ(str(version.at("name")), "v1");
  EXPECT_TRUE(version.at("template_id").is_null());
  auto id = str(version.at("id"));
  auto lines = follow_logs(owner_, id);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(str(lines.front().at("stage")), "Setting up");
  for (size_t i = 1; i < lines.size(); ++i)
    EXPECT_GT(lines[i].at("id").as_int64(), lines[i - 1].at("id").as_int64());
  auto done = obj(owner_.request("GET", "/api/v2/templateversions/" + id));
  EXPECT_EQ(job_status(done), "succeeded");
  EXPECT_EQ(str(done.at("job").as_object().at("type")), "template_version_import");

  auto params = owner_.request("GET", "/api/v2/templateversions/" + id + "/rich-parameters")
                    .json()
                    .as_array();
  ASSERT_EQ(params.size(), 6u);
  auto p = [&](size_t i) { return params[i].as_object(); };
  EXPECT_EQ(str(p(0).at("name")), "region");
  EXPECT_EQ(str(p(0).at("default_value")), "eu");
  EXPECT_EQ(p(0).at("options").as_array().size(), 2u);
  EXPECT_EQ(p(0).at("mutable").as_bool(), false);
  EXPECT_EQ(str(p(1).at("type")), "number");
  EXPECT_EQ(p(1).at("validation_min").as_int64(), 1);
  EXPECT_EQ(p(1).at("validation_max").as_int64(), 8);
  EXPECT_EQ(str(p(1).at("validation_monotonic")), "increasing");
  EXPECT_EQ(str(p(2).at("validation_regex")), "^(https://.*)?$");
  EXPECT_EQ(str(p(3).at("type")), "bool");
  EXPECT_EQ(str(p(4).at("type")), "list(string)");
  EXPECT_EQ(str(p(4).at("default_value")), "[\"git\",\"make\"]");
  EXPECT_TRUE(p(5).at("ephemeral").as_bool());

  auto variables =
      owner_.request("GET", "/api/v2/templateversions/" + id + "/variables").json().as_array();
  ASSERT_EQ(variables.size(), 1u);
  EXPECT_EQ(str(variables[0].as_object().at("name")), "default_region");
  EXPECT_EQ(str(variables[0].as_object().at("value")), "eu");
  auto presets =
      owner_.request("GET", "/api/v2/templateversions/" + id + "/presets").json().as_array();
  ASSERT_EQ(presets.size(), 1u);
  EXPECT_EQ(str(presets[0].as_object().at("name")), "Small");
  auto resources =
      owner_.request("GET", "/api/v2/templateversions/" + id + "/resources").json().as_array();
  ASSERT_FALSE(resources.empty());
  auto start = resources[0].as_object();
  EXPECT_EQ(str(start.at("type")), "berth_process");
  EXPECT_EQ(str(start.at("workspace_transition")), "start");
  ASSERT_EQ(start.at("agents").as_array().size(), 1u);
  auto env = start.at("agents").as_array()[0].as_object().at("environment_variables").as_object();
  EXPECT_EQ(str(env.at("TOOLS")), "git,make");
}

TEST_F(TemplatesApi, CreatesPromotesUpdatesAndDeletesTemplates) {
  auto file = upload(owner_, tar_directory(kExamples / "local-minimal"));
  auto v1 = wait_for_import(owner_, str(create_version(owner_, file, {{"name", "v1"}}).at("id")));
  ASSERT_EQ(job_status(v1), "succeeded");
  auto created = owner_.request_json("POST", "/api/v2/organizations/default/templates",
                                     json::object{{"name", "local"},
                                                  {"display_name", "Local"},
                                                  {"template_version_id", v1.at("id")},
                                                  {"default_ttl_ms", 3600000},
                                                  {"allow_user_cancel_workspace_jobs", true}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto tmpl = obj(created);
  auto tid = str(tmpl.at("id"));
  EXPECT_EQ(tmpl.at("active_version_id"), v1.at("id"));
  EXPECT_EQ(tmpl.at("default_ttl_ms").as_int64(), 3600000);
  EXPECT_EQ(str(tmpl.at("organization_name")), "coder");
  EXPECT_EQ(str(tmpl.at("created_by_name")), "owner");
  auto dup =
      owner_.request_json("POST", "/api/v2/organizations/default/templates",
                          json::object{{"name", "local"}, {"template_version_id", v1.at("id")}});
  EXPECT_EQ(dup.status, 409);

  auto v2 = wait_for_import(
      owner_, str(create_version(owner_, file, {{"name", "v2"}, {"template_id", tid}}).at("id")));
  EXPECT_EQ(str(v2.at("template_id")), tid);
  auto promote = owner_.request_json("PATCH", "/api/v2/templates/" + tid + "/versions",
                                     json::object{{"id", v2.at("id")}});
  EXPECT_EQ(promote.status, 200) << promote.body;
  EXPECT_EQ(obj(owner_.request("GET", "/api/v2/templates/" + tid)).at("active_version_id"),
            v2.at("id"));
  EXPECT_EQ(
      owner_.request("GET", "/api/v2/templates/" + tid + "/versions").json().as_array().size(), 2u);
  EXPECT_EQ(owner_.request("GET", "/api/v2/templates/" + tid + "/versions/v1").status, 200);
  EXPECT_EQ(owner_.request("GET", "/api/v2/templates/" + tid + "/versions/nope").status, 404);
  EXPECT_EQ(owner_.request("GET", "/api/v2/organizations/coder/templates/local").status, 200);
  EXPECT_EQ(
      owner_.request("GET", "/api/v2/organizations/default/templates").json().as_array().size(),
      1u);
  auto same_name = owner_.request_json("POST", "/api/v2/organizations/default/templateversions",
                                       json::object{{"storage_method", "file"},
                                                    {"provisioner", "terraform"},
                                                    {"file_id", file},
                                                    {"template_id", tid},
                                                    {"name", "v1"}});
  EXPECT_EQ(same_name.status, 409);

  auto patched = owner_.request_json(
      "PATCH", "/api/v2/templates/" + tid,
      json::object{{"description", "Runs on the server"},
                   {"activity_bump_ms", 1800000},
                   {"autostop_requirement",
                    json::object{{"days_of_week", json::array{"saturday"}}, {"weeks", 2}}},
                   {"deprecation_message", "use something else"}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  auto after = obj(patched);
  EXPECT_EQ(str(after.at("description")), "Runs on the server");
  EXPECT_EQ(after.at("activity_bump_ms").as_int64(), 1800000);
  EXPECT_TRUE(after.at("deprecated").as_bool());
  EXPECT_EQ(after.at("autostop_requirement").as_object().at("weeks").as_int64(), 2);
  auto bad = owner_.request_json(
      "PATCH", "/api/v2/templates/" + tid,
      json::object{
          {"default_ttl_ms", -1},
          {"autostart_requirement", json::object{{"days_of_week", json::array{"someday"}}}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(obj(bad).at("validations").as_array().size(), 2u);
  auto renamed = owner_.request_json("PATCH", "/api/v2/templateversions/" + str(v2.at("id")),
                                     json::object{{"name", "v2-final"}, {"message", "ready"}});
  EXPECT_EQ(str(obj(renamed).at("name")), "v2-final");

  EXPECT_EQ(owner_.request("DELETE", "/api/v2/templates/" + tid).status, 200);
  EXPECT_EQ(owner_.request("GET", "/api/v2/templates/" + tid).status, 404);
}

TEST_F(TemplatesApi, FailsImportsWithPositionedTemplateErrors) {
  struct Case {
    const char* name;
    std::string source;
    std::string expected_error;
  } cases[] = {
      {"syntax", "resource \"coder_agent\" \"main\" {\n  os = \"linux\"\n  arch = [\n}\n",
       "main.tf:"},
      {"unknown type", "resource \"aws_instance\" \"x\" {\n  ami = \"ami-1\"\n}\n", "main.tf:1:1"},
      {"unknown function", "locals {\n  x = nosuchfn(1)\n}\n", "main.tf:2:"},
  };
  for (const auto& c : cases) {
    auto file = upload(owner_, make_tar({{"main.tf", c.source, ""}}));
    auto version = wait_for_import(owner_, str(create_version(owner_, file).at("id")));
    EXPECT_EQ(job_status(version), "failed") << c.name;
    auto error = str(version.at("job").as_object().at("error"));
    EXPECT_NE(error.find(c.expected_error), std::string::npos) << c.name << ": " << error;
  }
}

TEST_F(TemplatesApi, FailsImportsOfTemplatesThatAreNotUtf8NamingWhere) {
  struct Case {
    const char* name;
    std::string source;
    std::string position;
  } cases[] = {
      {"identifier", "locals {\n  na\xFFme = 1\n}\n", "main.tf:2:5"},
      {"string", "locals {\n  a = \"caf\xC3\"\n}\n", "main.tf:2:11"},
      {"comment", "# \xED\xA0\x80\nlocals {}\n", "main.tf:1:3"},
      {"parameter description",
       "data \"coder_parameter\" \"p\" {\n  name = \"p\"\n  type = \"string\"\n"
       "  default = \"x\"\n  description = \"d\xC0\x80\"\n}\n",
       "main.tf:5:19"},
  };
  for (const auto& c : cases) {
    auto file = upload(owner_, make_tar({{"main.tf", c.source, ""}}));
    auto id = str(create_version(owner_, file).at("id"));
    follow_logs(owner_, id);
    auto r = owner_.request("GET", "/api/v2/templateversions/" + id);
    ASSERT_EQ(r.status, 200) << c.name;
    EXPECT_EQ(invalid_utf8_offset(r.body), std::nullopt) << c.name;
    auto version = obj(r);  // throws unless the body is valid JSON
    EXPECT_EQ(job_status(version), "failed") << c.name;
    auto error = str(version.at("job").as_object().at("error"));
    EXPECT_EQ(error.rfind(c.position + ": invalid UTF-8", 0), 0u) << c.name << ": " << error;
    auto logs = owner_.request("GET", "/api/v2/templateversions/" + id + "/logs");
    EXPECT_EQ(invalid_utf8_offset(logs.body), std::nullopt) << c.name;
  }
  // Text from the request itself that is not UTF-8 is echoed replaced by U+FFFD, never raw.
  auto echoed = owner_.request("GET", "/api/v2/templateversions/x%FF%FE");
  EXPECT_EQ(echoed.status, 400);
  EXPECT_EQ(invalid_utf8_offset(echoed.body), std::nullopt) << echoed.body;
  EXPECT_NE(message_of(echoed).find("x\xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos) << echoed.body;
}

TEST_F(TemplatesApi, RequiresTemplateVariablesWithoutDefaults) {
  auto source = "variable \"region\" {\n  type = string\n}\nlocals {\n  r = var.region\n}\n";
  auto file = upload(owner_, make_tar({{"main.tf", source, ""}}));
  auto failed = wait_for_import(owner_, str(create_version(owner_, file).at("id")));
  EXPECT_EQ(job_status(failed), "failed");
  EXPECT_EQ(str(failed.at("job").as_object().at("error_code")), "REQUIRED_TEMPLATE_VARIABLES");
  auto ok = wait_for_import(
      owner_, str(create_version(owner_, file,
                                 {{"user_variable_values",
                                   json::array{json::object{{"name", "region"}, {"value", "us"}}}}})
                      .at("id")));
  EXPECT_EQ(job_status(ok), "succeeded");
  auto vars = owner_.request("GET", "/api/v2/templateversions/" + str(ok.at("id")) + "/variables")
                  .json()
                  .as_array();
  EXPECT_EQ(str(vars.at(0).as_object().at("value")), "us");
  EXPECT_TRUE(vars.at(0).as_object().at("required").as_bool());
}

TEST_F(TemplatesApi, RefusesUnsafeArchivesAndDeduplicatesUploads) {
  auto escape = owner_.request("POST", "/api/v2/files", make_tar({{"../evil.tf", "x", ""}}),
                               {{"Content-Type", "application/x-tar"}});
  EXPECT_EQ(escape.status, 400);
  EXPECT_NE(escape.body.find("../evil.tf"), std::string::npos) << escape.body;
  auto link = owner_.request("POST", "/api/v2/files", make_tar({{"main.tf", "", "/etc/passwd"}}),
                             {{"Content-Type", "application/x-tar"}});
  EXPECT_EQ(link.status, 400);
  auto garbage = owner_.request("POST", "/api/v2/files", "this is not a tar archive",
                                {{"Content-Type", "application/x-tar"}});
  EXPECT_EQ(garbage.status, 400);
  auto wrong_type = owner_.request("POST", "/api/v2/files", "x", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(wrong_type.status, 400);
  auto tar = make_tar({{"main.tf", "locals {}\n", ""}});
  auto first = upload(owner_, tar, 201);
  auto second = upload(owner_, tar, 200);
  EXPECT_EQ(first, second);
  auto download = owner_.request("GET", "/api/v2/files/" + first);
  EXPECT_EQ(download.status, 200);
  EXPECT_EQ(download.body, tar);
  EXPECT_EQ(owner_.request("GET", "/api/v2/files/not-a-uuid").status, 400);
}

TEST_F(TemplatesApi, MembersReadTemplatesButCannotChangeThem) {
  auto file = upload(owner_, tar_directory(kExamples / "local-minimal"));
  auto version = wait_for_import(owner_, str(create_version(owner_, file).at("id")));
  auto tmpl = obj(owner_.request_json(
      "POST", "/api/v2/organizations/default/templates",
      json::object{{"name", "shared"}, {"template_version_id", version.at("id")}}));
  auto member = sign_in_member(server_.url(), owner_, "dev");
  auto tid = str(tmpl.at("id"));
  EXPECT_EQ(member.request("GET", "/api/v2/templates/" + tid).status, 200);
  EXPECT_EQ(member.request("GET", "/api/v2/templates").json().as_array().size(), 1u);
  EXPECT_EQ(
      member.request_json("PATCH", "/api/v2/templates/" + tid, json::object{{"description", "x"}})
          .status,
      403);
  EXPECT_EQ(member.request("DELETE", "/api/v2/templates/" + tid).status, 403);
  auto member_upload = upload(member, make_tar({{"main.tf", "locals {}\n", ""}}));
  auto denied = member.request_json(
      "POST", "/api/v2/organizations/default/templateversions",
      json::object{
          {"storage_method", "file"}, {"provisioner", "terraform"}, {"file_id", member_upload}});
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(member.request("GET", "/api/v2/templates/" + Uuid::random_v4().to_string()).status,
            404);
}

TEST_F(TemplatesApi, ValidatesVersionRequests) {
  auto bad = owner_.request_json("POST", "/api/v2/organizations/default/templateversions",
                                 json::object{{"storage_method", "s3"}, {"provisioner", "pulumi"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(message_of(bad), "Validation failed.");
  EXPECT_EQ(obj(bad).at("validations").as_array().size(), 3u);
  auto missing = owner_.request_json("POST", "/api/v2/organizations/default/templateversions",
                                     json::object{{"storage_method", "file"},
                                                  {"provisioner", "terraform"},
                                                  {"file_id", Uuid::random_v4().to_string()}});
  EXPECT_EQ(missing.status, 404);
  // Provisioner tags ride on every build of the version: bounded like a key's.
  json::object many;
  for (int i = 0; i < 33; ++i) many[std::to_string(i)] = "v";
  auto long_value = json::object{{"env", std::string(257, 'x')}};
  for (const auto& tags : {many, long_value}) {
    auto tagged = owner_.request_json("POST", "/api/v2/organizations/default/templateversions",
                                      json::object{{"storage_method", "file"},
                                                   {"provisioner", "terraform"},
                                                   {"file_id", Uuid::random_v4().to_string()},
                                                   {"tags", tags}});
    EXPECT_EQ(tagged.status, 400) << tagged.body;
    EXPECT_NE(tagged.body.find("\"field\":\"tags"), std::string::npos) << tagged.body;
  }
  EXPECT_EQ(
      owner_.request("GET", "/api/v2/templateversions/" + Uuid::random_v4().to_string()).status,
      404);
  EXPECT_EQ(owner_.request("GET", "/api/v2/templateversions/nope").status, 400);
}

TEST_F(TemplatesApi, PagesTemplateVersionsAndRefusesBadPaginationLikeEveryList) {
  auto file = upload(owner_, make_tar({{"main.tf", "locals {}\n", ""}}));
  auto first = wait_for_import(owner_, str(create_version(owner_, file).at("id")));
  auto tmpl = obj(owner_.request_json(
      "POST", "/api/v2/organizations/default/templates",
      json::object{{"name", "paged"}, {"template_version_id", first.at("id")}}));
  auto tid = str(tmpl.at("id"));
  for (int i = 0; i < 2; ++i)
    wait_for_import(owner_, str(create_version(owner_, file, {{"template_id", tid}}).at("id")));
  auto ids = [&](const std::string& query) {
    auto r = owner_.request("GET", "/api/v2/templates/" + tid + "/versions" + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    std::vector<std::string> out;
    if (r.status != 200) return out;
    auto list = r.json();
    for (const auto& v : list.as_array()) out.push_back(str(v.as_object().at("id")));
    return out;
  };
  auto all = ids("");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0], str(first.at("id")));  // oldest first
  EXPECT_EQ(ids("?limit=2"), (std::vector<std::string>{all[0], all[1]}));
  EXPECT_EQ(ids("?offset=1"), (std::vector<std::string>{all[1], all[2]}));
  EXPECT_EQ(ids("?limit=1&offset=1"), (std::vector<std::string>{all[1]}));
  EXPECT_EQ(ids("?after_id=" + all[0]), (std::vector<std::string>{all[1], all[2]}));
  EXPECT_EQ(ids("?offset=5"), std::vector<std::string>{});
  EXPECT_EQ(ids("?include_archived=true&limit=0"), all);

  struct Bad {
    std::string query, field;
  };
  for (const auto& bad : std::vector<Bad>{{"limit=-1", "limit"},
                                          {"limit=abc", "limit"},
                                          {"limit=2147483648", "limit"},
                                          {"offset=-5", "offset"},
                                          {"offset=1.5", "offset"},
                                          {"limit=1&limit=2", "limit"},
                                          {"after_id=nope", "after_id"}}) {
    auto r = owner_.request("GET", "/api/v2/templates/" + tid + "/versions?" + bad.query);
    EXPECT_EQ(r.status, 400) << bad.query << ": " << r.body;
    if (r.status != 400) continue;
    EXPECT_EQ(message_of(r), "Query parameters have invalid values.") << bad.query;
    EXPECT_EQ(str(obj(r).at("validations").as_array().at(0).as_object().at("field")), bad.field)
        << bad.query;
  }
  auto archived =
      owner_.request("GET", "/api/v2/templates/" + tid + "/versions?include_archived=x");
  EXPECT_EQ(archived.status, 400);
  EXPECT_EQ(str(obj(archived).at("validations").as_array().at(0).as_object().at("field")),
            "include_archived");
  auto unknown = Uuid::random_v4().to_string();
  auto gone = owner_.request("GET", "/api/v2/templates/" + tid + "/versions?after_id=" + unknown);
  EXPECT_EQ(gone.status, 400);
  EXPECT_EQ(message_of(gone), "Record at \"after_id\" (\"" + unknown + "\") does not exists.");
}

TEST(TemplateJobs, PendingJobsQueueCancelAndSurviveARestart) {
  TempDir dir;
  std::string version_id, canceled_id;
  {
    ServerProcess server(dir.path().string(), {"--provisioner-daemons", "0"});
    auto owner = sign_in_owner(server.url());
    auto file = upload(owner, make_tar({{"main.tf", "locals {\n  a = 1\n}\n", ""}}));
    auto first = create_version(owner, file);
    auto second = create_version(owner, file);
    version_id = str(first.at("id"));
    canceled_id = str(second.at("id"));
    auto job =
        obj(owner.request("GET", "/api/v2/templateversions/" + canceled_id)).at("job").as_object();
    EXPECT_EQ(str(job.at("status")), "pending");
    EXPECT_EQ(job.at("queue_position").as_int64(), 2);
    EXPECT_EQ(job.at("queue_size").as_int64(), 2);
    auto cancel = owner.request("PATCH", "/api/v2/templateversions/" + canceled_id + "/cancel");
    EXPECT_EQ(cancel.status, 200) << cancel.body;
    EXPECT_EQ(job_status(obj(owner.request("GET", "/api/v2/templateversions/" + canceled_id))),
              "canceled");
    auto again = owner.request("PATCH", "/api/v2/templateversions/" + canceled_id + "/cancel");
    EXPECT_EQ(again.status, 400);
    EXPECT_EQ(message_of(again), "Job has already completed!");
    EXPECT_EQ(server.stop(), 0);
  }
  ServerProcess server(dir.path().string());
  auto owner = sign_in_owner_again(server.url());
  auto done = wait_for_import(owner, version_id);
  EXPECT_EQ(job_status(done), "succeeded");
  EXPECT_EQ(job_status(obj(owner.request("GET", "/api/v2/templateversions/" + canceled_id))),
            "canceled");
}

}  // namespace
}  // namespace berth::testing
