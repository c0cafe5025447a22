#include "coderd/provisioner_daemons.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "coderd/names.hpp"
#include "coderd/provisioner_jobs.hpp"
#include "coderd/users.hpp"
#include "common/crypto.hpp"
#include "common/error.hpp"

namespace berth::coderd {

namespace {

// Long enough to resist guessing, short enough to paste: about 256 bits of letters and digits.
constexpr std::size_t kSecretLength = 43;

// Names Coder keeps for the keys it shows for built-in, user-authenticated and PSK daemons.
constexpr std::array<std::string_view, 3> kReservedKeyNames = {"built-in", "user-auth", "psk"};

std::string hash_secret(std::string_view secret) {
  return to_hex(sha256(secret));
}

Object daemon_object(const Uuid& organization_id) {
  return Object{Resource::provisioner_daemon, std::nullopt, organization_id};
}

[[noreturn]] void invalid(const std::string& field, const std::string& detail) {
  throw Error{ErrorCode::invalid, "Validation failed.", {}, {{field, detail}}};
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

bool has_control_characters(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

std::string checked_name(const std::string& name) {
  if (name.empty()) invalid("name", "Validation failed for tag \"required\" with value: \"\"");
  if (auto problem = version_name_problem(name)) invalid("name", *problem);
  auto lowered = lower(name);
  for (auto reserved : kReservedKeyNames)
    if (lowered == reserved)
      invalid("name", fmt::format("Name cannot be reserved name '{}'.", reserved));
  return lowered;
}

void check_tags(const std::map<std::string, std::string>& tags) {
  if (tags.size() > kMaxProvisionerKeyTags)
    invalid("tags", fmt::format("At most {} tags are allowed.", kMaxProvisionerKeyTags));
  for (const auto& [key, value] : tags) {
    auto field = "tags." + key;
    if (key.empty() || key.size() > kMaxProvisionerTagKeyLength || has_control_characters(key))
      invalid("tags", fmt::format("Tag keys must be 1 to {} printable characters.",
                                  kMaxProvisionerTagKeyLength));
    if (key == "scope" || key == "owner")
      invalid(field, "The server sets this tag: a key's daemons serve its organization.");
    if (value.size() > kMaxProvisionerTagValueLength || has_control_characters(value))
      invalid(field, fmt::format("Tag values must be at most {} printable characters.",
                                 kMaxProvisionerTagValueLength));
  }
}

}  // namespace

Uuid built_in_key_id() {
  return *Uuid::parse("00000000-0000-0000-0000-000000000001");
}

std::string daemon_acquire_channel(const Uuid& daemon_id) {
  return "provisioner_daemon_acquire:" + daemon_id.to_string();
}

sdk::ProvisionerDaemonStatus daemon_status(const store::ProvisionerDaemonRow& daemon,
                                           const std::optional<store::ProvisionerJobRow>& current,
                                           TimePoint now) {
  using Status = sdk::ProvisionerDaemonStatus;
  if (daemon.last_seen_at < now - kProvisionerDaemonStaleInterval) return Status::offline;
  return current && job_is_active(*current) ? Status::busy : Status::idle;
}

std::map<std::string, std::string> daemon_tags(const store::ProvisionerKeyRow& key) {
  auto tags = key.tags;
  for (const auto& [k, v] : default_provisioner_tags()) tags[k] = v;
  return tags;
}

ProvisionerKeys::ProvisionerKeys(store::Store& store, const Clock& clock)
    : store_(store), clock_(clock) {}

NewProvisionerKey ProvisionerKeys::create(const Subject& actor, const store::OrganizationRow& org,
                                          const std::string& name,
                                          const std::map<std::string, std::string>& tags) {
  require_visible(actor, Action::create, daemon_object(org.id));
  auto stored_name = checked_name(name);
  check_tags(tags);
  NewProvisionerKey key;
  key.secret = random_alphanumeric(kSecretLength);
  key.row = store::ProvisionerKeyRow{.id = Uuid::random_v4(),
                                     .created_at = clock_.now(),
                                     .organization_id = org.id,
                                     .name = stored_name,
                                     .hashed_secret = hash_secret(key.secret),
                                     .tags = tags};
  auto conflict = [&] {
    return Error{
        ErrorCode::conflict,
        fmt::format("Provisioner key with name '{}' already exists in organization.", stored_name),
        {},
        {{"name", "This value is already in use and should be unique."}}};
  };
  store_.in_tx([&](store::Store& tx) {
    if (tx.get_provisioner_key_by_name(org.id, stored_name)) throw conflict();
    tx.insert_provisioner_key(key.row);
  });
  return key;
}

std::vector<store::ProvisionerKeyRow> ProvisionerKeys::list(const Subject& actor,
                                                            const store::OrganizationRow& org) {
  require_visible(actor, Action::read, daemon_object(org.id));
  return store_.list_provisioner_keys_by_organization_id(org.id);
}

void ProvisionerKeys::remove(const Subject& actor, const store::OrganizationRow& org,
                             const std::string& name) {
  require_visible(actor, Action::delete_, daemon_object(org.id));
  store_.in_tx([&](store::Store& tx) {
    auto key = tx.get_provisioner_key_by_name(org.id, name);
    if (!key) throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
    tx.delete_provisioner_daemons_by_key_id(key->id);
    tx.delete_provisioner_key_by_id(key->id);
  });
}

store::ProvisionerKeyRow ProvisionerKeys::authenticate(std::string_view secret) {
  if (secret.empty())
    throw Error{ErrorCode::unauthenticated, "Provisioner daemon key required.",
                std::string("Send the key in the ") + sdk::kProvisionerKeyHeader + " header."};
  auto key = store_.get_provisioner_key_by_hashed_secret(hash_secret(secret));
  if (!key) throw Error{ErrorCode::unauthenticated, "Provisioner daemon key invalid."};
  return *key;
}

}  // namespace berth::coderd
