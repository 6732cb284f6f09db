#include "services/catalog/health_service.h"

#include <algorithm>
#include <utility>

#include "absl/types/optional.h"

namespace modelcatalog::catalog {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Watch stream. Status changes arrive from other threads; while a write is
// in flight only the newest status is kept, so a slow reader never queues up.
// Cancellation, a failed write and shutdown all end in one FinishLocked, so the
// stream finishes exactly once; OnDone unregisters and frees it.
class HealthService::WatchReactor final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  // A watcher of an unknown service stays at SERVICE_UNKNOWN.
  WatchReactor(HealthService* service, bool tracks_status)
      : service_(service), tracks_status_(tracks_status) {}

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

  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_) {
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

  void OnCancel() override ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    { absl::MutexLock lock(&mu_); }  // orders OnCancel/OnWriteDone before it, for TSan: see
                                    // WatchStream::SyncWithCallbacks
    service_->Unregister(this);
    delete this;
  }

 private:
  void SendLocked(ServingStatus status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (last_sent_ == status) return;  // Watchers hear about changes only.
    last_sent_ = status;
    response_.set_status(status);
    write_in_flight_ = true;
    StartWrite(&response_);
  }

  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    if (write_in_flight_) {  // A stream is finished only between writes.
      if (!finish_after_write_) finish_after_write_ = std::move(status);
      return;
    }
    finished_ = true;
    Finish(std::move(status));
  }

  HealthService* const service_;
  const bool tracks_status_;
  absl::Mutex mu_;
  HealthCheckResponse response_ ABSL_GUARDED_BY(mu_);
  absl::optional<ServingStatus> last_sent_ ABSL_GUARDED_BY(mu_);
  absl::optional<ServingStatus> pending_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  absl::optional<grpc::Status> finish_after_write_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

HealthService::HealthService(std::vector<std::string> service_names)
    : service_names_(std::move(service_names)) {}

HealthService::~HealthService() { Shutdown(); }

bool HealthService::KnownService(const std::string& name) const {
  return name.empty() ||
         std::find(service_names_.begin(), service_names_.end(), name) != service_names_.end();
}

void HealthService::SetServing(bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  status_ = serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
  for (WatchReactor* watcher : watchers_) {
    if (watcher->tracks_status()) watcher->Send(status_);
  }
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  shut_down_ = true;
  status_ = HealthCheckResponse::NOT_SERVING;
  // Ending a stream only schedules OnDone, which unregisters under mu_ later.
  for (WatchReactor* watcher : watchers_) {
    watcher->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  }
}

grpc::ServerUnaryReactor* HealthService::Check(grpc::CallbackServerContext* context,
                                               const HealthCheckRequest* request,
                                               HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!KnownService(request->service())) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                 "unknown service: " + request->service()));
    return reactor;
  }
  {
    absl::MutexLock lock(&mu_);
    response->set_status(status_);
  }
  if (details_) {
    for (const auto& [key, value] : details_()) context->AddTrailingMetadata(key, value);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(
    grpc::CallbackServerContext* context, const HealthCheckRequest* request) {
  const bool known = KnownService(request->service());
  auto* reactor = new WatchReactor(this, known);
  absl::MutexLock lock(&mu_);
  if (shut_down_) {
    reactor->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
    return reactor;
  }
  // Per the protocol, an unknown service is not an error for Watch: the stream
  // reports SERVICE_UNKNOWN and stays open in case the service appears.
  watchers_.insert(reactor);
  reactor->Send(known ? status_ : HealthCheckResponse::SERVICE_UNKNOWN);
  return reactor;
}

void HealthService::Unregister(WatchReactor* reactor) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(reactor);
}

}  // namespace modelcatalog::catalog
