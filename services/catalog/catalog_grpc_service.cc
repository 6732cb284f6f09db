#include "services/catalog/catalog_grpc_service.h"

#include "services/catalog/grpc_status.h"

namespace modelcatalog::catalog {
namespace {

// The unary calls answer from memory without blocking, so they finish inline
// on the thread that received them.
grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context,
                                     const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* CatalogGrpcService::ListModels(
    grpc::CallbackServerContext* context, const modelcatalog::v1::ListModelsRequest* request,
    modelcatalog::v1::ListModelsResponse* response) {
  return FinishWith(context, impl_->ListModels(*request, response));
}

grpc::ServerUnaryReactor* CatalogGrpcService::SearchModels(
    grpc::CallbackServerContext* context, const modelcatalog::v1::SearchModelsRequest* request,
    modelcatalog::v1::SearchModelsResponse* response) {
  return FinishWith(context, impl_->SearchModels(*request, response));
}

grpc::ServerUnaryReactor* CatalogGrpcService::GetModel(
    grpc::CallbackServerContext* context, const modelcatalog::v1::GetModelRequest* request,
    modelcatalog::v1::GetModelResponse* response) {
  return FinishWith(context, impl_->GetModel(*request, response));
}

grpc::ServerUnaryReactor* CatalogGrpcService::GetSyncStatus(
    grpc::CallbackServerContext* context, const modelcatalog::v1::GetSyncStatusRequest* request,
    modelcatalog::v1::GetSyncStatusResponse* response) {
  return FinishWith(context, impl_->GetSyncStatus(*request, response));
}

}  // namespace modelcatalog::catalog
