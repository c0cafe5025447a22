#include "coderd/api_keys.hpp"

#include <fmt/format.h>

#include "common/crypto.hpp"
#include "common/error.hpp"

namespace berth::coderd {

namespace {

constexpr std::size_t kKeyIdLength = 10;
constexpr std::size_t kSecretLength = 22;
constexpr auto kUsageWriteInterval = std::chrono::hours(1);

[[noreturn]] void signed_out(std::string detail) {
  throw Error{ErrorCode::unauthenticated, kSignedOutMessage, std::move(detail)};
}

// Go prints time.Time as "2006-01-02 15:04:05.999999999 -0700 MST"; Coder's expiry message
// embeds that form.
std::string go_time_string(TimePoint t) {
  auto text = format_rfc3339(t);  // 2006-01-02T15:04:05.999999Z
  text[10] = ' ';
  text.pop_back();
  text.append(" +0000 UTC");
  return text;
}

[[noreturn]] void expired(TimePoint expires_at) {
  signed_out(fmt::format("API key expired at \"{}\".", go_time_string(expires_at)));
}

// Whether a request now must write the key's last use and slide its expiry (Coder's hourly
// refresh).
bool usage_due(const store::ApiKeyRow& key, TimePoint now) {
  auto lifetime = std::chrono::seconds(key.lifetime_seconds);
  return now - key.last_used > kUsageWriteInterval ||
         key.expires_at - now <= lifetime - kUsageWriteInterval;
}

constexpr std::string_view kUserPrefix = "user:";
constexpr std::string_view kKeyPrefix = "key:";

}  // namespace

ApiKeys::ApiKeys(store::Store& store, const Clock& clock, TokenPolicy policy)
    : store_(store), clock_(clock), policy_(policy) {}

ApiKeys::ApiKeys(store::Store& store, store::Pubsub& pubsub, const Clock& clock, TokenPolicy policy)
    : store_(store), pubsub_(&pubsub), clock_(clock), policy_(policy) {
  subscription_ = pubsub.subscribe(kSessionInvalidationChannel, [this](const std::string& message) {
    on_invalidation(message);
  });
}

NewApiKey ApiKeys::create(const Uuid& user_id, const std::string& login_type,
                          std::chrono::seconds lifetime, const std::string& token_name,
                          const std::string& ip_address) {
  auto now = clock_.now();
  std::string id = random_alphanumeric(kKeyIdLength);
  std::string secret = random_alphanumeric(kSecretLength);
  store::ApiKeyRow row{id,
                       sha256(secret),
                       user_id,
                       TimePoint{},  // never used yet: Coder stores the Unix epoch
                       now + lifetime,
                       now,
                       now,
                       login_type,
                       lifetime.count(),
                       ip_address,
                       "all",
                       token_name};
  store_.insert_api_key(row);
  return NewApiKey{row, id + "-" + secret};
}

Error missing_token_error() {
  return Error{ErrorCode::unauthenticated, kSignedOutMessage,
               "Cookie \"coder_session_token\" or query parameter must be provided."};
}

std::shared_ptr<const Authenticated> ApiKeys::authenticate(std::string_view token,
                                                           const std::string& ip_address) {
  if (token.empty()) throw missing_token_error();
  auto dash = token.find('-');
  if (dash == std::string_view::npos || token.find('-', dash + 1) != std::string_view::npos) {
    auto parts = std::count(token.begin(), token.end(), '-') + 1;
    signed_out(fmt::format(
        "Invalid API key format: incorrect amount of API key parts, expected 2 got {}", parts));
  }
  auto id = token.substr(0, dash);
  auto secret = token.substr(dash + 1);
  if (id.size() != kKeyIdLength)
    signed_out(fmt::format("Invalid API key format: invalid API key ID length, expected {} got {}",
                           kKeyIdLength, id.size()));
  if (secret.size() != kSecretLength)
    signed_out(
        fmt::format("Invalid API key format: invalid API key secret length, expected {} got {}",
                    kSecretLength, secret.size()));
  auto hashed_secret = sha256(secret);
  auto now = clock_.now();
  // A cached session answers the same as the rows it was built from: it holds only active,
  // undeleted users, and every change to its rows drops it (see the class comment).
  if (auto hit = cache_.find(id)) {
    if (!constant_time_equal(hashed_secret, hit->key.hashed_secret))
      signed_out("API key secret is invalid.");
    if (hit->key.expires_at <= now) expired(hit->key.expires_at);
    if (!usage_due(hit->key, now)) return hit;
    // Time for the hourly usage write: from fresh rows, below.
  }
  auto epoch = cache_.epoch();
  auto key = store_.get_api_key_by_id(std::string(id));
  if (!key) signed_out("API key is invalid.");
  if (!constant_time_equal(hashed_secret, key->hashed_secret))
    signed_out("API key secret is invalid.");
  if (key->expires_at <= now) expired(key->expires_at);
  auto user = store_.get_user_by_id(key->user_id);
  if (!user || user->deleted) signed_out("API key is invalid.");
  bool user_written = false;
  if (user->status == "dormant") {
    store_.update_user_status_by_id(user->id, "active", now);
    user->status = "active";
    user_written = true;
  }
  if (user->status != "active")
    throw Error{ErrorCode::unauthenticated,
                fmt::format("User is not active (status = \"{}\"). Contact an admin to "
                            "reactivate your account.",
                            user->status)};
  bool changed = false;
  if (now - key->last_used > kUsageWriteInterval) {
    key->last_used = now;
    key->ip_address = ip_address;
    changed = true;
  }
  auto lifetime = std::chrono::seconds(key->lifetime_seconds);
  if (key->expires_at - now <= lifetime - kUsageWriteInterval) {
    key->expires_at = now + lifetime;
    changed = true;
  }
  if (changed) {
    store_.update_api_key_usage_by_id(key->id, key->last_used, key->expires_at, key->ip_address);
    store_.update_user_last_seen_at_by_id(user->id, now);
    user->last_seen_at = now;
    user_written = true;
  }
  auto members = store_.list_organization_members_by_user_id(user->id);
  Subject subject{user->id, user->rbac_roles, {}};
  std::vector<Uuid> organization_ids;
  for (auto& member : members) {
    organization_ids.push_back(member.organization_id);
    subject.organization_roles[member.organization_id] = std::move(member.roles);
  }
  auto session = std::make_shared<const Authenticated>(Authenticated{
      std::move(*user), std::move(*key), std::move(subject), std::move(organization_ids)});
  // After a write, the user's other sessions hold an old row: drop them all, and let the next
  // request of each load afresh (that write happens at most hourly per key).
  if (user_written)
    user_changed(session->user.id);
  else
    cache_.insert(epoch, session);
  return session;
}

bool ApiKeys::revoke(const std::string& key_id) {
  bool deleted = store_.delete_api_key_by_id(key_id);
  cache_.drop_key(key_id);
  if (pubsub_) pubsub_->publish(kSessionInvalidationChannel, std::string(kKeyPrefix) + key_id);
  return deleted;
}

void ApiKeys::user_changed(const Uuid& user_id) {
  cache_.drop_user(user_id);
  if (pubsub_)
    pubsub_->publish(kSessionInvalidationChannel, std::string(kUserPrefix) + user_id.to_string());
}

void ApiKeys::on_invalidation(const std::string& message) {
  std::string_view m = message;
  if (m.starts_with(kKeyPrefix)) {
    cache_.drop_key(m.substr(kKeyPrefix.size()));
  } else if (auto user = m.starts_with(kUserPrefix) ? Uuid::parse(m.substr(kUserPrefix.size()))
                                                    : std::nullopt) {
    cache_.drop_user(*user);
  } else {
    cache_.clear();  // a message this version does not know: forget everything, to be safe
  }
}

Subject ApiKeys::subject_for(const store::UserRow& user) {
  Subject subject{user.id, user.rbac_roles, {}};
  for (auto& member : store_.list_organization_members_by_user_id(user.id))
    subject.organization_roles[member.organization_id] = std::move(member.roles);
  return subject;
}

}  // namespace berth::coderd
