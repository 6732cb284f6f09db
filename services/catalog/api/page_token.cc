#include "services/catalog/api/page_token.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "services/catalog/model/token_encoding.h"

namespace modelcatalog::catalog {
namespace {

// Layout, little-endian:
//   version u8 | kind u8 | rank u8 | fingerprint u64 | issued_at unix s i64 |
//   id length u16 | id bytes | order key length u16 | order key bytes |
//   checksum u32 over everything before it
constexpr uint8_t kVersion = 2;
constexpr size_t kFixedSize = 1 + 1 + 1 + 8 + 8 + 2;
constexpr size_t kChecksumSize = 4;
constexpr size_t kMaxIdSize = 0xFFFF;

absl::Status Malformed() {
  return absl::InvalidArgumentError(
      "page_token is not a valid page token: pass the next_page_token of the previous response "
      "unchanged");
}

}  // namespace

std::string EncodePageToken(const PageCursor& cursor) {
  std::string raw;
  const absl::string_view id = absl::string_view(cursor.last_id).substr(0, kMaxIdSize);
  raw.reserve(kFixedSize + id.size() + 2 + cursor.order_key.size() + kChecksumSize);
  raw.push_back(static_cast<char>(kVersion));
  raw.push_back(static_cast<char>(cursor.kind));
  raw.push_back(static_cast<char>(cursor.rank));
  PutLittleEndian(cursor.query_fingerprint, 8, &raw);
  PutLittleEndian(static_cast<uint64_t>(absl::ToUnixSeconds(cursor.issued_at)), 8, &raw);
  PutLittleEndian(id.size(), 2, &raw);
  raw.append(id.data(), id.size());
  const absl::string_view key = absl::string_view(cursor.order_key).substr(0, kMaxIdSize);
  PutLittleEndian(key.size(), 2, &raw);
  raw.append(key.data(), key.size());
  PutLittleEndian(StableChecksum(raw), 4, &raw);
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<PageCursor> DecodePageToken(absl::string_view token) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return Malformed();
  if (raw.size() < kFixedSize + kChecksumSize) return Malformed();
  const size_t body_size = raw.size() - kChecksumSize;
  if (GetLittleEndian(raw.data() + body_size, 4) !=
      StableChecksum(absl::string_view(raw.data(), body_size))) {
    return Malformed();
  }
  const char* p = raw.data();
  if (static_cast<uint8_t>(p[0]) != kVersion) return Malformed();
  PageCursor cursor;
  const uint8_t kind = static_cast<uint8_t>(p[1]);
  if (kind != static_cast<uint8_t>(PageKind::kList) &&
      kind != static_cast<uint8_t>(PageKind::kSearch) &&
      kind != static_cast<uint8_t>(PageKind::kCost)) {
    return Malformed();
  }
  cursor.kind = static_cast<PageKind>(kind);
  cursor.rank = static_cast<uint8_t>(p[2]);
  cursor.query_fingerprint = GetLittleEndian(p + 3, 8);
  cursor.issued_at = absl::FromUnixSeconds(static_cast<int64_t>(GetLittleEndian(p + 11, 8)));
  const size_t id_size = GetLittleEndian(p + 19, 2);
  if (kFixedSize + id_size + 2 > body_size) return Malformed();
  cursor.last_id.assign(p + kFixedSize, id_size);
  const size_t key_at = kFixedSize + id_size;
  const size_t key_size = GetLittleEndian(p + key_at, 2);
  if (key_at + 2 + key_size != body_size) return Malformed();
  cursor.order_key.assign(p + key_at + 2, key_size);
  return cursor;
}

uint64_t QueryFingerprint(PageKind kind, std::initializer_list<absl::string_view> parts) {
  uint64_t hash = StableHash(absl::string_view("\x01", 1));
  const char k = static_cast<char>(kind);
  hash = StableHash(absl::string_view(&k, 1), hash);
  for (absl::string_view part : parts) {
    // Length-prefixed, so ("ab", "c") and ("a", "bc") differ; little-endian,
    // so every replica, whatever its byte order, computes the same fingerprint.
    std::string size_bytes;
    PutLittleEndian(part.size(), 8, &size_bytes);
    hash = StableHash(size_bytes, hash);
    hash = StableHash(part, hash);
  }
  return hash;
}

}  // namespace modelcatalog::catalog
