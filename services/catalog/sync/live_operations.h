// The calls that go to the hub on a caller's behalf: GetModel with `live`,
// ActivateModel and DeactivateModel. Free of gRPC: each takes a request, the
// caller's deadline and a callback that receives the result, and runs the hub
// call on its own threads.
//
// Whatever the hub reports is applied through the CatalogUpdater, so the
// catalog and every watcher see a new status at once, and an activated or
// deactivated model is handed to the poller until it settles.
//
// Deadlines. A caller's deadline bounds the hub call made for it. Concurrent
// live look-ups of one model share one hub call, which lives as long as the
// latest of their deadlines (--hub_timeout at most); each caller gets its
// answer, or DEADLINE_EXCEEDED at its own deadline, whichever comes first.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_SYNC_LIVE_OPERATIONS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_SYNC_LIVE_OPERATIONS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "clients/hub/hub_client.h"
#include "services/catalog/sync/catalog_source.h"
#include "services/catalog/sync/catalog_updater.h"
#include "services/catalog/sync/deployment_poller.h"
#include "services/catalog/sync/task_runner.h"
#include "services/catalog/sync/timers.h"

namespace modelcatalog::catalog {

struct LiveOperationsOptions {
  // Hub calls made at once; more wait in a queue of at most `max_queued`,
  // beyond which a call is refused with RESOURCE_EXHAUSTED.
  int threads = 4;
  size_t max_queued = 256;
};

class LiveOperations {
 public:
  using Done = std::function<void(absl::StatusOr<modelcatalog::v1::Model>)>;

  LiveOperations(CatalogSource* source, const CatalogStore* store, CatalogUpdater* updater,
                 DeploymentPoller* poller, LiveOperationsOptions options = {});
  ~LiveOperations();

  // The model as the hub returns it with its live deployment status; the
  // catalog takes its deployments. (The caller has checked the id's length:
  // api/request_limits.h.) INVALID_ARGUMENT for an empty id; UNAVAILABLE before the first catalog
  // or while shutting down; DEADLINE_EXCEEDED at `deadline` when the hub has not answered;
  // RESOURCE_EXHAUSTED when too many hub calls wait; the hub's errors
  // otherwise (a model the hub has but the catalog does not yet is returned as
  // the hub sent it). `done` runs exactly once: on another thread, or at once
  // for a request refused outright.
  void GetLive(const std::string& id, absl::Time deadline, Done done) ABSL_LOCKS_EXCLUDED(mu_);

  // INVALID_ARGUMENT for an empty id; NOT_FOUND "Model not found: <id>" for an
  // id not in the catalog; FAILED_PRECONDITION for a base model; UNAVAILABLE
  // and RESOURCE_EXHAUSTED as GetLive; the hub's errors otherwise. The hub
  // call ends at the caller's `deadline`.
  void Activate(const std::string& id, absl::Time deadline, Done done);
  void Deactivate(const std::string& id, absl::Time deadline, Done done);

  // Refuses new calls (UNAVAILABLE), finishes the calls in flight and stops
  // the threads. Idempotent.
  void Stop();

 private:
  enum class Switch { kActivate, kDeactivate };
  // One hub call for a model's live status, and the callers waiting on it.
  struct LiveLookup {
    LiveLookup(std::string id, absl::Time deadline) : id(std::move(id)), deadline(deadline) {}
    const std::string id;
    hub::RequestDeadline deadline;  // the latest of the waiters'
    struct Waiter {
      Done done;
      Timers::Id timer = 0;  // 0: no deadline
    };
    absl::flat_hash_map<uint64_t, Waiter> waiters;  // guarded by LiveOperations::mu_
  };

  void SwitchDeployment(Switch which, const std::string& id, absl::Time deadline, Done done);
  absl::Status CheckLoaded() const;
  void RunLookup(const std::shared_ptr<LiveLookup>& lookup);
  // Answers every caller still waiting on `lookup` with `result`.
  void FinishLookup(const std::shared_ptr<LiveLookup>& lookup,
                    const absl::StatusOr<modelcatalog::v1::Model>& result) ABSL_LOCKS_EXCLUDED(mu_);
  // A waiter's deadline passed before the hub answered.
  void ExpireWaiter(const std::shared_ptr<LiveLookup>& lookup, uint64_t waiter)
      ABSL_LOCKS_EXCLUDED(mu_);

  CatalogSource* const source_;
  const CatalogStore* const store_;
  CatalogUpdater* const updater_;
  DeploymentPoller* const poller_;

  absl::Mutex mu_;
  // The live look-up in flight for each model, shared by its callers.
  absl::flat_hash_map<std::string, std::shared_ptr<LiveLookup>> lookups_ ABSL_GUARDED_BY(mu_);
  uint64_t next_waiter_ ABSL_GUARDED_BY(mu_) = 1;
  Timers timers_;
  TaskRunner runner_;  // last: its tasks use everything above
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_SYNC_LIVE_OPERATIONS_H_
