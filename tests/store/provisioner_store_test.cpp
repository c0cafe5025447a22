// Provisioner keys, the daemon registry, Coder's tag rules in acquire and the queue position
// per eligible daemon, through the Store: on SQLite here and on PostgreSQL in the suite's
// `postgres.` variant (its filter takes every *StoreConformance* suite).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace berth::store {
namespace {

using Tags = std::map<std::string, std::string>;
using Position = std::pair<std::int64_t, std::int64_t>;

const Tags kUntagged = {{"scope", "organization"}, {"owner", ""}};

Tags with(Tags extra) {
  auto tags = kUntagged;
  tags.insert(extra.begin(), extra.end());
  return tags;
}

TimePoint at(int seconds) {
  return from_unix_micros(1'700'000'000'000'000LL + seconds * 1'000'000LL);
}

class ProvisionerStoreConformance : public ::testing::Test {
 protected:
  ProvisionerStoreConformance() {
    owner_ = UserRow{Uuid::random_v4(),
                     "p@example.com",
                     "p",
                     "",
                     "hash",
                     at(0),
                     at(0),
                     "active",
                     {},
                     "password",
                     "",
                     at(0),
                     false};
    store_->insert_user(owner_);
    org_ = make_org("first", true);
    other_org_ = make_org("second", false);
    file_ = FileRow{
        Uuid::random_v4(), std::string(64, 'f'), owner_.id, at(0), "application/x-tar", "data"};
    store_->insert_file(file_);
  }

  OrganizationRow make_org(const std::string& name, bool is_default) {
    OrganizationRow org{Uuid::random_v4(), name, name, "", "", is_default, at(0), at(0)};
    store_->insert_organization(org);
    return org;
  }

  ProvisionerJobRow make_job(Tags tags, int seconds, const OrganizationRow* org = nullptr) {
    ProvisionerJobRow job;
    job.id = Uuid::random_v4();
    job.created_at = job.updated_at = at(seconds);
    job.organization_id = (org ? *org : org_).id;
    job.initiator_id = owner_.id;
    job.provisioner = "terraform";
    job.storage_method = "file";
    job.type = "template_version_import";
    job.file_id = file_.id;
    job.input = ProvisionerJobInput{Uuid::random_v4(), std::nullopt, {}};
    job.tags = std::move(tags);
    store_->insert_provisioner_job(job);
    return job;
  }

  // A daemon seen at `seconds`; built in (every organization) unless given one.
  ProvisionerDaemonRow make_daemon(const std::string& name, Tags tags, int seconds,
                                   std::optional<Uuid> organization = std::nullopt) {
    ProvisionerDaemonRow d{.id = Uuid::random_v4(),
                           .created_at = at(seconds),
                           .organization_id = organization,
                           .name = name,
                           .key_id = organization ? std::optional(Uuid::random_v4()) : std::nullopt,
                           .tags = std::move(tags),
                           .provisioners = {"terraform"},
                           .version = "v1",
                           .api_version = "1.0",
                           .last_seen_at = at(seconds)};
    store_->upsert_provisioner_daemon(d);
    return d;
  }

  std::optional<ProvisionerJobRow> claim(Tags tags, std::optional<Uuid> organization = {}) {
    return store_->acquire_provisioner_job(AcquireJobParams{.worker_id = Uuid::random_v4(),
                                                            .worker_name = "w",
                                                            .organization_id = organization,
                                                            .tags = std::move(tags),
                                                            .provisioners = {"terraform"},
                                                            .now = at(100)});
  }

  // Daemons seen from second 50 on count as online.
  Position position(const ProvisionerJobRow& job) {
    return store_->get_provisioner_job_queue_position(job.id, at(50));
  }

  ProvisionerKeyRow make_key(const std::string& name, const OrganizationRow& org,
                             const std::string& hash) {
    ProvisionerKeyRow key{.id = Uuid::random_v4(),
                          .created_at = at(1),
                          .organization_id = org.id,
                          .name = name,
                          .hashed_secret = hash,
                          .tags = {{"region", "eu"}, {"quote", "it's \"x\""}}};
    store_->insert_provisioner_key(key);
    return key;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_ = testing::open_test_store(dir_);
  UserRow owner_;
  OrganizationRow org_;
  OrganizationRow other_org_;
  FileRow file_;
};

// Coder's rules: an untagged job (only scope/owner) runs only on an untagged daemon; any other
// job needs all its tags among the daemon's.
TEST_F(ProvisionerStoreConformance, AcquireFollowsCodersTagRules) {
  struct Case {
    const char* what;
    Tags daemon;
    Tags job;
    bool runs;
  };
  const std::vector<Case> cases = {
      {"untagged on untagged", kUntagged, kUntagged, true},
      {"untagged on tagged", with({{"env", "dev"}}), kUntagged, false},
      {"tagged on untagged", kUntagged, with({{"env", "prod"}}), false},
      {"tagged on the same tags", with({{"env", "prod"}}), with({{"env", "prod"}}), true},
      {"tagged on more tags", with({{"env", "prod"}, {"gpu", "1"}}), with({{"env", "prod"}}), true},
      {"tagged on another value", with({{"env", "dev"}}), with({{"env", "prod"}}), false},
      {"user-scoped on its owner's",
       {{"scope", "user"}, {"owner", "u1"}},
       {{"scope", "user"}, {"owner", "u1"}},
       true},
      {"user-scoped on another owner's",
       {{"scope", "user"}, {"owner", "u2"}},
       {{"scope", "user"}, {"owner", "u1"}},
       false},
      {"no scope tags at all", {}, kUntagged, false},
  };
  int second = 0;
  for (const auto& c : cases) {
    auto job = make_job(c.job, ++second);
    auto got = claim(c.daemon);
    EXPECT_EQ(got.has_value(), c.runs) << c.what;
    if (got) {
      EXPECT_EQ(got->id, job.id) << c.what;
    } else {
      store_->update_provisioner_job_canceled_by_id(job.id, at(second), true);
    }
  }
}

TEST_F(ProvisionerStoreConformance, AcquireTakesOnlyItsOrganizationsJobsUnlessBuiltIn) {
  auto theirs = make_job(kUntagged, 1, &other_org_);
  EXPECT_FALSE(claim(kUntagged, org_.id));
  auto ours = make_job(kUntagged, 2);
  EXPECT_EQ(claim(kUntagged, org_.id)->id, ours.id);
  EXPECT_EQ(claim(kUntagged)->id, theirs.id);  // built in: every organization
}

TEST_F(ProvisionerStoreConformance, QueuePositionCountsOnlyJobsTheSameDaemonsMayRun) {
  make_daemon("plain", kUntagged, 60);
  make_daemon("prod", with({{"env", "prod"}}), 60);
  auto u1 = make_job(kUntagged, 1);
  auto p1 = make_job(with({{"env", "prod"}}), 2);
  auto u2 = make_job(kUntagged, 3);
  auto p2 = make_job(with({{"env", "prod"}}), 4);
  EXPECT_EQ(position(u1), Position(1, 2));
  EXPECT_EQ(position(p1), Position(1, 2));
  EXPECT_EQ(position(u2), Position(2, 2));
  EXPECT_EQ(position(p2), Position(2, 2));
  ASSERT_EQ(claim(with({{"env", "prod"}}))->id, p1.id);
  EXPECT_EQ(position(p1), Position(0, 0));  // running: not queued
  EXPECT_EQ(position(p2), Position(1, 1));
  EXPECT_EQ(position(u2), Position(2, 2));
}

TEST_F(ProvisionerStoreConformance, QueuePositionIsTheBestOverEligibleDaemons) {
  make_daemon("prod", with({{"env", "prod"}}), 60);
  make_daemon("gpu", with({{"env", "prod"}, {"gpu", "1"}}), 60);
  auto gpu = make_job(with({{"env", "prod"}, {"gpu", "1"}}), 1);
  auto prod = make_job(with({{"env", "prod"}}), 2);
  // prod is first for the prod daemon, second for the gpu one (behind gpu); the queue it is in
  // is the longest of the two.
  EXPECT_EQ(position(prod), Position(1, 2));
  EXPECT_EQ(position(gpu), Position(1, 2));
}

TEST_F(ProvisionerStoreConformance, QueuePositionIgnoresOfflineAndOtherOrganizationsDaemons) {
  make_daemon("stale", with({{"env", "prod"}}), 10);  // last seen before second 50
  make_daemon("elsewhere", with({{"env", "prod"}}), 60, other_org_.id);
  // No eligible daemon: the job waits behind the jobs with its tags in its organization.
  auto a = make_job(with({{"env", "prod"}}), 1);
  auto other_tags = make_job(with({{"env", "dev"}}), 2);
  auto b = make_job(with({{"env", "prod"}}), 3);
  make_job(with({{"env", "prod"}}), 4, &other_org_);
  EXPECT_EQ(position(a), Position(1, 2));
  EXPECT_EQ(position(b), Position(2, 2));
  EXPECT_EQ(position(other_tags), Position(1, 1));
  // Its organization's daemon comes online: that daemon's queue.
  make_daemon("ours", with({{"env", "prod"}, {"env2", "x"}}), 60, org_.id);
  EXPECT_EQ(position(b), Position(2, 2));
}

TEST_F(ProvisionerStoreConformance, KeysAreUniquePerOrganizationAndFoundByHash) {
  auto key = make_key("alpha", org_, "hash-a");
  make_key("beta", org_, "hash-b");
  make_key("alpha", other_org_, "hash-c");  // another organization may reuse the name
  EXPECT_THROW(
      {
        try {
          make_key("ALPHA", org_, "hash-d");
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), ErrorCode::conflict);
          throw;
        }
      },
      Error);
  auto found = store_->get_provisioner_key_by_hashed_secret("hash-a");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, key.id);
  EXPECT_EQ(found->organization_id, org_.id);
  EXPECT_EQ(found->name, "alpha");
  EXPECT_EQ(found->tags, key.tags);
  EXPECT_EQ(found->created_at, at(1));
  EXPECT_EQ(store_->get_provisioner_key_by_name(org_.id, "Alpha")->id, key.id);
  auto listed = store_->list_provisioner_keys_by_organization_id(org_.id);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, "alpha");
  EXPECT_EQ(listed[1].name, "beta");
  EXPECT_TRUE(store_->delete_provisioner_key_by_id(key.id));
  EXPECT_FALSE(store_->delete_provisioner_key_by_id(key.id));
  EXPECT_FALSE(store_->get_provisioner_key_by_hashed_secret("hash-a"));
  EXPECT_EQ(store_->list_provisioner_keys_by_organization_id(org_.id).size(), 1u);
}

TEST_F(ProvisionerStoreConformance, DaemonsKeepTheirRowAndJobs) {
  auto d = make_daemon("d", with({{"env", "prod"}}), 1, org_.id);
  auto built_in = make_daemon("built-in-0", kUntagged, 2);
  make_daemon("theirs", kUntagged, 3, other_org_.id);
  auto job = make_job(kUntagged, 4);
  store_->update_provisioner_daemon_current_job_by_id(d.id, job.id);
  d.last_seen_at = at(9);
  d.version = "v2";
  store_->upsert_provisioner_daemon(d);  // the job columns are left alone
  auto row = *store_->get_provisioner_daemon_by_id(d.id);
  EXPECT_EQ(row.created_at, at(1));
  EXPECT_EQ(row.last_seen_at, at(9));
  EXPECT_EQ(row.version, "v2");
  EXPECT_EQ(row.tags, d.tags);
  EXPECT_EQ(row.provisioners, std::vector<std::string>{"terraform"});
  EXPECT_EQ(row.key_id, d.key_id);
  EXPECT_EQ(row.organization_id, org_.id);
  EXPECT_EQ(row.current_job_id, job.id);
  EXPECT_FALSE(row.previous_job_id);

  store_->update_provisioner_daemon_job_finished(job.id);
  row = *store_->get_provisioner_daemon_by_id(d.id);
  EXPECT_FALSE(row.current_job_id);
  EXPECT_EQ(row.previous_job_id, job.id);
  store_->update_provisioner_daemon_last_seen_by_id(d.id, at(20));
  EXPECT_EQ(store_->get_provisioner_daemon_by_id(d.id)->last_seen_at, at(20));

  // The organization's daemons and the built-in ones, oldest first.
  auto listed = store_->list_provisioner_daemons_by_organization_id(org_.id, 0);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, "d");
  EXPECT_EQ(listed[1].name, "built-in-0");
  EXPECT_FALSE(listed[1].organization_id);
  EXPECT_EQ(store_->list_provisioner_daemons_by_organization_id(org_.id, 1).size(), 1u);

  // Restarted under a new id: the old row of that name and key goes, other names stay, and so
  // does a daemon of that name under another key.
  auto again = make_daemon("d", kUntagged, 30, org_.id);
  auto other_key = make_daemon("d", kUntagged, 30, org_.id);
  store_->delete_provisioner_daemons_by_name(org_.id, "d", d.key_id, again.id);
  store_->delete_provisioner_daemons_by_name(std::nullopt, "built-in-0", std::nullopt, built_in.id);
  EXPECT_FALSE(store_->get_provisioner_daemon_by_id(d.id));
  EXPECT_TRUE(store_->get_provisioner_daemon_by_id(other_key.id));
  store_->delete_provisioner_daemons_by_key_id(*other_key.key_id);
  EXPECT_TRUE(store_->get_provisioner_daemon_by_id(again.id));
  EXPECT_TRUE(store_->get_provisioner_daemon_by_id(built_in.id));
  store_->delete_provisioner_daemons_by_key_id(*again.key_id);
  EXPECT_FALSE(store_->get_provisioner_daemon_by_id(again.id));
  // Silent ones are forgotten; built_in was last seen at 2, theirs at 3.
  EXPECT_EQ(store_->delete_provisioner_daemons_seen_before(at(3)), 1);
  EXPECT_FALSE(store_->get_provisioner_daemon_by_id(built_in.id));
  EXPECT_EQ(store_->list_provisioner_daemons_by_organization_id(other_org_.id, 0).size(), 1u);
}

}  // namespace
}  // namespace berth::store
