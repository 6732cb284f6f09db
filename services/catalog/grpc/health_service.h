// The standard gRPC health protocol (grpc.health.v1.Health), implemented from
// the generated health.proto rather than with gRPC's built-in service so that
// server reflection can describe it and grpcurl can call it with no local
// .proto file. Kubernetes' gRPC probes call Check.
//
// Status is NOT_SERVING until the first catalog is loaded, SERVING after, and
// NOT_SERVING again from the moment shutdown begins. Check answers for the
// whole server ("") and for each registered service name.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_GRPC_HEALTH_SERVICE_H_
#define MODEL_CATALOG_SERVICES_CATALOG_GRPC_HEALTH_SERVICE_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/catalog/grpc/serving_queues.h"
#include "services/catalog/grpc/stream_call.h"
#include "services/catalog/grpc/unary_call.h"

namespace modelcatalog::catalog {

// On gRPC's completion-queue API, like the catalog service (serving_queues.h):
// Check answers on the call queue's thread that read it; Watch streams live on
// the stream queues.
class HealthService {
 public:
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

  // Details to send with each Check as trailing metadata (key, value), e.g.
  // how stale the catalog is and why: a probe sees only SERVING, a person
  // running `grpcurl -v` sees the rest.
  using Details = std::function<std::vector<std::pair<std::string, std::string>>()>;

  // Answers for the whole server ("") and each of `service_names`. `details`
  // may be empty.
  explicit HealthService(std::vector<std::string> service_names, Details details = nullptr);
  ~HealthService();

  // What to register with the grpc::ServerBuilder.
  grpc::Service* service() { return &service_; }

  // Keeps `backlog` calls of Check and Watch requested on every call queue of
  // `queues`, from now until the queues close. After the server is built.
  void Serve(ServingQueues* queues, int backlog);

  // Sets the status of every service and tells every watcher.
  void SetServing(bool serving) ABSL_LOCKS_EXCLUDED(mu_);

  // NOT_SERVING for good, and every Watch stream ends with UNAVAILABLE. Call
  // before shutting the gRPC server down so that it does not wait on watchers.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using CheckMethod =
      UnaryMethod<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse>;
  class WatchCall;

  void Check(CheckMethod::Call* call) ABSL_LOCKS_EXCLUDED(mu_);
  bool KnownService(const std::string& name) const;
  // Adds `watcher` and sends it the current status; ends it after Shutdown.
  void Register(WatchCall* watcher) ABSL_LOCKS_EXCLUDED(mu_);
  void Unregister(WatchCall* watcher) ABSL_LOCKS_EXCLUDED(mu_);

  const std::vector<std::string> service_names_;
  const Details details_;
  grpc::health::v1::Health::AsyncService service_;
  CheckMethod check_;
  StreamCall<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse>::Requester
      watch_;
  absl::Mutex mu_;
  ServingStatus status_ ABSL_GUARDED_BY(mu_) = grpc::health::v1::HealthCheckResponse::NOT_SERVING;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<WatchCall*> watchers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_GRPC_HEALTH_SERVICE_H_
