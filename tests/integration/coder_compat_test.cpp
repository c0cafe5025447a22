// What Coder's own clients send and expect, tried against the real binary: every key of
// Coder's search grammars, the endpoints its dashboard and CLI call first, and the fields its
// generated types require.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "integration/workspace_fixture.hpp"
#include "support/ports.hpp"
#include "support/swagger_validator.hpp"

namespace berth::testing {
namespace {

using namespace std::chrono;

// A workspace whose process runs the agent, with a parameter to search by.
constexpr const char* kAgentTemplate = R"(
data "coder_workspace" "me" {}
data "coder_parameter" "region" {
  name    = "region"
  type    = "string"
  default = "eu"
  mutable = true
}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  dir  = "/tmp"
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
}
)";

class CoderCompat : public WorkspaceFixture {
 protected:
  // Checks a response against Coder's OpenAPI description when it is beside the checkout.
  static void expect_schema(const sdk::HttpResponse& r, const std::string& method,
                            const std::string& path) {
    static auto validator = SwaggerValidator::load_default();
    if (!validator) return;
    auto problems = validator->validate_response(method, path, r.status, r.json());
    EXPECT_TRUE(problems.empty()) << method << " " << path << ":\n" << describe(problems);
  }

  // GET `target` as the owner, expecting 200 and a body Coder's types accept at `path`.
  json::value checked(const std::string& target, const std::string& path) {
    auto r = owner().request("GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    expect_schema(r, "GET", path);
    return r.json();
  }

  // GET `path` as the owner; expects `status`, returns the body.
  json::value get(const std::string& path, int status = 200) {
    auto r = owner().request("GET", path);
    EXPECT_EQ(r.status, status) << path << ": " << r.body;
    return r.json();
  }

  std::int64_t count(const std::string& q) {
    auto body = get("/api/v2/workspaces?q=" + q);
    return body.is_object() && body.as_object().contains("count")
               ? body.as_object().at("count").as_int64()
               : -1;
  }

  // A 400 whose validation names `field`.
  void expect_bad(const std::string& path, const std::string& message, const std::string& field) {
    auto r = owner().request("GET", path);
    ASSERT_EQ(r.status, 400) << path << ": " << r.body;
    EXPECT_EQ(message_of(r), message) << path;
    auto body = obj(r);
    ASSERT_TRUE(body.contains("validations")) << r.body;
    const auto& v = body.at("validations").as_array();
    ASSERT_FALSE(v.empty()) << r.body;
    EXPECT_EQ(str(v[0].as_object().at("field")), field) << path;
  }
};

TEST_F(CoderCompat, WorkspaceSearchKnowsEveryKeyOfCodersGrammar) {
  auto tid = push_template(kAgentTemplate, "agentful");
  auto ws = create_workspace_from(tid, "alpha");
  auto wid = str(ws.at("id"));
  wait_agent(wid, agent_id_of(ws), ready);

  EXPECT_EQ(count("has-agent:connected"), 1);
  EXPECT_EQ(count("has-agent:connecting,connected"), 1);
  EXPECT_EQ(count("has-agent:connecting"), 0);
  EXPECT_EQ(count("has-agent:timeout"), 0);
  EXPECT_EQ(count("healthy:true"), 1);
  EXPECT_EQ(count("healthy:false"), 0);
  EXPECT_EQ(count("param:region"), 1);
  EXPECT_EQ(count("param:region=eu"), 1);
  EXPECT_EQ(count("param:REGION=EU"), 1);
  EXPECT_EQ(count("param:region=us"), 0);
  EXPECT_EQ(count("param:nothing"), 0);
  EXPECT_EQ(count("has_external_agent:false"), 1);
  EXPECT_EQ(count("has_external_agent:true"), 0);
  EXPECT_EQ(count("shared:false"), 1);
  EXPECT_EQ(count("shared:true"), 0);
  EXPECT_EQ(count("shared_with_user:me"), 0);
  EXPECT_EQ(count("shared_with_group:" + Uuid::random_v4().to_string()), 0);
  // Quotes keep a timestamp's colons inside one value.
  EXPECT_EQ(count("last_used_after:%222000-01-01T00:00:00Z%22"), 1);
  EXPECT_EQ(count("last_used_before:%222000-01-01T00:00:00Z%22"), 0);
  EXPECT_EQ(count("owner:me%20has-agent:connected%20param:region=eu"), 1);

  const std::string bad = "Invalid workspace search query.";
  expect_bad("/api/v2/workspaces?q=has-agent:sleepy", bad, "has-agent");
  expect_bad("/api/v2/workspaces?q=healthy:maybe", bad, "healthy");
  expect_bad("/api/v2/workspaces?q=param:region=", bad, "param");
  expect_bad("/api/v2/workspaces?q=param:a=b=c", bad, "param");
  expect_bad("/api/v2/workspaces?q=shared:often", bad, "shared");
  expect_bad("/api/v2/workspaces?q=shared_with_user:ghost", bad, "shared_with_user");
  expect_bad("/api/v2/workspaces?q=shared_with_group:devs", bad, "shared_with_group");
  expect_bad("/api/v2/workspaces?q=has_external_agent:x", bad, "has_external_agent");
  expect_bad("/api/v2/workspaces?q=color:red", bad, "color");
  expect_bad("/api/v2/workspaces?q=a:b:c", bad, "q");

  // A stopped workspace has no agent.
  transition(wid, "stop");
  EXPECT_EQ(count("has-agent:connected"), 0);
  EXPECT_EQ(count("has-agent:disconnected"), 0);
  EXPECT_EQ(count("param:region=eu"), 1);
}

TEST_F(CoderCompat, TemplateSearchKnowsEveryKeyOfCodersGrammar) {
  auto tid = push_template(kAgentTemplate, "agentful", {{"display_name", "Agent Box"}});
  push_template(kAgentTemplate, "other");
  auto names = [&](const std::string& q) {
    std::vector<std::string> out;
    auto body = get("/api/v2/templates?q=" + q);
    if (body.is_array())
      for (const auto& t : body.as_array()) out.push_back(str(t.as_object().at("name")));
    std::sort(out.begin(), out.end());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names(""), (V{"agentful", "other"}));
  EXPECT_EQ(names("box"), V{"agentful"});  // bare words: the display name
  EXPECT_EQ(names("display_name:agent"), V{"agentful"});
  EXPECT_EQ(names("exact_display_name:%22agent%20box%22"), V{"agentful"});
  EXPECT_EQ(names("name:oth"), V{"other"});
  EXPECT_EQ(names("exact_name:agentful"), V{"agentful"});
  EXPECT_EQ(names("exact_name:agent"), V{});
  EXPECT_EQ(names("ids:" + tid), V{"agentful"});
  EXPECT_EQ(names("author:me"), (V{"agentful", "other"}));
  EXPECT_EQ(names("author:nobody"), V{});
  EXPECT_EQ(names("author_id:" + Uuid::random_v4().to_string()), V{});
  EXPECT_EQ(names("deprecated:false"), (V{"agentful", "other"}));
  EXPECT_EQ(names("deprecated:true"), V{});
  EXPECT_EQ(names("deleted:true"), V{});
  EXPECT_EQ(names("has-ai-task:false"), (V{"agentful", "other"}));
  EXPECT_EQ(names("has-ai-task:true"), V{});
  EXPECT_EQ(names("has_external_agent:true"), V{});
  EXPECT_EQ(names("organization:coder%20name:agent"), V{"agentful"});
  EXPECT_EQ(get("/api/v2/organizations/coder/templates?q=name:oth").as_array().size(), 1u);

  const std::string bad = "Invalid template search query.";
  expect_bad("/api/v2/templates?q=deprecated:often", bad, "deprecated");
  expect_bad("/api/v2/templates?q=ids:nope", bad, "ids");
  expect_bad("/api/v2/templates?q=organization:nowhere", bad, "organization");
  expect_bad("/api/v2/templates?q=color:red", bad, "color");
}

TEST_F(CoderCompat, UserAndTaskSearchKnowEveryKeyOfCodersGrammar) {
  sign_in_member(server_->url(), owner(), "alice");
  auto users = [&](const std::string& q) {
    auto body = get("/api/v2/users?q=" + q);
    return body.is_object() ? body.as_object().at("count").as_int64() : -1;
  };
  EXPECT_EQ(users(""), 2);
  EXPECT_EQ(users("ali"), 1);
  EXPECT_EQ(users("search:ali"), 1);
  EXPECT_EQ(users("login_type:password"), 2);
  EXPECT_EQ(users("created_after:%222000-01-01T00:00:00Z%22"), 2);
  EXPECT_EQ(users("created_before:%222000-01-01T00:00:00Z%22"), 0);
  EXPECT_EQ(users("last_seen_after:%222000-01-01T00:00:00Z%22"), 2);
  EXPECT_EQ(users("last_seen_before:%222000-01-01T00:00:00Z%22"), 0);
  EXPECT_EQ(users("service_account:false"), 2);
  EXPECT_EQ(users("service_account:true"), 0);
  EXPECT_EQ(users("github_com_user_id:0"), 2);
  EXPECT_EQ(users("github_com_user_id:42"), 0);
  auto me = obj(owner().request("GET", "/api/v2/users/me"));
  auto named = owner().request_json("POST", "/api/v2/users",
                                    json::object{{"email", "lid@example.com"},
                                                 {"username", "lid"},
                                                 {"name", "Alice Liddell"},
                                                 {"password", kPassword},
                                                 {"organization_ids", me.at("organization_ids")}});
  ASSERT_EQ(named.status, 201) << named.body;
  EXPECT_EQ(users("name:liddell"), 1);
  EXPECT_EQ(users("name:nobody"), 0);

  const std::string bad = "Invalid user search query.";
  expect_bad("/api/v2/users?q=status:sleepy", bad, "status");
  expect_bad("/api/v2/users?q=login_type:magic", bad, "login_type");
  expect_bad("/api/v2/users?q=created_after:yesterday", bad, "created_after");
  expect_bad("/api/v2/users?q=service_account:x", bad, "service_account");
  expect_bad("/api/v2/users?q=github_com_user_id:x", bad, "github_com_user_id");
  expect_bad("/api/v2/users?q=color:red", bad, "color");

  auto tasks = [&](const std::string& q) {
    auto body = get("/api/v2/tasks?q=" + q);
    return body.is_object() ? body.as_object().at("count").as_int64() : -1;
  };
  EXPECT_EQ(tasks("owner:me"), 0);
  EXPECT_EQ(obj(owner().request("GET", "/api/experimental/tasks")).at("count").as_int64(), 0);
  EXPECT_EQ(tasks("alice"), 0);  // bare words name the owner
  EXPECT_EQ(tasks("status:active%20organization:coder"), 0);
  const std::string bad_task = "Invalid task search query.";
  expect_bad("/api/v2/tasks?q=status:sleepy", bad_task, "status");
  expect_bad("/api/v2/tasks?q=owner:ghost", bad_task, "owner");
  expect_bad("/api/v2/tasks?q=color:red", bad_task, "color");
}

TEST_F(CoderCompat, AnswersWhatCodersClientsAskFirst) {
  // Before sign-in: the login page asks how to sign in and how to look.
  sdk::Client anonymous(server_->url());
  auto methods = anonymous.request("GET", "/api/v2/users/authmethods");
  ASSERT_EQ(methods.status, 200) << methods.body;
  expect_schema(methods, "GET", "/users/authmethods");
  EXPECT_TRUE(obj(methods).at("password").as_object().at("enabled").as_bool());
  EXPECT_FALSE(obj(methods).at("github").as_object().at("enabled").as_bool());
  auto appearance = anonymous.request("GET", "/api/v2/appearance");
  ASSERT_EQ(appearance.status, 200) << appearance.body;
  expect_schema(appearance, "GET", "/appearance");

  auto entitlements = checked("/api/v2/entitlements", "/entitlements").as_object();
  EXPECT_FALSE(entitlements.at("has_license").as_bool());
  EXPECT_EQ(
      str(entitlements.at("features").as_object().at("audit_log").as_object().at("entitlement")),
      "not_entitled");
  EXPECT_TRUE(checked("/api/v2/experiments", "/experiments").as_array().empty());
  auto regions = checked("/api/v2/regions", "/regions").as_object().at("regions").as_array();
  ASSERT_EQ(regions.size(), 1u);
  EXPECT_EQ(str(regions[0].as_object().at("name")), "primary");
  EXPECT_EQ(str(regions[0].as_object().at("path_app_url")), server_->url());
  // Literal paths are not taken for a template id or a user name.
  EXPECT_TRUE(checked("/api/v2/templates/examples", "/templates/examples").as_array().empty());
  EXPECT_TRUE(checked("/api/v2/organizations/coder/templates/examples",
                      "/organizations/{organization}/templates/examples")
                  .as_array()
                  .empty());
  EXPECT_EQ(str(checked("/api/v2/users/me/login-type", "/users/{user}/login-type")
                    .as_object()
                    .at("login_type")),
            "password");

  // Permission checks, as the dashboard asks them.
  auto member = sign_in_member(server_->url(), owner(), "alice");
  json::object checks{
      {"read_mine",
       json::object{{"object", json::object{{"resource_type", "workspace"}, {"owner_id", "me"}}},
                    {"action", "read"}}},
      {"update_templates",
       json::object{{"object", json::object{{"resource_type", "template"}}}, {"action", "update"}}},
      {"licences",
       json::object{{"object", json::object{{"resource_type", "license"}}}, {"action", "read"}}}};
  for (auto* client : {&owner(), &member}) {
    auto r = client->request_json("POST", "/api/v2/authcheck", json::object{{"checks", checks}});
    ASSERT_EQ(r.status, 200) << r.body;
    expect_schema(r, "POST", "/authcheck");
    auto answers = obj(r);
    EXPECT_TRUE(answers.at("read_mine").as_bool());
    EXPECT_EQ(answers.at("update_templates").as_bool(), client == &owner());
    EXPECT_FALSE(answers.at("licences").as_bool());
  }
  auto no_type = owner().request_json(
      "POST", "/api/v2/authcheck",
      json::object{{"checks", json::object{{"x", json::object{{"action", "read"}}}}}});
  EXPECT_EQ(no_type.status, 400) << no_type.body;

  // A template, its version by name within the organization, and autofill values.
  auto tid = push_template(kAgentTemplate, "agentful");
  auto tmpl = checked("/api/v2/templates/" + tid, "/templates/{template}").as_object();
  EXPECT_FALSE(tmpl.at("deleted").as_bool());
  EXPECT_EQ(tmpl.at("time_til_autostop_notify_ms").as_int64(), 0);
  auto active = str(tmpl.at("active_version_id"));
  auto version =
      checked("/api/v2/templateversions/" + active, "/templateversions/{templateversion}")
          .as_object();
  auto by_name =
      checked("/api/v2/organizations/coder/templates/agentful/versions/" + str(version.at("name")),
              "/organizations/{organization}/templates/{templatename}/versions/"
              "{templateversionname}")
          .as_object();
  EXPECT_EQ(str(by_name.at("id")), active);
  const auto& metadata = by_name.at("job").as_object().at("metadata").as_object();
  EXPECT_EQ(str(metadata.at("template_name")), "agentful");
  EXPECT_EQ(str(metadata.at("template_id")), tid);
  EXPECT_EQ(str(metadata.at("template_version_name")), str(version.at("name")));
  EXPECT_EQ(
      owner().request("GET", "/api/v2/organizations/coder/templates/agentful/versions/nope").status,
      404);
  auto resources = checked("/api/v2/templateversions/" + active + "/resources",
                           "/templateversions/{templateversion}/resources");
  bool saw_agent = false;
  for (const auto& r : resources.as_array()) {
    const auto& resource = r.as_object();
    EXPECT_TRUE(resource.at("created_at").is_string()) << json::serialize(resource);
    for (const auto& a : resource.at("agents").as_array()) {
      saw_agent = true;
      const auto& agent = a.as_object();
      EXPECT_TRUE(agent.at("created_at").is_string()) << json::serialize(agent);
      EXPECT_TRUE(agent.at("updated_at").is_string()) << json::serialize(agent);
      EXPECT_TRUE(agent.at("parent_id").is_null());
      EXPECT_EQ(agent.at("resource_id"), resource.at("id"));
      for (const auto& source : agent.at("log_sources").as_array())
        EXPECT_TRUE(source.as_object().at("created_at").is_string());
    }
  }
  EXPECT_TRUE(saw_agent) << json::serialize(resources);
  auto parameters = checked("/api/v2/templateversions/" + active + "/rich-parameters",
                            "/templateversions/{templateversion}/rich-parameters");
  ASSERT_EQ(parameters.as_array().size(), 1u);
  EXPECT_FALSE(parameters.as_array()[0].as_object().contains("validation_monotonic"))
      << json::serialize(parameters);

  auto ws = create_workspace_from(
      tid, "alpha",
      {{"rich_parameter_values", json::array{json::object{{"name", "region"}, {"value", "us"}}}}});
  const auto& job = ws.at("latest_build").as_object().at("job").as_object();
  EXPECT_EQ(str(job.at("metadata").as_object().at("template_name")), "agentful");
  EXPECT_EQ(str(job.at("metadata").as_object().at("workspace_name")), "alpha");
  auto autofill = checked("/api/v2/users/me/autofill-parameters?template_id=" + tid,
                          "/users/{user}/autofill-parameters");
  ASSERT_EQ(autofill.as_array().size(), 1u);
  EXPECT_EQ(str(autofill.as_array()[0].as_object().at("value")), "us");
  EXPECT_EQ(owner().request("GET", "/api/v2/users/me/autofill-parameters").status, 400);

  // Fields newer Coder versions send.
  auto me = checked("/api/v2/users/me", "/users/{user}").as_object();
  EXPECT_FALSE(me.at("has_ai_seat").as_bool());
  auto org = checked("/api/v2/organizations/coder", "/organizations/{organization}").as_object();
  EXPECT_TRUE(org.at("default_org_member_roles").as_array().empty());
  auto members =
      checked("/api/v2/organizations/coder/members", "/organizations/{organization}/members");
  for (const auto& m : members.as_array()) {
    EXPECT_EQ(str(m.as_object().at("status")), "active");
    EXPECT_EQ(str(m.as_object().at("login_type")), "password");
  }
  ASSERT_EQ(
      owner()
          .request_json("POST", "/api/v2/users/me/keys/tokens", json::object{{"token_name", "ci"}})
          .status,
      201);
  auto tokens = checked("/api/v2/users/me/keys/tokens", "/users/{user}/keys/tokens");
  ASSERT_FALSE(tokens.as_array().empty());
  const auto& allow = tokens.as_array()[0].as_object().at("allow_list").as_array();
  ASSERT_EQ(allow.size(), 1u);
  EXPECT_EQ(str(allow[0].as_object().at("type")), "*");
}

// A task template written as for Coder's agentapi module: `berth agentapi` without
// --status-slug, and no script that saves the conversation when the workspace stops.
// @LAUNCH@ is what runs agentapi (`env -u BERTH_TASK_ID` keeps it from posting its own).
constexpr const char* kPlainTaskTemplate = R"(
data "coder_workspace" "me" {}
data "coder_task" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  env = {
    TASK_PROMPT       = data.coder_task.me.prompt
    SCRIPTED_AI_DELAY = "1"
  }
}
resource "coder_script" "agentapi" {
  agent_id     = coder_agent.main.id
  display_name = "AgentAPI"
  run_on_start = true
  script       = <<-EOT
    nohup @LAUNCH@ berth agentapi --port @PORT@ --initial-prompt "$TASK_PROMPT" \
      -- python3 @SCRIPT@ > agentapi.log 2>&1 &
  EOT
}
resource "coder_app" "ai" {
  agent_id = coder_agent.main.id
  slug     = "ai"
  url      = "http://localhost:@PORT@/"
  healthcheck {
    url       = "http://localhost:@PORT@/status"
    interval  = 1
    threshold = 30
  }
}
resource "coder_ai_task" "task" {
  count  = data.coder_workspace.me.start_count
  app_id = coder_app.ai.id
}
resource "berth_process" "workspace" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
  env     = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
}
)";

std::string plain_task_template(int port, const std::string& launch) {
  std::string source = kPlainTaskTemplate;
  auto replace = [&](const std::string& from, const std::string& to) {
    for (auto at = source.find(from); at != std::string::npos; at = source.find(from, at))
      source.replace(at, from.size(), to);
  };
  replace("@PORT@", std::to_string(port));
  replace("@LAUNCH@", launch);
  replace("@SCRIPT@",
          (std::filesystem::path(BERTH_SOURCE_DIR) / "tests/support/scripted_ai.py").string());
  return source;
}

class PlainTaskTemplate : public CoderCompat {
 protected:
  void TearDown() override {
    for (const auto& id : tasks_) owner().request("DELETE", "/api/v2/tasks/me/" + id);
    for (const auto& ws : task_workspaces_)
      poll([&] { return owner().request("GET", "/api/v2/workspaces/" + ws).status == 410; });
  }

  template <typename Probe>
  static bool poll(Probe probe, std::chrono::seconds limit = std::chrono::seconds(90)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (probe()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // A task from a new template `name`; returns its id.
  std::string create_task(const std::string& name, const std::string& launch) {
    auto tid = push_template(plain_task_template(free_loopback_port(), launch), name);
    auto tmpl = obj(owner().request("GET", "/api/v2/templates/" + tid));
    auto r =
        owner().request_json("POST", "/api/v2/tasks/me",
                             json::object{{"template_version_id", tmpl.at("active_version_id")},
                                          {"input", "Write the README"},
                                          {"name", name}});
    EXPECT_EQ(r.status, 201) << r.body;
    auto task = obj(r);
    tasks_.push_back(str(task.at("id")));
    task_workspaces_.push_back(str(task.at("workspace_id")));
    return str(task.at("id"));
  }

  json::object task(const std::string& id) {
    return obj(owner().request("GET", "/api/v2/tasks/me/" + id));
  }

  static std::string state_of(const json::object& t) {
    const auto* s = t.if_contains("current_state");
    return s && s->is_object() ? str(s->as_object().at("state")) : "";
  }

  json::object logs(const std::string& id) {
    auto r = owner().request("GET", "/api/v2/tasks/me/" + id + "/logs");
    EXPECT_EQ(r.status, 200) << r.body;
    expect_schema(r, "GET", "/tasks/{user}/{task}/logs");
    return r.status == 200 ? obj(r) : json::object{};
  }

  static bool shows(const json::object& logs, const std::string& type, const std::string& text) {
    const auto* list = logs.if_contains("logs");
    if (!list || !list->is_array()) return false;
    for (const auto& e : list->as_array())
      if (str(e.as_object().at("type")) == type &&
          str(e.as_object().at("content")).find(text) != std::string::npos)
        return true;
    return false;
  }

  // Waits for the answer to the prompt; the states the app reported on the way are `seen`.
  void await_first_answer(const std::string& id, std::vector<std::string>& seen) {
    ASSERT_TRUE(poll([&] {
      auto t = task(id);
      auto state = state_of(t);
      if (!state.empty() && (seen.empty() || seen.back() != state)) seen.push_back(state);
      return str(t.at("status")) == "active" && state == "idle" &&
             shows(logs(id), "output", "Done (turn 1): Write the README");
    })) << "states seen: "
        << seen.size();
  }

  std::vector<std::string> tasks_, task_workspaces_;
};

TEST_F(PlainTaskTemplate, AgentapiReportsUnderTheTaskAppsSlugWithoutStatusSlug) {
  auto id = create_task("plain", "");
  std::vector<std::string> seen;
  await_first_answer(id, seen);
  // working, then idle: reported by `berth agentapi` under the ai app's slug, which the
  // agent exported to its scripts (CODER_MCP_APP_STATUS_SLUG).
  ASSERT_GE(seen.size(), 2u);
  EXPECT_NE(std::find(seen.begin(), seen.end(), "working"), seen.end());
  EXPECT_EQ(seen.back(), "idle");
  EXPECT_EQ(str(task(id).at("current_state").as_object().at("message")), "Waiting for input");

  // A template admin reads the active task but may not talk to its app: that reaches into the
  // workspace (Coder asks for ApplicationConnect), so send and live logs answer 404.
  auto admin = sign_in_member(server_->url(), owner(), "tadmin");
  auto grant = owner().request_json("PUT", "/api/v2/users/tadmin/roles",
                                    json::object{{"roles", json::array{"template-admin"}}});
  ASSERT_EQ(grant.status, 200) << grant.body;
  auto path = "/api/v2/tasks/owner/" + id;
  EXPECT_EQ(admin.request("GET", path).status, 200);
  EXPECT_EQ(admin.request_json("POST", path + "/send", json::object{{"input", "rm -rf /"}}).status,
            404);
  EXPECT_EQ(admin.request("GET", path + "/logs").status, 404);
}

TEST_F(PlainTaskTemplate, PausingKeepsTheConversationWithoutAShutdownScript) {
  // agentapi posts nothing itself here: the conversation comes from the server's own read
  // through the agent before the stop build.
  auto id = create_task("serverread", "env -u BERTH_TASK_ID");
  std::vector<std::string> seen;
  await_first_answer(id, seen);
  // Paused where Coder's SDK sent it while tasks were experimental.
  auto pause = owner().request("POST", "/api/experimental/tasks/me/" + id + "/pause");
  ASSERT_EQ(pause.status, 202) << pause.body;
  EXPECT_EQ(str(obj(pause).at("workspace_build_id")),
            str(obj(pause).at("workspace_build").as_object().at("id")));
  ASSERT_TRUE(poll([&] { return str(task(id).at("status")) == "paused"; }));
  auto paused = logs(id);
  EXPECT_TRUE(paused.at("snapshot").as_bool());
  EXPECT_TRUE(shows(paused, "input", "Write the README")) << json::serialize(paused);
  EXPECT_TRUE(shows(paused, "output", "Done (turn 1): Write the README"))
      << json::serialize(paused);
}

TEST_F(PlainTaskTemplate, AgentapiPostsTheConversationWhenAStopTheServerDidNotAskForEndsIt) {
  // A plain workspace stop (as autostop makes) reads nothing first: agentapi posts the
  // conversation itself when the stop ends it.
  auto id = create_task("selfpost", "");
  std::vector<std::string> seen;
  await_first_answer(id, seen);
  ASSERT_TRUE(logs(id).at("logs").as_array().size() >= 2u);
  auto workspace = str(task(id).at("workspace_id"));
  transition(workspace, "stop");
  ASSERT_TRUE(poll([&] { return str(task(id).at("status")) == "paused"; }));
  auto paused = logs(id);
  EXPECT_TRUE(paused.at("snapshot").as_bool());
  EXPECT_TRUE(shows(paused, "input", "Write the README")) << json::serialize(paused);
  EXPECT_TRUE(shows(paused, "output", "Done (turn 1): Write the README"))
      << json::serialize(paused);
}

}  // namespace
}  // namespace berth::testing
