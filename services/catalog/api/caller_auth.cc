#include "services/catalog/api/caller_auth.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/log.h"

namespace modelcatalog::catalog {
namespace {

// Compares in time that depends only on the lengths, so a caller cannot learn
// a token byte by byte from response times.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

absl::StatusOr<std::vector<TokenGrant>> ParseTokensFile(absl::string_view text) {
  std::vector<TokenGrant> grants;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    TokenGrant grant;
    grant.token = std::string(fields[0]);
    if (fields.size() > 2 || (fields.size() == 2 && fields[1] != "read" && fields[1] != "write")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokens file line ", line_number, ": expected '<token>' or '<token> read|write'"));
    }
    if (fields.size() == 2 && fields[1] == "read") grant.access = Access::kRead;
    grants.push_back(std::move(grant));
  }
  if (grants.empty()) return absl::InvalidArgumentError("tokens file holds no token");
  return grants;
}

absl::StatusOr<std::unique_ptr<CallerAuth>> CallerAuth::FromFile(std::string path,
                                                                 absl::Duration reload_interval) {
  std::unique_ptr<CallerAuth> auth(new CallerAuth(std::move(path)));
  if (absl::Status loaded = auth->Load(); !loaded.ok()) return loaded;
  CallerAuth* raw = auth.get();
  auth->reloader_ =
      std::make_unique<PeriodicTask>(reload_interval, [raw] { raw->ReloadIfChanged(); });
  return auth;
}

absl::Status CallerAuth::Load() {
  const std::string signature = FileSignature(path_);
  std::ifstream file(path_);
  if (!file) return absl::InvalidArgumentError(absl::StrCat("cannot read tokens file ", path_));
  std::stringstream contents;
  contents << file.rdbuf();
  absl::StatusOr<std::vector<TokenGrant>> grants = ParseTokensFile(contents.str());
  if (!grants.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", grants.status().message()));
  }
  absl::MutexLock lock(&mu_);
  grants_ = *std::move(grants);
  loaded_signature_ = signature;
  return absl::OkStatus();
}

void CallerAuth::ReloadIfChanged() {
  {
    absl::MutexLock lock(&mu_);
    if (FileSignature(path_) == loaded_signature_) return;
  }
  absl::Status loaded = Load();
  if (loaded.ok()) {
    Log(LogLevel::kInfo, "tokens_reloaded", {{"path", path_}});
  } else {
    Log(LogLevel::kWarning, "tokens_reload_failed",
        {{"path", path_}, {"error", loaded.ToString()}, {"kept", "previous tokens"}});
  }
}

absl::Status CallerAuth::Check(absl::string_view authorization, Access need) const {
  constexpr absl::string_view kBearer = "Bearer ";
  if (!absl::StartsWithIgnoreCase(authorization, kBearer)) {
    return absl::UnauthenticatedError(
        "missing bearer token: send 'authorization: Bearer <token>'");
  }
  const absl::string_view token = absl::StripAsciiWhitespace(authorization.substr(kBearer.size()));
  absl::MutexLock lock(&mu_);
  const TokenGrant* match = nullptr;
  for (const TokenGrant& grant : grants_) {  // every token compared: no early exit
    if (ConstantTimeEquals(grant.token, token)) match = &grant;
  }
  if (match == nullptr) return absl::UnauthenticatedError("invalid bearer token");
  if (need == Access::kWrite && match->access != Access::kWrite) {
    return absl::PermissionDeniedError("this token may not activate or deactivate models");
  }
  return absl::OkStatus();
}

}  // namespace modelcatalog::catalog
