// Opaque page tokens for ListModels, SearchModels and EstimateCost (AIP-158).
//
// A token is a keyset cursor: it names the last model of the page it ended
// (and, for search, that model's rank), not an offset into one snapshot. The
// next page continues after that key in whatever snapshot is current, so a sync
// between two pages neither repeats nor skips a model that is in both, and a
// token works on every replica. It also carries a fingerprint of the query it
// belongs to and when it was issued, and a checksum so that a damaged or edited
// token is refused rather than misread.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_API_PAGE_TOKEN_H_
#define MODEL_CATALOG_SERVICES_CATALOG_API_PAGE_TOKEN_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace modelcatalog::catalog {

enum class PageKind : uint8_t { kList = 1, kSearch = 2, kCost = 3 };

struct PageCursor {
  PageKind kind = PageKind::kList;
  uint64_t query_fingerprint = 0;  // QueryFingerprint() of the query that issued it
  uint8_t rank = 0;                // search only: the SearchRank of last_id
  std::string last_id;             // the last model of the page
  // List in another order than by id: the last model's key in that order
  // (Ordering::EncodeKey); EstimateCost: the last model's total (ExactDecimal
  // text); empty otherwise.
  std::string order_key;
  absl::Time issued_at;
};

std::string EncodePageToken(const PageCursor& cursor);

// INVALID_ARGUMENT naming `page_token` when the text is not a token this
// service issued (bad encoding, wrong length or version, checksum mismatch).
absl::StatusOr<PageCursor> DecodePageToken(absl::string_view token);

// A stable (process- and replica-independent) fingerprint of a query's parts.
uint64_t QueryFingerprint(PageKind kind, std::initializer_list<absl::string_view> parts);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_API_PAGE_TOKEN_H_
