#include "services/catalog/catalog_grpc_service.h"

#include <string>
#include <vector>

#include "services/catalog/grpc_status.h"
#include "services/catalog/request_limits.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::v1::Model;

// The caller's deadline; InfiniteFuture when it set none.
absl::Time DeadlineOf(const grpc::CallbackServerContext* context) {
  const auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

// One WatchDeployments stream: the feed's WatchStream queue, written to the
// wire one event at a time. OnDone unsubscribes and frees it.
class WatchDeploymentsReactor final
    : public grpc::ServerWriteReactor<modelcatalog::v1::WatchDeploymentsResponse>,
      public WatchStream {
 public:
  WatchDeploymentsReactor(DeploymentFeed* feed, const std::vector<std::string>& model_ids,
                          CatalogMetrics* metrics)
      : WatchStream(model_ids), feed_(feed), metrics_(metrics) {}

  void Start(const modelcatalog::v1::WatchDeploymentsRequest& request, absl::Status allowed) {
    absl::Status subscribed = std::move(allowed);
    if (subscribed.ok()) subscribed = CheckWatchRequest(request);
    if (subscribed.ok()) subscribed = feed_->Subscribe(this, request.resume_token());
    if (!subscribed.ok()) {
      subscribed_ = false;
      FinishStream(subscribed);
    }
  }

  void OnWriteDone(bool ok) override { OnEventWritten(ok); }
  void OnCancel() override { OnStreamCancelled(); }
  void OnDone() override {
    if (subscribed_) feed_->Unsubscribe(this);
    if (metrics_ != nullptr) {
      metrics_->RecordCall(Rpc::kWatchDeployments, finish_code_, absl::Now() - start_);
    }
    delete this;
  }

 protected:
  void StartEventWrite(const WatchEvent* event) override { StartWrite(event); }
  void FinishStream(const absl::Status& status) override {
    finish_code_ = static_cast<int>(status.code());  // read in OnDone, which comes after
    Finish(ToGrpcStatus(status));
  }

 private:
  DeploymentFeed* const feed_;
  CatalogMetrics* const metrics_;
  const absl::Time start_ = absl::Now();
  bool subscribed_ = true;
  int finish_code_ = 0;
};

}  // namespace

grpc::ServerUnaryReactor* CatalogGrpcService::Finish(grpc::CallbackServerContext* context, Rpc rpc,
                                                     absl::Time start, const absl::Status& status) {
  // Reads answer from memory without blocking, so they finish inline on the
  // thread that received them.
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  if (metrics_ != nullptr) metrics_->RecordCall(rpc, static_cast<int>(status.code()), absl::Now() - start);
  return reactor;
}

template <typename Response>
LiveOperations::Done CatalogGrpcService::FinishLater(grpc::ServerUnaryReactor* reactor,
                                                     Response* response, Rpc rpc, absl::Time start) {
  return [this, reactor, response, rpc, start](absl::StatusOr<Model> model) {
    if (model.ok()) *response->mutable_model() = *std::move(model);
    if (metrics_ != nullptr) {
      metrics_->RecordCall(rpc, static_cast<int>(model.status().code()), absl::Now() - start);
    }
    reactor->Finish(ToGrpcStatus(model.status()));
  };
}

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
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(context, Access::kRead);
  if (status.ok()) status = impl_->ListModels(*request, response);
  return Finish(context, Rpc::kListModels, start, status);
}

grpc::ServerUnaryReactor* CatalogGrpcService::SearchModels(
    grpc::CallbackServerContext* context, const modelcatalog::v1::SearchModelsRequest* request,
    modelcatalog::v1::SearchModelsResponse* response) {
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(context, Access::kRead);
  if (status.ok()) status = impl_->SearchModels(*request, response);
  return Finish(context, Rpc::kSearchModels, start, status);
}

grpc::ServerUnaryReactor* CatalogGrpcService::GetModel(
    grpc::CallbackServerContext* context, const modelcatalog::v1::GetModelRequest* request,
    modelcatalog::v1::GetModelResponse* response) {
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(context, Access::kRead);
  if (!status.ok() || !request->live()) {
    if (status.ok()) status = impl_->GetModel(*request, response);
    return Finish(context, Rpc::kGetModel, start, status);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  live_->GetLive(request->id(), FinishLater(reactor, response, Rpc::kGetModel, start));
  return reactor;
}

grpc::ServerUnaryReactor* CatalogGrpcService::GetSyncStatus(
    grpc::CallbackServerContext* context, const modelcatalog::v1::GetSyncStatusRequest* request,
    modelcatalog::v1::GetSyncStatusResponse* response) {
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(context, Access::kRead);
  if (status.ok()) status = impl_->GetSyncStatus(*request, response);
  return Finish(context, Rpc::kGetSyncStatus, start, status);
}

grpc::ServerUnaryReactor* CatalogGrpcService::ActivateModel(
    grpc::CallbackServerContext* context, const modelcatalog::v1::ActivateModelRequest* request,
    modelcatalog::v1::ActivateModelResponse* response) {
  const absl::Time start = absl::Now();
  if (absl::Status allowed = Authorize(context, Access::kWrite); !allowed.ok()) {
    return Finish(context, Rpc::kActivateModel, start, allowed);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  live_->Activate(request->id(), DeadlineOf(context),
                  FinishLater(reactor, response, Rpc::kActivateModel, start));
  return reactor;
}

grpc::ServerUnaryReactor* CatalogGrpcService::DeactivateModel(
    grpc::CallbackServerContext* context, const modelcatalog::v1::DeactivateModelRequest* request,
    modelcatalog::v1::DeactivateModelResponse* response) {
  const absl::Time start = absl::Now();
  if (absl::Status allowed = Authorize(context, Access::kWrite); !allowed.ok()) {
    return Finish(context, Rpc::kDeactivateModel, start, allowed);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  live_->Deactivate(request->id(), DeadlineOf(context),
                    FinishLater(reactor, response, Rpc::kDeactivateModel, start));
  return reactor;
}

grpc::ServerWriteReactor<modelcatalog::v1::WatchDeploymentsResponse>*
CatalogGrpcService::WatchDeployments(grpc::CallbackServerContext* context,
                                     const modelcatalog::v1::WatchDeploymentsRequest* request) {
  auto* reactor = new WatchDeploymentsReactor(
      feed_, std::vector<std::string>(request->model_ids().begin(), request->model_ids().end()),
      metrics_);
  reactor->Start(*request, Authorize(context, Access::kRead));
  return reactor;
}

}  // namespace modelcatalog::catalog
