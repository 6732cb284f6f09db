// What changed between two published catalogs, as watchers are told of it,
// and the interface of those who hear of every published catalog.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_CHANGE_H_
#define MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_CHANGE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::catalog {

// One observed change of one model's deployments.
struct ModelChange {
  enum class Kind { kAdded, kChanged, kRemoved };
  Kind kind = Kind::kChanged;
  std::string model_id;
  int64_t revision = 0;  // the feed's, assigned when the feed records the change
  absl::Time observed_at;
  Deployments before;  // empty for kAdded
  Deployments after;   // empty for kRemoved
};

// True when two deployment lists differ in a way watchers are told about: the
// number of deployments or any status.
bool DeploymentStatusesDiffer(const Deployments& a, const Deployments& b);

// The changes of deployments from `before` to `after`: models added, removed,
// or whose deployment statuses differ, in id order. `before` may be nullptr
// (no changes: the first catalog is a starting state, not news).
std::vector<ModelChange> DiffModels(const CatalogSnapshot* before, const CatalogSnapshot& after,
                                    absl::Time observed_at);

// Hears of every catalog published (by the CatalogUpdater), in publish order.
class CatalogListener {
 public:
  virtual ~CatalogListener() = default;
  // `snapshot` is served from now on; `changes` are its deployment changes
  // since the catalog published before it (none for the first, or one read
  // back from the catalog file). Called under the publisher's lock: must be
  // quick and must not call back into the publisher.
  virtual void OnCatalogPublished(const std::shared_ptr<const CatalogSnapshot>& snapshot,
                                  const std::vector<ModelChange>& changes) = 0;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_CHANGE_H_
