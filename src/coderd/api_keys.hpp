#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "coderd/rbac.hpp"
#include "common/error.hpp"
#include "common/clock.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// Lifetimes of sessions and tokens (Coder's defaults; `--session-duration` and friends).
struct TokenPolicy {
  std::chrono::seconds session_duration{24 * 3600};
  std::chrono::seconds default_token_lifetime{7 * 24 * 3600};
  std::chrono::seconds max_token_lifetime{876600LL * 3600};  // Coder's "100 years"
};

// A freshly made key: the row stored and the `id-secret` token shown once to its user.
struct NewApiKey {
  store::ApiKeyRow row;
  std::string token;
};

// The caller of a request, once its token checked out.
struct Authenticated {
  store::UserRow user;
  store::ApiKeyRow key;
  Subject subject;
};

// Issues, checks and revokes session tokens and API tokens.
class ApiKeys {
 public:
  ApiKeys(store::Store& store, const Clock& clock, TokenPolicy policy);

  const TokenPolicy& policy() const { return policy_; }

  // Makes and stores a key; `token_name` is empty for sessions.
  NewApiKey create(const Uuid& user_id, const std::string& login_type,
                   std::chrono::seconds lifetime, const std::string& token_name,
                   const std::string& ip_address);

  // Checks `token` (Coder's `id-secret` form) and returns who it belongs to; throws
  // Error{unauthenticated} with Coder's messages. Refreshes last-used and expiry at most
  // hourly, as Coder does, so that a busy client does not write on every request.
  Authenticated authenticate(std::string_view token, const std::string& ip_address);

  // The permissions a user has right now.
  Subject subject_for(const store::UserRow& user);

 private:
  store::Store& store_;
  const Clock& clock_;
  TokenPolicy policy_;
};

// Coder's wording when a request carries no usable session.
inline constexpr const char* kSignedOutMessage =
    "You are signed out or your session has expired. Please sign in again to continue.";

// What authenticate() throws for a request without a token, for callers that answer it
// without throwing (the anonymous 401 is the most common error there is).
berth::Error missing_token_error();

}  // namespace berth::coderd
