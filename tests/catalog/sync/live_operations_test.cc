// LiveOperations with a catalog source the test controls: shared look-ups,
// each caller's deadline, a bounded queue, and what happens after Stop.
#include "services/catalog/sync/live_operations.h"

#include <atomic>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/watch/change_feed.h"
#include "tests/catalog/sync/fake_catalog_source.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;

modelcatalog::v1::Model Custom(const std::string& id, const std::string& status) {
  modelcatalog::v1::Model model = MakeModel(id);
  model.set_model_type(modelcatalog::v1::MODEL_TYPE_CUSTOM);
  model.set_model_type_raw("custom");
  model.add_deployments()->set_status_raw(status);
  return model;
}

modelcatalog::v1::Model Base(const std::string& id) {
  modelcatalog::v1::Model model = MakeModel(id);
  model.set_model_type(modelcatalog::v1::MODEL_TYPE_BASE);
  model.set_model_type_raw("base");
  return model;
}

// What a Done callback was given, once it has been.
class Answer {
 public:
  LiveOperations::Done Callback() {
    return [this](absl::StatusOr<modelcatalog::v1::Model> result) {
      result_ = std::move(result);
      done_.Notify();
    };
  }
  // The answer, waiting up to `within` for it.
  const absl::StatusOr<modelcatalog::v1::Model>& Get(absl::Duration within = absl::Seconds(10)) {
    EXPECT_TRUE(done_.WaitForNotificationWithTimeout(within)) << "no answer";
    return result_;
  }
  bool HasArrived() const { return done_.HasBeenNotified(); }

 private:
  absl::Notification done_;
  absl::StatusOr<modelcatalog::v1::Model> result_ = absl::UnknownError("no answer");
};

class LiveOperationsTest : public ::testing::Test {
 protected:
  LiveOperationsTest() {
    updater_.ApplySync({Custom("custom", "inactive"), Base("base")}, absl::Now());
    source_.fetch_live = [this](const std::string& id) -> absl::StatusOr<modelcatalog::v1::Model> {
      ++hub_calls_;
      if (hold_) release_.WaitForNotification();
      return Custom(id, "active");
    };
  }

  void Start(LiveOperationsOptions options = {}) {
    live_ = std::make_unique<LiveOperations>(&source_, &store_, &updater_, &poller_, options);
  }

  CatalogStore store_;
  ChangeFeed feed_;
  CatalogUpdater updater_{&store_, {&feed_}};
  FakeCatalogSource source_;
  DeploymentPoller poller_{&source_, &store_, &updater_, DeploymentPollerOptions()};
  std::atomic<int> hub_calls_{0};
  bool hold_ = false;  // set before the first call
  absl::Notification release_;
  std::unique_ptr<LiveOperations> live_;
};

TEST_F(LiveOperationsTest, ALiveLookUpUpdatesTheCatalog) {
  Start();
  Answer answer;
  live_->GetLive("custom", absl::InfiniteFuture(), answer.Callback());
  ASSERT_TRUE(answer.Get().ok()) << answer.Get().status();
  EXPECT_EQ(answer.Get()->deployments(0).status_raw(), "active");
  EXPECT_EQ(store_.Current()->Find("custom")->deployments[0].status_raw(), "active");
}

TEST_F(LiveOperationsTest, ConcurrentLookUpsOfOneModelShareOneHubCall) {
  hold_ = true;
  Start();
  Answer first, second;
  live_->GetLive("custom", absl::InfiniteFuture(), first.Callback());
  live_->GetLive("custom", absl::InfiniteFuture(), second.Callback());
  release_.Notify();
  EXPECT_TRUE(first.Get().ok());
  EXPECT_TRUE(second.Get().ok());
  EXPECT_EQ(hub_calls_.load(), 1);
}

// Each caller gets DEADLINE_EXCEEDED at its own deadline; the hub call goes
// on for the others, and its deadline is the latest of theirs.
TEST_F(LiveOperationsTest, EachCallerIsAnsweredByItsOwnDeadline) {
  absl::Notification asked;
  absl::Time seen_deadline;
  source_.fetch_live_with_deadline =
      [&](const std::string& id,
          const hub::RequestDeadline& deadline) -> absl::StatusOr<modelcatalog::v1::Model> {
    asked.Notify();
    release_.WaitForNotification();
    seen_deadline = deadline.Get();  // read once the late caller has joined
    return Custom(id, "active");
  };
  Start();
  Answer early, late;
  const absl::Time late_deadline = absl::Now() + absl::Hours(1);
  live_->GetLive("custom", absl::Now() + absl::Milliseconds(100), early.Callback());
  ASSERT_TRUE(asked.WaitForNotificationWithTimeout(absl::Seconds(10)));
  live_->GetLive("custom", late_deadline, late.Callback());
  const absl::StatusOr<modelcatalog::v1::Model>& early_answer = early.Get();
  EXPECT_EQ(early_answer.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(early_answer.status().message(),
            "the hub did not answer about custom before the caller's deadline");
  EXPECT_FALSE(late.HasArrived());
  release_.Notify();
  EXPECT_TRUE(late.Get().ok()) << late.Get().status();
  EXPECT_EQ(seen_deadline, late_deadline);
}

TEST_F(LiveOperationsTest, ADeadlineAlreadyPastIsRefusedWithoutAHubCall) {
  Start();
  Answer answer;
  live_->GetLive("custom", absl::Now() - absl::Seconds(1), answer.Callback());
  EXPECT_EQ(answer.Get().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(hub_calls_.load(), 0);
}

TEST_F(LiveOperationsTest, AFullQueueRefusesWithResourceExhausted) {
  hold_ = true;
  LiveOperationsOptions options;
  options.threads = 1;
  options.max_queued = 1;
  Start(options);
  updater_.ApplySync({Custom("a", "inactive"), Custom("b", "inactive"), Custom("c", "inactive")},
                     absl::Now());
  Answer running, queued, refused;
  live_->GetLive("a", absl::InfiniteFuture(), running.Callback());
  while (hub_calls_.load() == 0) absl::SleepFor(absl::Milliseconds(1));  // on the one thread
  live_->GetLive("b", absl::InfiniteFuture(), queued.Callback());
  live_->GetLive("c", absl::InfiniteFuture(), refused.Callback());
  ASSERT_TRUE(refused.HasArrived()) << "a refused call is answered at once";
  EXPECT_EQ(refused.Get().status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.Get().status().message(),
            "too many calls to the hub are waiting (1): retry shortly");
  release_.Notify();
  EXPECT_TRUE(running.Get().ok());
  EXPECT_TRUE(queued.Get().ok());
}

TEST_F(LiveOperationsTest, CallsAfterStopAreAnsweredUnavailable) {
  Start();
  live_->Stop();
  Answer look_up, activate;
  live_->GetLive("custom", absl::InfiniteFuture(), look_up.Callback());
  live_->Activate("custom", absl::InfiniteFuture(), activate.Callback());
  ASSERT_TRUE(look_up.HasArrived() && activate.HasArrived());
  EXPECT_EQ(look_up.Get().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(look_up.Get().status().message(), "the server is shutting down");
  EXPECT_EQ(activate.Get().status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(LiveOperationsTest, OnlyCustomModelsOfTheCatalogAreSwitched) {
  Start();
  Answer base, missing;
  live_->Activate("base", absl::InfiniteFuture(), base.Callback());
  live_->Deactivate("missing", absl::InfiniteFuture(), missing.Callback());
  EXPECT_EQ(base.Get().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(base.Get().status().message(),
            "base is a base model: base models are always active and cannot be activated");
  EXPECT_EQ(missing.Get().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.Get().status().message(), "Model not found: missing");
}

}  // namespace
}  // namespace modelcatalog::catalog
