#pragma once

#include "api/deps.hpp"
#include "http/router.hpp"

namespace berth::api {

// The whole `/api/v2` table, plus `/healthz`, with the middleware each route runs through.
// The returned handler also stamps every response with Coder's build-version header.
http::Handler make_api_handler(Deps& deps);

}  // namespace berth::api
