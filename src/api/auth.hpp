#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api/deps.hpp"
#include "coderd/api_keys.hpp"
#include "http/request.hpp"

namespace berth::api {

// The session token a request carries, looked up as Coder does: the `coder_session_token`
// cookie, then the query parameter of that name, then the `Coder-Session-Token` header.
std::string session_token_from(const http::Request& request);

// Authenticates the request or throws Error{unauthenticated}.
std::shared_ptr<const coderd::Authenticated> authenticate(Deps& deps, const http::Request& request);

// The client's address without the port, as stored on API keys.
std::string client_ip(const http::Request& request);

// Resolves the `{user}` path parameter (`me`, a UUID or a username) and checks that the
// caller may read that user (404 otherwise).
store::UserRow resolve_user_param(Deps& deps, const http::Request& request,
                                  const coderd::Authenticated& auth);

}  // namespace berth::api
