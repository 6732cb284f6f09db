// Callbacks run at given times, on a thread of its own: what answers a caller
// at its deadline while the hub call made for it (and shared with others) goes on.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_SYNC_TIMERS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_SYNC_TIMERS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace modelcatalog::catalog {

class Timers {
 public:
  using Id = uint64_t;

  Timers();
  ~Timers();  // Stop()
  Timers(const Timers&) = delete;
  Timers& operator=(const Timers&) = delete;

  // Runs `fire` at `at` (at once when that has passed), unless cancelled
  // first. Callbacks run one at a time, in time order, never under a lock of
  // this class. After Stop, nothing is scheduled (0 is returned).
  Id Schedule(absl::Time at, std::function<void()> fire) ABSL_LOCKS_EXCLUDED(mu_);
  // True when the timer was pending and will now never fire; false when it
  // fired, is firing, or was never scheduled.
  bool Cancel(Id id) ABSL_LOCKS_EXCLUDED(mu_);
  // Drops every pending timer unfired and joins the thread. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  std::map<std::pair<absl::Time, Id>, std::function<void()>> pending_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<Id, absl::Time> due_ ABSL_GUARDED_BY(mu_);
  Id next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: started once the rest is built
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_SYNC_TIMERS_H_
