// The standard gRPC health protocol (grpc.health.v1.Health), implemented from
// the generated health.proto rather than with gRPC's built-in service so that
// server reflection can describe it and grpcurl can call it with no local
// .proto file. Kubernetes' gRPC probes call Check.
//
// Status is NOT_SERVING until the first catalog is loaded, SERVING after, and
// NOT_SERVING again from the moment shutdown begins. Check answers for the
// whole server ("") and for each registered service name.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_HEALTH_SERVICE_H_
#define MODEL_CATALOG_SERVICES_CATALOG_HEALTH_SERVICE_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace modelcatalog::catalog {

class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

  explicit HealthService(std::vector<std::string> service_names);
  ~HealthService() override;

  // Called on each Check for details to send as trailing metadata (key, value),
  // e.g. how stale the catalog is and why: a probe sees only SERVING, a
  // person running `grpcurl -v` sees the rest.
  void SetDetails(std::function<std::vector<std::pair<std::string, std::string>>()> details) {
    details_ = std::move(details);
  }

  // Sets the status of every service and tells every watcher.
  void SetServing(bool serving) ABSL_LOCKS_EXCLUDED(mu_);

  // NOT_SERVING for good, and every Watch stream ends with UNAVAILABLE. Call
  // before shutting the gRPC server down so that it does not wait on watchers.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::health::v1::HealthCheckResponse* response) override;

  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request) override;

 private:
  class WatchReactor;

  bool KnownService(const std::string& name) const;
  void Unregister(WatchReactor* reactor) ABSL_LOCKS_EXCLUDED(mu_);

  const std::vector<std::string> service_names_;
  std::function<std::vector<std::pair<std::string, std::string>>()> details_;
  absl::Mutex mu_;
  ServingStatus status_ ABSL_GUARDED_BY(mu_) = grpc::health::v1::HealthCheckResponse::NOT_SERVING;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<WatchReactor*> watchers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_HEALTH_SERVICE_H_
