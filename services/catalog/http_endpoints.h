// The HTTP side of catalog-server, on --metrics_listen:
//   GET /metrics          Prometheus metrics
//   GET /v1/models        the catalog in the hub's own JSON shape (an
//                         OpenAI-compatible list object); `developer_name`
//                         and `action` filter as the hub's do
//   GET /v1/models/{id}   one model, or 404 with the hub's error envelope
//   GET /healthz          200 once a catalog is loaded, 503 before: a plain
//                         HTTP probe for when the gRPC port speaks TLS
// Served from the store like the gRPC reads, for people and tools that speak
// HTTP. The full list is rendered once per catalog revision and reused.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_HTTP_ENDPOINTS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_HTTP_ENDPOINTS_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/catalog/catalog_store.h"
#include "services/common/http/http_message.h"
#include "services/common/metrics.h"

namespace modelcatalog::catalog {

class HttpEndpoints {
 public:
  HttpEndpoints(const CatalogStore* store, const metrics::Registry* registry)
      : store_(store), registry_(registry) {}

  http::HttpResponse Handle(const http::HttpRequest& request) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  http::HttpResponse ListModels(const http::HttpRequest& request) ABSL_LOCKS_EXCLUDED(mu_);

  const CatalogStore* const store_;
  const metrics::Registry* const registry_;
  absl::Mutex mu_;
  // The unfiltered list's body for the snapshot it was rendered from.
  std::shared_ptr<const CatalogSnapshot> rendered_for_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const std::string> rendered_list_ ABSL_GUARDED_BY(mu_);
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_HTTP_ENDPOINTS_H_
