#pragma once

#include <memory>

#include "coderd/api_keys.hpp"
#include "coderd/organizations.hpp"
#include "coderd/users.hpp"
#include "common/clock.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace berth::coderd::testing {

inline TimePoint start_time() {
  return from_unix_micros(1'700'000'000'000'000LL);
}

// Real services on a real store (a SQLite file, or PostgreSQL in the suite's `postgres.`
// variant), with time under the test's control.
struct Services {
  berth::testing::TempDir dir;
  ManualClock clock{start_time()};
  std::unique_ptr<store::Store> owned_store = berth::testing::open_test_store(dir);
  store::Store& store = *owned_store;
  ApiKeys api_keys{store, clock, TokenPolicy{}};
  Users users{store, clock, api_keys};

  Services() { initialize_deployment(store, clock); }

  store::UserRow make_owner() {
    return users.create_first_user({"owner@example.com", "owner", "", "SomeStr0ng!Passw0rd"});
  }

  store::UserRow make_member(const store::UserRow& owner, const std::string& username) {
    CreateUserParams p;
    p.email = username + "@example.com";
    p.username = username;
    p.password = "SomeStr0ng!Passw0rd";
    p.organization_ids = {store.get_default_organization()->id};
    return users.create_user(api_keys.subject_for(owner), p);
  }
};

}  // namespace berth::coderd::testing
