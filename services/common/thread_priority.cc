#include "services/common/thread_priority.h"

#include <sched.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace modelcatalog {

absl::Status RunThisThreadAtIdlePriority() {
  sched_param param{};
  param.sched_priority = 0;  // the only value SCHED_IDLE takes
  // pid 0: the calling thread, on Linux, not the whole process.
  if (sched_setscheduler(0, SCHED_IDLE, &param) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot run at idle CPU priority (sched_setscheduler SCHED_IDLE): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

bool ThisThreadRunsAtIdlePriority() { return sched_getscheduler(0) == SCHED_IDLE; }

}  // namespace modelcatalog
