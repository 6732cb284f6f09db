// Sees deployment transitions quickly. A full sync finds every change, but only
// once per --sync_interval; a deployment in a transitional status (deploying,
// deactivating), or a model just activated or deactivated through this
// service, is asked about individually (the hub's `deployment_status=live`)
// every poll interval until it settles, so a deploying → active flip reaches
// watchers within about one interval.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_SYNC_DEPLOYMENT_POLLER_H_
#define MODEL_CATALOG_SERVICES_CATALOG_SYNC_DEPLOYMENT_POLLER_H_

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/catalog/sync/catalog_source.h"
#include "services/catalog/sync/catalog_updater.h"

namespace modelcatalog::catalog {

struct DeploymentPollerOptions {
  absl::Duration interval = absl::Seconds(2);
  // A model activated or deactivated here is polled at least this long, even
  // while the hub still reports a settled status for it.
  absl::Duration track_for = absl::Seconds(30);
  // The most models one round asks the hub about. Models activated or
  // deactivated here come first; the others take turns across rounds, so a
  // catalog with thousands of deployments stuck in transition costs the hub a
  // bounded number of calls per interval and still polls every one in time.
  size_t max_per_round = 64;
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

// True when any deployment is deploying or deactivating.
bool InTransition(const Deployments& deployments);
inline bool InTransition(const modelcatalog::v1::Model& model) {
  return InTransition(model.deployments());
}

class DeploymentPoller {
 public:
  DeploymentPoller(CatalogSource* source, const CatalogStore* store, CatalogUpdater* updater,
                   DeploymentPollerOptions options);
  ~DeploymentPoller();

  // Polls `id` from now on until it settles, for at least `track_for`.
  void Track(const std::string& id) ABSL_LOCKS_EXCLUDED(mu_);

  // The models the next round polls: those tracked here first, then the
  // others in transition from where the last round stopped, at most
  // max_per_round of them.
  std::vector<std::string> Due() ABSL_LOCKS_EXCLUDED(mu_);
  // One round: polls each due model once and applies what the hub says.
  void PollOnce();

  void Start();
  void Stop();

 private:
  CatalogSource* const source_;
  const CatalogStore* const store_;
  CatalogUpdater* const updater_;
  const DeploymentPollerOptions options_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> tracked_until_ ABSL_GUARDED_BY(mu_);
  std::string resume_after_ ABSL_GUARDED_BY(mu_);  // last untracked id polled
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_SYNC_DEPLOYMENT_POLLER_H_
