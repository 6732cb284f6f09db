// The calls that go to the hub on a caller's behalf: GetModel with `live`,
// ActivateModel and DeactivateModel. Free of gRPC: each takes a request and a
// callback that receives the result, and runs the hub call on its own threads.
//
// Whatever the hub reports is applied through the CatalogUpdater, so the
// catalog and every watcher see a new status at once, and an activated or
// deactivated model is handed to the poller until it settles. Concurrent live
// look-ups of one model share one hub call.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_SYNC_LIVE_OPERATIONS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_SYNC_LIVE_OPERATIONS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/catalog/sync/catalog_source.h"
#include "services/catalog/sync/catalog_updater.h"
#include "services/catalog/sync/deployment_poller.h"
#include "services/catalog/sync/task_runner.h"

namespace modelcatalog::catalog {

class LiveOperations {
 public:
  using Done = std::function<void(absl::StatusOr<modelcatalog::v1::Model>)>;

  LiveOperations(CatalogSource* source, const CatalogStore* store, CatalogUpdater* updater,
                 DeploymentPoller* poller, int threads = 4);
  ~LiveOperations();

  // The model as the hub returns it with its live deployment status; the
  // catalog takes its deployments. INVALID_ARGUMENT for an empty
  // id; UNAVAILABLE before the first catalog; the hub's errors otherwise (a
  // model the hub has but the catalog does not yet is returned as the hub
  // sent it). `done` runs on another thread, or at once for a bad request.
  void GetLive(const std::string& id, Done done) ABSL_LOCKS_EXCLUDED(mu_);

  // INVALID_ARGUMENT for an empty id; NOT_FOUND "Model not found: <id>" for an
  // id not in the catalog; FAILED_PRECONDITION for a base model; the hub's
  // errors otherwise. The hub call ends at the caller's `deadline`.
  void Activate(const std::string& id, absl::Time deadline, Done done);
  void Deactivate(const std::string& id, absl::Time deadline, Done done);

  // Finishes the calls in flight and stops the threads.
  void Stop() { runner_.Stop(); }

 private:
  enum class Switch { kActivate, kDeactivate };
  void SwitchDeployment(Switch which, const std::string& id, absl::Time deadline, Done done);
  absl::Status CheckLoaded() const;

  CatalogSource* const source_;
  const CatalogStore* const store_;
  CatalogUpdater* const updater_;
  DeploymentPoller* const poller_;

  absl::Mutex mu_;
  // Callers waiting on the live look-up in flight for each model.
  absl::flat_hash_map<std::string, std::vector<Done>> waiting_ ABSL_GUARDED_BY(mu_);
  TaskRunner runner_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_SYNC_LIVE_OPERATIONS_H_
