#include "services/catalog/model_search.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "services/catalog/text_fold.h"

namespace modelcatalog::catalog {
namespace {

// The best rank `text` earns beyond an exact id: prefix, word prefix or substring.
absl::optional<MatchRank> RankText(absl::string_view text, absl::string_view query) {
  size_t pos = text.find(query);
  if (pos == absl::string_view::npos) return absl::nullopt;
  if (pos == 0) return MatchRank::kPrefix;
  for (; pos != absl::string_view::npos; pos = text.find(query, pos + 1)) {
    if (IsWordStart(text, pos)) return MatchRank::kWordPrefix;
  }
  return MatchRank::kSubstring;
}

bool Better(const SearchHit& a, const SearchHit& b) {
  return a.rank != b.rank ? a.rank < b.rank : a.position < b.position;
}

}  // namespace

absl::optional<MatchRank> RankEntry(const CatalogEntry& entry, absl::string_view folded_query) {
  if (entry.folded_id == folded_query) return MatchRank::kExactId;
  absl::optional<MatchRank> by_id = RankText(entry.folded_id, folded_query);
  if (by_id == MatchRank::kPrefix) return by_id;  // Nothing but an exact id ranks higher.
  absl::optional<MatchRank> by_name = RankText(entry.folded_display_name, folded_query);
  if (!by_id) return by_name;
  if (!by_name) return by_id;
  return std::min(*by_id, *by_name);
}

std::vector<SearchHit> SearchSnapshot(const CatalogSnapshot& snapshot,
                                      absl::string_view folded_query,
                                      const absl::optional<SearchCursor>& cursor, size_t limit) {
  std::vector<SearchHit> hits;
  if (limit == 0 || folded_query.empty()) return hits;
  // Hits at or before the cursor were on earlier pages. Positions are in id
  // order, so (rank, position) orders exactly like (rank, id).
  const size_t after_position = cursor ? snapshot.UpperBound(cursor->last_id) : 0;
  const auto after_cursor = [&](MatchRank rank, uint32_t position) {
    if (!cursor) return true;
    if (rank != cursor->rank) return rank > cursor->rank;
    return position >= after_position;
  };
  for (uint32_t i = 0; i < snapshot.size(); ++i) {
    absl::optional<MatchRank> rank = RankEntry(snapshot.entry(i), folded_query);
    if (rank && after_cursor(*rank, i)) hits.push_back({*rank, i});
  }
  if (hits.size() > limit) {
    std::partial_sort(hits.begin(), hits.begin() + limit, hits.end(), Better);
    hits.resize(limit);
  } else {
    std::sort(hits.begin(), hits.end(), Better);
  }
  return hits;
}

}  // namespace modelcatalog::catalog
