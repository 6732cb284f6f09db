// CatalogServiceImpl's watch requests: what each stream tells, from its request.
#include <string>
#include <utility>
#include <vector>

#include "services/catalog/api/catalog_service_impl.h"
#include "services/catalog/api/request_limits.h"
#include "services/catalog/query/filter.h"
#include "services/catalog/watch/deployments_projection.h"
#include "services/catalog/watch/models_projection.h"

namespace modelcatalog::catalog {

absl::StatusOr<std::unique_ptr<WatchProjection>> CatalogServiceImpl::DeploymentsWatch(
    const modelcatalog::v1::WatchDeploymentsRequest& request) const {
  if (absl::Status s = CheckWatchRequest(request); !s.ok()) return s;
  return std::make_unique<DeploymentsProjection>(
      std::vector<std::string>(request.model_ids().begin(), request.model_ids().end()));
}

absl::StatusOr<std::unique_ptr<WatchProjection>> CatalogServiceImpl::ModelsWatch(
    const modelcatalog::v1::WatchModelsRequest& request) const {
  absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> snapshot = LoadedSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  if (absl::Status s = CheckWatchModelsRequest(request, (*snapshot)->size()); !s.ok()) return s;
  absl::StatusOr<Filter> filter = Filter::Parse(request.filter());
  if (!filter.ok()) return filter.status();
  // As ListModels, UNSPECIFIED and unknown views are FULL.
  const modelcatalog::v1::ModelView view = request.view() == modelcatalog::v1::MODEL_VIEW_BASIC
                                               ? modelcatalog::v1::MODEL_VIEW_BASIC
                                               : modelcatalog::v1::MODEL_VIEW_FULL;
  absl::StatusOr<std::unique_ptr<ModelsProjection>> projection =
      ModelsProjection::Create(*std::move(filter), view, request.known_versions());
  if (!projection.ok()) return projection.status();
  return std::unique_ptr<WatchProjection>(*std::move(projection));
}

}  // namespace modelcatalog::catalog
