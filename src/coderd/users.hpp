#pragma once

#include <optional>
#include <string>
#include <vector>

#include "coderd/api_keys.hpp"
#include "coderd/rbac.hpp"
#include "common/clock.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// The first user's account; the request shape has been checked by the caller.
struct FirstUserParams {
  std::string email;
  std::string username;
  std::string name;
  std::string password;
};

// A user an administrator creates.
struct CreateUserParams {
  std::string email;
  std::string username;
  std::string name;
  std::string password;
  std::string login_type = "password";
  std::string status = "dormant";  // Coder's default until the user first signs in
  std::vector<Uuid> organization_ids;
};

// Who may see a user, and the object that question is asked about.
Object user_object(const store::UserRow& user);

// Throws Error{not_found} (never forbidden) when `subject` may not `action` the object, so
// that a resource's existence does not leak.
void require_visible(const Subject& subject, Action action, const Object& object);

// The rules for accounts: creation, sign-in, roles and tokens. Every change to a user's row,
// memberships or keys tells api_keys_ (which caches sessions built from them).
class Users {
 public:
  Users(store::Store& store, const Clock& clock, ApiKeys& api_keys);

  // Creates the owner of a new deployment and puts them in the default organization.
  store::UserRow create_first_user(const FirstUserParams& params);
  store::UserRow create_user(const Subject& actor, const CreateUserParams& params);

  // Checks the password and starts a session; returns its token.
  NewApiKey login(const std::string& email, const std::string& password,
                  const std::string& ip_address);

  // Replaces a user's site roles (`member` is implied and dropped).
  store::UserRow update_roles(const Subject& actor, const store::UserRow& user,
                              std::vector<std::string> roles);

  // Suspends (`status` "suspended") or reactivates ("active") an account. A suspended user's
  // sessions and tokens are refused from their next request on, and work again once active.
  store::UserRow update_status(const Subject& actor, const store::UserRow& user,
                               const std::string& status);

  // Deletes an account that owns no workspaces (Coder's rules and messages); its sessions and
  // tokens stop at once, and its username and email may be used again.
  void delete_user(const Subject& actor, const store::UserRow& user);

  // A long-lived token; lifetime zero means the default.
  NewApiKey create_token(const Subject& actor, const store::UserRow& user,
                         std::chrono::seconds lifetime, std::string token_name,
                         const std::string& ip_address);
  // A key for a CLI session (`POST /users/{user}/keys`).
  NewApiKey create_session_key(const Subject& actor, const store::UserRow& user,
                               const std::string& ip_address);
  void delete_api_key(const Subject& actor, const store::UserRow& user, const std::string& key_id);

 private:
  store::UserRow insert_user(store::Store& tx, const CreateUserParams& params,
                             std::vector<std::string> roles);

  store::Store& store_;
  const Clock& clock_;
  ApiKeys& api_keys_;
};

}  // namespace berth::coderd
