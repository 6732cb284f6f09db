// CPU priority of background threads.
#ifndef MODEL_CATALOG_SERVICES_COMMON_THREAD_PRIORITY_H_
#define MODEL_CATALOG_SERVICES_COMMON_THREAD_PRIORITY_H_

#include "absl/status/status.h"

namespace modelcatalog {

// Moves the calling thread (only it) to Linux's SCHED_IDLE policy: it runs on
// CPU time no other thread wants, and any normal thread that wakes takes the
// CPU from it at once. A lower nice value would not do that: the scheduler
// lets a running thread finish its slice (milliseconds) whatever its weight.
// Any thread may lower its own priority this way; the error says why not.
absl::Status RunThisThreadAtIdlePriority();

// Whether the calling thread runs at idle priority (for tests).
bool ThisThreadRunsAtIdlePriority();

}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_COMMON_THREAD_PRIORITY_H_
