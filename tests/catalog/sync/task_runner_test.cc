#include "services/catalog/sync/task_runner.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace modelcatalog::catalog {
namespace {

TEST(TaskRunnerTest, RunsWhatItQueuedAndRefusesBeyondTheBound) {
  TaskRunner runner(/*threads=*/1, /*max_queued=*/2);
  absl::Notification running, release;
  std::atomic<int> ran{0};
  ASSERT_TRUE(runner
                  .Post([&] {
                    running.Notify();
                    release.WaitForNotification();
                    ++ran;
                  })
                  .ok());
  running.WaitForNotification();  // the thread is busy; the queue is empty
  EXPECT_TRUE(runner.Post([&] { ++ran; }).ok());
  EXPECT_TRUE(runner.Post([&] { ++ran; }).ok());
  bool refused_ran = false;
  const absl::Status refused = runner.Post([&] { refused_ran = true; });
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(), "too many calls to the hub are waiting (2): retry shortly");
  release.Notify();
  runner.Stop();  // runs what was queued
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(refused_ran);
}

TEST(TaskRunnerTest, ATaskPostedAfterStopIsRefusedNotLost) {
  TaskRunner runner(/*threads=*/2, /*max_queued=*/8);
  runner.Stop();
  bool ran = false;
  const absl::Status refused = runner.Post([&] { ran = true; });
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refused.message(), "the server is shutting down");
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace modelcatalog::catalog
