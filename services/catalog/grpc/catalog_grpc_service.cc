#include "services/catalog/grpc/catalog_grpc_service.h"

#include <atomic>
#include <string>
#include <vector>

#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/slice.h"
#include "services/catalog/api/request_limits.h"
#include "services/catalog/grpc/grpc_status.h"
#include "services/common/proto_wire.h"

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

void ToByteBuffer(std::string bytes, grpc::ByteBuffer* buffer) {
  auto* owned = new std::string(std::move(bytes));
  grpc::Slice slice(
      owned->data(), owned->size(), [](void* p) { delete static_cast<std::string*>(p); }, owned);
  grpc::ByteBuffer(&slice, 1).Swap(buffer);
}

// A message field holding `entry` in `view`, written from the stored bytes.
void AppendModelField(int number, const CatalogEntry& entry, modelcatalog::v1::ModelView view,
                      std::string* out) {
  AppendLengthDelimitedHeader(number, ModelSize(entry, view), out);
  AppendModel(entry, view, out);
}

// ListModelsResponse, SearchModelsResponse and BatchGetModelsResponse alike:
// models = 1, next_page_token = 2, total_size = 3 (the batch has only models).
void WritePage(const ModelPage& page, bool with_total, grpc::ByteBuffer* response) {
  size_t size = page.next_page_token.size() + 32;
  for (uint32_t position : page.positions) {
    size += ModelSize(page.snapshot->entry(position), page.view) + 6;
  }
  std::string bytes;
  bytes.reserve(size);
  for (uint32_t position : page.positions) {
    AppendModelField(1, page.snapshot->entry(position), page.view, &bytes);
  }
  if (!page.next_page_token.empty()) AppendLengthDelimited(2, page.next_page_token, &bytes);
  if (with_total && page.total_size != 0) {
    AppendVarint(3 << 3 | 0, &bytes);
    AppendVarint(static_cast<uint64_t>(page.total_size), &bytes);
  }
  ToByteBuffer(std::move(bytes), response);
}

// The caller's deadline; InfiniteFuture when it set none.
absl::Time DeadlineOf(const grpc::ServerContext* context) {
  const auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

void WriteModel(absl::string_view wire, grpc::ByteBuffer* response) {
  std::string bytes;
  bytes.reserve(wire.size() + 6);
  AppendLengthDelimited(1, wire, &bytes);  // GetModelResponse.model = 1
  ToByteBuffer(std::move(bytes), response);
}

void WriteModel(const ModelRef& model, grpc::ByteBuffer* response) {
  std::string bytes;
  bytes.reserve(ModelSize(model.entry(), model.view) + 6);
  AppendModelField(1, model.entry(), model.view, &bytes);  // GetModelResponse.model = 1
  ToByteBuffer(std::move(bytes), response);
}

// The gRPC buffer holding `event`'s bytes. A feed pass hands the same event
// to every idle stream it writes, one after another on one thread, so the
// thread keeps the buffer of the last event it was asked for: the bytes are
// copied into a gRPC slice once per event and thread, and each stream's write
// only references them (gRPC copies the buffer it is given, which costs one
// allocation and a reference count). A buffer made per write cost three
// allocations, three frees and a copy of the event; in a fan-out to 10,000
// streams those were all of the server's allocations. The slice is freed by
// whichever thread drops it last; the cache holds one event per thread.
const grpc::ByteBuffer& EventBuffer(const EncodedEvent& event) {
  struct Cached {
    EncodedEvent event;
    grpc::ByteBuffer buffer;
  };
  thread_local Cached cached;
  if (cached.event != event) {
    grpc::Slice slice(event->data(), event->size());
    grpc::ByteBuffer(&slice, 1).Swap(&cached.buffer);
    cached.event = event;
  }
  return cached.buffer;
}

}  // namespace

// One watch stream (WatchDeployments or WatchModels): a WatchStream of the
// feed, whose events this call writes to the wire one at a time, as the bytes
// the feed serialized (shared with every stream that sends the same event).
// The call is the stream's sink; the feed knows only the stream. It lives on a
// stream queue, where its write completions arrive. Its feed shard is its
// connection's (all of a connection's streams are written by one thread, in
// one burst per change), or its stream queue's when the connection is not
// known. Its method says how the request becomes the stream's projection.
class CatalogGrpcService::WatchCall final : public StreamCall<grpc::ByteBuffer, grpc::ByteBuffer>,
                                            public WatchSink {
 public:
  // Requests the next call of `method` on `call_queue`, bound to the next
  // stream queue in turn.
  static void Await(CatalogGrpcService* service, const WatchMethod* method, ServingQueues* queues,
                    ServingQueue* call_queue) {
    const size_t shard = queues->NextStreamQueue();
    AwaitCall(new WatchCall(service, method, queues, call_queue, shard));
  }

 private:
  WatchCall(CatalogGrpcService* service, const WatchMethod* method, ServingQueues* queues,
            ServingQueue* call_queue, size_t shard)
      : StreamCall(&method->requester, call_queue, &queues->stream_queue(shard)),
        stream_(this, shard),
        service_(service),
        method_(method),
        queues_(queues),
        call_queue_(call_queue) {}

  void AwaitNext() override { Await(service_, method_, queues_, call_queue_); }

  void OnStart() override {
    start_ = absl::Now();
    absl::Status status = service_->Authorize(context(), Access::kRead);
    absl::StatusOr<std::string> resume_token;
    if (status.ok()) {
      resume_token = method_->open(request(), &stream_);
      status = resume_token.status();
    }
    if (status.ok() && service_->sockets_ != nullptr) {
      connection_ = service_->sockets_->Find(context()->peer());
      stream_.SetConnection(connection_.get());
      // Every stream of a connection in one feed shard: one thread writes all
      // of the connection's events of a change, in one burst, and the client
      // gets them in a few segments (a burst per shard would be eight times
      // as many). Its write completions still come to its own stream queue.
      if (connection_ != nullptr) {
        stream_.SetShard(connection_->index() % service_->feed_->shard_count());
      }
    }
    if (status.ok()) status = service_->feed_->Subscribe(&stream_, *resume_token);
    // Through the stream, which finishes once, whatever else (a cancellation
    // coming in meanwhile) tries to.
    if (!status.ok()) stream_.End(status);
  }
  void OnWritten(bool ok) override { stream_.OnEventWritten(ok); }
  void OnCancelled() override { stream_.OnStreamCancelled(); }
  void OnDone() override {
    stream_.SyncWithCallbacks();
    service_->feed_->Unsubscribe(&stream_);  // a no-op for a stream never subscribed
    if (service_->metrics_ != nullptr) {
      service_->metrics_->RecordCall(method_->rpc, finish_code_.load(std::memory_order_acquire),
                                     absl::Now() - start_);
    }
  }

  // WatchSink:
  void StartEventWrite(EncodedEvent event) override { StartWrite(EventBuffer(event)); }
  void FinishStream(const absl::Status& status) override {
    finish_code_.store(static_cast<int>(status.code()), std::memory_order_release);
    StartFinish(ToGrpcStatus(status));
  }

  // Shared with the connection's other streams; held until the call is
  // deleted, after the stream left the feed (OnDone), and gRPC keeps the
  // socket open until then.
  std::shared_ptr<ConnectionSocket> connection_;
  WatchStream stream_;
  CatalogGrpcService* const service_;
  const WatchMethod* const method_;
  ServingQueues* const queues_;
  ServingQueue* const call_queue_;
  absl::Time start_;
  std::atomic<int> finish_code_{0};  // written by FinishStream, read in OnDone
};

// Reads a watch request of type `Request`, has `make` check it and make the
// stream's projection, and returns the request's resume token.
template <typename Request, typename Make>
absl::StatusOr<std::string> OpenWatch(const grpc::ByteBuffer& bytes, WatchStream* stream,
                                      Make make) {
  Request request;
  if (absl::Status s = ParseRequest(&bytes, &request); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<WatchProjection>> projection = make(request);
  if (!projection.ok()) return projection.status();
  stream->SetProjection(*std::move(projection));
  return std::move(*request.mutable_resume_token());
}

template <typename Method, typename Request, typename Handle>
void CatalogGrpcService::Bind(Method* method, Request request, Rpc rpc, Handle handle) {
  method->request = [this, request](auto* context, auto* message, auto* responder, auto* queue,
                                    void* tag) {
    (service_.*request)(context, message, responder, queue, queue, tag);
  };
  method->handle = std::move(handle);
  if (metrics_ == nullptr) return;
  method->on_finish = [metrics = metrics_, rpc](const grpc::Status& status, absl::Duration took) {
    metrics->RecordCall(rpc, static_cast<int>(status.error_code()), took);
  };
}

CatalogGrpcService::CatalogGrpcService(const CatalogServiceImpl* impl, LiveOperations* live,
                                       ChangeFeed* feed, const CallerAuth* auth,
                                       CatalogMetrics* metrics, ConnectionSockets* sockets)
    : impl_(impl), live_(live), feed_(feed), auth_(auth), metrics_(metrics), sockets_(sockets) {
  Bind(&list_models_, &AsyncService::RequestListModels, Rpc::kListModels,
       [this](RawCall* call) { ListModels(call); });
  Bind(&search_models_, &AsyncService::RequestSearchModels, Rpc::kSearchModels,
       [this](RawCall* call) { SearchModels(call); });
  Bind(&get_model_, &AsyncService::RequestGetModel, Rpc::kGetModel,
       [this](RawCall* call) { GetModel(call); });
  Bind(&batch_get_models_, &AsyncService::RequestBatchGetModels, Rpc::kBatchGetModels,
       [this](RawCall* call) { BatchGetModels(call); });
  Bind(&get_sync_status_, &AsyncService::RequestGetSyncStatus, Rpc::kGetSyncStatus,
       [this](auto* call) { GetSyncStatus(call); });
  Bind(&activate_model_, &AsyncService::RequestActivateModel, Rpc::kActivateModel,
       [this](auto* call) { SwitchDeployment(/*activate=*/true, call); });
  Bind(&deactivate_model_, &AsyncService::RequestDeactivateModel, Rpc::kDeactivateModel,
       [this](auto* call) { SwitchDeployment(/*activate=*/false, call); });
  Bind(&estimate_cost_, &AsyncService::RequestEstimateCost, Rpc::kEstimateCost,
       [this](auto* call) { EstimateCost(call); });
  Bind(&validate_request_, &AsyncService::RequestValidateRequest, Rpc::kValidateRequest,
       [this](auto* call) { ValidateRequest(call); });
  watch_deployments_.requester = [this](grpc::ServerContext* context, grpc::ByteBuffer* request,
                                        grpc::ServerAsyncWriter<grpc::ByteBuffer>* writer,
                                        grpc::CompletionQueue* call_queue,
                                        grpc::ServerCompletionQueue* notification_queue,
                                        void* tag) {
    service_.RequestWatchDeployments(context, request, writer, call_queue, notification_queue, tag);
  };
  watch_deployments_.rpc = Rpc::kWatchDeployments;
  watch_deployments_.open = [this](const grpc::ByteBuffer& request, WatchStream* stream) {
    return OpenWatch<modelcatalog::v1::WatchDeploymentsRequest>(
        request, stream, [this](const auto& parsed) { return impl_->DeploymentsWatch(parsed); });
  };
  watch_models_.requester = [this](grpc::ServerContext* context, grpc::ByteBuffer* request,
                                   grpc::ServerAsyncWriter<grpc::ByteBuffer>* writer,
                                   grpc::CompletionQueue* call_queue,
                                   grpc::ServerCompletionQueue* notification_queue, void* tag) {
    service_.RequestWatchModels(context, request, writer, call_queue, notification_queue, tag);
  };
  watch_models_.rpc = Rpc::kWatchModels;
  watch_models_.open = [this](const grpc::ByteBuffer& request, WatchStream* stream) {
    return OpenWatch<modelcatalog::v1::WatchModelsRequest>(
        request, stream, [this](const auto& parsed) { return impl_->ModelsWatch(parsed); });
  };
}

void CatalogGrpcService::Serve(ServingQueues* queues, int backlog) {
  for (size_t i = 0; i < queues->call_queue_count(); ++i) {
    ServingQueue* queue = &queues->call_queue(i);
    for (int n = 0; n < backlog; ++n) {
      RawCall::Await(&list_models_, queue);
      RawCall::Await(&search_models_, queue);
      RawCall::Await(&get_model_, queue);
      RawCall::Await(&batch_get_models_, queue);
      decltype(get_sync_status_)::Call::Await(&get_sync_status_, queue);
      decltype(activate_model_)::Call::Await(&activate_model_, queue);
      decltype(deactivate_model_)::Call::Await(&deactivate_model_, queue);
      decltype(estimate_cost_)::Call::Await(&estimate_cost_, queue);
      decltype(validate_request_)::Call::Await(&validate_request_, queue);
      WatchCall::Await(this, &watch_deployments_, queues, queue);
      WatchCall::Await(this, &watch_models_, queues, queue);
    }
  }
}

absl::Status CatalogGrpcService::Authorize(const grpc::ServerContext* context, Access need) const {
  if (auth_ == nullptr) return absl::OkStatus();
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  const absl::string_view value = it == metadata.end()
                                      ? absl::string_view()
                                      : absl::string_view(it->second.data(), it->second.size());
  return auth_->Check(value, need);
}

void CatalogGrpcService::ListModels(RawCall* call) {
  absl::Status status = Authorize(call->context(), Access::kRead);
  modelcatalog::v1::ListModelsRequest parsed;
  if (status.ok()) status = ParseRequest(&call->request(), &parsed);
  if (status.ok()) {
    absl::StatusOr<ModelPage> page = impl_->ListPage(parsed);
    status = page.status();
    if (page.ok()) WritePage(*page, /*with_total=*/true, call->response());
  }
  call->Finish(ToGrpcStatus(status));
}

void CatalogGrpcService::SearchModels(RawCall* call) {
  absl::Status status = Authorize(call->context(), Access::kRead);
  modelcatalog::v1::SearchModelsRequest parsed;
  if (status.ok()) status = ParseRequest(&call->request(), &parsed);
  if (status.ok()) {
    absl::StatusOr<ModelPage> page = impl_->SearchPage(parsed);
    status = page.status();
    if (page.ok()) WritePage(*page, /*with_total=*/true, call->response());
  }
  call->Finish(ToGrpcStatus(status));
}

void CatalogGrpcService::GetModel(RawCall* call) {
  absl::Status status = Authorize(call->context(), Access::kRead);
  modelcatalog::v1::GetModelRequest parsed;
  if (status.ok()) status = ParseRequest(&call->request(), &parsed);
  if (status.ok() && parsed.live()) status = CheckModelId(parsed.id());
  if (status.ok() && parsed.live()) {
    // Answered from the hub, on one of LiveOperations' threads, or at the
    // caller's deadline by its timer.
    live_->GetLive(parsed.id(), DeadlineOf(call->context()),
                   [call](absl::StatusOr<modelcatalog::v1::Model> model) {
                     if (model.ok()) WriteModel(DeterministicWire(*model), call->response());
                     call->Finish(ToGrpcStatus(model.status()));
                   });
    return;
  }
  if (status.ok()) {
    absl::StatusOr<ModelRef> model = impl_->FindModel(parsed);
    status = model.status();
    if (model.ok()) WriteModel(*model, call->response());
  }
  call->Finish(ToGrpcStatus(status));
}

void CatalogGrpcService::BatchGetModels(RawCall* call) {
  absl::Status status = Authorize(call->context(), Access::kRead);
  modelcatalog::v1::BatchGetModelsRequest parsed;
  if (status.ok()) status = ParseRequest(&call->request(), &parsed);
  if (status.ok()) {
    absl::StatusOr<ModelPage> page = impl_->BatchGet(parsed);
    status = page.status();
    if (page.ok()) WritePage(*page, /*with_total=*/false, call->response());
  }
  call->Finish(ToGrpcStatus(status));
}

void CatalogGrpcService::GetSyncStatus(
    UnaryMethod<modelcatalog::v1::GetSyncStatusRequest,
                modelcatalog::v1::GetSyncStatusResponse>::Call* call) {
  absl::Status status = Authorize(call->context(), Access::kRead);
  if (status.ok()) status = impl_->GetSyncStatus(call->request(), call->response());
  call->Finish(ToGrpcStatus(status));
}

void CatalogGrpcService::EstimateCost(
    UnaryMethod<modelcatalog::v1::EstimateCostRequest,
                modelcatalog::v1::EstimateCostResponse>::Call* call) {
  absl::Status status = Authorize(call->context(), Access::kRead);
  if (status.ok()) status = impl_->EstimateCost(call->request(), call->response());
  call->Finish(ToGrpcStatus(status));
}

void CatalogGrpcService::ValidateRequest(
    UnaryMethod<modelcatalog::v1::ValidateRequestRequest,
                modelcatalog::v1::ValidateRequestResponse>::Call* call) {
  absl::Status status = Authorize(call->context(), Access::kRead);
  if (status.ok()) status = impl_->ValidateRequest(call->request(), call->response());
  call->Finish(ToGrpcStatus(status));
}

template <typename Call>
void CatalogGrpcService::SwitchDeployment(bool activate, Call* call) {
  absl::Status allowed = Authorize(call->context(), Access::kWrite);
  if (allowed.ok()) allowed = CheckModelId(call->request().id());
  if (!allowed.ok()) {
    call->Finish(ToGrpcStatus(allowed));
    return;
  }
  auto done = [call](absl::StatusOr<modelcatalog::v1::Model> model) {
    if (model.ok()) *call->response()->mutable_model() = *std::move(model);
    call->Finish(ToGrpcStatus(model.status()));
  };
  const std::string& id = call->request().id();
  const absl::Time deadline = DeadlineOf(call->context());
  if (activate) {
    live_->Activate(id, deadline, std::move(done));
  } else {
    live_->Deactivate(id, deadline, std::move(done));
  }
}

}  // namespace modelcatalog::catalog
