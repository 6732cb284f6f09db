// What changed between two published catalogs, one change per model whose
// content changed (any field: a price, a capability, a deployment's status),
// and the interface of those who hear of every published catalog. One feed
// of these serves every watcher: WatchDeployments sees the changes of
// deployment statuses among them.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_CHANGE_H_
#define MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_CHANGE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::catalog {

// One observed change of one model.
struct ModelChange {
  enum class Kind { kAdded, kChanged, kRemoved };
  Kind kind = Kind::kChanged;
  std::string model_id;
  int64_t revision = 0;  // the feed's, assigned when the feed records the change
  absl::Time observed_at;
  // The model's states, shared with the snapshots they come from (a change
  // costs two pointers, whatever the model's size): null before an addition
  // and after a removal.
  std::shared_ptr<const CatalogEntry> before_entry;
  std::shared_ptr<const CatalogEntry> after_entry;
  // Whether the number of deployments or a status changed
  // (DeploymentStatusesDiffer), or the model came or went: what
  // WatchDeployments tells. A change of anything else leaves it false.
  bool deployments_changed = true;
  // Whether the model's BASIC view changed (it came, went, or a field other
  // than description and request_schema changed): what a BASIC watch tells.
  bool basic_view_changed = true;

  // The model's deployments before and after: empty when it did not exist.
  const Deployments& before() const;
  const Deployments& after() const;
};

// The change of one model from `before` to `after` (either may be null, not
// both), observed at `observed_at`; nullopt when its content is the same.
absl::optional<ModelChange> ChangeOf(std::shared_ptr<const CatalogEntry> before,
                                     std::shared_ptr<const CatalogEntry> after,
                                     absl::Time observed_at);

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
