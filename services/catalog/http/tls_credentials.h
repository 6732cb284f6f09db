// TLS of the HTTP listener, from the same files as the gRPC port (TlsFiles)
// and rotated the same way: the files are re-read when they change, and each
// new handshake takes the certificate, key and client CA read last;
// connections already open keep theirs. A new version that does not load (a
// key that does not match its certificate, a file half written) is reported
// and the previous one stays in force.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_HTTP_TLS_CREDENTIALS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_HTTP_TLS_CREDENTIALS_H_

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/periodic_task.h"
#include "services/common/tls_files.h"

namespace modelcatalog::catalog {

class TlsCredentials {
 public:
  // Reads the files once. INVALID_ARGUMENT naming the flag when one is
  // missing, is not PEM, or the key does not match the certificate.
  static absl::StatusOr<std::unique_ptr<TlsCredentials>> Load(const TlsFiles& files);
  ~TlsCredentials();
  TlsCredentials(const TlsCredentials&) = delete;
  TlsCredentials& operator=(const TlsCredentials&) = delete;

  // Sets `context` up to serve with these credentials: TLS 1.2 or later, the
  // certificate chosen at each handshake, and with a client CA, client
  // certificates required and verified against it. Returns false (and logs
  // why) when OpenSSL refuses a setting.
  bool Configure(SSL_CTX* context);

  // Re-reads the files if any of them changed since they were last read.
  void ReloadIfChanged() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Material;  // one version of the files, parsed

  explicit TlsCredentials(TlsFiles files) : files_(std::move(files)) {}
  static absl::StatusOr<std::shared_ptr<const Material>> Read(const TlsFiles& files);
  std::string SignatureOfFiles() const;
  std::shared_ptr<const Material> Current() const ABSL_LOCKS_EXCLUDED(mu_);
  // OpenSSL's certificate callback: installs the current material on `ssl`.
  static int SelectCertificate(SSL* ssl, void* self);

  const TlsFiles files_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Material> current_ ABSL_GUARDED_BY(mu_);
  std::string loaded_signature_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<PeriodicTask> reloader_;  // last: stopped first
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_HTTP_TLS_CREDENTIALS_H_
