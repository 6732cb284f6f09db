// The serving threads' queues and the tasks that wake them, without a server.
#include "services/catalog/grpc/serving_queues.h"

#include <pthread.h>

#include <atomic>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace modelcatalog::catalog {
namespace {

std::string ThisThreadsName() {
  char name[32] = {};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  return name;
}

// Waits up to 10 s for `done` to hold.
template <typename Done>
bool Eventually(Done done) {
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > until) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

TEST(ServingQueuesTest, AStreamTaskRunsOnItsQueuesThreadAndMergesAsksMadeWhilePending) {
  absl::Notification first_running, release;
  std::atomic<int> runs{0};
  absl::Mutex mu;
  std::vector<std::string> threads;
  ServingQueues queues(2, [&](size_t index) {
    {
      absl::MutexLock lock(&mu);
      threads.push_back(absl::StrCat(index, "@", ThisThreadsName()));
    }
    if (runs.fetch_add(1) == 0) {
      first_running.Notify();
      release.WaitForNotification();
    }
  });
  queues.Start();
  queues.WakeStreamQueue(1);
  ASSERT_TRUE(first_running.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // Asked for while a run is in progress: one run follows it, however many asks.
  for (int i = 0; i < 5; ++i) queues.WakeStreamQueue(1);
  release.Notify();
  ASSERT_TRUE(Eventually([&] { return runs.load() == 2; }));
  absl::SleepFor(absl::Milliseconds(50));  // and no third
  EXPECT_EQ(runs.load(), 2);
  queues.Stop();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(threads, std::vector<std::string>({"1@grpc-streams-1", "1@grpc-streams-1"}));
}

TEST(ServingQueuesTest, AfterStopAWakeDoesNothing) {
  std::atomic<int> runs{0};
  ServingQueues queues(1, [&](size_t) { ++runs; });
  queues.Start();
  queues.Stop();
  queues.WakeStreamQueue(0);  // the queue is closed: nothing is put on it
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(runs.load(), 0);
  queues.Stop();  // idempotent
}

TEST(ServingQueuesTest, QueuesNeverStartedAreDrainedByStop) {
  ServingQueues queues(3, [](size_t) {});
  queues.Stop();  // must not hang nor leave work on the queues
  EXPECT_EQ(queues.stream_queue_count(), 3u);
}

TEST(UsableCpuCountTest, CountsTheCpusThisProcessMayRunOn) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  EXPECT_EQ(UsableCpuCount(), static_cast<size_t>(CPU_COUNT(&set)));
}

}  // namespace
}  // namespace modelcatalog::catalog
