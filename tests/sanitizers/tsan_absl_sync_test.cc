// Checks of tsan_absl_sync.cc, run in the TSan build only: data handed between threads by each
// abseil primitive is not reported (it would be without the annotations), and a real race still is.
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace {

TEST(TsanAbslSyncTest, MutexLockOrdersWriters) {
  absl::Mutex mu;
  int counter = 0;  // guarded by mu
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        absl::MutexLock lock(&mu);
        ++counter;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(counter, 4000);
}

TEST(TsanAbslSyncTest, ReaderLocksSeeTheWriter) {
  absl::Mutex mu;
  int value = 0;
  std::thread writer([&] {
    for (int i = 1; i <= 200; ++i) {
      absl::MutexLock lock(&mu);
      value = i;
    }
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      int last = 0;
      while (last < 200) {
        absl::ReaderMutexLock lock(&mu);
        EXPECT_GE(value, last);
        last = value;
      }
    });
  }
  writer.join();
  for (std::thread& t : readers) t.join();
}

TEST(TsanAbslSyncTest, TryLockAndLockWhen) {
  absl::Mutex mu;
  int stage = 0;
  std::thread t([&] {
    while (!mu.TryLock()) std::this_thread::yield();
    stage = 1;
    mu.Unlock();
    mu.LockWhen(absl::Condition(
        +[](int* s) { return *s == 2; }, &stage));
    stage = 3;
    mu.Unlock();
  });
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* s) { return *s == 1; }, &stage));
    stage = 2;
  }
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(
                                        +[](int* s) { return *s == 3; }, &stage),
                                    absl::Seconds(30)));
  }
  t.join();
}

TEST(TsanAbslSyncTest, CondVarWaitHandsOver) {
  absl::Mutex mu;
  absl::CondVar cv;
  bool ready = false;  // guarded by mu
  int payload = 0;     // written before ready, read after
  std::thread producer([&] {
    payload = 42;
    absl::MutexLock lock(&mu);
    ready = true;
    cv.Signal();
  });
  {
    absl::MutexLock lock(&mu);
    while (!ready) cv.WaitWithTimeout(&mu, absl::Seconds(30));
  }
  EXPECT_EQ(payload, 42);
  producer.join();
}

TEST(TsanAbslSyncTest, HasBeenNotifiedPublishes) {
  absl::Notification done;
  int payload = 0;
  std::thread t([&] {
    payload = 7;
    done.Notify();
  });
  while (!done.HasBeenNotified()) std::this_thread::yield();
  EXPECT_EQ(payload, 7);  // read without any lock: the edge is Notify -> HasBeenNotified
  t.join();
}

TEST(TsanAbslSyncTest, WaitForNotificationPublishes) {
  absl::Notification done;
  int payload = 0;
  std::thread t([&] {
    payload = 8;
    done.Notify();
  });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(payload, 8);
  t.join();
}

// Run on its own (see CMakeLists.txt), expecting TSan's report: the annotations add edges only
// where abseil synchronizes, so a write under one mutex and a read under another is a race.
TEST(TsanAbslSyncRaceTest, UnsynchronizedAccessIsReported) {
  absl::Mutex a, b;
  int shared = 0;
  std::thread t([&] {
    absl::MutexLock lock(&a);
    shared = 1;
  });
  {
    absl::MutexLock lock(&b);
    shared = 2;
  }
  t.join();
  EXPECT_NE(shared, 0);
}

}  // namespace
