// Optional authentication of callers by bearer token.
//
// The tokens file holds one token per line, optionally followed by its role:
//   <token>          may call everything
//   <token> write    the same, said explicitly
//   <token> read     may call everything but ActivateModel and DeactivateModel
// Blank lines and lines starting with '#' are ignored. Callers send
// `authorization: Bearer <token>`. The file is re-read when it changes, so
// tokens can be rotated without a restart. Health and reflection are separate
// services and stay open, so probes and grpcurl's discovery need no token.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_API_CALLER_AUTH_H_
#define MODEL_CATALOG_SERVICES_CATALOG_API_CALLER_AUTH_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/periodic_task.h"

namespace modelcatalog::catalog {

enum class Access { kRead, kWrite };

struct TokenGrant {
  std::string token;
  Access access = Access::kWrite;
};

// INVALID_ARGUMENT naming the line when `text` is not a tokens file.
absl::StatusOr<std::vector<TokenGrant>> ParseTokensFile(absl::string_view text);

class CallerAuth {
 public:
  // Reads the file once; a missing, unreadable or malformed file is an error
  // (bad configuration at start-up is fatal). Re-reads it every
  // `reload_interval` when it changed; a bad new version is reported and the
  // old tokens stay in force.
  static absl::StatusOr<std::unique_ptr<CallerAuth>> FromFile(std::string path,
                                                              absl::Duration reload_interval);

  // OK when `authorization` (the header's value) carries a token with `need`.
  // UNAUTHENTICATED for a missing or unknown token, PERMISSION_DENIED for a
  // read token where write is needed. Never echoes the token.
  absl::Status Check(absl::string_view authorization, Access need) const ABSL_LOCKS_EXCLUDED(mu_);

  // Re-reads the file if it changed since the last read.
  void ReloadIfChanged() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit CallerAuth(std::string path) : path_(std::move(path)) {}
  absl::Status Load() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string path_;
  mutable absl::Mutex mu_;
  std::vector<TokenGrant> grants_ ABSL_GUARDED_BY(mu_);
  std::string loaded_signature_ ABSL_GUARDED_BY(mu_);  // FileSignature when read
  std::unique_ptr<PeriodicTask> reloader_;               // last: stopped first
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_API_CALLER_AUTH_H_
