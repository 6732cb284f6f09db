// A unary call on the completion-queue API (see serving_queues.h for why).
//
// A UnaryMethod says how to request the next call of one method on a queue and
// what answers it. UnaryCall::Await puts one request on a call queue; when a
// call arrives it first requests the next one (so the queue always has one
// waiting), then hands itself to the handler, which answers with Finish now,
// on the queue's thread, or later from any thread (a hub call). The call frees
// itself once its answer is written.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_GRPC_UNARY_CALL_H_
#define MODEL_CATALOG_SERVICES_CATALOG_GRPC_UNARY_CALL_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/async_unary_call.h"
#include "services/catalog/grpc/serving_queues.h"

namespace modelcatalog::catalog {

template <typename Request, typename Response>
class UnaryCall;

template <typename Request, typename Response>
struct UnaryMethod {
  using Call = UnaryCall<Request, Response>;
  // The generated Request<Method> of the service: asks for the next call.
  std::function<void(grpc::ServerContext*, Request*, grpc::ServerAsyncResponseWriter<Response>*,
                     grpc::ServerCompletionQueue*, void* tag)>
      request;
  // Answers `call`: must lead to exactly one call->Finish.
  std::function<void(Call* call)> handle;
  // Told how each call ended and how long it took; may be empty.
  std::function<void(const grpc::Status& status, absl::Duration took)> on_finish;
};

template <typename Request, typename Response>
class UnaryCall final : public QueueTag {
 public:
  using Method = UnaryMethod<Request, Response>;

  // Requests the next call of `method` on `queue` (unless the queue is closing).
  static void Await(const Method* method, ServingQueue* queue) {
    auto* call = new UnaryCall(method, queue);
    const bool requested = queue->IfOpen([call, method, queue] {
      method->request(&call->context_, &call->request_, &call->responder_, queue->server_queue(),
                      call);
    });
    if (!requested) delete call;
  }

  grpc::ServerContext* context() { return &context_; }
  const Request& request() const { return request_; }
  Response* response() { return &response_; }
  absl::Time start() const { return start_; }

  // Sends the response (when `status` is OK) or the error. Exactly once, from
  // any thread; the call may be gone when this returns.
  void Finish(const grpc::Status& status) {
    if (method_->on_finish) method_->on_finish(status, absl::Now() - start_);
    answered_ = true;  // read by Proceed, which the queue runs after the write below
    if (status.ok()) {
      responder_.Finish(response_, status, this);
    } else {
      responder_.FinishWithError(status, this);
    }
  }

  void Proceed(bool ok) override {
    if (answered_ || !ok) {
      // The answer is written (or the client is gone); or, before any call
      // arrived, the server is shutting down.
      delete this;
      return;
    }
    Await(method_, queue_);
    start_ = absl::Now();
    method_->handle(this);
  }

 private:
  UnaryCall(const Method* method, ServingQueue* queue)
      : method_(method), queue_(queue), responder_(&context_) {
    queue_->calls().Add();
  }
  ~UnaryCall() { queue_->calls().Remove(); }

  const Method* const method_;
  ServingQueue* const queue_;
  grpc::ServerContext context_;
  Request request_;
  Response response_;
  grpc::ServerAsyncResponseWriter<Response> responder_;
  absl::Time start_;
  bool answered_ = false;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_GRPC_UNARY_CALL_H_
