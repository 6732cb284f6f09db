// Bounds on what a caller may send, checked before any work is done. Errors
// are INVALID_ARGUMENT and name the field.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_API_REQUEST_LIMITS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_API_REQUEST_LIMITS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "modelcatalog/v1/catalog_service.pb.h"

namespace modelcatalog::catalog {

// Ids of the hub's models are short slugs; these leave room for any real one.
inline constexpr size_t kMaxIdBytes = 256;
inline constexpr size_t kMaxQueryBytes = 256;
inline constexpr size_t kMaxHubFilterBytes = 256;  // developer_name, action
inline constexpr size_t kMaxOrderByBytes = 512;
inline constexpr size_t kMaxPageTokenBytes = 4096;  // with the order key of a long name
inline constexpr int kMaxBatchIds = 1000;
inline constexpr size_t kMaxResumeTokenBytes = 128;
inline constexpr int kMaxWatchedModels = 1000;
// known_versions may name models the catalog no longer has: up to this many
// more than it holds.
inline constexpr size_t kMaxUnknownVersions = 1000;

inline absl::Status CheckLength(absl::string_view field, absl::string_view value, size_t max) {
  if (value.size() <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " is ", value.size(), " bytes long; at most ", max, " are allowed"));
}

// A model id a caller sent: INVALID_ARGUMENT naming `id` when empty or too long.
inline absl::Status CheckModelId(absl::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("id must not be empty");
  return CheckLength("id", id, kMaxIdBytes);
}

// model_ids: at most kMaxWatchedModels, none empty or too long; resume_token's length.
inline absl::Status CheckWatchRequest(const modelcatalog::v1::WatchDeploymentsRequest& request) {
  if (request.model_ids_size() > kMaxWatchedModels) {
    return absl::InvalidArgumentError(absl::StrCat("model_ids lists ", request.model_ids_size(),
                                                   " models; at most ", kMaxWatchedModels,
                                                   " may be watched by one stream"));
  }
  for (int i = 0; i < request.model_ids_size(); ++i) {
    const std::string& id = request.model_ids(i);
    if (id.empty()) return absl::InvalidArgumentError(absl::StrCat("model_ids[", i, "] is empty"));
    if (absl::Status s = CheckLength(absl::StrCat("model_ids[", i, "]"), id, kMaxIdBytes);
        !s.ok()) {
      return s;
    }
  }
  return CheckLength("resume_token", request.resume_token(), kMaxResumeTokenBytes);
}

// resume_token's length; known_versions: at most `catalog_size` +
// kMaxUnknownVersions entries, no id empty or too long. (The filter's limits
// are checked as it is parsed, the versions' form as they are read.)
inline absl::Status CheckWatchModelsRequest(const modelcatalog::v1::WatchModelsRequest& request,
                                            size_t catalog_size) {
  if (absl::Status s = CheckLength("resume_token", request.resume_token(), kMaxResumeTokenBytes);
      !s.ok()) {
    return s;
  }
  const size_t known = request.known_versions_size();
  if (known > catalog_size + kMaxUnknownVersions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "known_versions holds ", known, " entries; at most ", catalog_size + kMaxUnknownVersions,
        " are allowed (the catalog's ", catalog_size, " models plus ", kMaxUnknownVersions, ")"));
  }
  for (const auto& [id, version] : request.known_versions()) {
    if (id.empty()) return absl::InvalidArgumentError("known_versions has an empty model id");
    if (id.size() > kMaxIdBytes) {
      return absl::InvalidArgumentError(absl::StrCat("known_versions has a model id of ", id.size(),
                                                     " bytes; at most ", kMaxIdBytes,
                                                     " are allowed"));
    }
  }
  return absl::OkStatus();
}

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_API_REQUEST_LIMITS_H_
