// Ranked search over a snapshot's models: what SearchModels answers.
//
// A query is cut into terms (search_text.h). A model matches when every term
// matches, in any order, somewhere in its id, display name or developer name:
// a term matches one atom or a run of them joined ("gpt5" is "gpt" "5",
// "dalle" is "dall" "e"), the last term also the start of one (search as you
// type: "claude son" finds "Claude Sonnet"), and a term of four or more
// letters also a word within one edit, two from eight letters (AllowedTypos).
//
// Rank, best first (smaller numbers first), ties by id:
//   0                      the id is the query (case, marks and separators aside)
//   1 + 4 * tier + 2 * d + f, where tier is
//     0  every term matches a whole word or run, in the query's order, in the
//        id or in the display name
//     1  the same with the last term matching only the start of a word
//     2  every term matches without typos, in any order or across fields
//     2 + n  the terms match with n typos in all (fewer first)
//   and when the terms match only with two neighbours joined ("mid journey"
//   for "Midjourney"), the tier is at least 2.
//   d is 1 when a term matches only in the developer's name, and f is 0 when
//   a term matches the first word of the id or display name: a query that
//   names a family ("claude", "flux") lists the family's models before the
//   models that merely mention it.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_SEARCH_H_
#define MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_SEARCH_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "services/catalog/model/catalog_snapshot.h"
#include "services/catalog/model/search_text.h"

namespace modelcatalog::catalog {

using SearchRank = uint8_t;
inline constexpr SearchRank kExactIdRank = 0;
// Typos past this many in all rank alike.
inline constexpr int kMaxRankedTypos = 8;
inline constexpr SearchRank kWorstSearchRank = 1 + 4 * (2 + kMaxRankedTypos) + 3;

// Queries of more terms than this are not tried with neighbours joined.
inline constexpr size_t kMaxJoinedNeighbourTerms = 6;

struct SearchQuery {
  std::vector<SearchTerm> terms;
  // For a model the terms do not match: the terms with two neighbours joined
  // into one, one variant per pair ("mid journey" is also "midjourney").
  std::vector<std::vector<SearchTerm>> joined_neighbours;
  std::string joined;  // the terms back to back, for the exact id without separators
  std::string key;     // the terms separated by spaces: what identifies the query
};

// INVALID_ARGUMENT when `query` has no letter or digit.
absl::StatusOr<SearchQuery> ParseSearchQuery(absl::string_view query);

// The rank of a model for `query`, or nullopt when it does not match.
absl::optional<SearchRank> RankEntry(const CatalogEntry& entry, const SearchQuery& query);

// Every match (with `accept`, only models at positions it accepts) as
// snapshot positions, best first: by rank, then by id.
std::vector<uint32_t> RankedMatches(const CatalogSnapshot& snapshot, const SearchQuery& query,
                                    const std::function<bool(uint32_t)>& accept = nullptr);

// The index in `ranked` (RankedMatches of `query`) of the first match after
// one of rank `rank` and id `last_id`: where the next page starts.
size_t FirstMatchAfter(const CatalogSnapshot& snapshot, const SearchQuery& query,
                       const std::vector<uint32_t>& ranked, SearchRank rank,
                       absl::string_view last_id);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_SEARCH_H_
