#pragma once

#include "api/handlers.hpp"

// What a Coder client asks a deployment before anything else (its login page, dashboard and
// CLI): sign-in methods, permission checks, licence features, experiments, appearance,
// regions, replicas, template examples, a user's login type and autofill values. Berth answers what
// an open-source Coder deployment answers.
namespace berth::api {

// GET /users/authmethods (public): password sign-in only.
Response get_auth_methods(Deps& deps, Request& request);
// GET /appearance (public): no branding, no banners.
Response get_appearance(Deps& deps, Request& request);
// POST /authcheck: each named check answered by Berth's RBAC for the caller.
Response check_authorization(Deps& deps, Request& request, const Authenticated& auth);
// GET /entitlements: no licence; every enterprise feature not entitled.
Response get_entitlements(Deps& deps, Request& request, const Authenticated& auth);
// GET /experiments, /experiments/available: none.
Response get_experiments(Deps& deps, Request& request, const Authenticated& auth);
Response get_available_experiments(Deps& deps, Request& request, const Authenticated& auth);
// GET /regions: the server itself, the one place apps are reached through.
Response get_regions(Deps& deps, Request& request, const Authenticated& auth);
// GET /replicas: the `berth server` processes alive on this database (owners only; others get
// Coder's 404).
Response get_replicas(Deps& deps, Request& request, const Authenticated& auth);
// GET /templates/examples and /organizations/{organization}/templates/examples: none built in.
Response list_template_examples(Deps& deps, Request& request, const Authenticated& auth);
// GET /users/{user}/login-type.
Response get_user_login_type(Deps& deps, Request& request, const Authenticated& auth);
// GET /users/{user}/autofill-parameters?template_id=: the values the user last gave each
// parameter in their workspaces of that template (ephemeral ones excluded).
Response get_user_autofill_parameters(Deps& deps, Request& request, const Authenticated& auth);
// GET /organizations/{organization}/templates/{templatename}/versions/{templateversionname}
Response get_organization_template_version_by_name(Deps& deps, Request& request,
                                                   const Authenticated& auth);

}  // namespace berth::api
