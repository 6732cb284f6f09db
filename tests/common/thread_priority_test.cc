#include "services/common/thread_priority.h"

#include <thread>

#include "gtest/gtest.h"

namespace modelcatalog {
namespace {

TEST(ThreadPriorityTest, OnlyTheCallingThreadMovesToIdlePriority) {
  ASSERT_FALSE(ThisThreadRunsAtIdlePriority());
  bool lowered = false, idle = false;
  std::thread background([&] {
    const absl::Status status = RunThisThreadAtIdlePriority();
    lowered = status.ok();
    EXPECT_TRUE(status.ok()) << status;
    idle = ThisThreadRunsAtIdlePriority();
  });
  background.join();
  EXPECT_TRUE(lowered);
  EXPECT_TRUE(idle);
  EXPECT_FALSE(ThisThreadRunsAtIdlePriority());  // the caller's thread is not touched
  // A thread started afterwards starts at normal priority too.
  bool later_idle = true;
  std::thread([&] { later_idle = ThisThreadRunsAtIdlePriority(); }).join();
  EXPECT_FALSE(later_idle);
}

}  // namespace
}  // namespace modelcatalog
