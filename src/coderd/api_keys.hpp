#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "coderd/rbac.hpp"
#include "coderd/session_cache.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "store/pubsub.hpp"
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

// Where changes to what authenticate() caches are announced: "user:<uuid>" when a user's row
// or memberships changed, "key:<id>" when a key was deleted.
inline constexpr const char* kSessionInvalidationChannel = "berth_session_invalidation";

// Issues, checks and revokes session tokens and API tokens.
//
// authenticate() keeps what it read for a key (key row, user row, subject) in a SessionCache,
// so that a signed-in request reads nothing from the store; the secret and the expiry are
// still checked on every request. Everything that changes those rows must therefore go
// through this class: revoke() for a key, user_changed() after a user's status, roles,
// profile or organization memberships changed (coderd::Users does so for every change it
// makes). Both drop the local entries at once, then publish on kSessionInvalidationChannel.
// With the in-process Pubsub that reaches only this process; with several replicas
// (PostgreSQL, LISTEN/NOTIFY) the same message makes every replica drop its copy.
class ApiKeys {
 public:
  // Without a Pubsub: invalidation stays within this object (tools and tests).
  ApiKeys(store::Store& store, const Clock& clock, TokenPolicy policy);
  ApiKeys(store::Store& store, store::Pubsub& pubsub, const Clock& clock, TokenPolicy policy);

  const TokenPolicy& policy() const { return policy_; }

  // Makes and stores a key; `token_name` is empty for sessions.
  NewApiKey create(const Uuid& user_id, const std::string& login_type,
                   std::chrono::seconds lifetime, const std::string& token_name,
                   const std::string& ip_address);

  // Checks `token` (Coder's `id-secret` form) and returns who it belongs to; throws
  // Error{unauthenticated} with Coder's messages. Refreshes last-used and expiry at most
  // hourly, as Coder does, so that a busy client does not write on every request.
  std::shared_ptr<const Authenticated> authenticate(std::string_view token,
                                                    const std::string& ip_address);

  // The permissions a user has right now.
  Subject subject_for(const store::UserRow& user);

  // Deletes a key; its next request is refused. False when there was none.
  bool revoke(const std::string& key_id);
  // To call after a change to a user's row or organization memberships has committed.
  void user_changed(const Uuid& user_id);

  std::size_t cached_sessions_for_test() const { return cache_.size(); }
  bool is_cached_for_test(std::string_view key_id) { return cache_.find(key_id) != nullptr; }

 private:
  void on_invalidation(const std::string& message);

  store::Store& store_;
  store::Pubsub* pubsub_ = nullptr;
  const Clock& clock_;
  TokenPolicy policy_;
  SessionCache cache_;
  store::Pubsub::Subscription subscription_;  // last: ends before the cache goes
};

// Coder's wording when a request carries no usable session.
inline constexpr const char* kSignedOutMessage =
    "You are signed out or your session has expired. Please sign in again to continue.";

// What authenticate() throws for a request without a token, for callers that answer it
// without throwing (the anonymous 401 is the most common error there is).
berth::Error missing_token_error();

}  // namespace berth::coderd
