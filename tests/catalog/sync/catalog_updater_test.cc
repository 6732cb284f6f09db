#include "services/catalog/sync/catalog_updater.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/watch/deployment_feed.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::testing::ElementsAre;

modelcatalog::v1::Model Custom(const std::string& id, const std::string& status,
                               const std::string& display_name = "") {
  modelcatalog::v1::Model model = MakeModel(id, display_name);
  model.add_deployments()->set_status_raw(status);
  return model;
}

std::vector<std::string> Describe(const std::vector<DeploymentChange>& changes) {
  std::vector<std::string> out;
  for (const DeploymentChange& c : changes) {
    const char* kind = c.kind == DeploymentChange::Kind::kAdded     ? "added"
                       : c.kind == DeploymentChange::Kind::kRemoved ? "removed"
                                                                    : "changed";
    std::string from = c.before.empty() ? "-" : c.before[0].status_raw();
    std::string to = c.after.empty() ? "-" : c.after[0].status_raw();
    out.push_back(std::string(kind) + " " + c.model_id + " " + from + "->" + to);
  }
  return out;
}

TEST(DiffDeploymentsTest, FindsAdditionsRemovalsAndStatusChangesOnly) {
  auto before = CatalogSnapshot::Build(
      {Custom("a", "active"), Custom("b", "inactive"), Custom("c", "deploying"), MakeModel("d")}, 1,
      absl::UnixEpoch());
  auto after = CatalogSnapshot::Build({Custom("a", "active", "Renamed"), Custom("c", "active"),
                                       MakeModel("d"), Custom("e", "deploying")},
                                      2, absl::UnixEpoch());
  EXPECT_THAT(
      Describe(DiffDeployments(before.get(), *after, absl::UnixEpoch())),
      ElementsAre("removed b inactive->-", "changed c deploying->active", "added e -->deploying"));
  EXPECT_TRUE(DiffDeployments(nullptr, *after, absl::UnixEpoch()).empty());
}

class CatalogUpdaterTest : public ::testing::Test {
 protected:
  absl::Time now_ = absl::FromUnixSeconds(1764000000);
  CatalogStore store_;
  DeploymentFeed feed_;
  CatalogUpdater updater_{&store_, {&feed_}, [this] { return now_; }};
};

TEST_F(CatalogUpdaterTest, SyncPublishesRevisionsAndFeedsChanges) {
  auto first = updater_.ApplySync({Custom("a", "inactive"), MakeModel("b")}, now_);
  EXPECT_TRUE(first.changed);
  EXPECT_EQ(first.revision, 1);
  EXPECT_EQ(feed_.revision(), 0);  // the first catalog is the initial state, not a change
  auto same = updater_.ApplySync({MakeModel("b"), Custom("a", "inactive")}, now_);
  EXPECT_FALSE(same.changed);
  EXPECT_EQ(same.revision, 1);
  auto next = updater_.ApplySync({Custom("a", "deploying"), MakeModel("b"), MakeModel("c")}, now_);
  EXPECT_TRUE(next.changed);
  EXPECT_EQ(next.revision, 2);
  EXPECT_EQ(store_.Current()->revision(), 2);
  EXPECT_EQ(feed_.revision(), 2);  // a changed, c added
}

TEST_F(CatalogUpdaterTest, LiveObservationPatchesTheStoreAndFeedsOneChange) {
  updater_.ApplySync({Custom("a", "inactive"), MakeModel("b")}, now_);
  absl::StatusOr<modelcatalog::v1::Model> served =
      updater_.ApplyLive(Custom("a", "deploying"), now_ + absl::Seconds(1));
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->deployments(0).status_raw(), "deploying");
  EXPECT_EQ(store_.Current()->Find("a")->model().deployments(0).status_raw(), "deploying");
  EXPECT_EQ(store_.Current()->revision(), 2);
  EXPECT_EQ(feed_.revision(), 1);

  // The same observation again changes nothing.
  ASSERT_TRUE(updater_.ApplyLive(Custom("a", "deploying"), now_ + absl::Seconds(2)).ok());
  EXPECT_EQ(store_.Current()->revision(), 2);
  EXPECT_EQ(feed_.revision(), 1);

  absl::StatusOr<modelcatalog::v1::Model> missing =
      updater_.ApplyLive(Custom("zzz", "active"), now_);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Model not found: zzz");
}

TEST_F(CatalogUpdaterTest, ASyncFetchedBeforeALiveObservationDoesNotUndoIt) {
  updater_.ApplySync({Custom("a", "inactive")}, now_);
  const absl::Time fetch_started = now_ + absl::Seconds(1);
  ASSERT_TRUE(updater_.ApplyLive(Custom("a", "deploying"), now_ + absl::Seconds(2)).ok());
  // This sync's fetch began before the activation was observed: its
  // "inactive" is older news.
  updater_.ApplySync({Custom("a", "inactive", "Renamed")}, fetch_started);
  EXPECT_EQ(store_.Current()->Find("a")->model().deployments(0).status_raw(), "deploying");
  EXPECT_EQ(store_.Current()->Find("a")->model().display_name(), "Renamed");
  // A sync fetched after the observation is authoritative again.
  updater_.ApplySync({Custom("a", "active")}, now_ + absl::Seconds(3));
  EXPECT_EQ(store_.Current()->Find("a")->model().deployments(0).status_raw(), "active");
}

}  // namespace
}  // namespace modelcatalog::catalog
