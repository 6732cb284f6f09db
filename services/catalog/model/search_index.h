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
// Prefix, word-start and substring lists are keyed by the bytes themselves, so
// they hold exactly the models with that key; exact ids are keyed by a hash and
// may hold a stray. The search verifies each candidate's rank (RankEntry),
// which also settles queries longer than six bytes.
//
// All lists live back to back in one array, each key mapping to its range:
// a 100,000-model catalog has about a million lists, and one heap block per
// list cost more to build and to keep than the positions in it.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_MODEL_SEARCH_INDEX_H_
#define MODEL_CATALOG_SERVICES_CATALOG_MODEL_SEARCH_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace modelcatalog::catalog {

struct CatalogEntry;

class SearchIndex {
 public:
  // The longest prefix the prefix and word-start lists are keyed by.
  static constexpr size_t kMaxKeyBytes = 6;

  // What is searched of the model at one position.
  struct SearchText {
    absl::string_view folded_id;
    absl::string_view folded_display_name;
  };

  static std::shared_ptr<const SearchIndex> Build(
      const std::vector<std::shared_ptr<const CatalogEntry>>& entries);
  // `text_of(p)` for every position p below `count`, in ascending order (twice).
  static std::shared_ptr<const SearchIndex> Build(
      size_t count, absl::FunctionRef<SearchText(uint32_t)> text_of);

  absl::Span<const uint32_t> ExactIds(absl::string_view folded_query) const;
  absl::Span<const uint32_t> Prefixes(absl::string_view folded_query) const;
  absl::Span<const uint32_t> WordStarts(absl::string_view folded_query) const;

  // The lists of the query's 3-byte sequences (its 2-byte one when the query
  // has two bytes), shortest first, each sequence once. A model contains the
  // query only if it is on every one of them. Empty for a one-byte query
  // (every model is a candidate); a single empty list when some sequence is on
  // no model (nothing matches).
  using SubstringLists = absl::InlinedVector<absl::Span<const uint32_t>, 8>;
  SubstringLists Substrings(absl::string_view folded_query) const;

  // Bytes held by the lists and their keys, for memory accounting.
  size_t MemoryBytes() const;

 private:
  // A list: postings_[begin, begin + size).
  struct Range {
    uint32_t begin = 0;
    uint32_t size = 0;
  };
  using Lists = absl::flat_hash_map<uint64_t, Range>;
  class Builder;

  absl::Span<const uint32_t> Find(const Lists& lists, uint64_t key) const;

  Lists exact_;
  Lists prefixes_;
  Lists word_starts_;
  Lists grams_;
  std::vector<uint32_t> postings_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_MODEL_SEARCH_INDEX_H_
