// Transport security of the gRPC port: plaintext, TLS, or mutual TLS, from
// certificate files that are re-read when they change (certificate rotation
// without a restart, as cert-manager and Kubernetes secrets do it).
#ifndef MODEL_CATALOG_SERVICES_CATALOG_GRPC_SERVER_CREDENTIALS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_GRPC_SERVER_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "services/common/tls_files.h"

namespace modelcatalog::catalog {

// Plaintext without `cert`; otherwise TLS (mutual TLS with `client_ca`).
// INVALID_ARGUMENT naming the flag when the files are incomplete or unreadable.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const TlsFiles& tls);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_GRPC_SERVER_CREDENTIALS_H_
