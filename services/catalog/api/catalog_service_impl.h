// The logic of ModelCatalogService, free of gRPC: each method takes the request,
// fills the response and returns a status. The gRPC layer (catalog_grpc_service.h)
// only forwards to it, so everything here is tested with plain calls.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_API_CATALOG_SERVICE_IMPL_H_
#define MODEL_CATALOG_SERVICES_CATALOG_API_CATALOG_SERVICE_IMPL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "modelcatalog/v1/catalog_service.pb.h"
#include "services/catalog/api/request_schema.h"
#include "services/catalog/model/catalog_store.h"
#include "services/catalog/sync/sync_status.h"
#include "services/catalog/watch/watch_projection.h"

namespace modelcatalog::catalog {

struct CatalogServiceOptions {
  int32_t default_page_size = 50;
  int32_t max_page_size = 1000;
  // A page token older than this is refused: long enough for any client that
  // walks pages, short enough that stale cursors do not linger.
  absl::Duration page_token_lifetime = absl::Hours(1);
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

// A page of models: positions in the snapshot that was read, in answer order,
// and how much of each to write.
struct ModelPage {
  std::shared_ptr<const CatalogSnapshot> snapshot;
  std::vector<uint32_t> positions;
  std::string next_page_token;
  int32_t total_size = 0;  // every match of the request, not only this page's
  modelcatalog::v1::ModelView view = modelcatalog::v1::MODEL_VIEW_FULL;  // BASIC or FULL
};

// One model of a snapshot.
struct ModelRef {
  std::shared_ptr<const CatalogSnapshot> snapshot;
  uint32_t position = 0;
  modelcatalog::v1::ModelView view = modelcatalog::v1::MODEL_VIEW_FULL;  // BASIC or FULL
  const CatalogEntry& entry() const { return snapshot->entry(position); }
};

// The model of `entry` in `view`, as a message.
modelcatalog::v1::Model ModelIn(const CatalogEntry& entry, modelcatalog::v1::ModelView view);

// The serialization of `entry` in `view` (BASIC or FULL), appended to `out`;
// and its size.
void AppendModel(const CatalogEntry& entry, modelcatalog::v1::ModelView view, std::string* out);
size_t ModelSize(const CatalogEntry& entry, modelcatalog::v1::ModelView view);

class CatalogServiceImpl {
 public:
  CatalogServiceImpl(const CatalogStore* store, const SyncStatusRecorder* sync_status,
                     CatalogServiceOptions options = {});

  // INVALID_ARGUMENT for a filter or order_by that does not parse, a negative
  // page_size or a page_token that is malformed, expired or of another query;
  // UNAVAILABLE before the first catalog is loaded.
  absl::Status ListModels(const modelcatalog::v1::ListModelsRequest& request,
                          modelcatalog::v1::ListModelsResponse* response) const;

  // As ListModels, and INVALID_ARGUMENT for an empty query.
  absl::Status SearchModels(const modelcatalog::v1::SearchModelsRequest& request,
                            modelcatalog::v1::SearchModelsResponse* response) const;

  // INVALID_ARGUMENT for an empty id; NOT_FOUND "Model not found: <id>";
  // UNAVAILABLE before the first catalog is loaded.
  absl::Status GetModel(const modelcatalog::v1::GetModelRequest& request,
                        modelcatalog::v1::GetModelResponse* response) const;

  // What a call with the request's usage costs on each model (the rules are
  // in catalog_service.proto and cost_estimate.h). INVALID_ARGUMENT for a
  // usage that is empty, negative or not finite, neither or both of model_ids
  // and filter, and what ListModels refuses; NOT_FOUND for an unknown id;
  // FAILED_PRECONDITION for a listed model the usage cannot be priced on;
  // OUT_OF_RANGE when an amount does not fit; UNAVAILABLE before the first
  // catalog is loaded.
  absl::Status EstimateCost(const modelcatalog::v1::EstimateCostRequest& request,
                            modelcatalog::v1::EstimateCostResponse* response) const;

  // Whether the request's parameters satisfy the model's request_schema.
  // INVALID_ARGUMENT for an empty or too long model_id, both parameters and
  // parameters_json, or parameters_json that is not JSON or nests too deep;
  // NOT_FOUND for an unknown model; UNAVAILABLE before the first catalog is
  // loaded. A schema that does not compile is an answer (schema_error), not
  // an error.
  absl::Status ValidateRequest(const modelcatalog::v1::ValidateRequestRequest& request,
                               modelcatalog::v1::ValidateRequestResponse* response) const;

  // Never fails.
  absl::Status GetSyncStatus(const modelcatalog::v1::GetSyncStatusRequest& request,
                             modelcatalog::v1::GetSyncStatusResponse* response) const;

  // The same answers as positions in a snapshot, for callers that write the
  // models' stored serialization rather than copying messages (the gRPC layer).
  absl::StatusOr<ModelPage> ListPage(const modelcatalog::v1::ListModelsRequest& request) const;
  absl::StatusOr<ModelPage> SearchPage(const modelcatalog::v1::SearchModelsRequest& request) const;
  // Every model ListModels would page through for `request` (its page_size
  // and page_token aside), in its order: for the JSON view, which does not page.
  absl::StatusOr<ModelPage> ListAll(const modelcatalog::v1::ListModelsRequest& request) const;
  absl::StatusOr<ModelRef> FindModel(const modelcatalog::v1::GetModelRequest& request) const;
  // The models of BatchGetModels, in request order. INVALID_ARGUMENT for no
  // ids, more than kMaxBatchIds or a bad one; NOT_FOUND naming the first id
  // the catalog does not have; UNAVAILABLE before the first catalog.
  absl::StatusOr<ModelPage> BatchGet(const modelcatalog::v1::BatchGetModelsRequest& request) const;

  // What a WatchDeployments / WatchModels stream of `request` tells (its
  // resume token aside, which the feed reads): INVALID_ARGUMENT naming what is
  // over its limits or malformed (see the proto); UNAVAILABLE (WatchModels)
  // before the first catalog, whose size bounds known_versions.
  absl::StatusOr<std::unique_ptr<WatchProjection>> DeploymentsWatch(
      const modelcatalog::v1::WatchDeploymentsRequest& request) const;
  absl::StatusOr<std::unique_ptr<WatchProjection>> ModelsWatch(
      const modelcatalog::v1::WatchModelsRequest& request) const;

 private:
  absl::StatusOr<ModelPage> List(const modelcatalog::v1::ListModelsRequest& request,
                                 size_t limit) const;
  absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> LoadedSnapshot() const;
  absl::StatusOr<int32_t> PageSize(int32_t requested) const;

  const CatalogStore* const store_;
  const SyncStatusRecorder* const sync_status_;
  const CatalogServiceOptions options_;
  // ValidateRequest's compiled schemas: a cache, hence behind a const pointer
  // that const methods may use.
  const std::unique_ptr<RequestSchemaCache> schemas_ = std::make_unique<RequestSchemaCache>();
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_API_CATALOG_SERVICE_IMPL_H_
