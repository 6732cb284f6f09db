// What catalog-server counts, in Prometheus form: calls by method and status
// code with their latency, syncs by outcome with their duration, hub requests
// by endpoint and HTTP status, and (computed when scraped) the catalog's size
// and age and the watch streams' state.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_API_CATALOG_METRICS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_API_CATALOG_METRICS_H_

#include <array>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/metrics.h"

namespace modelcatalog::catalog {

enum class Rpc {
  kListModels,
  kSearchModels,
  kGetModel,
  kGetSyncStatus,
  kWatchDeployments,
  kActivateModel,
  kDeactivateModel,
};
inline constexpr int kRpcCount = 7;
inline constexpr int kStatusCodeCount = 17;  // OK .. UNAUTHENTICATED

class CatalogMetrics {
 public:
  CatalogMetrics();

  metrics::Registry& registry() { return registry_; }

  // `code` is a gRPC / absl status code number. Lock-free.
  void RecordCall(Rpc rpc, int code, absl::Duration latency);
  // `outcome`: "success", "failure" or "suspect".
  void RecordSync(absl::string_view outcome, absl::Duration took);
  // `http_status` 0: no answer (transport error).
  void RecordHubResponse(absl::string_view endpoint, int http_status, absl::Duration took);

 private:
  metrics::Registry registry_;
  std::array<std::array<metrics::Counter*, kStatusCodeCount>, kRpcCount> calls_;
  std::array<metrics::Histogram*, kRpcCount> latency_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_API_CATALOG_METRICS_H_
