#include "services/catalog/watch/resume_token.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "services/catalog/model/token_encoding.h"

namespace modelcatalog::catalog {
namespace {

// Layout, little-endian: version u8 | instance u64 | revision i64 | checksum u32.
constexpr uint8_t kResumeTokenVersion = 1;
constexpr size_t kResumeTokenSize = 1 + 8 + 8 + 4;

}  // namespace

std::string EncodeResumeToken(const ResumePoint& point) {
  std::string raw;
  raw.reserve(kResumeTokenSize);
  raw.push_back(static_cast<char>(kResumeTokenVersion));
  PutLittleEndian(point.instance, 8, &raw);
  PutLittleEndian(static_cast<uint64_t>(point.revision), 8, &raw);
  PutLittleEndian(StableChecksum(raw), 4, &raw);
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<ResumePoint> DecodeResumeToken(absl::string_view token) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() != kResumeTokenSize ||
      static_cast<uint8_t>(raw[0]) != kResumeTokenVersion ||
      GetLittleEndian(raw.data() + kResumeTokenSize - 4, 4) !=
          StableChecksum(absl::string_view(raw.data(), kResumeTokenSize - 4))) {
    return absl::InvalidArgumentError(
        "resume_token is not a valid resume token: pass the resume_token of an event unchanged");
  }
  ResumePoint point;
  point.instance = GetLittleEndian(raw.data() + 1, 8);
  point.revision = static_cast<int64_t>(GetLittleEndian(raw.data() + 9, 8));
  return point;
}

}  // namespace modelcatalog::catalog
