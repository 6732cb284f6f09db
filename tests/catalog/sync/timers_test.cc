#include "services/catalog/sync/timers.h"

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace modelcatalog::catalog {
namespace {

TEST(TimersTest, FiresInTimeOrderAndNotWhatWasCancelled) {
  Timers timers;
  absl::Mutex mu;
  std::vector<int> fired;
  absl::Notification last;
  const absl::Time now = absl::Now();
  const auto record = [&](int n) {
    return [&, n] {
      absl::MutexLock lock(&mu);
      fired.push_back(n);
    };
  };
  timers.Schedule(now + absl::Milliseconds(60), record(3));
  timers.Schedule(now + absl::Milliseconds(20), record(1));
  const Timers::Id cancelled = timers.Schedule(now + absl::Milliseconds(40), record(2));
  timers.Schedule(now + absl::Milliseconds(80), [&] { last.Notify(); });
  EXPECT_TRUE(timers.Cancel(cancelled));
  EXPECT_FALSE(timers.Cancel(cancelled));  // once
  ASSERT_TRUE(last.WaitForNotificationWithTimeout(absl::Seconds(10)));
  absl::MutexLock lock(&mu);
  EXPECT_THAT(fired, ::testing::ElementsAre(1, 3));
}

TEST(TimersTest, ATimerDueInThePastFiresAtOnceAndAFiredOneCannotBeCancelled) {
  Timers timers;
  absl::Notification fired;
  const Timers::Id id = timers.Schedule(absl::Now() - absl::Seconds(1), [&] { fired.Notify(); });
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_FALSE(timers.Cancel(id));
}

TEST(TimersTest, StopDropsWhatIsPending) {
  Timers timers;
  bool fired = false;
  timers.Schedule(absl::Now() + absl::Hours(1), [&] { fired = true; });
  timers.Stop();
  EXPECT_FALSE(fired);
  EXPECT_EQ(timers.Schedule(absl::Now(), [&] { fired = true; }), 0u);
}

}  // namespace
}  // namespace modelcatalog::catalog
