#include "services/catalog/model_search.h"

#include <algorithm>

#include "absl/container/inlined_vector.h"
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
  const SearchIndex& index = snapshot.search_index();
  // Hits at or before the cursor were on earlier pages. Positions are in id
  // order, so (rank, position) orders exactly like (rank, id).
  const uint32_t after_position =
      cursor ? static_cast<uint32_t>(snapshot.UpperBound(cursor->last_id)) : 0;

  // One rank at a time, best first, each from its candidate list in position
  // order; a candidate counts for a rank only if that is its best rank. The
  // walk stops as soon as the page is full.
  const auto take = [&](MatchRank rank, uint32_t position) {
    if (RankEntry(snapshot.entry(position), folded_query) == rank) hits.push_back({rank, position});
  };
  const auto from_for = [&](MatchRank rank) -> uint32_t {
    return cursor && rank == cursor->rank ? after_position : 0;
  };
  const auto collect = [&](MatchRank rank, absl::Span<const uint32_t> list) {
    if (cursor && rank < cursor->rank) return;  // all on earlier pages
    for (auto it = std::lower_bound(list.begin(), list.end(), from_for(rank));
         it != list.end() && hits.size() < limit; ++it) {
      take(rank, *it);
    }
  };
  collect(MatchRank::kExactId, index.ExactIds(folded_query));
  collect(MatchRank::kPrefix, index.Prefixes(folded_query));
  collect(MatchRank::kWordPrefix, index.WordStarts(folded_query));

  // Substrings: a model has the query only if it is on the list of every
  // 3-byte sequence of it. Walk the shortest list and skip a candidate missing
  // from any other before reading its text: most candidates of one sequence do
  // not hold the whole query.
  const MatchRank substring = MatchRank::kSubstring;
  if ((cursor && substring < cursor->rank) || hits.size() >= limit) return hits;
  const SearchIndex::SubstringLists lists = index.Substrings(folded_query);
  if (lists.empty()) {  // a one-byte query: every model is a candidate
    for (uint32_t p = from_for(substring); p < snapshot.size() && hits.size() < limit; ++p) {
      take(substring, p);
    }
    return hits;
  }
  // Candidates ascend, so each other list is searched from where the last
  // search in it ended.
  absl::InlinedVector<const uint32_t*, 8> others;
  for (size_t i = 1; i < lists.size(); ++i) others.push_back(lists[i].begin());
  const absl::Span<const uint32_t> shortest = lists[0];
  for (auto it = std::lower_bound(shortest.begin(), shortest.end(), from_for(substring));
       it != shortest.end() && hits.size() < limit; ++it) {
    bool on_every_list = true;
    for (size_t i = 1; i < lists.size() && on_every_list; ++i) {
      others[i - 1] = std::lower_bound(others[i - 1], lists[i].end(), *it);
      on_every_list = others[i - 1] != lists[i].end() && *others[i - 1] == *it;
    }
    if (on_every_list) take(substring, *it);
  }
  return hits;
}

}  // namespace modelcatalog::catalog
