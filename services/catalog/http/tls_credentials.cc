#include "services/catalog/http/tls_credentials.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace modelcatalog::catalog {

struct TlsCredentials::Material {
  X509* leaf = nullptr;
  STACK_OF(X509)* chain = nullptr;  // the intermediates after the leaf, maybe none
  EVP_PKEY* key = nullptr;
  X509_STORE* client_ca = nullptr;  // null: no client certificates asked for

  Material() = default;
  Material(const Material&) = delete;
  Material& operator=(const Material&) = delete;
  ~Material() {
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    X509_STORE_free(client_ca);
  }
};

namespace {

// OpenSSL's reason for the last failure, or `fallback`; clears its error queue.
std::string OpenSslError(absl::string_view fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return std::string(fallback);
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

absl::StatusOr<Bio> Open(absl::string_view flag, const std::string& path) {
  Bio bio(BIO_new_file(path.c_str(), "r"), &BIO_free);
  if (bio == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  }
  return bio;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const TlsCredentials::Material>> TlsCredentials::Read(
    const TlsFiles& files) {
  auto material = std::make_shared<Material>();
  {
    absl::StatusOr<Bio> bio = Open("--tls_cert", files.cert);
    if (!bio.ok()) return bio.status();
    material->leaf = PEM_read_bio_X509_AUX(bio->get(), nullptr, nullptr, nullptr);
    if (material->leaf == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--tls_cert: ", files.cert, " holds no PEM certificate: ", OpenSslError("none")));
    }
    material->chain = sk_X509_new_null();
    while (X509* next = PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr)) {
      sk_X509_push(material->chain, next);
    }
    ERR_clear_error();  // the end of the file reads as an error
  }
  {
    absl::StatusOr<Bio> bio = Open("--tls_key", files.key);
    if (!bio.ok()) return bio.status();
    material->key = PEM_read_bio_PrivateKey(bio->get(), nullptr, nullptr, nullptr);
    if (material->key == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--tls_key: ", files.key, " holds no PEM private key: ", OpenSslError("none")));
    }
  }
  if (X509_check_private_key(material->leaf, material->key) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_key does not match --tls_cert (", files.key, ", ", files.cert, ")"));
  }
  if (!files.client_ca.empty()) {
    material->client_ca = X509_STORE_new();
    if (X509_STORE_load_file(material->client_ca, files.client_ca.c_str()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("--tls_client_ca: ", files.client_ca,
                                                     " holds no PEM certificate: ",
                                                     OpenSslError("unreadable")));
    }
  }
  return std::shared_ptr<const Material>(std::move(material));
}

absl::StatusOr<std::unique_ptr<TlsCredentials>> TlsCredentials::Load(const TlsFiles& files) {
  if (absl::Status usable = CheckTlsFiles(files); !usable.ok()) return usable;
  if (!files.enabled()) return absl::InvalidArgumentError("TLS needs --tls_cert and --tls_key");
  std::unique_ptr<TlsCredentials> credentials(new TlsCredentials(files));
  const std::string signature = credentials->SignatureOfFiles();
  absl::StatusOr<std::shared_ptr<const Material>> material = Read(files);
  if (!material.ok()) return material.status();
  {
    absl::MutexLock lock(&credentials->mu_);
    credentials->current_ = *std::move(material);
    credentials->loaded_signature_ = signature;
  }
  TlsCredentials* raw = credentials.get();
  credentials->reloader_ =
      std::make_unique<PeriodicTask>(files.reload_interval, [raw] { raw->ReloadIfChanged(); });
  return credentials;
}

TlsCredentials::~TlsCredentials() { reloader_.reset(); }

std::string TlsCredentials::SignatureOfFiles() const {
  return absl::StrCat(FileSignature(files_.cert), "|", FileSignature(files_.key), "|",
                      files_.client_ca.empty() ? "" : FileSignature(files_.client_ca));
}

void TlsCredentials::ReloadIfChanged() {
  const std::string signature = SignatureOfFiles();
  {
    absl::MutexLock lock(&mu_);
    if (signature == loaded_signature_) return;
  }
  absl::StatusOr<std::shared_ptr<const Material>> material = Read(files_);
  if (!material.ok()) {
    Log(LogLevel::kWarning, "tls_reload_failed",
        {{"error", material.status().message()}, {"kept", "previous certificate"}});
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    current_ = *std::move(material);
    loaded_signature_ = signature;
  }
  Log(LogLevel::kInfo, "tls_reloaded", {{"cert", files_.cert}});
}

std::shared_ptr<const TlsCredentials::Material> TlsCredentials::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

int TlsCredentials::SelectCertificate(SSL* ssl, void* self) {
  const std::shared_ptr<const Material> material = static_cast<TlsCredentials*>(self)->Current();
  // Both calls take references of their own: the material may be replaced
  // while the connection still uses what it got here.
  if (SSL_use_cert_and_key(ssl, material->leaf, material->key, material->chain,
                           /*override=*/1) != 1) {
    Log(LogLevel::kWarning, "tls_handshake_refused", {{"error", OpenSslError("certificate")}});
    return 0;
  }
  if (material->client_ca != nullptr && SSL_set1_verify_cert_store(ssl, material->client_ca) != 1) {
    Log(LogLevel::kWarning, "tls_handshake_refused", {{"error", OpenSslError("client CA")}});
    return 0;
  }
  return 1;
}

bool TlsCredentials::Configure(SSL_CTX* context) {
  SSL_CTX_set_options(context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1) {
    Log(LogLevel::kError, "tls_setup_failed", {{"error", OpenSslError("min version")}});
    return false;
  }
  SSL_CTX_set_cert_cb(context, &TlsCredentials::SelectCertificate, this);
  if (!files_.client_ca.empty()) {
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return true;
}

}  // namespace modelcatalog::catalog
