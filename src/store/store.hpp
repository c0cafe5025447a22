#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/rows.hpp"

namespace berth::store {

// All persistent state, behind one interface with a SQLite and (later) a PostgreSQL backend.
// Methods are single statements; a caller that needs several atomically uses in_tx.
class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in one transaction with a Store bound to it; an exception rolls it back.
  // A nested call joins the open transaction.
  virtual void in_tx(const std::function<void(Store&)>& fn) = 0;

  // Site-wide settings (deployment id, ...).
  virtual std::optional<std::string> get_site_config(const std::string& key) = 0;
  virtual void upsert_site_config(const std::string& key, const std::string& value) = 0;

  // Users
  virtual void insert_user(const UserRow& row) = 0;
  virtual std::optional<UserRow> get_user_by_id(const Uuid& id) = 0;
  virtual std::optional<UserRow> get_user_by_username(const std::string& username) = 0;
  virtual std::optional<UserRow> get_user_by_email(const std::string& email) = 0;
  virtual std::int64_t count_users() = 0;
  virtual UserPage list_users(const ListUsersParams& params) = 0;
  virtual void update_user_roles_by_id(const Uuid& id, const std::vector<std::string>& roles,
                                       TimePoint updated_at) = 0;
  virtual void update_user_last_seen_at_by_id(const Uuid& id, TimePoint last_seen_at) = 0;
  virtual void update_user_status_by_id(const Uuid& id, const std::string& status,
                                        TimePoint updated_at) = 0;

  // Organizations
  virtual void insert_organization(const OrganizationRow& row) = 0;
  virtual std::optional<OrganizationRow> get_organization_by_id(const Uuid& id) = 0;
  virtual std::optional<OrganizationRow> get_organization_by_name(const std::string& name) = 0;
  virtual std::optional<OrganizationRow> get_default_organization() = 0;
  virtual std::vector<OrganizationRow> list_organizations() = 0;
  virtual std::vector<OrganizationRow> list_organizations_by_user_id(const Uuid& user_id) = 0;

  // Organization members
  virtual void insert_organization_member(const OrganizationMemberRow& row) = 0;
  virtual std::vector<OrganizationMemberRow> list_organization_members_by_organization_id(
      const Uuid& organization_id) = 0;
  virtual std::vector<OrganizationMemberRow> list_organization_members_by_user_id(
      const Uuid& user_id) = 0;

  // API keys
  virtual void insert_api_key(const ApiKeyRow& row) = 0;
  virtual std::optional<ApiKeyRow> get_api_key_by_id(const std::string& id) = 0;
  virtual std::optional<ApiKeyRow> get_api_key_by_name(const Uuid& user_id,
                                                       const std::string& token_name) = 0;
  virtual std::vector<ApiKeyRow> list_api_keys_by_user_id_and_login_type(
      const Uuid& user_id, const std::string& login_type) = 0;
  virtual std::vector<ApiKeyRow> list_api_keys_by_login_type(const std::string& login_type) = 0;
  virtual void update_api_key_usage_by_id(const std::string& id, TimePoint last_used,
                                          TimePoint expires_at, const std::string& ip_address) = 0;
  virtual bool delete_api_key_by_id(const std::string& id) = 0;
};

}  // namespace berth::store
