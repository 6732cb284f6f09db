// Where a listener's TLS certificates come from: PEM files, re-read when they
// change (certificate rotation without a restart, as cert-manager and
// Kubernetes secrets do it). The gRPC port and the HTTP JSON view serve the
// same files.
#ifndef MODEL_CATALOG_SERVICES_COMMON_TLS_FILES_H_
#define MODEL_CATALOG_SERVICES_COMMON_TLS_FILES_H_

#include <unistd.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace modelcatalog {

struct TlsFiles {
  std::string cert;       // PEM certificate chain; empty: plaintext
  std::string key;        // PEM private key
  std::string client_ca;  // PEM CA bundle; set: clients must present a certificate it signed
  absl::Duration reload_interval = absl::Seconds(10);

  bool enabled() const { return !cert.empty(); }
};

// INVALID_ARGUMENT naming the flag when the files are incomplete or unreadable.
inline absl::Status CheckTlsFiles(const TlsFiles& tls) {
  if (tls.cert.empty() && tls.key.empty()) {
    if (!tls.client_ca.empty()) {
      return absl::InvalidArgumentError("--tls_client_ca needs --tls_cert and --tls_key");
    }
    return absl::OkStatus();
  }
  if (tls.cert.empty() || tls.key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  for (const auto& [flag, path] : {std::make_pair("--tls_cert", &tls.cert),
                                   std::make_pair("--tls_key", &tls.key),
                                   std::make_pair("--tls_client_ca", &tls.client_ca)}) {
    if (path->empty()) continue;
    if (::access(path->c_str(), R_OK) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", *path));
    }
  }
  return absl::OkStatus();
}

}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_COMMON_TLS_FILES_H_
