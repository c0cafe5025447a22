#pragma once

#include <mutex>
#include <string>

#include "store/sqlite/statement.hpp"
#include "store/store.hpp"

namespace berth::store::sqlite {

// The embedded backend: one SQLite file in WAL mode. One connection serves every thread,
// serialized by a mutex; a transaction holds it from BEGIN to COMMIT.
class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) and migrates the database at `path`.
  explicit SqliteStore(const std::string& path);

  void in_tx(const std::function<void(Store&)>& fn) override;

  std::optional<std::string> get_site_config(const std::string& key) override;
  void upsert_site_config(const std::string& key, const std::string& value) override;

  // Users
  void insert_user(const UserRow& row) override;
  std::optional<UserRow> get_user_by_id(const Uuid& id) override;
  std::optional<UserRow> get_user_by_username(const std::string& username) override;
  std::optional<UserRow> get_user_by_email(const std::string& email) override;
  std::int64_t count_users() override;
  UserPage list_users(const ListUsersParams& params) override;
  void update_user_roles_by_id(const Uuid& id, const std::vector<std::string>& roles,
                               TimePoint updated_at) override;
  void update_user_last_seen_at_by_id(const Uuid& id, TimePoint last_seen_at) override;
  void update_user_status_by_id(const Uuid& id, const std::string& status,
                                TimePoint updated_at) override;

  // Organizations
  void insert_organization(const OrganizationRow& row) override;
  std::optional<OrganizationRow> get_organization_by_id(const Uuid& id) override;
  std::optional<OrganizationRow> get_organization_by_name(const std::string& name) override;
  std::optional<OrganizationRow> get_default_organization() override;
  std::vector<OrganizationRow> list_organizations() override;
  std::vector<OrganizationRow> list_organizations_by_user_id(const Uuid& user_id) override;

  // Organization members
  void insert_organization_member(const OrganizationMemberRow& row) override;
  std::vector<OrganizationMemberRow> list_organization_members_by_organization_id(
      const Uuid& organization_id) override;
  std::vector<OrganizationMemberRow> list_organization_members_by_user_id(
      const Uuid& user_id) override;

  // API keys
  void insert_api_key(const ApiKeyRow& row) override;
  std::optional<ApiKeyRow> get_api_key_by_id(const std::string& id) override;
  std::optional<ApiKeyRow> get_api_key_by_name(const Uuid& user_id,
                                               const std::string& token_name) override;
  std::vector<ApiKeyRow> list_api_keys_by_user_id_and_login_type(
      const Uuid& user_id, const std::string& login_type) override;
  std::vector<ApiKeyRow> list_api_keys_by_login_type(const std::string& login_type) override;
  void update_api_key_usage_by_id(const std::string& id, TimePoint last_used, TimePoint expires_at,
                                  const std::string& ip_address) override;
  bool delete_api_key_by_id(const std::string& id) override;

 private:
  std::recursive_mutex mutex_;
  Database db_;
  int tx_depth_ = 0;  // guarded by mutex_
};

}  // namespace berth::store::sqlite
