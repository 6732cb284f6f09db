#include "services/catalog/grpc/health_service.h"

#include <algorithm>
#include <utility>

#include "absl/types/optional.h"

namespace modelcatalog::catalog {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Watch stream. Status changes arrive from other threads; while a write is
// in flight only the newest status is kept, so a slow reader never queues up.
// Cancellation, a failed write and shutdown all end in one FinishLocked, so the
// stream finishes exactly once; OnDone unregisters it.
class HealthService::WatchCall final : public StreamCall<HealthCheckRequest, HealthCheckResponse> {
 public:
  static void Await(HealthService* service, ServingQueues* queues, ServingQueue* call_queue) {
    AwaitCall(new WatchCall(service, queues, call_queue,
                            &queues->stream_queue(queues->NextStreamQueue())));
  }

  // A watcher of an unknown service stays at SERVICE_UNKNOWN. Set before the
  // watcher is registered, read-only after.
  bool tracks_status() const { return tracks_status_; }

  void Send(ServingStatus status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (finished_ || finish_after_write_) return;
    if (write_in_flight_) {
      pending_ = status;
      return;
    }
    SendLocked(status);
  }

  void End(grpc::Status status) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    FinishLocked(std::move(status));
  }

 private:
  WatchCall(HealthService* service, ServingQueues* queues, ServingQueue* call_queue,
            ServingQueue* stream_queue)
      : StreamCall(&service->watch_, call_queue, stream_queue),
        service_(service),
        queues_(queues),
        call_queue_(call_queue) {}

  void AwaitNext() override { Await(service_, queues_, call_queue_); }

  void OnStart() override {
    tracks_status_ = service_->KnownService(request().service());
    service_->Register(this);
  }

  void OnWritten(bool ok) override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    write_in_flight_ = false;
    if (finish_after_write_) {
      FinishLocked(*finish_after_write_);
      return;
    }
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    if (pending_ && !finished_) {
      const ServingStatus next = *pending_;
      pending_.reset();
      SendLocked(next);
    }
  }

  void OnCancelled() override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    { absl::MutexLock lock(&mu_); }  // orders the stream's callbacks before it, for TSan
    service_->Unregister(this);
  }

  void SendLocked(ServingStatus status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (last_sent_ == status) return;  // Watchers hear about changes only.
    last_sent_ = status;
    response_.set_status(status);
    write_in_flight_ = true;
    StartWrite(response_);  // serialized at once: response_ may change after
  }

  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    if (write_in_flight_) {  // A stream is finished only between writes.
      if (!finish_after_write_) finish_after_write_ = std::move(status);
      return;
    }
    finished_ = true;
    StartFinish(status);
  }

  HealthService* const service_;
  ServingQueues* const queues_;
  ServingQueue* const call_queue_;
  bool tracks_status_ = false;
  absl::Mutex mu_;
  HealthCheckResponse response_ ABSL_GUARDED_BY(mu_);
  absl::optional<ServingStatus> last_sent_ ABSL_GUARDED_BY(mu_);
  absl::optional<ServingStatus> pending_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  absl::optional<grpc::Status> finish_after_write_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

HealthService::HealthService(std::vector<std::string> service_names, Details details)
    : service_names_(std::move(service_names)), details_(std::move(details)) {
  check_.request = [this](auto* context, auto* request, auto* responder, auto* queue, void* tag) {
    service_.RequestCheck(context, request, responder, queue, queue, tag);
  };
  check_.handle = [this](CheckMethod::Call* call) { Check(call); };
  watch_ = [this](grpc::ServerContext* context, HealthCheckRequest* request,
                  grpc::ServerAsyncWriter<HealthCheckResponse>* writer,
                  grpc::CompletionQueue* call_queue,
                  grpc::ServerCompletionQueue* notification_queue, void* tag) {
    service_.RequestWatch(context, request, writer, call_queue, notification_queue, tag);
  };
}

HealthService::~HealthService() { Shutdown(); }

void HealthService::Serve(ServingQueues* queues, int backlog) {
  for (size_t i = 0; i < queues->call_queue_count(); ++i) {
    ServingQueue* queue = &queues->call_queue(i);
    for (int n = 0; n < backlog; ++n) {
      CheckMethod::Call::Await(&check_, queue);
      WatchCall::Await(this, queues, queue);
    }
  }
}

bool HealthService::KnownService(const std::string& name) const {
  return name.empty() ||
         std::find(service_names_.begin(), service_names_.end(), name) != service_names_.end();
}

void HealthService::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  status_ = serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
  for (WatchCall* watcher : watchers_) {
    if (watcher->tracks_status()) watcher->Send(status_);
  }
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  shut_down_ = true;
  status_ = HealthCheckResponse::NOT_SERVING;
  // Ending a stream only starts its finish; OnDone unregisters under mu_ later.
  for (WatchCall* watcher : watchers_) {
    watcher->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  }
}

void HealthService::Check(CheckMethod::Call* call) {
  const HealthCheckRequest& request = call->request();
  if (!KnownService(request.service())) {
    call->Finish(
        grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service: " + request.service()));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    call->response()->set_status(status_);
  }
  if (details_) {
    for (const auto& [key, value] : details_()) call->context()->AddTrailingMetadata(key, value);
  }
  call->Finish(grpc::Status::OK);
}

void HealthService::Register(WatchCall* watcher) {
  // The first status is sent under mu_, so a SetServing cannot slip in between
  // and be overtaken by an older status.
  absl::MutexLock lock(&mu_);
  if (shut_down_) {
    watcher->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
    return;
  }
  // Per the protocol, an unknown service is not an error for Watch: the stream
  // reports SERVICE_UNKNOWN and stays open in case the service appears.
  watchers_.insert(watcher);
  watcher->Send(watcher->tracks_status() ? status_ : HealthCheckResponse::SERVICE_UNKNOWN);
}

void HealthService::Unregister(WatchCall* watcher) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(watcher);
}

}  // namespace modelcatalog::catalog
