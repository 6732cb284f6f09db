#include "services/catalog/api/page_token.h"

#include "gtest/gtest.h"

namespace modelcatalog::catalog {
namespace {

PageCursor SampleCursor() {
  PageCursor cursor;
  cursor.kind = PageKind::kSearch;
  cursor.query_fingerprint = QueryFingerprint(PageKind::kSearch, {"kling"});
  cursor.rank = 2;
  cursor.last_id = "kling-video-o3-pro-reference-to-video";
  cursor.issued_at = absl::FromUnixSeconds(1764000000);
  return cursor;
}

constexpr char kMalformed[] =
    "page_token is not a valid page token: pass the next_page_token of the previous response "
    "unchanged";

TEST(PageTokenTest, RoundTrips) {
  const PageCursor cursor = SampleCursor();
  absl::StatusOr<PageCursor> decoded = DecodePageToken(EncodePageToken(cursor));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->kind, cursor.kind);
  EXPECT_EQ(decoded->query_fingerprint, cursor.query_fingerprint);
  EXPECT_EQ(decoded->rank, cursor.rank);
  EXPECT_EQ(decoded->last_id, cursor.last_id);
  EXPECT_EQ(decoded->issued_at, cursor.issued_at);
}

TEST(PageTokenTest, IsUrlSafeText) {
  const std::string token = EncodePageToken(SampleCursor());
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
}

TEST(PageTokenTest, RefusesEveryEditedCharacter) {
  const std::string token = EncodePageToken(SampleCursor());
  for (size_t i = 0; i < token.size(); ++i) {
    std::string edited = token;
    edited[i] = edited[i] == 'A' ? 'B' : 'A';
    absl::StatusOr<PageCursor> decoded = DecodePageToken(edited);
    // The last character may carry only padding bits; every other edit must fail.
    if (i + 1 == token.size() && decoded.ok()) continue;
    ASSERT_FALSE(decoded.ok()) << "edit at " << i << " accepted";
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(decoded.status().message(), kMalformed);
  }
}

TEST(PageTokenTest, RefusesGarbageAndTruncation) {
  for (const std::string& bad :
       {std::string("not a token!"), std::string("AAAA"), std::string("")}) {
    absl::StatusOr<PageCursor> decoded = DecodePageToken(bad);
    ASSERT_FALSE(decoded.ok()) << bad;
    EXPECT_EQ(decoded.status().message(), kMalformed);
  }
  const std::string token = EncodePageToken(SampleCursor());
  EXPECT_FALSE(DecodePageToken(token.substr(0, token.size() - 4)).ok());
}

TEST(QueryFingerprintTest, SeparatesKindsAndParts) {
  EXPECT_EQ(QueryFingerprint(PageKind::kList, {"a", "b"}),
            QueryFingerprint(PageKind::kList, {"a", "b"}));
  EXPECT_NE(QueryFingerprint(PageKind::kList, {"ab", ""}),
            QueryFingerprint(PageKind::kList, {"a", "b"}));
  EXPECT_NE(QueryFingerprint(PageKind::kList, {"a"}), QueryFingerprint(PageKind::kSearch, {"a"}));
}

// Page tokens work on every replica, so the fingerprint is a function of the
// query's bytes alone, as specified: FNV-1a over 0x01, the kind, then each
// part as its length (8 bytes, little-endian) and its bytes. Recomputed here
// byte by byte, independently of the host's byte order.
TEST(QueryFingerprintTest, IsTheSameOnEveryMachine) {
  std::string bytes = {'\x01', static_cast<char>(PageKind::kList)};
  for (const std::string part : {"anthropic", "text_generation"}) {
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((part.size() >> (8 * i)) & 0xFF));
    bytes += part;
  }
  uint64_t expected = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    expected ^= c;
    expected *= 0x100000001b3ULL;
  }
  EXPECT_EQ(QueryFingerprint(PageKind::kList, {"anthropic", "text_generation"}), expected);
  // The value itself, as a replica of any byte order computes it.
  EXPECT_EQ(expected, 0xefed454ec8d1a4e5ULL) << std::hex << expected;
}

}  // namespace
}  // namespace modelcatalog::catalog
