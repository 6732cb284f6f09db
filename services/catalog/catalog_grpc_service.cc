#include "services/catalog/catalog_grpc_service.h"

#include <string>
#include <vector>

#include "services/catalog/grpc_status.h"
#include "services/catalog/request_limits.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::v1::Model;

// Reads answer from memory without blocking, so they finish inline on the
// thread that received them.
grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context,
                                     const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// The caller's deadline; InfiniteFuture when it set none.
absl::Time DeadlineOf(const grpc::CallbackServerContext* context) {
  const auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

// Calls that wait on the hub finish later, from LiveOperations' threads.
template <typename Response>
LiveOperations::Done FinishLater(grpc::ServerUnaryReactor* reactor, Response* response) {
  return [reactor, response](absl::StatusOr<Model> model) {
    if (model.ok()) *response->mutable_model() = *std::move(model);
    reactor->Finish(ToGrpcStatus(model.status()));
  };
}

// One WatchDeployments stream: the feed's WatchStream queue, written to the
// wire one event at a time. OnDone unsubscribes and frees it.
class WatchDeploymentsReactor final
    : public grpc::ServerWriteReactor<modelcatalog::v1::WatchDeploymentsResponse>,
      public WatchStream {
 public:
  WatchDeploymentsReactor(DeploymentFeed* feed, const std::vector<std::string>& model_ids)
      : WatchStream(model_ids), feed_(feed) {}

  void Start(const modelcatalog::v1::WatchDeploymentsRequest& request, absl::Status allowed) {
    absl::Status subscribed = std::move(allowed);
    if (subscribed.ok()) subscribed = CheckWatchRequest(request);
    if (subscribed.ok()) subscribed = feed_->Subscribe(this, request.resume_token());
    if (!subscribed.ok()) {
      subscribed_ = false;
      Finish(ToGrpcStatus(subscribed));
    }
  }

  void OnWriteDone(bool ok) override { OnEventWritten(ok); }
  void OnCancel() override { OnStreamCancelled(); }
  void OnDone() override {
    if (subscribed_) feed_->Unsubscribe(this);
    delete this;
  }

 protected:
  void StartEventWrite(const WatchEvent* event) override { StartWrite(event); }
  void FinishStream(const absl::Status& status) override { Finish(ToGrpcStatus(status)); }

 private:
  DeploymentFeed* const feed_;
  bool subscribed_ = true;
};

}  // namespace

absl::Status CatalogGrpcService::Authorize(const grpc::CallbackServerContext* context,
                                           Access need) const {
  if (auth_ == nullptr) return absl::OkStatus();
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  const absl::string_view value =
      it == metadata.end() ? absl::string_view() : absl::string_view(it->second.data(), it->second.size());
  return auth_->Check(value, need);
}

grpc::ServerUnaryReactor* CatalogGrpcService::ListModels(
    grpc::CallbackServerContext* context, const modelcatalog::v1::ListModelsRequest* request,
    modelcatalog::v1::ListModelsResponse* response) {
  if (absl::Status allowed = Authorize(context, Access::kRead); !allowed.ok()) {
    return FinishWith(context, allowed);
  }
  return FinishWith(context, impl_->ListModels(*request, response));
}

grpc::ServerUnaryReactor* CatalogGrpcService::SearchModels(
    grpc::CallbackServerContext* context, const modelcatalog::v1::SearchModelsRequest* request,
    modelcatalog::v1::SearchModelsResponse* response) {
  if (absl::Status allowed = Authorize(context, Access::kRead); !allowed.ok()) {
    return FinishWith(context, allowed);
  }
  return FinishWith(context, impl_->SearchModels(*request, response));
}

grpc::ServerUnaryReactor* CatalogGrpcService::GetModel(
    grpc::CallbackServerContext* context, const modelcatalog::v1::GetModelRequest* request,
    modelcatalog::v1::GetModelResponse* response) {
  if (absl::Status allowed = Authorize(context, Access::kRead); !allowed.ok()) {
    return FinishWith(context, allowed);
  }
  if (!request->live()) return FinishWith(context, impl_->GetModel(*request, response));
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  live_->GetLive(request->id(), FinishLater(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* CatalogGrpcService::GetSyncStatus(
    grpc::CallbackServerContext* context, const modelcatalog::v1::GetSyncStatusRequest* request,
    modelcatalog::v1::GetSyncStatusResponse* response) {
  if (absl::Status allowed = Authorize(context, Access::kRead); !allowed.ok()) {
    return FinishWith(context, allowed);
  }
  return FinishWith(context, impl_->GetSyncStatus(*request, response));
}

grpc::ServerUnaryReactor* CatalogGrpcService::ActivateModel(
    grpc::CallbackServerContext* context, const modelcatalog::v1::ActivateModelRequest* request,
    modelcatalog::v1::ActivateModelResponse* response) {
  if (absl::Status allowed = Authorize(context, Access::kWrite); !allowed.ok()) {
    return FinishWith(context, allowed);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  live_->Activate(request->id(), DeadlineOf(context), FinishLater(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* CatalogGrpcService::DeactivateModel(
    grpc::CallbackServerContext* context, const modelcatalog::v1::DeactivateModelRequest* request,
    modelcatalog::v1::DeactivateModelResponse* response) {
  if (absl::Status allowed = Authorize(context, Access::kWrite); !allowed.ok()) {
    return FinishWith(context, allowed);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  live_->Deactivate(request->id(), DeadlineOf(context), FinishLater(reactor, response));
  return reactor;
}

grpc::ServerWriteReactor<modelcatalog::v1::WatchDeploymentsResponse>*
CatalogGrpcService::WatchDeployments(grpc::CallbackServerContext* context,
                                     const modelcatalog::v1::WatchDeploymentsRequest* request) {
  auto* reactor = new WatchDeploymentsReactor(
      feed_, std::vector<std::string>(request->model_ids().begin(), request->model_ids().end()));
  reactor->Start(*request, Authorize(context, Access::kRead));
  return reactor;
}

}  // namespace modelcatalog::catalog
