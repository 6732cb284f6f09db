// Holds the snapshot being served. Readers take a reference to the current
// snapshot and keep using it for the whole call; a sync publishes a new one
// with a single pointer swap. Neither side ever waits for the other's work:
// the only shared step is copying a shared_ptr.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_MODEL_CATALOG_STORE_H_
#define MODEL_CATALOG_SERVICES_CATALOG_MODEL_CATALOG_STORE_H_

#include <memory>

#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::catalog {

class CatalogStore {
 public:
  // The snapshot being served; nullptr until the first catalog is loaded.
  std::shared_ptr<const CatalogSnapshot> Current() const { return std::atomic_load(&current_); }

  // Makes `snapshot` the one served from now on. The previous one lives on
  // until its last reader lets go of it.
  void Publish(std::shared_ptr<const CatalogSnapshot> snapshot) {
    std::atomic_store(&current_, std::move(snapshot));
  }

 private:
  std::shared_ptr<const CatalogSnapshot> current_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_MODEL_CATALOG_STORE_H_
