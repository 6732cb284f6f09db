// A server-streaming call on the completion-queue API (see serving_queues.h).
//
// Requested on a call queue, the call is bound to a stream queue: its writes,
// its end and gRPC's word that it is done all complete there, on one thread.
// A subclass starts it (OnStart, on the call queue's thread, once it arrived),
// writes with StartWrite and ends it with StartFinish, from any thread, at
// most one write at a time, never finishing during a write and finishing
// exactly once; it hears back through OnWritten and OnCancelled, on the stream
// queue's thread, and OnCancelled may come while OnStart still runs. The call
// frees itself once OnStart has returned, its finish is written and gRPC says
// it is done, whichever comes last; OnDone runs just before.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_GRPC_STREAM_CALL_H_
#define MODEL_CATALOG_SERVICES_CATALOG_GRPC_STREAM_CALL_H_

#include <atomic>
#include <functional>
#include <memory>

#include "grpcpp/server_context.h"
#include "grpcpp/support/async_stream.h"
#include "services/catalog/grpc/serving_queues.h"

namespace modelcatalog::catalog {

template <typename Request, typename Response>
class StreamCall {
 public:
  // The generated Request<Method> of the service.
  using Requester =
      std::function<void(grpc::ServerContext*, Request*, grpc::ServerAsyncWriter<Response>*,
                         grpc::CompletionQueue* call_queue,
                         grpc::ServerCompletionQueue* notification_queue, void* tag)>;

  StreamCall(const StreamCall&) = delete;
  StreamCall& operator=(const StreamCall&) = delete;

 protected:
  // `stream_queue` carries the call once it arrives.
  StreamCall(const Requester* requester, ServingQueue* call_queue, ServingQueue* stream_queue)
      : requester_(requester),
        call_queue_(call_queue),
        stream_queue_(stream_queue),
        writer_(&context_) {
    call_queue_->calls().Add();
  }
  virtual ~StreamCall() { call_queue_->calls().Remove(); }

  // Puts the request for `call` on its call queue; deletes `call` if the
  // queue is closing.
  static void AwaitCall(StreamCall* call) {
    call->context_.AsyncNotifyWhenDone(&call->done_tag_);
    const bool requested = call->call_queue_->IfOpen([call] {
      (*call->requester_)(&call->context_, &call->request_, &call->writer_,
                          call->stream_queue_->queue(), call->call_queue_->server_queue(),
                          &call->arrived_tag_);
    });
    if (!requested) delete call;
  }

  // Requests the next call of the method (called first thing when one arrives).
  virtual void AwaitNext() = 0;
  // The call arrived: `request()` holds its request.
  virtual void OnStart() = 0;
  // A write ended; `ok` false: the client is gone.
  virtual void OnWritten(bool ok) = 0;
  // The client cancelled the call (or the connection broke) before it finished.
  virtual void OnCancelled() = 0;
  // The last thing before the call is deleted.
  virtual void OnDone() {}

  grpc::ServerContext* context() { return &context_; }
  const Request& request() const { return request_; }

  void StartWrite(const Response& message) { writer_.Write(message, &written_tag_); }
  void StartFinish(const grpc::Status& status) { writer_.Finish(status, &finished_tag_); }

 private:
  void Arrived(bool ok) {
    if (!ok) {  // the server is shutting down: there is no call, so nothing else comes
      delete this;
      return;
    }
    AwaitNext();
    OnStart();
    Release();
  }
  void Written(bool ok) { OnWritten(ok); }
  void Finished(bool) {
    finished_.store(true, std::memory_order_release);
    Release();
  }
  void Done(bool) {
    if (context_.IsCancelled() && !finished_.load(std::memory_order_acquire)) OnCancelled();
    Release();
  }
  // Three things must have happened before the call can go: OnStart returned
  // (call queue thread), the finish was written and gRPC said done (stream
  // queue thread).
  void Release() {
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    OnDone();
    delete this;
  }

  const Requester* const requester_;
  ServingQueue* const call_queue_;
  ServingQueue* const stream_queue_;
  grpc::ServerContext context_;
  Request request_;
  grpc::ServerAsyncWriter<Response> writer_;
  MemberTag<StreamCall> arrived_tag_{this, &StreamCall::Arrived};
  MemberTag<StreamCall> written_tag_{this, &StreamCall::Written};
  MemberTag<StreamCall> finished_tag_{this, &StreamCall::Finished};
  MemberTag<StreamCall> done_tag_{this, &StreamCall::Done};
  std::atomic<bool> finished_{false};
  std::atomic<int> pending_{3};
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_GRPC_STREAM_CALL_H_
