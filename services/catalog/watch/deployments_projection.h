// WatchDeployments' projection of the catalog's changes: the deployment
// statuses of the models a stream names, or of every model with deployments.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_WATCH_DEPLOYMENTS_PROJECTION_H_
#define MODEL_CATALOG_SERVICES_CATALOG_WATCH_DEPLOYMENTS_PROJECTION_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "modelcatalog/v1/catalog_service.pb.h"
#include "services/catalog/watch/watch_projection.h"

namespace modelcatalog::catalog {

using DeploymentEvent = modelcatalog::v1::WatchDeploymentsResponse;

// A model's status as watchers see it: its first deployment's (the hub's own
// examples read it so); UNSPECIFIED and "" without deployments. The full list
// travels in every event.
void SetStatus(const Deployments& deployments, modelcatalog::v1::DeploymentStatus* status,
               std::string* raw);

class DeploymentsProjection final : public WatchProjection {
 public:
  // `model_ids`: the models to watch; empty for every model with deployments.
  explicit DeploymentsProjection(std::vector<std::string> model_ids);

  // Every change a stream tells has key 0: its event is the same for all.
  int Classify(const ModelChange& change) const override;
  EncodedEvent EncodeChange(const CatalogEntry* known, const ModelChange& latest,
                            uint64_t instance) const override;
  EncodedEvent NextStartEvent(const CatalogSnapshot& snapshot, size_t* cursor,
                              const StartStamp& stamp) override;

 private:
  std::vector<std::string> model_ids_;  // sorted, unique
  absl::flat_hash_set<std::string> model_id_set_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_WATCH_DEPLOYMENTS_PROJECTION_H_
