// Provisioner keys: /organizations/{organization}/provisionerkeys, and the key a daemon holds.
#include "api/handlers.hpp"
#include "api/params.hpp"
#include "coderd/provisioner_daemons.hpp"
#include "common/error.hpp"
#include "http/error_response.hpp"
#include "sdk/provisioner_daemons.hpp"

namespace berth::api {

namespace {

coderd::ProvisionerKeys& keys(Deps& deps) {
  if (!deps.provisioner_keys) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  return *deps.provisioner_keys;
}

sdk::ProvisionerKey to_sdk(const store::ProvisionerKeyRow& key) {
  return sdk::ProvisionerKey{key.id, key.created_at, key.organization_id, key.name, key.tags};
}

// The `tags` object of a request: strings only.
std::map<std::string, std::string> read_tags(json::ObjectReader& body) {
  std::map<std::string, std::string> tags;
  const auto* object = body.object_field("tags");
  if (!object) return tags;
  if (object->size() > coderd::kMaxProvisionerKeyTags) {
    body.invalid(
        "tags", "At most " + std::to_string(coderd::kMaxProvisionerKeyTags) + " tags are allowed.");
    return tags;
  }
  for (const auto& [k, v] : *object) {
    if (!v.is_string())
      body.invalid("tags." + std::string(k), "Tag values must be strings.");
    else
      tags[std::string(k)] = std::string(v.get_string());
  }
  return tags;
}

}  // namespace

Response create_provisioner_key(Deps& deps, Request& request, const Authenticated& auth) {
  auto org = resolve_organization_param(deps, request, auth);
  json::ObjectReader body(json::parse_body(request.body));
  auto name = body.string("name").value_or("");
  auto tags = read_tags(body);
  body.finish();
  auto key = keys(deps).create(auth.subject, org, name, tags);
  return http::json_response(201, json::object{{"key", key.secret}});
}

Response list_provisioner_keys(Deps& deps, Request& request, const Authenticated& auth) {
  auto org = resolve_organization_param(deps, request, auth);
  json::array out;
  for (const auto& key : keys(deps).list(auth.subject, org))
    out.push_back(sdk::to_json(to_sdk(key)));
  return http::json_response(200, out);
}

Response delete_provisioner_key(Deps& deps, Request& request, const Authenticated& auth) {
  auto org = resolve_organization_param(deps, request, auth);
  keys(deps).remove(auth.subject, org, request.param("provisionerkey"));
  return http::no_content();
}

Response get_provisioner_key(Deps&, Request& request, const store::ProvisionerKeyRow& key) {
  // The key in the path must be the one presented: a daemon learns about its own key only.
  auto presented = request.header("coder-provisioner-daemon-key").value_or("");
  if (request.param("provisionerkey") != presented)
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  return http::json_response(200, sdk::to_json(to_sdk(key)));
}

}  // namespace berth::api
