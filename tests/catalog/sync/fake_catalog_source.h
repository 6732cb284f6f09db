// A catalog source whose answers the test writes: the sync pipeline's parts
// (syncer, poller) driven without a hub. Each call runs the matching function;
// one left empty answers UNIMPLEMENTED.
#ifndef MODEL_CATALOG_TESTS_CATALOG_SYNC_FAKE_CATALOG_SOURCE_H_
#define MODEL_CATALOG_TESTS_CATALOG_SYNC_FAKE_CATALOG_SOURCE_H_

#include <functional>
#include <string>

#include "services/catalog/sync/catalog_source.h"

namespace modelcatalog::catalog {

class FakeCatalogSource final : public CatalogSource {
 public:
  using ModelFn = std::function<absl::StatusOr<modelcatalog::v1::Model>(const std::string& id)>;

  std::function<absl::StatusOr<FetchedCatalog>()> fetch_catalog;
  ModelFn fetch_live;
  // Takes precedence over fetch_live: for a test that looks at the deadline.
  std::function<absl::StatusOr<modelcatalog::v1::Model>(const std::string& id,
                                                        const hub::RequestDeadline& deadline)>
      fetch_live_with_deadline;
  ModelFn activate;
  // The catalog served, as each FetchCatalog was given it.
  std::vector<std::shared_ptr<const CatalogSnapshot>> served_given;
  ModelFn deactivate;

  absl::StatusOr<FetchedCatalog> FetchCatalog(
      std::shared_ptr<const CatalogSnapshot> served) override {
    served_given.push_back(served);
    if (!fetch_catalog) return absl::UnimplementedError("FetchCatalog");
    return fetch_catalog();
  }
  absl::StatusOr<modelcatalog::v1::Model> FetchLive(const std::string& id,
                                                    const hub::RequestDeadline& deadline) override {
    if (fetch_live_with_deadline) return fetch_live_with_deadline(id, deadline);
    return Call(fetch_live, "FetchLive", id);
  }
  absl::StatusOr<modelcatalog::v1::Model> Activate(const std::string& id, absl::Time) override {
    return Call(activate, "Activate", id);
  }
  absl::StatusOr<modelcatalog::v1::Model> Deactivate(const std::string& id, absl::Time) override {
    return Call(deactivate, "Deactivate", id);
  }

 private:
  static absl::StatusOr<modelcatalog::v1::Model> Call(const ModelFn& fn, const char* name,
                                                      const std::string& id) {
    if (!fn) return absl::UnimplementedError(name);
    return fn(id);
  }
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_TESTS_CATALOG_SYNC_FAKE_CATALOG_SOURCE_H_
