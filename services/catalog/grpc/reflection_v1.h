// Server reflection as grpc.reflection.v1, beside gRPC's own v1alpha plugin, so that tools
// which ask for v1 first (grpcurl, buf curl, Postman) need no fallback. Debian's gRPC (1.51)
// ships only v1alpha; the two protocols carry the same messages under different names.
//
// Answers from the process's generated descriptor pool: every .proto file linked into the
// server can be described, and ListServices names the services the server registered.
// Errors go back in the stream as ErrorResponse, as the protocol asks: NOT_FOUND for an
// unknown file, symbol, type or extension, INVALID_ARGUMENT for a request that asks nothing.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_GRPC_REFLECTION_V1_H_
#define MODEL_CATALOG_SERVICES_CATALOG_GRPC_REFLECTION_V1_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpcpp/impl/server_builder_option.h"

namespace modelcatalog::catalog {

class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  explicit ReflectionV1Service(const google::protobuf::DescriptorPool* pool =
                                   google::protobuf::DescriptorPool::generated_pool());

  // The fully qualified names ListServices answers.
  void SetServiceNames(std::vector<std::string> names) ABSL_LOCKS_EXCLUDED(mu_);

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override;

  // The answer to one request. `sent`: the files this stream has already sent, which a file
  // answer leaves out of the dependencies it carries (clients keep what they were sent).
  grpc::reflection::v1::ServerReflectionResponse Answer(
      const grpc::reflection::v1::ServerReflectionRequest& request,
      absl::flat_hash_set<std::string>* sent) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const google::protobuf::DescriptorPool* const pool_;
  mutable absl::Mutex mu_;
  std::vector<std::string> service_names_ ABSL_GUARDED_BY(mu_);
};

// Registers a ReflectionV1Service with the grpc::ServerBuilder it is given to (SetOption);
// its ListServices then names every service the builder registered, itself included.
std::unique_ptr<grpc::ServerBuilderOption> ReflectionV1Option();

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_GRPC_REFLECTION_V1_H_
