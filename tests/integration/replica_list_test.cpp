// GET /api/v2/replicas: each `berth server` registers itself on the database and heartbeats;
// the list shows the live ones, from whichever replica is asked.
#include <gtest/gtest.h>
#include <limits.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/time.hpp"
#include "common/uuid.hpp"
#include "integration/fixtures.hpp"
#include "integration/server_process.hpp"
#include "support/polling.hpp"
#include "support/swagger_validator.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace berth::testing {
namespace {

std::string hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  EXPECT_EQ(::gethostname(name, sizeof name - 1), 0);
  return name;
}

// GET /replicas as `client`, checked against Coder's description.
json::array replicas(sdk::Client& client) {
  auto r = client.request("GET", "/api/v2/replicas");
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.status != 200) return {};
  static auto validator = SwaggerValidator::load_default();
  if (validator) {
    auto problems = validator->validate_response("GET", "/replicas", r.status, r.json());
    EXPECT_TRUE(problems.empty()) << describe(problems);
  }
  return r.json().as_array();
}

std::set<std::string> relay_addresses(sdk::Client& client) {
  std::set<std::string> out;
  for (const auto& r : replicas(client))
    out.insert(std::string(r.as_object().at("relay_address").as_string()));
  return out;
}

TEST(ReplicaList, OneServerListsItselfWithItsHostnameAndAccessUrl) {
  TempDir dir;
  ServerProcess server(dir.path().string());
  auto owner = sign_in_owner(server.url());
  auto list = replicas(owner);
  ASSERT_EQ(list.size(), 1u);
  const auto& me = list[0].as_object();
  EXPECT_TRUE(Uuid::parse(std::string(me.at("id").as_string())));
  EXPECT_EQ(me.at("hostname").as_string(), hostname());
  // No --relay-address: the access URL, which defaults to the bound address.
  EXPECT_EQ(me.at("relay_address").as_string(), server.url());
  EXPECT_EQ(me.at("region_id").as_int64(), 999);
  EXPECT_EQ(me.at("error").as_string(), "");
  EXPECT_TRUE(parse_rfc3339(std::string(me.at("created_at").as_string())));
  // The database round trip of the registration, in microseconds.
  EXPECT_GT(me.at("database_latency").as_int64(), 0);
  // Owners only, as in Coder; everyone else is told there is nothing there.
  auto member = sign_in_member(server.url(), owner, "alice");
  auto refused = member.request("GET", "/api/v2/replicas");
  EXPECT_EQ(refused.status, 404) << refused.body;
}

TEST(ReplicaList, TheRelayAddressIsTheOneGiven) {
  TempDir dir;
  ServerProcess server(dir.path().string(), {"--relay-address", "http://10.0.0.7:3000"});
  auto owner = sign_in_owner(server.url());
  EXPECT_EQ(relay_addresses(owner), std::set<std::string>{"http://10.0.0.7:3000"});
}

// Several servers on one PostgreSQL database, each with a data directory of its own.
TEST(ReplicaList, ReplicasOnOneDatabaseListEachOtherAndLeaveWhenStoppedOrKilled) {
  if (!on_postgres()) GTEST_SKIP() << "several replicas need PostgreSQL (the postgres. variant)";
  TempDir shared, dir_a, dir_b, dir_c;
  auto url = postgres_database_for(shared.path().string());
  // A short heartbeat, so that a killed replica drops out within seconds (3 intervals).
  auto flags = [&](const std::string& relay) {
    return std::vector<std::string>{
        "--postgres-url", url, "--relay-address", relay, "--replica-heartbeat-interval", "1s"};
  };
  ServerProcess a(dir_a.path().string(), flags("http://a.internal:3000"));
  auto on_a = sign_in_owner(a.url());
  auto b = std::make_unique<ServerProcess>(dir_b.path().string(), flags("http://b.internal:3000"));
  ServerProcess c(dir_c.path().string(), flags("http://c.internal:3000"));
  sdk::Client on_b(b->url());
  on_b.set_session_token(on_a.session_token());
  sdk::Client on_c(c.url());
  on_c.set_session_token(on_a.session_token());
  const std::set<std::string> all = {"http://a.internal:3000", "http://b.internal:3000",
                                     "http://c.internal:3000"};
  EXPECT_EQ(relay_addresses(on_a), all);
  EXPECT_EQ(relay_addresses(on_b), all);
  EXPECT_EQ(relay_addresses(on_c), all);

  // SIGTERM: B marks itself stopped on the way out, so it is gone at once.
  b.reset();
  EXPECT_EQ(relay_addresses(on_a),
            (std::set<std::string>{"http://a.internal:3000", "http://c.internal:3000"}));

  // SIGKILL: C's row stays until it has been silent for three heartbeats; C started again is a
  // new replica at the same address.
  std::set<std::string> c_ids;
  for (const auto& r : replicas(on_a))
    if (r.as_object().at("relay_address").as_string() == "http://c.internal:3000")
      c_ids.insert(std::string(r.as_object().at("id").as_string()));
  ASSERT_EQ(c_ids.size(), 1u);
  auto killed_id = *c_ids.begin();
  c.kill_and_restart();
  auto gone = [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a request per poll, not 200/s
    for (const auto& r : replicas(on_a))
      if (r.as_object().at("id").as_string() == killed_id) return false;
    return true;
  };
  ASSERT_TRUE(wait_until(gone, std::chrono::seconds(30))) << "the killed replica is still listed";
  std::vector<std::string> at_c;
  for (const auto& r : replicas(on_a))
    if (r.as_object().at("relay_address").as_string() == "http://c.internal:3000")
      at_c.push_back(std::string(r.as_object().at("id").as_string()));
  ASSERT_EQ(at_c.size(), 1u);
  EXPECT_NE(at_c[0], killed_id);
  EXPECT_EQ(relay_addresses(on_a),
            (std::set<std::string>{"http://a.internal:3000", "http://c.internal:3000"}));
}

}  // namespace
}  // namespace berth::testing
