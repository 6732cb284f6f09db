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
  kBatchGetModels,
  kEstimateCost,
  kValidateRequest,
  kWatchModels,
};
inline constexpr int kRpcCount = 11;
inline constexpr int kStatusCodeCount = 17;  // OK .. UNAUTHENTICATED

class CatalogMetrics {
 public:
  CatalogMetrics();

  metrics::Registry& registry() { return registry_; }

  // `code` is a gRPC / absl status code number. Lock-free: every series it
  // updates was made up front.
  void RecordCall(Rpc rpc, int code, absl::Duration latency);
  // `outcome`: "success", "failure" or "suspect". Lock-free.
  void RecordSync(absl::string_view outcome, absl::Duration took);
  // `endpoint` as hub::EndpointName names it; `http_status` 0: no answer
  // (transport error). The duration is lock-free; the count looks its series
  // up under the registry's lock, as the hub may answer any status (a hub
  // call takes milliseconds, the look-up a fraction of a microsecond).
  void RecordHubResponse(absl::string_view endpoint, int http_status, absl::Duration took);

 private:
  metrics::Registry registry_;
  std::array<std::array<metrics::Counter*, kStatusCodeCount>, kRpcCount> calls_;
  std::array<metrics::Histogram*, kRpcCount> latency_;
  std::array<metrics::Counter*, 3> syncs_;  // success, failure, suspect
  metrics::Histogram* sync_duration_;
  // By endpoint: list, search, retrieve, activate, deactivate.
  std::array<metrics::Histogram*, 5> hub_duration_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_API_CATALOG_METRICS_H_
