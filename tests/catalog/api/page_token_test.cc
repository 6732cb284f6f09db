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
  EXPECT_EQ(token.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
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
  for (const std::string& bad : {std::string("not a token!"), std::string("AAAA"), std::string("")}) {
    absl::StatusOr<PageCursor> decoded = DecodePageToken(bad);
    ASSERT_FALSE(decoded.ok()) << bad;
    EXPECT_EQ(decoded.status().message(), kMalformed);
  }
  const std::string token = EncodePageToken(SampleCursor());
  EXPECT_FALSE(DecodePageToken(token.substr(0, token.size() - 4)).ok());
}

TEST(QueryFingerprintTest, SeparatesKindsAndParts) {
  EXPECT_EQ(QueryFingerprint(PageKind::kList, {"a", "b"}), QueryFingerprint(PageKind::kList, {"a", "b"}));
  EXPECT_NE(QueryFingerprint(PageKind::kList, {"ab", ""}), QueryFingerprint(PageKind::kList, {"a", "b"}));
  EXPECT_NE(QueryFingerprint(PageKind::kList, {"a"}), QueryFingerprint(PageKind::kSearch, {"a"}));
}

}  // namespace
}  // namespace modelcatalog::catalog
