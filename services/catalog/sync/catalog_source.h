// Where the catalog comes from: the hub, behind an interface the sync
// pipeline is written against (tests give it sources of their own).
//
// As TensorFlow Serving's sources do, a source hands over the complete desired
// state each time: a model it no longer lists is gone, so the syncer needs no
// memory of earlier fetches. It also answers about one model live, and
// switches custom models' deployments.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_SYNC_CATALOG_SOURCE_H_
#define MODEL_CATALOG_SERVICES_CATALOG_SYNC_CATALOG_SOURCE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/hub/hub_client.h"
#include "clients/hub/model_json.h"
#include "modelcatalog/v1/model.pb.h"
#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::catalog {

// What one fetch of the complete catalog yields.
struct FetchedCatalog {
  // The readable models, each added as soon as it was parsed.
  CatalogSnapshot::Builder models;
  // The records that could not be read.
  std::vector<hub::RejectedRecord> rejected;
  // When the answer's last byte had been received: what splits a sync into
  // its fetch (the list read while it arrives, each model added to `models`)
  // and the rest (diff, index, swap). InfinitePast: not known (then the whole
  // sync counts as applying).
  absl::Time received_at = absl::InfinitePast();
};

class CatalogSource {
 public:
  virtual ~CatalogSource() = default;

  // The complete catalog, as it is now. Errors as the hub client's.
  // `served` (may be nullptr) is the catalog served now: the fetched models'
  // builder is given it, to share the entries of models found unchanged.
  virtual absl::StatusOr<FetchedCatalog> FetchCatalog(
      std::shared_ptr<const CatalogSnapshot> served) = 0;

  // One model with its deployments' live status. The call ends by `deadline`
  // (DEADLINE_EXCEEDED), which may move later while it runs, or at the
  // source's own timeout.
  virtual absl::StatusOr<modelcatalog::v1::Model> FetchLive(
      const std::string& id, const hub::RequestDeadline& deadline) = 0;

  // Activates or deactivates a custom model's deployment; the model as it is then.
  virtual absl::StatusOr<modelcatalog::v1::Model> Activate(const std::string& id,
                                                           absl::Time deadline) = 0;
  virtual absl::StatusOr<modelcatalog::v1::Model> Deactivate(const std::string& id,
                                                             absl::Time deadline) = 0;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_SYNC_CATALOG_SOURCE_H_
