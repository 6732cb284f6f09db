#include "services/catalog/model/model_search.h"

#include <algorithm>

#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "services/catalog/model/text_fold.h"

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

// The first element at or after `first` that is >= `value`, in a sorted
// range. Searches a window that doubles from `first`: the next candidate is
// usually close, and then this costs a few reads instead of a binary search
// over the whole rest of the list.
const uint32_t* FirstAtOrAfter(const uint32_t* first, const uint32_t* last, uint32_t value) {
  if (first == last || *first >= value) return first;
  size_t step = 1;
  const uint32_t* below = first;  // *below < value
  while (static_cast<size_t>(last - below) > step && below[step] < value) {
    below += step;
    step *= 2;
  }
  const uint32_t* bound = static_cast<size_t>(last - below) > step ? below + step + 1 : last;
  return std::lower_bound(below + 1, bound, value);
}

// Calls `visit(p)`, in ascending order from `from`, for every position p on
// all of `lists` (the query's substring lists, not empty), until it returns
// false. Leapfrog: the target is the smallest position that may be on all of
// them; each list moves to its first position at or after the target, and a
// list that lands past it raises the target. Positions only grow, so each list
// is read once, front to back.
template <typename Visit>
void ForEachOnEveryList(const SearchIndex::SubstringLists& lists, uint32_t from, Visit visit) {
  absl::InlinedVector<const uint32_t*, 8> next;
  for (const absl::Span<const uint32_t>& list : lists) next.push_back(list.begin());
  uint32_t target = from;
  while (true) {
    bool on_every_list = true;
    for (size_t i = 0; i < lists.size(); ++i) {
      next[i] = FirstAtOrAfter(next[i], lists[i].end(), target);
      if (next[i] == lists[i].end()) return;  // a list is exhausted: no more matches
      if (*next[i] != target) {
        target = *next[i];
        on_every_list = false;
        break;
      }
    }
    if (!on_every_list) continue;
    if (!visit(target)) return;
    ++target;
  }
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
                                      const absl::optional<SearchCursor>& cursor, size_t limit,
                                      const std::function<bool(uint32_t)>& accept) {
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
    if (RankEntry(snapshot.entry(position), folded_query) == rank &&
        (accept == nullptr || accept(position))) {
      hits.push_back({rank, position});
    }
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
  // 3-byte sequence of it, and its text is read only then: most models on one
  // sequence's list do not hold the whole query.
  const MatchRank substring = MatchRank::kSubstring;
  if ((cursor && substring < cursor->rank) || hits.size() >= limit) return hits;
  const SearchIndex::SubstringLists lists = index.Substrings(folded_query);
  if (lists.empty()) {  // a one-byte query: every model is a candidate
    for (uint32_t p = from_for(substring); p < snapshot.size() && hits.size() < limit; ++p) {
      take(substring, p);
    }
    return hits;
  }
  ForEachOnEveryList(lists, from_for(substring), [&](uint32_t position) {
    take(substring, position);
    return hits.size() < limit;
  });
  return hits;
}

size_t CountSearchMatches(const CatalogSnapshot& snapshot, absl::string_view folded_query,
                          const std::function<bool(uint32_t)>& accept) {
  if (folded_query.empty()) return 0;
  // Every match contains the query, whatever its rank.
  const SearchIndex::SubstringLists lists = snapshot.search_index().Substrings(folded_query);
  if (accept == nullptr && lists.size() == 1 && folded_query.size() <= 3) {
    // A query of two or three bytes has a list of its own, which holds
    // exactly the models that contain it.
    return lists[0].size();
  }
  size_t count = 0;
  const auto consider = [&](uint32_t position) {
    if (RankEntry(snapshot.entry(position), folded_query) &&
        (accept == nullptr || accept(position))) {
      ++count;
    }
    return true;
  };
  if (lists.empty()) {  // a one-byte query: every model is a candidate
    for (uint32_t p = 0; p < snapshot.size(); ++p) consider(p);
  } else {
    ForEachOnEveryList(lists, 0, consider);
  }
  return count;
}

}  // namespace modelcatalog::catalog
