// The one place absl::Status becomes grpc::Status: below the RPC edge
// everything speaks absl::Status.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_GRPC_GRPC_STATUS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_GRPC_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace modelcatalog::catalog {

// The codes are numbered alike in both libraries; the message is kept as is.
inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_GRPC_GRPC_STATUS_H_
