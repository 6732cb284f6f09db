// ModelCatalogService on gRPC's callback API. Each method is one line: it calls
// CatalogServiceImpl and finishes with its status. No state, no logic here.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_CATALOG_GRPC_SERVICE_H_
#define MODEL_CATALOG_SERVICES_CATALOG_CATALOG_GRPC_SERVICE_H_

#include "modelcatalog/v1/catalog_service.grpc.pb.h"
#include "services/catalog/catalog_service_impl.h"

namespace modelcatalog::catalog {

class CatalogGrpcService final : public modelcatalog::v1::ModelCatalogService::CallbackService {
 public:
  explicit CatalogGrpcService(const CatalogServiceImpl* impl) : impl_(impl) {}

  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const modelcatalog::v1::ListModelsRequest* request,
                                       modelcatalog::v1::ListModelsResponse* response) override;
  grpc::ServerUnaryReactor* SearchModels(grpc::CallbackServerContext* context,
                                         const modelcatalog::v1::SearchModelsRequest* request,
                                         modelcatalog::v1::SearchModelsResponse* response) override;
  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* context,
                                     const modelcatalog::v1::GetModelRequest* request,
                                     modelcatalog::v1::GetModelResponse* response) override;
  grpc::ServerUnaryReactor* GetSyncStatus(grpc::CallbackServerContext* context,
                                          const modelcatalog::v1::GetSyncStatusRequest* request,
                                          modelcatalog::v1::GetSyncStatusResponse* response) override;

 private:
  const CatalogServiceImpl* const impl_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_CATALOG_GRPC_SERVICE_H_
