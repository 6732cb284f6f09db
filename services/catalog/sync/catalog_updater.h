// The only writer of the catalog. Two kinds of news arrive:
// - a full sync: the hub's whole catalog, fetched at some moment;
// - a live observation of one model: a live look-up, an activation or
//   deactivation, or a poll of a deployment in transition.
// Each becomes a new snapshot published to the store and told to the
// listeners given at construction (the watch feed, health, the catalog file)
// with every change of a model's deployments, in one step under one lock, so
// the store and the listeners never disagree.
//
// A sync fetched before a live observation must not undo it: for a model
// observed live after the sync's fetch began, the newer live deployments are
// kept in the snapshot the sync publishes.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_SYNC_CATALOG_UPDATER_H_
#define MODEL_CATALOG_SERVICES_CATALOG_SYNC_CATALOG_UPDATER_H_

#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/catalog/model/catalog_store.h"
#include "services/catalog/model/model_change.h"

namespace modelcatalog::catalog {

class CatalogUpdater {
 public:
  struct SyncResult {
    bool changed = false;  // a new snapshot was published
    int64_t revision = 0;  // the revision now served
    size_t model_count = 0;
    std::vector<std::string> duplicate_ids;
    // Of the rejected ids, those whose previous version is kept.
    std::vector<std::string> kept_previous;
  };

  // `listeners` hear of every publish, in this order.
  // `before_settling`, for tests: called by ApplySync between its work
  // without the lock and the lock, where a live update may come in.
  CatalogUpdater(
      CatalogStore* store, std::vector<CatalogListener*> listeners,
      std::function<absl::Time()> clock = [] { return absl::Now(); },
      std::function<void()> before_settling = nullptr);

  // The snapshot being served; nullptr before the first.
  std::shared_ptr<const CatalogSnapshot> Current() const { return store_->Current(); }

  // Applies the hub's complete catalog, whose fetch began at `fetch_started`.
  // `rejected_ids` are models the hub listed in records that could not be
  // read: their previous version, if any, is kept rather than dropped.
  // `models` holds the hub's models, added in the hub's order.
  SyncResult ApplySync(CatalogSnapshot::Builder models, absl::Time fetch_started,
                       const std::vector<std::string>& rejected_ids = {}) ABSL_LOCKS_EXCLUDED(mu_);
  // The same for a catalog held as messages.
  SyncResult ApplySync(std::vector<modelcatalog::v1::Model> models, absl::Time fetch_started,
                       const std::vector<std::string>& rejected_ids = {}) ABSL_LOCKS_EXCLUDED(mu_);

  // Publishes a catalog read back from the persisted copy at start-up, with
  // the revision and fetch time it was saved with. Only before any sync.
  void Restore(CatalogSnapshot::Builder models, int64_t revision, absl::Time fetched_at)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The same for a catalog held as messages.
  void Restore(std::vector<modelcatalog::v1::Model> models, int64_t revision, absl::Time fetched_at)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Applies the deployments of `model` as the hub reported them at
  // `observed_at`, and returns the model as now served. NOT_FOUND when the
  // catalog does not have the model (it arrives with the next sync).
  absl::StatusOr<modelcatalog::v1::Model> ApplyLive(const modelcatalog::v1::Model& model,
                                                    absl::Time observed_at)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void PublishLocked(std::shared_ptr<const CatalogSnapshot> snapshot,
                     const std::vector<ModelChange>& changes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  CatalogStore* const store_;
  const std::vector<CatalogListener*> listeners_;
  const std::function<absl::Time()> clock_;
  const std::function<void()> before_settling_;

  // Replaces the change of `id` in `changes` (id order) by the one from
  // `before` to `after` (either may be null), or by none.
  void ReplaceChange(const std::string& id, std::shared_ptr<const CatalogEntry> before,
                     std::shared_ptr<const CatalogEntry> after,
                     std::vector<ModelChange>* changes) const;

  absl::Mutex mu_;
  struct LiveObservation {
    absl::Time at;                   // when it was asked for
    int64_t published_revision = 0;  // the revision its last change published; 0: none
  };
  // The models last observed live, and when; entries no newer than a sync's
  // fetch are dropped by that sync.
  absl::flat_hash_map<std::string, LiveObservation> observed_live_ ABSL_GUARDED_BY(mu_);
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_SYNC_CATALOG_UPDATER_H_
