// ModelCatalogService on gRPC's callback API. No state and no logic here: each
// unary method forwards to CatalogServiceImpl or LiveOperations and finishes
// with their status; WatchDeployments is a WatchStream written to the wire.
//
// ListModels, SearchModels and GetModel are the hot paths. They are "raw"
// methods: the response is written as bytes from each model's serialization
// stored in the snapshot, rather than by copying models into a message that
// gRPC then serializes again. A model's request_schema (a Struct) makes up
// most of that cost, and it is paid once per sync instead of once per call.
// WatchDeployments is raw too: a change fanned out to thousands of streams is
// serialized once and every stream writes the same bytes.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_CATALOG_GRPC_SERVICE_H_
#define MODEL_CATALOG_SERVICES_CATALOG_CATALOG_GRPC_SERVICE_H_

#include "modelcatalog/v1/catalog_service.grpc.pb.h"
#include "services/catalog/caller_auth.h"
#include "services/catalog/catalog_metrics.h"
#include "services/catalog/catalog_service_impl.h"
#include "services/catalog/deployment_feed.h"
#include "services/catalog/live_operations.h"

namespace modelcatalog::catalog {

using CatalogServiceBase = modelcatalog::v1::ModelCatalogService::WithRawCallbackMethod_ListModels<
    modelcatalog::v1::ModelCatalogService::WithRawCallbackMethod_SearchModels<
        modelcatalog::v1::ModelCatalogService::WithRawCallbackMethod_GetModel<
            modelcatalog::v1::ModelCatalogService::WithRawCallbackMethod_WatchDeployments<
                modelcatalog::v1::ModelCatalogService::CallbackService>>>>;

class CatalogGrpcService final : public CatalogServiceBase {
 public:
  // `auth` may be null: every caller is let in. `metrics` may be null.
  CatalogGrpcService(const CatalogServiceImpl* impl, LiveOperations* live, DeploymentFeed* feed,
                     const CallerAuth* auth, CatalogMetrics* metrics)
      : impl_(impl), live_(live), feed_(feed), auth_(auth), metrics_(metrics) {}

  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* SearchModels(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetSyncStatus(grpc::CallbackServerContext* context,
                                          const modelcatalog::v1::GetSyncStatusRequest* request,
                                          modelcatalog::v1::GetSyncStatusResponse* response) override;
  grpc::ServerUnaryReactor* ActivateModel(grpc::CallbackServerContext* context,
                                          const modelcatalog::v1::ActivateModelRequest* request,
                                          modelcatalog::v1::ActivateModelResponse* response) override;
  grpc::ServerUnaryReactor* DeactivateModel(
      grpc::CallbackServerContext* context, const modelcatalog::v1::DeactivateModelRequest* request,
      modelcatalog::v1::DeactivateModelResponse* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchDeployments(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) override;

 private:
  absl::Status Authorize(const grpc::CallbackServerContext* context, Access need) const;
  // Finishes a call answered on the spot, counting it.
  grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context, Rpc rpc, absl::Time start,
                                   const absl::Status& status);
  // A callback that finishes a call later, from LiveOperations' threads.
  template <typename Response>
  LiveOperations::Done FinishLater(grpc::ServerUnaryReactor* reactor, Response* response, Rpc rpc,
                                   absl::Time start);
  // The same for a raw method: the response message is serialized into `response`.
  LiveOperations::Done FinishLaterRaw(grpc::ServerUnaryReactor* reactor, grpc::ByteBuffer* response,
                                      Rpc rpc, absl::Time start);

  const CatalogServiceImpl* const impl_;
  LiveOperations* const live_;
  DeploymentFeed* const feed_;
  const CallerAuth* const auth_;
  CatalogMetrics* const metrics_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_CATALOG_GRPC_SERVICE_H_
