#include "services/catalog/catalog_syncer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;

// The syncer is driven directly through SyncOnce with an in-memory source: no
// timers, no sleeps.
class CatalogSyncerTest : public ::testing::Test {
 protected:
  CatalogSyncerTest() {
    CatalogSyncerOptions options;
    options.clock = [this] { return now_; };
    updater_.SetOnPublish([this] { publishes_.push_back(store_.Current()->revision()); });
    syncer_ = std::make_unique<CatalogSyncer>([this] { return next_; }, &updater_, &status_, options);
  }

  void HubReturns(std::vector<modelcatalog::v1::Model> models) {
    hub::ParsedModelList list;
    list.models = std::move(models);
    next_ = std::move(list);
  }

  absl::Time now_ = absl::FromUnixSeconds(1764000000);
  absl::StatusOr<hub::ParsedModelList> next_ = absl::UnavailableError("not set");
  CatalogStore store_;
  DeploymentFeed feed_;
  CatalogUpdater updater_{&store_, &feed_};
  SyncStatusRecorder status_{"hub"};
  std::vector<int64_t> publishes_;
  std::unique_ptr<CatalogSyncer> syncer_;
};

TEST_F(CatalogSyncerTest, FirstSyncPublishesRevisionOne) {
  HubReturns({MakeModel("a"), MakeModel("b")});
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  ASSERT_NE(store_.Current(), nullptr);
  EXPECT_EQ(store_.Current()->revision(), 1);
  EXPECT_EQ(store_.Current()->size(), 2u);
  EXPECT_THAT(publishes_, ::testing::ElementsAre(1));
  EXPECT_EQ(status_.Get().last_success_time, now_);
}

TEST_F(CatalogSyncerTest, UnchangedContentKeepsTheSnapshotAndRevision) {
  HubReturns({MakeModel("a"), MakeModel("b")});
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  auto first = store_.Current();
  HubReturns({MakeModel("b"), MakeModel("a")});  // same content, other order
  now_ += absl::Seconds(30);
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  EXPECT_EQ(store_.Current(), first);
  EXPECT_EQ(publishes_.size(), 1u);
  EXPECT_EQ(status_.Get().last_success_time, now_);
}

TEST_F(CatalogSyncerTest, ChangedContentPublishesTheNextRevision) {
  HubReturns({MakeModel("a")});
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  HubReturns({MakeModel("a", "Renamed")});
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  EXPECT_EQ(store_.Current()->revision(), 2);
  EXPECT_EQ(store_.Current()->Find("a")->model.display_name(), "Renamed");
  EXPECT_THAT(publishes_, ::testing::ElementsAre(1, 2));
}

TEST_F(CatalogSyncerTest, AFailedSyncKeepsServingTheLastGoodCatalog) {
  HubReturns({MakeModel("a"), MakeModel("b")});
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  const absl::Time success = now_;
  next_ = absl::UnavailableError("GET /models: connection refused");
  now_ += absl::Seconds(30);
  EXPECT_EQ(syncer_->SyncOnce().code(), absl::StatusCode::kUnavailable);
  now_ += absl::Seconds(30);
  EXPECT_FALSE(syncer_->SyncOnce().ok());
  EXPECT_EQ(store_.Current()->size(), 2u);
  const SyncStatus status = status_.Get();
  EXPECT_EQ(status.last_success_time, success);
  EXPECT_EQ(status.last_attempt_time, now_);
  EXPECT_EQ(status.last_error, "UNAVAILABLE: GET /models: connection refused");
  EXPECT_EQ(status.consecutive_failures, 2);
  // Recovery clears the error.
  HubReturns({MakeModel("a")});
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  EXPECT_EQ(status_.Get().consecutive_failures, 0);
  EXPECT_EQ(status_.Get().last_error, "");
}

TEST_F(CatalogSyncerTest, LoopSyncsAtOnceAndStopsPromptly) {
  HubReturns({MakeModel("a")});
  CatalogSyncerOptions options;
  options.interval = absl::Hours(1);
  absl::Notification published;
  CatalogStore store;
  DeploymentFeed feed;
  CatalogUpdater updater(&store, &feed);
  updater.SetOnPublish([&] { published.Notify(); });
  SyncStatusRecorder status("hub");
  CatalogSyncer syncer([this] { return next_; }, &updater, &status, options);
  syncer.Start();
  ASSERT_TRUE(published.WaitForNotificationWithTimeout(absl::Seconds(10)));
  syncer.Stop();  // must not wait for the hour-long interval
  EXPECT_EQ(store.Current()->size(), 1u);
}

}  // namespace
}  // namespace modelcatalog::catalog
