// Candidate lists for ranked search, built once per snapshot, so that a query
// touches the models that may match instead of scanning the catalog.
//
// Every list holds snapshot positions in ascending order (the order results
// take within a rank), so a search walks a list from its cursor and stops as
// soon as a page is full:
//   exact ids    folded id -> positions
//   prefixes     the first 1..6 bytes of a folded id or display name
//   word starts  the first 1..6 bytes of any word of either
//   substrings   every 2- and 3-byte sequence of either
// Lists are keyed by a hash of the bytes, so a list may hold a few strays; the
// search verifies each candidate's rank (RankEntry), which also settles
// queries longer than six bytes.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_SEARCH_INDEX_H_
#define MODEL_CATALOG_SERVICES_CATALOG_SEARCH_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"

namespace modelcatalog::catalog {

struct CatalogEntry;

class SearchIndex {
 public:
  // The longest prefix the prefix and word-start lists are keyed by.
  static constexpr size_t kMaxKeyBytes = 6;

  static std::shared_ptr<const SearchIndex> Build(
      const std::vector<std::shared_ptr<const CatalogEntry>>& entries);

  absl::Span<const uint32_t> ExactIds(absl::string_view folded_query) const;
  absl::Span<const uint32_t> Prefixes(absl::string_view folded_query) const;
  absl::Span<const uint32_t> WordStarts(absl::string_view folded_query) const;
  // The shortest list of the query's 2- or 3-byte sequences; nullopt for a
  // one-byte query (every model is a candidate).
  absl::optional<absl::Span<const uint32_t>> Substrings(absl::string_view folded_query) const;

 private:
  using Lists = absl::flat_hash_map<uint64_t, std::vector<uint32_t>>;
  static absl::Span<const uint32_t> Find(const Lists& lists, uint64_t key);

  Lists exact_;
  Lists prefixes_;
  Lists word_starts_;
  Lists grams_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_SEARCH_INDEX_H_
