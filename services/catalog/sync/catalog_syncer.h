// Keeps the catalog in step with the hub.
//
// Each sync fetches the complete catalog and hands it to the CatalogUpdater,
// which builds a whole new snapshot off to the side and publishes it with one
// swap. The fetch carries the full desired state, so a sync needs no memory of
// earlier ones: what the hub no longer lists is simply absent from the new
// snapshot.
//
// Stale is better than empty. A fetch that fails is retried with backoff
// (honouring the hub's Retry-After); one that still fails publishes nothing,
// and the last good catalog keeps being served. A record that cannot be read
// keeps its model's previous version. And a sudden mass disappearance (say an
// empty list where there were hundreds of models) is held back as suspect
// until the next sync confirms it.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_SYNC_CATALOG_SYNCER_H_
#define MODEL_CATALOG_SERVICES_CATALOG_SYNC_CATALOG_SYNCER_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/hub/retry.h"
#include "services/catalog/sync/catalog_source.h"
#include "services/catalog/sync/catalog_updater.h"
#include "services/catalog/sync/sync_status.h"

namespace modelcatalog::catalog {

struct CatalogSyncerOptions {
  absl::Duration interval = absl::Seconds(30);
  hub::RetryPolicy retry;
  // A sync that would remove more than this fraction of a catalog of at least
  // `mass_removal_min_models` models is suspect: applied only when the next
  // sync shows the same.
  double mass_removal_fraction = 0.5;
  size_t mass_removal_min_models = 10;
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // Told of each sync's outcome ("success", "failure" or "suspect") and
  // duration, retries included. For metrics.
  std::function<void(absl::string_view outcome, absl::Duration took)> on_sync_done;
  // Waits between retries; returns false to give up (shutdown). Default: a
  // wait that Stop() interrupts. Tests record the delays instead of sleeping.
  hub::Sleeper sleep;
  // The background thread syncs at idle CPU priority (SCHED_IDLE): it runs
  // only on CPU time the serving threads leave unused, and any of them that
  // wakes takes the CPU back at once. A server saturated by calls then syncs
  // late rather than answer late (the staleness shows in GetSyncStatus).
  bool idle_priority = false;
};

class CatalogSyncer {
 public:
  CatalogSyncer(CatalogSource* source, CatalogUpdater* updater, SyncStatusRecorder* status,
                CatalogSyncerOptions options);
  ~CatalogSyncer();  // Stops the loop.

  // Fetches (with retries) and applies the catalog once, now. Safe to call
  // from any thread; syncs never overlap. FAILED_PRECONDITION when the result
  // was held back as a suspect mass removal.
  absl::Status SyncOnce() ABSL_LOCKS_EXCLUDED(sync_mu_);

  // Starts the background loop: a sync at once, then one per interval.
  void Start();
  // Stops the loop, interrupting a retry wait, and waits for a sync in
  // progress. Idempotent.
  void Stop();

  // Waits until the loop's first sync is over (or Stop). For tests, so that
  // a sync they trigger cannot race with it.
  void WaitForFirstSync() { first_sync_done_.WaitForNotification(); }

 private:
  void Loop();

  CatalogSource* const source_;
  CatalogUpdater* const updater_;
  SyncStatusRecorder* const status_;
  const CatalogSyncerOptions options_;

  absl::Mutex sync_mu_;  // Serializes syncs.
  // A mass removal was held back and awaits confirmation by the next sync.
  bool suspect_pending_ ABSL_GUARDED_BY(sync_mu_) = false;
  absl::Notification stop_;
  absl::Notification first_sync_done_;
  std::thread thread_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_SYNC_CATALOG_SYNCER_H_
