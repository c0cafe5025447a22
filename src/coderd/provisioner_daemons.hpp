#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coderd/rbac.hpp"
#include "common/clock.hpp"
#include "sdk/provisioner_daemons.hpp"
#include "store/store.hpp"

namespace berth::coderd {

// A daemon not heard from for this long is offline (Coder's stale interval); an idle daemon
// asks for work, and a busy one heartbeats, far more often.
inline constexpr std::chrono::seconds kProvisionerDaemonStaleInterval{90};

// The key Coder shows for daemons that run inside the server.
inline constexpr const char* kBuiltInKeyName = "built-in";
Uuid built_in_key_id();

// Pubsub channel of one daemon's pending request for a job: a message ends it without a job
// (the daemon is shutting down).
std::string daemon_acquire_channel(const Uuid& daemon_id);

// Idle, busy (its current job is still active) or offline (silent for the stale interval).
sdk::ProvisionerDaemonStatus daemon_status(const store::ProvisionerDaemonRow& daemon,
                                           const std::optional<store::ProvisionerJobRow>& current,
                                           TimePoint now);

// A key as created: the row stored and the secret, shown this once.
struct NewProvisionerKey {
  store::ProvisionerKeyRow row;
  std::string secret;
};

// Limits on what a key carries.
inline constexpr std::size_t kMaxProvisionerKeyTags = 32;
inline constexpr std::size_t kMaxProvisionerTagKeyLength = 64;
inline constexpr std::size_t kMaxProvisionerTagValueLength = 256;

// Creates, lists and deletes provisioner keys, and checks the keys daemons present. Keys are
// for those who may manage provisioner daemons in the organization (owners, organization
// admins, template admins); anyone else is told the keys do not exist.
class ProvisionerKeys {
 public:
  ProvisionerKeys(store::Store& store, const Clock& clock);

  // Throws Error{invalid} naming the field (name, tags) or Error{conflict} for a name the
  // organization already uses.
  NewProvisionerKey create(const Subject& actor, const store::OrganizationRow& org,
                           const std::string& name, const std::map<std::string, std::string>& tags);
  std::vector<store::ProvisionerKeyRow> list(const Subject& actor,
                                             const store::OrganizationRow& org);
  // Deletes the key named `name` and forgets the daemons that presented it: their next request
  // is refused. Throws Error{not_found} when there is none.
  void remove(const Subject& actor, const store::OrganizationRow& org, const std::string& name);

  // The key `secret` is; throws Error{unauthenticated} when it is none.
  store::ProvisionerKeyRow authenticate(std::string_view secret);

 private:
  store::Store& store_;
  const Clock& clock_;
};

// The tags a daemon that presents `key` runs with: the key's, plus the default scope tags.
std::map<std::string, std::string> daemon_tags(const store::ProvisionerKeyRow& key);

}  // namespace berth::coderd
