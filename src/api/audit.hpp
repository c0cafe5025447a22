#pragma once

#include <optional>
#include <string>

#include "api/deps.hpp"
#include "coderd/session_cache.hpp"
#include "http/request.hpp"

namespace berth::api {

// How a route is audited: the kind of resource it acts on and Coder's action for it.
struct AuditSpec {
  std::string resource_type;  // Coder's ResourceType
  std::string action;         // Coder's AuditAction; for builds, the body's transition
};

// The audit rule of a route of the table (`path` as registered), if it changes state.
std::optional<AuditSpec> audit_spec(std::string_view method, std::string_view path);

// Records one audited request: who (`auth`, when signed in), what, and how it ended
// (`response` when the handler answered, else `status` from its error). Never the bodies.
void record_audit(Deps& deps, const http::Request& request, const AuditSpec& spec,
                  const coderd::Authenticated* auth, const http::Response* response, int status);

}  // namespace berth::api
