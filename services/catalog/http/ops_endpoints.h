// What operators and the cluster read on the plaintext --metrics_listen port:
//   GET /metrics   Prometheus metrics (text exposition format 0.0.4)
//   GET /healthz   200 "SERVING" once a catalog is loaded, 503 before: an HTTP
//                  probe for when the gRPC port speaks TLS
// Open to scrapers and probes without a token, so nothing here reveals model
// data: counts, durations, codes and the catalog's size, never an id or a
// price (the JSON view, with its own listener and rules, serves those).
#ifndef MODEL_CATALOG_SERVICES_CATALOG_HTTP_OPS_ENDPOINTS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_HTTP_OPS_ENDPOINTS_H_

#include "services/catalog/model/catalog_store.h"
#include "services/catalog/http/http_listener.h"
#include "services/common/metrics.h"

namespace modelcatalog::catalog {

class OpsEndpoints {
 public:
  OpsEndpoints(const CatalogStore* store, const metrics::Registry* registry)
      : store_(store), registry_(registry) {}

  HttpReply Handle(const HttpRequest& request) const;

 private:
  const CatalogStore* const store_;
  const metrics::Registry* const registry_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_HTTP_OPS_ENDPOINTS_H_
