// Provisioner daemons: the organization's list, and Berth's protocol for external daemons
// (/provisionerdaemons/jobs/...), authenticated with a provisioner key. A daemon acts only on
// the jobs it holds; waiting for a job or for a cancellation is a long poll that holds no thread.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "api/handlers.hpp"
#include "api/jobs_json.hpp"
#include "api/params.hpp"
#include "coderd/daemon_polls.hpp"
#include "coderd/job_inputs.hpp"
#include "coderd/names.hpp"
#include "coderd/provisioner_daemons.hpp"
#include "coderd/users.hpp"
#include "common/error.hpp"
#include "http/deferred.hpp"
#include "http/error_response.hpp"
#include "sdk/provisioner_daemons.hpp"

namespace berth::api {

namespace {

using Deferred = std::shared_ptr<http::DeferredResponse>;

constexpr std::int64_t kDefaultDaemonListLimit = 50;
constexpr std::int64_t kMaxDaemonListLimit = 1000;
constexpr std::size_t kMaxLogLinesPerRequest = 1000;
constexpr std::size_t kMaxProvisioners = 8;
constexpr std::size_t kMaxProvisionerNameLength = 32;
constexpr std::size_t kMaxVersionLength = 64;
constexpr std::size_t kMaxErrorLength = 8192;
constexpr std::size_t kMaxErrorCodeLength = 64;
// Beyond a poll's own wait: how long the connection waits for the poll thread's answer.
constexpr std::chrono::seconds kPollGrace{30};

coderd::DaemonPolls& polls(Deps& deps) {
  if (!deps.daemon_polls)
    throw Error{ErrorCode::unavailable, "This server runs no external provisioner daemons."};
  return *deps.daemon_polls;
}

// The daemon a request speaks for: one that acquired with this key before.
store::ProvisionerDaemonRow calling_daemon(Deps& deps, const store::ProvisionerKeyRow& key,
                                           const Uuid& daemon_id) {
  auto daemon = deps.store.get_provisioner_daemon_by_id(daemon_id);
  if (!daemon || daemon->key_id != key.id)
    throw Error{ErrorCode::forbidden, "No provisioner daemon with this id uses this key.",
                "A daemon registers when it first asks for a job."};
  return *daemon;
}

Uuid required_daemon_id(json::ObjectReader& body) {
  auto id = body.uuid("daemon_id");
  if (!id) body.invalid("daemon_id", "Validation failed for tag \"required\" with value: \"\"");
  return id.value_or(Uuid{});
}

// The job the path names, which the daemon must hold (404 outside the key's organization).
store::ProvisionerJobRow held_job(Deps& deps, const Request& request,
                                  const store::ProvisionerKeyRow& key, const Uuid& daemon_id) {
  auto job = deps.store.get_provisioner_job_by_id(parse_uuid_param(request, "job"));
  if (!job || job->organization_id != key.organization_id)
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  calling_daemon(deps, key, daemon_id);
  if (job->worker_id != daemon_id)
    throw Error{ErrorCode::forbidden, "This provisioner daemon does not hold the job."};
  return *job;
}

std::chrono::milliseconds wait_of(json::ObjectReader& body) {
  auto wait = body.integer("wait_ms").value_or(0);
  if (wait < 0) body.invalid("wait_ms", "Must not be negative.");
  return std::chrono::milliseconds(std::max<std::int64_t>(wait, 0));
}

// Completes `deferred` with what `make` answers, or with the error it throws.
bool settle(const Deferred& deferred, const std::function<std::optional<Response>()>& make) {
  std::optional<Response> response;
  try {
    response = make();
  } catch (const Error& e) {
    if (e.code() == ErrorCode::internal)
      spdlog::error("provisioner daemon poll: {} ({})", e.message(), e.detail());
    response = http::error_response(e);
  }
  if (!response) return false;
  deferred->complete(std::move(*response));
  return true;
}

Response deferred_response(const Deferred& deferred) {
  Response r;
  r.deferred = deferred;
  return r;
}

Deferred make_deferred(std::chrono::milliseconds wait) {
  return std::make_shared<http::DeferredResponse>(
      wait + kPollGrace,
      http::error_response(Error{ErrorCode::unavailable, "The server did not answer in time."}));
}

// The identity a daemon acquires under: what it says of itself, the key's organization and tags.
coderd::DaemonIdentity read_identity(json::ObjectReader& body,
                                     const store::ProvisionerKeyRow& key) {
  coderd::DaemonIdentity identity;
  identity.id = required_daemon_id(body);
  identity.name = body.required_string("name");
  if (auto problem = coderd::version_name_problem(identity.name); problem && !identity.name.empty())
    body.invalid("name", *problem);
  identity.version = body.string("version").value_or("");
  if (identity.version.size() > kMaxVersionLength)
    body.invalid("version", "At most " + std::to_string(kMaxVersionLength) + " characters.");
  if (auto provisioners = body.string_array("provisioners")) identity.provisioners = *provisioners;
  if (identity.provisioners.empty() || identity.provisioners.size() > kMaxProvisioners)
    body.invalid("provisioners",
                 "Give 1 to " + std::to_string(kMaxProvisioners) + " provisioners.");
  for (const auto& p : identity.provisioners)
    if (p.empty() || p.size() > kMaxProvisionerNameLength)
      body.invalid("provisioners", "Provisioner names are 1 to " +
                                       std::to_string(kMaxProvisionerNameLength) + " characters.");
  identity.tags = coderd::daemon_tags(key);
  identity.organization_id = key.organization_id;
  identity.key_id = key.id;
  identity.api_version = sdk::kProvisionerDaemonApiVersion;
  return identity;
}

// Claims the next job the daemon may run, with its input; a job whose input is gone fails
// and the next is tried.
std::optional<sdk::AcquiredJob> acquire_with_input(Deps& deps,
                                                   const coderd::DaemonIdentity& identity) {
  while (auto job = deps.jobs.acquire(identity)) {
    try {
      return coderd::acquired_job(deps.store, *job);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::not_found) throw;
      deps.jobs.fail(job->id, e.message());
    }
  }
  return std::nullopt;
}

std::vector<coderd::JobLogLine> read_log_lines(json::ObjectReader& body) {
  std::vector<coderd::JobLogLine> lines;
  const auto* items = body.array_field("logs");
  if (!items) return lines;
  if (items->size() > kMaxLogLinesPerRequest) {
    body.invalid("logs", "At most " + std::to_string(kMaxLogLinesPerRequest) + " lines a request.");
    return lines;
  }
  static const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  for (const auto& item : *items) {
    if (!item.is_object()) {
      body.invalid("logs", "Each line is an object.");
      return lines;
    }
    auto line = sdk::job_log_line_from_json(item);
    if (std::find(kLevels.begin(), kLevels.end(), line.level) == kLevels.end())
      body.invalid("logs.level", "One of trace, debug, info, warn, error.");
    if (line.source != "provisioner" && line.source != "provisioner_daemon")
      line.source = "provisioner";
    lines.push_back({line.level, line.stage, line.output, line.source});
  }
  return lines;
}

// An import's documents must be JSON arrays: the version renders them as such.
store::TemplateVersionImportResult read_import_result(json::ObjectReader& body,
                                                      const json::object& document) {
  auto result = sdk::import_result_from_json(document);
  auto check = [&](const char* field, const std::string& text) {
    try {
      if (json::parse(text).is_array()) return;
    } catch (const Error&) {
    }
    body.invalid(std::string("import.") + field, "Must be a JSON array.");
  };
  check("parameters", result.parameters);
  check("variables", result.variables);
  check("presets", result.presets);
  check("resources", result.resources);
  check("external_auth", result.external_auth);
  return coderd::to_import_result(result);
}

sdk::BuildResponse read_build_response(json::ObjectReader& body, const json::object& document) {
  auto response = sdk::build_response_from_json(document);
  for (const auto& resource : response.resources) {
    const auto* agents =
        resource.is_object() ? resource.get_object().if_contains("agents") : nullptr;
    if (!resource.is_object() || (agents && !agents->is_array()))
      body.invalid("build.resources", "Each resource is an object with an array of agents.");
  }
  return response;
}

sdk::ProvisionerDaemonJob daemon_job(Deps& deps, const store::ProvisionerJobRow& job) {
  sdk::ProvisionerDaemonJob out{job.id, coderd::job_status(job), "", "", ""};
  auto context = job_context(deps, job.input);
  if (const auto& tmpl = context.version_template) {
    out.template_name = tmpl->name;
    out.template_icon = tmpl->icon;
    out.template_display_name = tmpl->display_name;
  }
  return out;
}

std::int64_t daemon_list_limit(const Request& request) {
  auto values = request.query_values("limit");
  if (values.empty() || values[0].empty()) return kDefaultDaemonListLimit;
  std::int64_t limit = 0;
  try {
    std::size_t used = 0;
    limit = std::stoll(values[0], &used);
    if (used != values[0].size()) limit = 0;
  } catch (const std::exception&) {
    limit = 0;
  }
  if (limit < 1 || limit > kMaxDaemonListLimit)
    throw Error{ErrorCode::invalid,
                "Query parameters have invalid values.",
                {},
                {{"limit", "Must be a number from 1 to " + std::to_string(kMaxDaemonListLimit)}}};
  return limit;
}

}  // namespace

Response list_provisioner_daemons(Deps& deps, Request& request, const Authenticated& auth) {
  auto org = resolve_organization_param(deps, request, auth);
  coderd::require_visible(
      auth.subject, coderd::Action::read,
      coderd::Object{coderd::Resource::provisioner_daemon, std::nullopt, org.id});
  auto limit = daemon_list_limit(request);
  std::optional<sdk::ProvisionerDaemonStatus> wanted;
  if (auto statuses = request.query_values("status"); !statuses.empty() && !statuses[0].empty()) {
    wanted = sdk::parse<sdk::ProvisionerDaemonStatus>(statuses[0]);
    if (!wanted)
      throw Error{ErrorCode::invalid,
                  "Query parameters have invalid values.",
                  {},
                  {{"status", "One of offline, idle, busy."}}};
  }
  auto daemons = deps.store.list_provisioner_daemons_by_organization_id(org.id, limit);
  std::map<Uuid, std::string> key_names;
  for (const auto& key : deps.store.list_provisioner_keys_by_organization_id(org.id))
    key_names[key.id] = key.name;
  std::vector<Uuid> job_ids;
  for (const auto& d : daemons) {
    if (d.current_job_id) job_ids.push_back(*d.current_job_id);
    if (d.previous_job_id) job_ids.push_back(*d.previous_job_id);
  }
  std::map<Uuid, store::ProvisionerJobRow> jobs;
  for (auto& job : deps.store.list_provisioner_jobs_by_ids(job_ids)) jobs[job.id] = job;
  auto job_of = [&](const std::optional<Uuid>& id) -> std::optional<store::ProvisionerJobRow> {
    if (!id || !jobs.contains(*id)) return std::nullopt;
    return jobs.at(*id);
  };
  auto now = deps.clock.now();
  json::array out;
  for (const auto& d : daemons) {
    auto current = job_of(d.current_job_id);
    sdk::ProvisionerDaemon wire;
    wire.id = d.id;
    wire.organization_id = d.organization_id.value_or(org.id);
    wire.key_id = d.key_id.value_or(coderd::built_in_key_id());
    wire.key_name = d.key_id ? (key_names.contains(*d.key_id) ? key_names.at(*d.key_id) : "")
                             : coderd::kBuiltInKeyName;
    wire.created_at = d.created_at;
    wire.last_seen_at = d.last_seen_at;
    wire.name = d.name;
    wire.version = d.version;
    wire.api_version = d.api_version;
    wire.provisioners = d.provisioners;
    wire.tags = d.tags;
    wire.status = coderd::daemon_status(d, current, now);
    // The current job shows while it runs; once it ended it is the previous one.
    if (current && coderd::job_is_active(*current))
      wire.current_job = daemon_job(deps, *current);
    else if (current)
      wire.previous_job = daemon_job(deps, *current);
    if (!wire.previous_job)
      if (auto previous = job_of(d.previous_job_id))
        wire.previous_job = daemon_job(deps, *previous);
    if (wanted && wire.status != *wanted) continue;
    out.push_back(sdk::to_json(wire));
  }
  return http::json_response(200, out);
}

Response acquire_provisioner_job(Deps& deps, Request& request,
                                 const store::ProvisionerKeyRow& key) {
  json::ObjectReader body(json::parse_body(request.body));
  auto identity = read_identity(body, key);
  auto wait = std::min(wait_of(body), polls(deps).max_wait());
  body.finish();
  // An id another key registered is not this daemon's to use.
  if (auto known = deps.store.get_provisioner_daemon_by_id(identity.id);
      known && known->key_id != key.id)
    throw Error{ErrorCode::forbidden, "No provisioner daemon with this id uses this key."};
  auto deferred = make_deferred(wait);
  auto cancel_channel = coderd::daemon_acquire_channel(identity.id);
  polls(deps).add({coderd::kJobPostedChannel, cancel_channel}, wait,
                  [&deps, identity, deferred, cancel_channel](const coderd::DaemonPolls::Try& t) {
                    return settle(deferred, [&]() -> std::optional<Response> {
                      // The daemon is going away, or the server is: no job it could miss the answer
                      // for.
                      if (t.stopping || t.woken.contains(cancel_channel)) return http::no_content();
                      if (auto job = acquire_with_input(deps, identity))
                        return http::json_response(200, sdk::to_json(*job));
                      if (t.last) return http::no_content();
                      return std::nullopt;
                    });
                  });
  return deferred_response(deferred);
}

Response cancel_provisioner_job_acquire(Deps& deps, Request& request,
                                        const store::ProvisionerKeyRow& key) {
  json::ObjectReader body(json::parse_body(request.body));
  auto daemon_id = required_daemon_id(body);
  body.finish();
  calling_daemon(deps, key, daemon_id);
  deps.pubsub.publish(coderd::daemon_acquire_channel(daemon_id), "stop");
  return http::no_content();
}

Response post_provisioner_job_logs(Deps& deps, Request& request,
                                   const store::ProvisionerKeyRow& key) {
  json::ObjectReader body(json::parse_body(request.body));
  auto daemon_id = required_daemon_id(body);
  auto lines = read_log_lines(body);
  body.finish();
  auto job = held_job(deps, request, key, daemon_id);
  deps.jobs.append_logs(job.id, lines);
  return http::no_content();
}

Response heartbeat_provisioner_job(Deps& deps, Request& request,
                                   const store::ProvisionerKeyRow& key) {
  json::ObjectReader body(json::parse_body(request.body));
  auto daemon_id = required_daemon_id(body);
  auto wait = std::min(wait_of(body), polls(deps).max_wait());
  body.finish();
  auto job = held_job(deps, request, key, daemon_id);
  auto answer = [](bool canceled) {
    return http::json_response(200, json::object{{"canceled", canceled}});
  };
  bool canceled = deps.jobs.heartbeat(job.id);
  if (canceled || wait.count() == 0) return answer(canceled);
  // Held until the job is canceled (or ends elsewhere), so that the daemon hears of it at once.
  auto deferred = make_deferred(wait);
  polls(deps).add({coderd::job_channel(job.id)}, wait,
                  [&deps, id = job.id, deferred, answer](const coderd::DaemonPolls::Try& t) {
                    return settle(deferred, [&]() -> std::optional<Response> {
                      auto now = deps.store.get_provisioner_job_by_id(id);
                      bool canceled = !now || now->canceled_at || now->completed_at;
                      if (canceled || t.last) return answer(canceled);
                      return std::nullopt;
                    });
                  });
  return deferred_response(deferred);
}

Response complete_provisioner_job(Deps& deps, Request& request,
                                  const store::ProvisionerKeyRow& key) {
  json::ObjectReader body(json::parse_body(request.body));
  auto daemon_id = required_daemon_id(body);
  const auto* import = body.object_field("import");
  const auto* build = body.object_field("build");
  std::optional<store::TemplateVersionImportResult> import_result;
  std::optional<sdk::BuildResponse> build_response;
  if (import) import_result = read_import_result(body, *import);
  if (build) build_response = read_build_response(body, *build);
  body.finish();
  auto job = held_job(deps, request, key, daemon_id);
  if (job.type == "template_version_import" && import_result) {
    deps.jobs.complete_import(job.id, *import_result);
  } else if (job.type == "workspace_build" && build_response) {
    deps.jobs.complete_build(job.id, *build_response);
  } else {
    throw Error{ErrorCode::invalid,
                "Validation failed.",
                {},
                {{job.type == "workspace_build" ? "build" : "import",
                  "A " + job.type + " job completes with this result."}}};
  }
  return http::no_content();
}

Response fail_provisioner_job(Deps& deps, Request& request, const store::ProvisionerKeyRow& key) {
  json::ObjectReader body(json::parse_body(request.body));
  auto daemon_id = required_daemon_id(body);
  auto error = body.string("error").value_or("");
  auto error_code = body.string("error_code").value_or("");
  if (error.size() > kMaxErrorLength) error.resize(kMaxErrorLength);
  if (error_code.size() > kMaxErrorCodeLength)
    body.invalid("error_code", "At most " + std::to_string(kMaxErrorCodeLength) + " characters.");
  body.finish();
  auto job = held_job(deps, request, key, daemon_id);
  deps.jobs.fail(job.id, error, error_code);
  return http::no_content();
}

}  // namespace berth::api
