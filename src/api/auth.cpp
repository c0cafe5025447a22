#include "api/auth.hpp"

#include "common/error.hpp"

namespace berth::api {

std::string session_token_from(const http::Request& request) {
  if (auto cookie = request.cookie("coder_session_token"); cookie && !cookie->empty())
    return *cookie;
  for (const auto& value : request.query_values("coder_session_token"))
    if (!value.empty()) return value;
  if (auto header = request.header("coder-session-token")) return std::string(*header);
  return {};
}

std::string client_ip(const http::Request& request) {
  auto colon = request.remote_address.rfind(':');
  return colon == std::string::npos ? request.remote_address
                                    : request.remote_address.substr(0, colon);
}

std::shared_ptr<const coderd::Authenticated> authenticate(Deps& deps,
                                                          const http::Request& request) {
  return deps.api_keys.authenticate(session_token_from(request), client_ip(request));
}

store::UserRow resolve_user_param(Deps& deps, const http::Request& request,
                                  const coderd::Authenticated& auth) {
  const auto& raw = request.param("user");
  if (raw.empty()) throw Error{ErrorCode::invalid, "\"user\" must be provided."};
  std::optional<store::UserRow> user;
  if (raw == "me") {
    user = auth.user;
  } else if (auto id = Uuid::parse(raw)) {
    user = deps.store.get_user_by_id(*id);
    if (user && user->deleted) user.reset();
  } else {
    user = deps.store.get_user_by_username(raw);
  }
  if (!user)
    throw Error{ErrorCode::invalid, "\"user\" must be an existing uuid or username.",
                "queried user=\"" + raw + "\""};
  coderd::require_visible(auth.subject, coderd::Action::read, coderd::user_object(*user));
  return *user;
}

}  // namespace berth::api
