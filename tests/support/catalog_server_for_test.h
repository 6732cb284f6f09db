// Starting catalog-server in-process for a test: on a free port, syncing from
// `hub_api_url` only when the test says so (SyncNow), with retries that do not
// slow a test down. Header-only: tests that use it link catalog_server.
#ifndef MODEL_CATALOG_TESTS_SUPPORT_CATALOG_SERVER_FOR_TEST_H_
#define MODEL_CATALOG_TESTS_SUPPORT_CATALOG_SERVER_FOR_TEST_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/catalog/server/catalog_server.h"

namespace modelcatalog::testing {

// Starts the server, lets `configure` change the options first, and runs one
// sync so that the catalog is loaded when it returns.
inline absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> StartCatalogServer(
    const std::string& hub_api_url,
    const std::function<void(catalog::CatalogServerOptions*)>& configure = nullptr) {
  catalog::CatalogServerOptions options;
  options.listen = "127.0.0.1:0";
  options.hub.base_url = hub_api_url;
  options.sync_interval = absl::Hours(1);
  options.sync_retry.initial_backoff = absl::Milliseconds(5);
  if (configure) configure(&options);
  absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> server =
      catalog::CatalogServer::Start(options);
  if (!server.ok()) return server.status();
  if (absl::Status synced = (*server)->SyncNow(); !synced.ok()) return synced;
  return server;
}

}  // namespace modelcatalog::testing

#endif  // MODEL_CATALOG_TESTS_SUPPORT_CATALOG_SERVER_FOR_TEST_H_
