// Keeps the catalog in step with the hub.
//
// Each sync fetches the complete catalog and hands it to the CatalogUpdater,
// which builds a whole new snapshot off to the side and publishes it with one
// swap. The fetch carries the full desired state, so a sync needs no memory of
// earlier ones: what the hub no longer lists is simply absent from the new
// snapshot. A failed sync publishes nothing: the last good catalog keeps being
// served.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_CATALOG_SYNCER_H_
#define MODEL_CATALOG_SERVICES_CATALOG_CATALOG_SYNCER_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/hub/model_json.h"
#include "services/catalog/catalog_updater.h"
#include "services/catalog/sync_status.h"

namespace modelcatalog::catalog {

struct CatalogSyncerOptions {
  absl::Duration interval = absl::Seconds(30);
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

class CatalogSyncer {
 public:
  // Returns the hub's complete catalog.
  using FetchFn = std::function<absl::StatusOr<hub::ParsedModelList>()>;

  CatalogSyncer(FetchFn fetch, CatalogUpdater* updater, SyncStatusRecorder* status,
                CatalogSyncerOptions options);
  ~CatalogSyncer();  // Stops the loop.

  // Fetches and applies the catalog once, now. Safe to call from any thread;
  // syncs never overlap.
  absl::Status SyncOnce() ABSL_LOCKS_EXCLUDED(sync_mu_);

  // Starts the background loop: a sync at once, then one per interval.
  void Start();
  // Stops the loop and waits for a sync in progress. Idempotent.
  void Stop();

 private:
  void Loop();

  const FetchFn fetch_;
  CatalogUpdater* const updater_;
  SyncStatusRecorder* const status_;
  const CatalogSyncerOptions options_;

  absl::Mutex sync_mu_;  // Serializes syncs.
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_CATALOG_SYNCER_H_
