// Ranked, case-insensitive search over a snapshot's model ids and display names.
//
// A model matches when its folded id or display name contains the folded query.
// Its rank is the best of:
//   0  exact id      the id equals the query
//   1  prefix        the id or display name starts with the query
//   2  word prefix   a word of the id or display name starts with it
//   3  substring     the id or display name contains it
// Results are ordered by (rank, id), which is also the pagination key.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_SEARCH_H_
#define MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_SEARCH_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::catalog {

enum class MatchRank : uint8_t { kExactId = 0, kPrefix = 1, kWordPrefix = 2, kSubstring = 3 };

struct SearchHit {
  MatchRank rank;
  uint32_t position;  // in the snapshot's id order
};

// Where a previous page ended: results after (rank, id) come next.
struct SearchCursor {
  MatchRank rank;
  absl::string_view last_id;
};

// The rank of `entry` for `folded_query` (already FoldCase'd, not empty), or
// nullopt when it does not match.
absl::optional<MatchRank> RankEntry(const CatalogEntry& entry, absl::string_view folded_query);

// Up to `limit` hits after `cursor` (from the start when nullopt), best
// first; with `accept`, only models at positions it accepts.
std::vector<SearchHit> SearchSnapshot(const CatalogSnapshot& snapshot,
                                      absl::string_view folded_query,
                                      const absl::optional<SearchCursor>& cursor, size_t limit,
                                      const std::function<bool(uint32_t)>& accept = nullptr);

// How many models match (every page of SearchSnapshot together); with
// `accept`, only those it accepts. Without `accept`, a query of two or three
// bytes is counted from its index list alone; other queries walk their
// candidates.
size_t CountSearchMatches(const CatalogSnapshot& snapshot, absl::string_view folded_query,
                          const std::function<bool(uint32_t)>& accept = nullptr);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_SEARCH_H_
