// Fuzzes the resume tokens of WatchDeployments, text that comes from clients:
// - DecodeResumeToken of any text: a resume point or INVALID_ARGUMENT naming `resume_token`, and
//   no crash or sanitizer report; a point it accepts encodes to a token that decodes to it again;
// - the same bytes read as a resume point (instance, revision): the token EncodeResumeToken makes
//   of it decodes to it.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/catalog/watch/change_feed.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using ::modelcatalog::catalog::DecodeResumeToken;
using ::modelcatalog::catalog::EncodeResumeToken;
using ::modelcatalog::catalog::ResumePoint;

void CheckRoundTrip(const ResumePoint& point) {
  const std::string token = EncodeResumeToken(point);
  absl::StatusOr<ResumePoint> decoded = DecodeResumeToken(token);
  FUZZ_CHECK(decoded.ok(), absl::StrCat("a token of ours is refused: ", decoded.status().ToString(),
                                        "\ntoken: ", token));
  FUZZ_CHECK(
      decoded->instance == point.instance && decoded->revision == point.revision,
      absl::StrCat("instance ", point.instance, " revision ", point.revision,
                   " decoded as instance ", decoded->instance, " revision ", decoded->revision));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view token(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ResumePoint> point = DecodeResumeToken(token);
  if (point.ok()) {
    CheckRoundTrip(*point);
  } else {
    FUZZ_CHECK(point.status().code() == absl::StatusCode::kInvalidArgument &&
                   absl::StrContains(point.status().message(), "resume_token"),
               point.status().ToString());
  }

  FuzzedDataProvider provider(data, size);
  ResumePoint made;
  made.instance = provider.ConsumeIntegral<uint64_t>();
  made.revision = provider.ConsumeIntegral<int64_t>();
  CheckRoundTrip(made);
  return 0;
}
