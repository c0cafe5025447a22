#include <algorithm>

#include "api/auth.hpp"
#include "api/handlers.hpp"
#include "api/params.hpp"
#include "api/query.hpp"
#include "api/workspace_watch.hpp"
#include "api/workspaces_json.hpp"
#include "coderd/names.hpp"
#include "coderd/provisioner_jobs.hpp"
#include "coderd/templates.hpp"
#include "coderd/users.hpp"
#include "coderd/workspaces.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"

namespace berth::api {

namespace {

std::vector<store::BuildParameterRow> read_parameter_values(json::ObjectReader& body) {
  std::vector<store::BuildParameterRow> out;
  if (const auto* items = body.array_field("rich_parameter_values"))
    for (const auto& item : *items) {
      if (!item.is_object() || !item.as_object().contains("name"))
        throw Error{ErrorCode::invalid, "Request body must be valid JSON.",
                    "rich_parameter_values entries must be {\"name\", \"value\"} objects"};
      const auto& o = item.as_object();
      auto* value = o.if_contains("value");
      out.push_back({std::string(o.at("name").as_string()),
                     value && value->is_string() ? std::string(value->get_string()) : ""});
    }
  return out;
}

Response create_workspace_for(Deps& deps, Request& request, const Authenticated& auth,
                              const store::UserRow& owner) {
  json::ObjectReader body(json::parse_body(request.body));
  coderd::CreateWorkspaceParams p;
  p.name = body.required_string("name");
  if (!p.name.empty() && coderd::name_problem(p.name))
    body.invalid("name",
                 "Validation failed for tag \"workspace_name\" with value: \"" + p.name + "\"");
  p.template_id = body.uuid("template_id");
  p.template_version_id = body.uuid("template_version_id");
  if (!p.template_id && !p.template_version_id) {
    body.invalid("template_id", "Validation failed for tag \"required_without\" with value: \"\"");
    body.invalid("template_version_id",
                 "Validation failed for tag \"required_without\" with value: \"\"");
  }
  if (p.template_id && p.template_version_id)
    body.invalid("template_version_id",
                 "Validation failed for tag \"excluded_with\" with value: \"" +
                     p.template_version_id->to_string() + "\"");
  p.parameters = read_parameter_values(body);
  p.ttl_ms = body.integer("ttl_ms");
  p.autostart_schedule = body.string("autostart_schedule").value_or("");
  p.automatic_updates = body.string("automatic_updates").value_or("");
  p.preset_id = body.uuid("template_version_preset_id");
  body.finish();
  auto [workspace, build] = deps.workspaces.create(auth.subject, owner, p);
  return http::json_response(201, workspace_json(deps, workspace, auth.user.id));
}

std::optional<bool> bool_query(const Request& request, const char* name, const char* field) {
  auto values = request.query_values(name);
  if (values.empty() || values[0].empty()) return std::nullopt;
  if (values[0] == "true" || values[0] == "1") return true;
  if (values[0] == "false" || values[0] == "0") return false;
  throw Error{ErrorCode::invalid,
              "Invalid boolean value \"" + values[0] + "\" for \"" + name + "\" query param.",
              {},
              {{field, "Must be a valid boolean"}}};
}

// The latest build's status, for ordering the rows that are filtered here.
struct Snapshot {
  store::WorkspaceRow workspace;
  sdk::WorkspaceStatus status = sdk::WorkspaceStatus::pending;
  std::string owner_name;
};

Snapshot snapshot_of(const store::WorkspaceSummary& summary) {
  Snapshot s{summary.workspace, sdk::WorkspaceStatus::pending, summary.owner_username};
  if (summary.latest_transition) {
    store::ProvisionerJobRow job;
    job.started_at = summary.job_started_at;
    job.completed_at = summary.job_completed_at;
    job.canceled_at = summary.job_canceled_at;
    job.error = summary.job_error;
    s.status = coderd::build_status(*summary.latest_transition, coderd::job_status(job));
  }
  return s;
}

[[noreturn]] void invalid_search(std::string field, std::string detail) {
  throw Error{ErrorCode::invalid,
              "Invalid workspace search query.",
              {},
              {{std::move(field), std::move(detail)}}};
}

struct WorkspaceSearch {
  store::ListWorkspacesParams params;                // everything the store filters on
  std::vector<sdk::WorkspaceAgentStatus> has_agent;  // any of these on a started build
  bool empty_result = false;                         // e.g. an owner that does not exist
  // Agent status depends on the clock and each agent's timeout, so those rows are scanned here.
  bool needs_scan() const { return !has_agent.empty(); }
};

std::vector<std::string> split_commas(const std::string& value) {
  std::vector<std::string> out;
  for (std::size_t start = 0; start <= value.size();) {
    auto end = value.find(',', start);
    if (end == std::string::npos) end = value.size();
    if (end > start) out.push_back(value.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Whether the latest build has an agent in one of the searched statuses.
bool has_agent_matches(Deps& deps, const WorkspaceSearch& search,
                       const store::WorkspaceRow& workspace) {
  if (search.has_agent.empty()) return true;
  auto build = deps.store.get_latest_workspace_build(workspace.id);
  // Coder counts agents only on a started build: stopped workspaces have none.
  if (!build || build->transition != sdk::WorkspaceTransition::start) return false;
  auto now = deps.clock.now();
  for (const auto& r : deps.store.list_workspace_resources_by_job_id(build->job_id))
    for (const auto& a : deps.store.list_workspace_agents_by_resource_id(r.id))
      if (!a.deleted && std::find(search.has_agent.begin(), search.has_agent.end(),
                                  agent_status(a, now)) != search.has_agent.end())
        return true;
  return false;
}

WorkspaceSearch parse_workspace_search(Deps& deps, const Authenticated& auth,
                                       const std::string& raw) {
  WorkspaceSearch s;
  for (const auto& term : parse_search_terms(raw, "Invalid workspace search query.")) {
    if (!term.has_key) {
      // A workspace name, maybe with its owner.
      const auto& text = term.value;
      auto slash = text.find('/');
      if (slash != std::string::npos) {
        if (text.find('/', slash + 1) != std::string::npos)
          invalid_search("q", "Query element \"" + text + "\" can only contain 1 '/'");
        auto owner = deps.store.get_user_by_username(text.substr(0, slash));
        if (!owner)
          s.empty_result = true;
        else
          s.params.owner_id = owner->id;
        s.params.name_contains = text.substr(slash + 1);
      } else {
        s.params.name_contains = text;
      }
      continue;
    }
    const auto& key = term.key;
    const auto& value = term.value;
    auto as_bool = [&](const std::string& k) {
      if (value == "true") return true;
      if (value == "false") return false;
      invalid_search(k, "Query param \"" + k +
                            "\" must be a valid boolean: strconv.ParseBool: parsing \"" + value +
                            "\": invalid syntax");
    };
    if (key == "owner") {
      if (value == "me") {
        s.params.owner_id = auth.user.id;
      } else if (auto owner = deps.store.get_user_by_username(value)) {
        s.params.owner_id = owner->id;
      } else {
        s.empty_result = true;
      }
    } else if (key == "name") {
      s.params.name_contains = value;
    } else if (key == "template") {
      s.params.filter_templates = true;
      for (const auto& t : deps.store.list_templates({}))
        if (t.name.size() == value.size() &&
            std::equal(t.name.begin(), t.name.end(), value.begin(),
                       [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
          s.params.template_ids.push_back(t.id);
    } else if (key == "id") {
      for (std::size_t start = 0; start <= value.size();) {
        auto end = value.find(',', start);
        if (end == std::string::npos) end = value.size();
        auto id = Uuid::parse(value.substr(start, end - start));
        if (!id) invalid_search("id", "Query param \"id\" must be a valid uuid");
        s.params.ids.push_back(*id);
        start = end + 1;
      }
    } else if (key == "organization") {
      auto org = Uuid::parse(value) ? deps.store.get_organization_by_id(*Uuid::parse(value))
                                    : deps.store.get_organization_by_name(value);
      if (!org)
        invalid_search("organization",
                       "organization \"" + value +
                           "\" either does not exist, or you are unauthorized to view it");
      s.params.organization_id = org->id;
    } else if (key == "status") {
      s.params.status = sdk::parse<sdk::WorkspaceStatus>(value);
      if (!s.params.status)
        invalid_search("status", "Query param \"status\" has invalid value: \"" + value +
                                     "\" is not a valid value");
    } else if (key == "dormant") {
      s.params.dormant = as_bool(key);
    } else if (key == "outdated") {
      s.params.outdated = as_bool(key);
    } else if (key == "has-ai-task") {
      s.params.has_ai_task = as_bool(key);
    } else if (key == "has_external_agent") {
      s.params.has_external_agent = as_bool(key);
    } else if (key == "has-agent") {
      for (const auto& v : split_commas(value)) {
        auto status = sdk::parse<sdk::WorkspaceAgentStatus>(v);
        if (!status)
          invalid_search(key, "Query param \"has-agent\" has invalid value: \"" + v +
                                  "\" is not a valid value (connecting, connected, "
                                  "disconnected, timeout)");
        s.has_agent.push_back(*status);
      }
    } else if (key == "healthy") {
      // Coder's shorthand: healthy:true is a connected agent, false a lost or late one.
      if (as_bool(key)) {
        s.has_agent.push_back(sdk::WorkspaceAgentStatus::connected);
      } else {
        s.has_agent.push_back(sdk::WorkspaceAgentStatus::disconnected);
        s.has_agent.push_back(sdk::WorkspaceAgentStatus::timeout);
      }
    } else if (key == "param") {
      for (const auto& v : split_commas(value)) {
        auto eq = v.find('=');
        if (eq == std::string::npos) {
          s.params.parameters.push_back({v, std::nullopt});
          continue;
        }
        if (v.find('=', eq + 1) != std::string::npos)
          invalid_search(key, "Query param \"param\" has invalid value: query element \"" + v +
                                  "\" can only contain 1 '='");
        if (eq + 1 == v.size())
          invalid_search(key, "Query param \"param\" has invalid value: query element \"" + v +
                                  "\" has an empty value. omit the '=' to match just on the "
                                  "parameter name");
        s.params.parameters.push_back({v.substr(0, eq), v.substr(eq + 1)});
      }
    } else if (key == "shared") {
      // Berth does not share workspaces: none is shared.
      if (as_bool(key)) s.empty_result = true;
    } else if (key == "shared_with_user") {
      std::optional<store::UserRow> user;
      if (value == "me")
        user = auth.user;
      else if (auto id = Uuid::parse(value))
        user = deps.store.get_user_by_id(*id);
      else
        user = deps.store.get_user_by_username(value);
      if (!user)
        invalid_search(key, "Query param \"shared_with_user\" has invalid value: user \"" + value +
                                "\" either does not exist, or you are unauthorized to view them");
      s.empty_result = true;
    } else if (key == "shared_with_group") {
      // Berth has no groups; a group id names nothing shared, a name names nothing at all.
      if (!Uuid::parse(value))
        invalid_search(key, "Query param \"shared_with_group\" has invalid value: group \"" +
                                value +
                                "\" either does not exist, or you are unauthorized "
                                "to view it");
      s.empty_result = true;
    } else if (key == "last_used_after" || key == "last_used_before") {
      auto t = parse_rfc3339(value);
      if (!t)
        invalid_search(key,
                       "Query param \"" + key +
                           "\" must be a valid date format (2006-01-02T15:04:05.999999999Z07:00)");
      (key == "last_used_after" ? s.params.last_used_after : s.params.last_used_before) = t;
    } else {
      invalid_search(key, "\"" + key + "\" is not a valid query param");
    }
  }
  return s;
}

}  // namespace

Response create_user_workspace(Deps& deps, Request& request, const Authenticated& auth) {
  auto owner = resolve_user_param(deps, request, auth);
  return create_workspace_for(deps, request, auth, owner);
}

Response create_organization_member_workspace(Deps& deps, Request& request,
                                              const Authenticated& auth) {
  resolve_organization_param(deps, request, auth);
  auto owner = resolve_user_param(deps, request, auth);
  return create_workspace_for(deps, request, auth, owner);
}

Response get_workspace(Deps& deps, Request& request, const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  auto include_deleted = bool_query(request, "include_deleted", "deleted").value_or(false);
  if (workspace.deleted && !include_deleted) {
    auto gone = http::error_response(
        Error{ErrorCode::not_found, "Workspace \"" + workspace.id.to_string() +
                                        "\" was deleted, you can view this workspace by "
                                        "specifying '?deleted=true' and trying again."});
    gone.status = 410;  // Coder's Gone, distinct from "not found or not yours"
    return gone;
  }
  return http::json_response(200, workspace_json(deps, workspace, auth.user.id));
}

Response get_workspace_by_owner_and_name(Deps& deps, Request& request, const Authenticated& auth) {
  auto owner = resolve_user_param(deps, request, auth);
  auto include_deleted = bool_query(request, "include_deleted", "include_deleted").value_or(false);
  auto workspace = deps.store.get_workspace_by_owner_and_name(
      owner.id, request.param("workspacename"), include_deleted);
  if (!workspace ||
      !coderd::authorize(auth.subject, coderd::Action::read, coderd::workspace_object(*workspace)))
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  return http::json_response(200, workspace_json(deps, *workspace, auth.user.id));
}

namespace {

Response list_workspaces_in_snapshot(Deps& deps, Request& request, const Authenticated& auth) {
  auto q = request.query_values("q");
  auto search = parse_workspace_search(deps, auth, q.empty() ? "" : q.front());
  auto page = parse_pagination(request);
  // The caller's read permission becomes part of the query.
  auto scope =
      coderd::authorized_scope(auth.subject, coderd::Action::read, coderd::Resource::workspace);
  search.params.readable_all = scope.everything;
  if (scope.owned) search.params.readable_owner_id = auth.user.id;
  search.params.readable_organization_ids = scope.organizations;
  json::array out;
  if (search.empty_result)
    return http::json_response(200, json::object{{"workspaces", std::move(out)}, {"count", 0}});
  if (!search.needs_scan()) {
    // Filtering, ordering, paging and counting done by the database.
    auto count = deps.store.count_workspaces(search.params);
    std::vector<store::WorkspaceRow> workspaces;
    for (auto& summary : deps.store.list_workspace_summaries_page(search.params, auth.user.id,
                                                                  page.limit, page.offset))
      workspaces.push_back(std::move(summary.workspace));
    for (const auto& view : coderd::load_workspace_views(deps.store, std::move(workspaces)))
      out.push_back(workspace_json(deps, view, auth.user.id));
    return http::json_response(200, json::object{{"workspaces", std::move(out)}, {"count", count}});
  }
  std::vector<Snapshot> rows;
  for (const auto& summary : deps.store.list_workspace_summaries(search.params))
    if (has_agent_matches(deps, search, summary.workspace)) rows.push_back(snapshot_of(summary));
  // Coder's order: the caller's favourites, then running ones, then owner and name.
  auto lower = [](std::string v) {
    for (auto& c : v) c = char(std::tolower(static_cast<unsigned char>(c)));
    return v;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const Snapshot& a, const Snapshot& b) {
    bool fa = a.workspace.favorite && a.workspace.owner_id == auth.user.id;
    bool fb = b.workspace.favorite && b.workspace.owner_id == auth.user.id;
    if (fa != fb) return fa;
    bool ra = a.status == sdk::WorkspaceStatus::running;
    bool rb = b.status == sdk::WorkspaceStatus::running;
    if (ra != rb) return ra;
    if (lower(a.owner_name) != lower(b.owner_name))
      return lower(a.owner_name) < lower(b.owner_name);
    if (lower(a.workspace.name) != lower(b.workspace.name))
      return lower(a.workspace.name) < lower(b.workspace.name);
    return a.workspace.id.to_string() < b.workspace.id.to_string();
  });
  std::vector<store::WorkspaceRow> workspaces;
  for (std::size_t i = std::size_t(std::max<std::int64_t>(page.offset, 0)); i < rows.size(); ++i) {
    if (page.limit > 0 && std::int64_t(workspaces.size()) >= page.limit) break;
    workspaces.push_back(rows[i].workspace);
  }
  for (const auto& view : coderd::load_workspace_views(deps.store, std::move(workspaces)))
    out.push_back(workspace_json(deps, view, auth.user.id));
  return http::json_response(
      200, json::object{{"workspaces", std::move(out)}, {"count", std::int64_t(rows.size())}});
}

}  // namespace

Response list_workspaces(Deps& deps, Request& request, const Authenticated& auth) {
  // One read transaction for the whole page: one snapshot, and one transaction start for
  // its many reads.
  Response response;
  deps.store.in_read_tx(
      [&](store::Store&) { response = list_workspaces_in_snapshot(deps, request, auth); });
  return response;
}

Response update_workspace(Deps& deps, Request& request, const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  auto name = body.string("name").value_or("");
  body.finish();
  deps.workspaces.rename(auth.subject, workspace, name);
  return http::no_content();
}

Response update_workspace_autostart(Deps& deps, Request& request, const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  auto schedule = body.string("schedule");
  body.finish();
  deps.workspaces.set_autostart(auth.subject, workspace, schedule);
  return http::no_content();
}

Response update_workspace_ttl(Deps& deps, Request& request, const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  auto ttl = body.integer("ttl_ms");
  body.finish();
  deps.workspaces.set_ttl(auth.subject, workspace, ttl);
  return http::no_content();
}

Response update_workspace_automatic_updates(Deps& deps, Request& request,
                                            const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  auto mode = body.string("automatic_updates").value_or("");
  body.finish();
  deps.workspaces.set_automatic_updates(auth.subject, workspace, mode);
  return http::no_content();
}

Response update_workspace_dormancy(Deps& deps, Request& request, const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  auto dormant = body.boolean("dormant").value_or(false);
  body.finish();
  deps.workspaces.set_dormant(auth.subject, workspace, dormant);
  auto updated = deps.store.get_workspace_by_id(workspace.id);
  return http::json_response(200, workspace_json(deps, *updated, auth.user.id));
}

Response extend_workspace(Deps& deps, Request& request, const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  auto text = body.required_string("deadline");
  body.finish();
  auto deadline = parse_rfc3339(text);
  if (!deadline)
    throw Error{
        ErrorCode::invalid, "Validation failed.", {}, {{"deadline", "must be an RFC 3339 time"}}};
  auto set = deps.workspaces.extend(auth.subject, workspace, *deadline);
  return http::json_response(
      200, json::object{{"message", "Deadline updated to " + format_rfc3339(set) + "."}});
}

Response favorite_workspace(Deps& deps, Request& request, const Authenticated& auth) {
  deps.workspaces.set_favorite(auth.subject, resolve_workspace_param(deps, request, auth), true);
  return http::no_content();
}

Response unfavorite_workspace(Deps& deps, Request& request, const Authenticated& auth) {
  deps.workspaces.set_favorite(auth.subject, resolve_workspace_param(deps, request, auth), false);
  return http::no_content();
}

Response resolve_workspace_autostart(Deps& deps, Request& request, const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  auto tmpl = deps.store.get_template_by_id(workspace.template_id);
  auto policy = tmpl ? tmpl->policy : coderd::TemplatePolicy{};
  bool mismatch = false;
  // Only when autostart would move to the active version can its parameters fail to resolve.
  if (tmpl && (policy.require_active_version || workspace.automatic_updates == "always")) {
    auto latest = deps.store.get_latest_workspace_build(workspace.id);
    auto version = deps.store.get_template_version_by_id(tmpl->active_version_id);
    if (latest && version && latest->template_version_id != version->id) {
      auto previous = deps.store.list_build_parameters(latest->id);
      auto definitions = json::parse(version->parameters);
      for (const auto& d : definitions.as_array()) {
        const auto& o = d.as_object();
        std::string name(o.at("name").as_string());
        bool required = o.at("required").as_bool();
        bool known = std::any_of(previous.begin(), previous.end(),
                                 [&](const auto& p) { return p.name == name; });
        if (required && !known) mismatch = true;
      }
    }
  }
  return http::json_response(200, json::object{{"parameter_mismatch", mismatch}});
}

Response post_workspace_usage(Deps& deps, Request& request, const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  bool bump = false;
  if (!request.body.empty()) {
    json::ObjectReader body(json::parse_body(request.body));
    auto agent = body.uuid("agent_id");
    auto app = body.string("app_name").value_or("");
    if (agent && app.empty()) body.invalid("app_name", "must be set when agent_id is set");
    if (!agent && !app.empty()) body.invalid("agent_id", "must be set when app_name is set");
    if (!app.empty() && app != "vscode" && app != "jetbrains" && app != "reconnecting-pty" &&
        app != "ssh")
      body.invalid("app_name", "must be one of [vscode jetbrains reconnecting-pty ssh]");
    try {
      body.finish();
    } catch (const Error& e) {
      throw Error{ErrorCode::invalid, "Invalid request", {}, e.validations()};
    }
    if (agent && !deps.store.get_workspace_agent_by_id(*agent))
      throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
    bump = agent.has_value();
  }
  deps.workspaces.record_usage(auth.subject, workspace, bump);
  return http::no_content();
}

Response watch_workspace(Deps& deps, Request& request, const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  Response r;
  r.event_stream = std::make_shared<WorkspaceWatch>(deps, workspace.id, auth.user.id,
                                                    WorkspaceWatch::Framing::sse);
  return r;
}

Response watch_workspace_ws(Deps& deps, Request& request, const Authenticated& auth) {
  auto workspace = resolve_workspace_param(deps, request, auth);
  Response r;
  r.websocket = std::make_shared<WorkspaceWatch>(deps, workspace.id, auth.user.id,
                                                 WorkspaceWatch::Framing::websocket);
  return r;
}

}  // namespace berth::api
