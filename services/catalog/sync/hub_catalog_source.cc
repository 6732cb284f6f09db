#include "services/catalog/sync/hub_catalog_source.h"

#include <utility>

namespace modelcatalog::catalog {

absl::StatusOr<FetchedCatalog> HubCatalogSource::FetchCatalog() {
  FetchedCatalog fetched;
  absl::StatusOr<std::vector<hub::RejectedRecord>> rejected = hub_->ListModels(
      {}, [&fetched](const modelcatalog::v1::Model& model) { fetched.models.Add(model); },
      &fetched.received_at);
  if (!rejected.ok()) return rejected.status();
  fetched.rejected = *std::move(rejected);
  return fetched;
}

absl::StatusOr<modelcatalog::v1::Model> HubCatalogSource::FetchLive(const std::string& id,
                                                                    absl::Time deadline) {
  return hub_->RetrieveModel(id, /*live_deployment_status=*/true, deadline);
}

absl::StatusOr<modelcatalog::v1::Model> HubCatalogSource::Activate(const std::string& id,
                                                                   absl::Time deadline) {
  return hub_->ActivateModel(id, deadline);
}

absl::StatusOr<modelcatalog::v1::Model> HubCatalogSource::Deactivate(const std::string& id,
                                                                     absl::Time deadline) {
  return hub_->DeactivateModel(id, deadline);
}

}  // namespace modelcatalog::catalog
