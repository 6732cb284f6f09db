// The catalog source of production: the hub's HTTP API, through HubClient.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_SYNC_HUB_CATALOG_SOURCE_H_
#define MODEL_CATALOG_SERVICES_CATALOG_SYNC_HUB_CATALOG_SOURCE_H_

#include <string>

#include "clients/hub/hub_client.h"
#include "services/catalog/sync/catalog_source.h"

namespace modelcatalog::catalog {

class HubCatalogSource final : public CatalogSource {
 public:
  explicit HubCatalogSource(hub::HubClient* hub) : hub_(hub) {}

  // GET /models. Each model becomes its snapshot entry as it is parsed: the
  // catalog is never held as 100,000 messages at once.
  absl::StatusOr<FetchedCatalog> FetchCatalog(
      std::shared_ptr<const CatalogSnapshot> served) override;
  // GET /models/{id}?deployment_status=live.
  absl::StatusOr<modelcatalog::v1::Model> FetchLive(const std::string& id,
                                                    const hub::RequestDeadline& deadline) override;
  // POST /models/{id}/activate, /deactivate.
  absl::StatusOr<modelcatalog::v1::Model> Activate(const std::string& id,
                                                   absl::Time deadline) override;
  absl::StatusOr<modelcatalog::v1::Model> Deactivate(const std::string& id,
                                                     absl::Time deadline) override;

 private:
  // The error of a failed list, made readable for the sync status and logs.
  absl::Status ListFailure(const absl::Status& error) const;

  hub::HubClient* const hub_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_SYNC_HUB_CATALOG_SOURCE_H_
