// Resume tokens of watch streams: where a stream can pick up again. A token
// names a revision of one feed instance (one process); a token of another
// instance, or of a revision no longer retained, gets a fresh initial state.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_WATCH_RESUME_TOKEN_H_
#define MODEL_CATALOG_SERVICES_CATALOG_WATCH_RESUME_TOKEN_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace modelcatalog::catalog {

struct ResumePoint {
  uint64_t instance = 0;
  int64_t revision = 0;
};

std::string EncodeResumeToken(const ResumePoint& point);
// INVALID_ARGUMENT naming `resume_token` when the text is not one of ours.
absl::StatusOr<ResumePoint> DecodeResumeToken(absl::string_view token);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_WATCH_RESUME_TOKEN_H_
