#include "services/catalog/catalog_grpc_service.h"

#include <atomic>
#include <string>
#include <vector>

#include "grpcpp/support/proto_buffer_reader.h"
#include "services/catalog/grpc_status.h"
#include "services/catalog/request_limits.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::v1::Model;

// Reads a request message from its bytes.
absl::Status ParseRequest(const grpc::ByteBuffer* request, google::protobuf::Message* message) {
  grpc::ProtoBufferReader reader(const_cast<grpc::ByteBuffer*>(request));
  if (!message->ParseFromZeroCopyStream(&reader)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the request is not a valid ", message->GetDescriptor()->full_name()));
  }
  return absl::OkStatus();
}

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// A length-delimited field: what a message field or a string field is on the wire.
void AppendField(int number, absl::string_view bytes, std::string* out) {
  AppendVarint(static_cast<uint64_t>(number) << 3 | 2, out);
  AppendVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

void ToByteBuffer(std::string bytes, grpc::ByteBuffer* buffer) {
  auto* owned = new std::string(std::move(bytes));
  grpc::Slice slice(owned->data(), owned->size(),
                    [](void* p) { delete static_cast<std::string*>(p); }, owned);
  grpc::ByteBuffer(&slice, 1).Swap(buffer);
}

// ListModelsResponse and SearchModelsResponse alike: models = 1, next_page_token = 2.
void WritePage(const ModelPage& page, grpc::ByteBuffer* response) {
  size_t size = page.next_page_token.size() + 16;
  for (uint32_t position : page.positions) size += page.snapshot->entry(position).wire.size() + 6;
  std::string bytes;
  bytes.reserve(size);
  for (uint32_t position : page.positions) {
    AppendField(1, page.snapshot->entry(position).wire, &bytes);
  }
  if (!page.next_page_token.empty()) AppendField(2, page.next_page_token, &bytes);
  ToByteBuffer(std::move(bytes), response);
}

// The caller's deadline; InfiniteFuture when it set none.
absl::Time DeadlineOf(const grpc::CallbackServerContext* context) {
  const auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

// One WatchDeployments stream: the feed's WatchStream queue, written to the
// wire one event at a time, as the bytes the feed serialized (shared with
// every stream that sends the same event). OnDone unsubscribes and frees it.
class WatchDeploymentsReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer>,
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
    SyncWithCallbacks();
    if (subscribed_) feed_->Unsubscribe(this);
    if (metrics_ != nullptr) {
      metrics_->RecordCall(Rpc::kWatchDeployments, finish_code_.load(std::memory_order_acquire),
                           absl::Now() - start_);
    }
    delete this;
  }

 protected:
  void StartEventWrite(EncodedEvent event) override {
    // The slice holds a reference to the bytes until gRPC is done with them;
    // no copy. The buffer stays untouched until OnWriteDone.
    const std::string& bytes = *event;
    auto* reference = new EncodedEvent(std::move(event));
    grpc::Slice slice(const_cast<char*>(bytes.data()), bytes.size(),
                      [](void* p) { delete static_cast<EncodedEvent*>(p); }, reference);
    grpc::ByteBuffer(&slice, 1).Swap(&buffer_);
    StartWrite(&buffer_);
  }
  void FinishStream(const absl::Status& status) override {
    // Read in OnDone, which comes after.
    finish_code_.store(static_cast<int>(status.code()), std::memory_order_release);
    Finish(ToGrpcStatus(status));
  }

 private:
  DeploymentFeed* const feed_;
  CatalogMetrics* const metrics_;
  const absl::Time start_ = absl::Now();
  grpc::ByteBuffer buffer_;  // the event being written
  bool subscribed_ = true;
  std::atomic<int> finish_code_{0};
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

LiveOperations::Done CatalogGrpcService::FinishLaterRaw(grpc::ServerUnaryReactor* reactor,
                                                        grpc::ByteBuffer* response, Rpc rpc,
                                                        absl::Time start) {
  return [this, reactor, response, rpc, start](absl::StatusOr<Model> model) {
    if (model.ok()) {
      std::string bytes;
      AppendField(1, DeterministicWire(*model), &bytes);
      ToByteBuffer(std::move(bytes), response);
    }
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

grpc::ServerUnaryReactor* CatalogGrpcService::ListModels(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(context, Access::kRead);
  modelcatalog::v1::ListModelsRequest parsed;
  if (status.ok()) status = ParseRequest(request, &parsed);
  if (status.ok()) {
    absl::StatusOr<ModelPage> page = impl_->ListPage(parsed);
    status = page.status();
    if (page.ok()) WritePage(*page, response);
  }
  return Finish(context, Rpc::kListModels, start, status);
}

grpc::ServerUnaryReactor* CatalogGrpcService::SearchModels(grpc::CallbackServerContext* context,
                                                           const grpc::ByteBuffer* request,
                                                           grpc::ByteBuffer* response) {
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(context, Access::kRead);
  modelcatalog::v1::SearchModelsRequest parsed;
  if (status.ok()) status = ParseRequest(request, &parsed);
  if (status.ok()) {
    absl::StatusOr<ModelPage> page = impl_->SearchPage(parsed);
    status = page.status();
    if (page.ok()) WritePage(*page, response);
  }
  return Finish(context, Rpc::kSearchModels, start, status);
}

grpc::ServerUnaryReactor* CatalogGrpcService::GetModel(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  const absl::Time start = absl::Now();
  absl::Status status = Authorize(context, Access::kRead);
  modelcatalog::v1::GetModelRequest parsed;
  if (status.ok()) status = ParseRequest(request, &parsed);
  if (status.ok() && parsed.live()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    live_->GetLive(parsed.id(), FinishLaterRaw(reactor, response, Rpc::kGetModel, start));
    return reactor;
  }
  if (status.ok()) {
    absl::StatusOr<ModelRef> model = impl_->FindModel(parsed);
    status = model.status();
    if (model.ok()) {
      std::string bytes;
      bytes.reserve(model->entry().wire.size() + 6);
      AppendField(1, model->entry().wire, &bytes);  // GetModelResponse.model = 1
      ToByteBuffer(std::move(bytes), response);
    }
  }
  return Finish(context, Rpc::kGetModel, start, status);
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

grpc::ServerWriteReactor<grpc::ByteBuffer>* CatalogGrpcService::WatchDeployments(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  absl::Status allowed = Authorize(context, Access::kRead);
  modelcatalog::v1::WatchDeploymentsRequest parsed;
  if (allowed.ok()) allowed = ParseRequest(request, &parsed);
  auto* reactor = new WatchDeploymentsReactor(
      feed_, std::vector<std::string>(parsed.model_ids().begin(), parsed.model_ids().end()),
      metrics_);
  reactor->Start(parsed, std::move(allowed));
  return reactor;
}

}  // namespace modelcatalog::catalog
