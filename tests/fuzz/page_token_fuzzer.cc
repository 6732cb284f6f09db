// Fuzzes the page tokens of ListModels and SearchModels, text that comes from clients:
// - DecodePageToken of any text: a cursor or INVALID_ARGUMENT naming `page_token`, and no crash
//   or sanitizer report; a cursor it accepts encodes to a token that decodes to it again;
// - the same bytes read as a cursor (kind, rank, fingerprint, issue time, last id): the token
//   EncodePageToken makes of it decodes to it, the id cut to the 65,535 bytes a token holds.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/catalog/api/page_token.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using ::modelcatalog::catalog::DecodePageToken;
using ::modelcatalog::catalog::EncodePageToken;
using ::modelcatalog::catalog::PageCursor;
using ::modelcatalog::catalog::PageKind;

std::string Describe(const PageCursor& c) {
  return absl::StrCat("kind=", static_cast<int>(c.kind), " fingerprint=", c.query_fingerprint,
                      " rank=", c.rank, " issued_at=", absl::FormatTime(c.issued_at), " last_id(",
                      c.last_id.size(), ")=", absl::CHexEscape(c.last_id));
}

bool Same(const PageCursor& a, const PageCursor& b) {
  return a.kind == b.kind && a.query_fingerprint == b.query_fingerprint && a.rank == b.rank &&
         a.last_id == b.last_id && a.issued_at == b.issued_at;
}

// Encodes `cursor` and decodes the token; it must read back as `expected`.
void CheckRoundTrip(const PageCursor& cursor, const PageCursor& expected) {
  const std::string token = EncodePageToken(cursor);
  absl::StatusOr<PageCursor> decoded = DecodePageToken(token);
  FUZZ_CHECK(decoded.ok(), absl::StrCat("a token of ours is refused: ", decoded.status().ToString(),
                                        "\ncursor: ", Describe(cursor), "\ntoken: ", token));
  FUZZ_CHECK(Same(*decoded, expected),
             absl::StrCat("decoded ", Describe(*decoded), "\nexpected ", Describe(expected)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The bytes as a token.
  const absl::string_view token(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<PageCursor> cursor = DecodePageToken(token);
  if (cursor.ok()) {
    FUZZ_CHECK(cursor->kind == PageKind::kList || cursor->kind == PageKind::kSearch,
               Describe(*cursor));
    CheckRoundTrip(*cursor, *cursor);
  } else {
    FUZZ_CHECK(cursor.status().code() == absl::StatusCode::kInvalidArgument &&
                   absl::StrContains(cursor.status().message(), "page_token"),
               cursor.status().ToString());
  }

  // The bytes as a cursor.
  FuzzedDataProvider provider(data, size);
  PageCursor made;
  made.kind = provider.ConsumeBool() ? PageKind::kSearch : PageKind::kList;
  made.rank = provider.ConsumeIntegral<uint8_t>();
  made.query_fingerprint = provider.ConsumeIntegral<uint64_t>();
  made.issued_at = absl::FromUnixSeconds(provider.ConsumeIntegral<int64_t>());
  // Some ids are made past the 65,535 bytes a token holds, by repetition: fuzz inputs are short.
  const bool long_id = provider.ConsumeIntegral<uint8_t>() == 0xFF;
  made.last_id = provider.ConsumeRemainingBytesAsString();
  if (long_id && !made.last_id.empty()) {
    const std::string piece = made.last_id;
    while (made.last_id.size() <= 0xFFFF) made.last_id += piece;
  }
  PageCursor expected = made;
  if (expected.last_id.size() > 0xFFFF) expected.last_id.resize(0xFFFF);
  CheckRoundTrip(made, expected);
  return 0;
}
