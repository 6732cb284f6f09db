#include "services/catalog/sync/catalog_syncer.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "clients/hub/hub_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/watch/change_feed.h"
#include "services/common/thread_priority.h"
#include "tests/catalog/sync/fake_catalog_source.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;

// A fetch that found `list`; its builder shares what `served` has unchanged.
absl::StatusOr<FetchedCatalog> Fetched(const absl::StatusOr<hub::ParsedModelList>& list,
                                       std::shared_ptr<const CatalogSnapshot> served = nullptr) {
  if (!list.ok()) return list.status();
  FetchedCatalog fetched;
  fetched.models = CatalogSnapshot::Builder(std::move(served));
  for (const modelcatalog::v1::Model& model : list->models) fetched.models.Add(model);
  fetched.rejected = list->rejected;
  return fetched;
}

// The revision of every catalog published, in order.
class PublishRecorder final : public CatalogListener {
 public:
  void OnCatalogPublished(const std::shared_ptr<const CatalogSnapshot>& snapshot,
                          const std::vector<ModelChange>& changes) override {
    revisions.push_back(snapshot->revision());
    if (published.HasBeenNotified()) return;
    published.Notify();
  }
  std::vector<int64_t> revisions;
  absl::Notification published;  // after the first
};

// The syncer is driven directly through SyncOnce with an in-memory source: no
// timers, no sleeps.
class CatalogSyncerTest : public ::testing::Test {
 protected:
  CatalogSyncerTest() {
    CatalogSyncerOptions options;
    options.clock = [this] { return now_; };
    options.retry.jitter = 0;  // exact delays to assert on
    options.sleep = [this](absl::Duration d) {
      sleeps_.push_back(d);
      return true;
    };
    source_.fetch_catalog = [this] { return Fetched(next_, source_.served_given.back()); };
    syncer_ = std::make_unique<CatalogSyncer>(&source_, &updater_, &status_, options);
  }

  void HubReturns(std::vector<modelcatalog::v1::Model> models) {
    hub::ParsedModelList list;
    list.models = std::move(models);
    next_ = std::move(list);
  }

  absl::Time now_ = absl::FromUnixSeconds(1764000000);
  std::vector<absl::Duration> sleeps_;
  absl::StatusOr<hub::ParsedModelList> next_ = absl::UnavailableError("not set");
  CatalogStore store_;
  ChangeFeed feed_;
  PublishRecorder publishes_;
  CatalogUpdater updater_{&store_, {&feed_, &publishes_}};
  SyncStatusRecorder status_{"hub"};
  FakeCatalogSource source_;
  std::unique_ptr<CatalogSyncer> syncer_;
};

TEST_F(CatalogSyncerTest, FirstSyncPublishesRevisionOne) {
  HubReturns({MakeModel("a"), MakeModel("b")});
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  ASSERT_NE(store_.Current(), nullptr);
  EXPECT_EQ(store_.Current()->revision(), 1);
  EXPECT_EQ(store_.Current()->size(), 2u);
  EXPECT_THAT(publishes_.revisions, ::testing::ElementsAre(1));
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
  EXPECT_EQ(publishes_.revisions.size(), 1u);
  EXPECT_EQ(status_.Get().last_success_time, now_);
  // Each fetch was given the catalog served then, to share what it finds unchanged.
  ASSERT_EQ(source_.served_given.size(), 2u);
  EXPECT_EQ(source_.served_given[0], nullptr);
  EXPECT_EQ(source_.served_given[1], first);
}

TEST_F(CatalogSyncerTest, ChangedContentPublishesTheNextRevision) {
  HubReturns({MakeModel("a")});
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  HubReturns({MakeModel("a", "Renamed")});
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  EXPECT_EQ(store_.Current()->revision(), 2);
  EXPECT_EQ(store_.Current()->Find("a")->model().display_name(), "Renamed");
  EXPECT_THAT(publishes_.revisions, ::testing::ElementsAre(1, 2));
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
  EXPECT_EQ(status.last_error, "UNAVAILABLE: GET /models: connection refused (after 4 attempts)");
  EXPECT_EQ(status.consecutive_failures, 2);
  // Recovery clears the error.
  HubReturns({MakeModel("a")});
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  EXPECT_EQ(status_.Get().consecutive_failures, 0);
  EXPECT_EQ(status_.Get().last_error, "");
}

TEST_F(CatalogSyncerTest, RetriesWithExponentialBackoff) {
  next_ = absl::UnavailableError("down");
  EXPECT_EQ(syncer_->SyncOnce().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(sleeps_, ::testing::ElementsAre(absl::Milliseconds(250), absl::Milliseconds(500),
                                              absl::Milliseconds(1000)));
}

TEST_F(CatalogSyncerTest, HonoursRetryAfterAndStopsRetryingWhatCannotPass) {
  absl::Status limited = absl::ResourceExhaustedError("slow down");
  hub::SetRetryAfter(&limited, absl::Seconds(3));
  next_ = limited;
  EXPECT_EQ(syncer_->SyncOnce().code(), absl::StatusCode::kResourceExhausted);
  // Retry-After is a floor under the backoff (250ms, 500ms, 1s).
  EXPECT_THAT(sleeps_,
              ::testing::ElementsAre(absl::Seconds(3), absl::Seconds(3), absl::Seconds(3)));
  sleeps_.clear();
  next_ = absl::UnauthenticatedError("unauthenticated");
  EXPECT_EQ(syncer_->SyncOnce().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(sleeps_.empty());
}

// A sync describes the catalog as it was when its successful attempt began.
// A live observation made while earlier attempts failed is older than that
// answer, and must not be kept over it.
TEST_F(CatalogSyncerTest, TheAttemptThatSucceededDatesTheCatalog) {
  modelcatalog::v1::Model deploying = MakeModel("c");
  deploying.add_deployments()->set_status_raw("deploying");
  HubReturns({deploying});
  ASSERT_TRUE(syncer_->SyncOnce().ok());

  modelcatalog::v1::Model active = MakeModel("c");
  active.add_deployments()->set_status_raw("active");
  modelcatalog::v1::Model inactive = MakeModel("c");
  inactive.add_deployments()->set_status_raw("inactive");
  int attempts = 0;
  FakeCatalogSource source;
  source.fetch_catalog = [&]() -> absl::StatusOr<FetchedCatalog> {
    if (++attempts == 1) return absl::UnavailableError("the hub is busy");
    FetchedCatalog fetched;
    fetched.models.Add(inactive);  // as the hub saw it at the second attempt
    return fetched;
  };
  CatalogSyncerOptions options;
  options.clock = [this] { return now_; };
  options.retry.jitter = 0;
  options.sleep = [&](absl::Duration) {
    now_ += absl::Seconds(1);
    EXPECT_TRUE(updater_.ApplyLive(active, now_).ok());  // seen live between the attempts
    now_ += absl::Seconds(1);
    return true;
  };
  CatalogSyncer syncer(&source, &updater_, &status_, options);
  now_ += absl::Seconds(30);
  const absl::Time second_attempt = now_ + absl::Seconds(2);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(store_.Current()->Find("c")->deployments[0].status_raw(), "inactive");
  EXPECT_EQ(status_.Get().last_success_time, second_attempt);
}

TEST_F(CatalogSyncerTest, RecoversWithinTheRetries) {
  int calls = 0;
  CatalogSyncerOptions options;
  options.sleep = [](absl::Duration) { return true; };
  FakeCatalogSource source;
  source.fetch_catalog = [&calls]() -> absl::StatusOr<FetchedCatalog> {
    if (++calls < 3) return absl::UnavailableError("flaky");
    FetchedCatalog fetched;
    fetched.models.Add(MakeModel("a"));
    return fetched;
  };
  CatalogSyncer syncer(&source, &updater_, &status_, options);
  EXPECT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(store_.Current()->size(), 1u);
}

TEST_F(CatalogSyncerTest, HoldsBackAMassRemovalUntilTheNextSyncConfirmsIt) {
  std::vector<modelcatalog::v1::Model> many;
  for (int i = 0; i < 20; ++i) many.push_back(MakeModel(absl::StrCat("m", i)));
  HubReturns(many);
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  HubReturns({});
  absl::Status suspect = syncer_->SyncOnce();
  EXPECT_EQ(suspect.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(suspect.message(),
            "suspect sync: the hub listed 0 models where the catalog has 20; not applied unless "
            "the next sync shows the same");
  EXPECT_EQ(store_.Current()->size(), 20u);
  // The hub recovers: nothing was lost, and the suspicion is forgotten.
  HubReturns(many);
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  HubReturns({});
  EXPECT_FALSE(syncer_->SyncOnce().ok());
  EXPECT_EQ(store_.Current()->size(), 20u);
  // Twice in a row: confirmed, applied.
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  EXPECT_EQ(store_.Current()->size(), 0u);
}

TEST_F(CatalogSyncerTest, ABadRecordKeepsItsModelsPreviousVersion) {
  HubReturns({MakeModel("a", "Alpha"), MakeModel("b", "Beta")});
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  hub::ParsedModelList list;
  list.models.push_back(MakeModel("a", "Alpha 2"));
  list.rejected.push_back(
      {1, "b", absl::InvalidArgumentError("data[1].created: expected an integer")});
  list.rejected.push_back({2, "", absl::InvalidArgumentError("data[2].id: expected a string")});
  next_ = list;
  ASSERT_TRUE(syncer_->SyncOnce().ok());
  EXPECT_EQ(store_.Current()->Find("a")->model().display_name(), "Alpha 2");
  ASSERT_NE(store_.Current()->Find("b"), nullptr);
  EXPECT_EQ(store_.Current()->Find("b")->model().display_name(), "Beta");
  const SyncStatus status = status_.Get();
  ASSERT_EQ(status.rejected.size(), 2u);
  EXPECT_EQ(status.rejected[0].id, "b");
  EXPECT_TRUE(status.rejected[0].kept_previous);
  EXPECT_EQ(status.rejected[0].error, "data[1].created: expected an integer");
  EXPECT_FALSE(status.rejected[1].kept_previous);
}

TEST_F(CatalogSyncerTest, LoopSyncsAtOnceAndStopsPromptly) {
  HubReturns({MakeModel("a")});
  CatalogSyncerOptions options;
  options.interval = absl::Hours(1);
  PublishRecorder publishes;
  CatalogStore store;
  CatalogUpdater updater(&store, {&publishes});
  SyncStatusRecorder status("hub");
  CatalogSyncer syncer(&source_, &updater, &status, options);
  syncer.Start();
  ASSERT_TRUE(publishes.published.WaitForNotificationWithTimeout(absl::Seconds(10)));
  syncer.Stop();  // must not wait for the hour-long interval
  EXPECT_EQ(store.Current()->size(), 1u);
}

TEST_F(CatalogSyncerTest, RecordsHowLongTheFetchAndTheApplyingTook) {
  HubReturns({MakeModel("a")});
  const absl::Time started = now_;
  CatalogSyncerOptions options;
  options.clock = [this] { return now_; };
  FakeCatalogSource source;
  source.fetch_catalog = [this] {
    now_ += absl::Seconds(3);  // the hub takes 3 s to answer...
    absl::StatusOr<FetchedCatalog> fetched = Fetched(next_);
    fetched->received_at = now_;
    now_ += absl::Milliseconds(1500);  // ...and reading its answer 1.5 s
    return fetched;
  };
  CatalogSyncer syncer(&source, &updater_, &status_, options);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  const SyncStatus status = status_.Get();
  EXPECT_EQ(status.last_attempt_time, started);
  EXPECT_EQ(status.last_fetch_duration, absl::Seconds(3));
  EXPECT_EQ(status.last_apply_duration, absl::Milliseconds(1500));
}

TEST_F(CatalogSyncerTest, AnAnswerOfUnknownArrivalCountsAsApplyingAllAlong) {
  HubReturns({MakeModel("a")});
  CatalogSyncerOptions options;
  options.clock = [this] { return now_; };
  FakeCatalogSource source;
  source.fetch_catalog = [this] {
    now_ += absl::Seconds(2);
    return Fetched(next_);  // received_at left unknown
  };
  CatalogSyncer syncer(&source, &updater_, &status_, options);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(status_.Get().last_fetch_duration, absl::ZeroDuration());
  EXPECT_EQ(status_.Get().last_apply_duration, absl::Seconds(2));
}

// The loop's thread syncs at idle CPU priority when asked to, and only then.
TEST_F(CatalogSyncerTest, TheLoopRunsAtIdlePriorityWhenAsked) {
  for (const bool idle : {true, false}) {
    HubReturns({MakeModel("a")});
    CatalogSyncerOptions options;
    options.interval = absl::Hours(1);
    options.idle_priority = idle;
    std::atomic<int> fetched_at_idle{-1};
    CatalogStore store;
    ChangeFeed feed;
    CatalogUpdater updater(&store, {&feed});
    SyncStatusRecorder status("hub");
    FakeCatalogSource source;
    source.fetch_catalog = [&] {
      fetched_at_idle = ThisThreadRunsAtIdlePriority() ? 1 : 0;
      return Fetched(next_);
    };
    CatalogSyncer syncer(&source, &updater, &status, options);
    syncer.Start();
    syncer.WaitForFirstSync();
    syncer.Stop();
    EXPECT_EQ(fetched_at_idle.load(), idle ? 1 : 0) << "idle_priority " << idle;
  }
  EXPECT_FALSE(ThisThreadRunsAtIdlePriority());  // the test's own thread is untouched
}

}  // namespace
}  // namespace modelcatalog::catalog
