// Where each atom of the catalog's searchable text is (search_text.h), built
// once per snapshot, so that a query reads the models that may match instead
// of the whole catalog.
//
//   vocabulary  every distinct atom, sorted, so that the atoms a prefix starts
//               are one range; plus every multi-atom word of letters
//               ("deepseek", "openai"), so that a typo in a camel-case word
//               finds it as a whole
//   postings    for each of them, the positions of the models that hold it
//               (id, display name or developer name), ascending
//   words       every model's encoded words (search_text.h) back to back in
//               position order, so that ranking the candidates of a query,
//               in ascending position, reads memory front to back instead of
//               following a pointer per model
//   near words  for typos: every entry of the vocabulary made only of letters
//               keyed by the texts left when one character is deleted, and
//               two from six characters; a term and a word within k edits
//               share such a key (a symmetric deletion index), so a typo
//               costs a few dozen look-ups, not a pass over the vocabulary
//
// The index finds candidates; the search decides each one's rank from the
// model's own words (model_search.h).
#ifndef MODEL_CATALOG_SERVICES_CATALOG_MODEL_SEARCH_INDEX_H_
#define MODEL_CATALOG_SERVICES_CATALOG_MODEL_SEARCH_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "absl/types/span.h"

namespace modelcatalog::catalog {

struct CatalogEntry;

class SearchIndex {
 public:
  // From every entry's encoded words (ModelFields::kSearchWords).
  static std::shared_ptr<const SearchIndex> Build(
      const std::vector<std::shared_ptr<const CatalogEntry>>& entries);
  // `words_of(p)` (encoded, search_text.h) for every position p below `count`.
  static std::shared_ptr<const SearchIndex> Build(
      size_t count, absl::FunctionRef<absl::string_view(uint32_t)> words_of);

  // The encoded words of the model at `position`.
  absl::string_view ModelWords(uint32_t position) const {
    const uint32_t begin = position == 0 ? 0 : model_words_end_[position - 1];
    return absl::string_view(model_words_).substr(begin, model_words_end_[position] - begin);
  }

  // Vocabulary entries are numbered in sorted order.
  size_t vocabulary_size() const { return word_end_.size(); }
  absl::string_view Word(uint32_t word) const;
  absl::optional<uint32_t> Find(absl::string_view text) const;
  // The entries that start with `prefix`: [first, second).
  std::pair<uint32_t, uint32_t> WithPrefix(absl::string_view prefix) const;
  absl::Span<const uint32_t> Postings(uint32_t word) const;

  // Calls `visit(word)` for every entry within `limit` edits (1 or 2) of
  // `term`, each once.
  void ForEachNearWord(absl::string_view term, int limit,
                       absl::FunctionRef<void(uint32_t)> visit) const;

  // Bytes held, for memory accounting.
  size_t MemoryBytes() const;

 private:
  struct Range {
    uint32_t begin = 0;
    uint32_t size = 0;
  };
  class Builder;

  std::string model_words_;
  std::vector<uint32_t> model_words_end_;
  std::string words_;               // the vocabulary, back to back, sorted
  std::vector<uint32_t> word_end_;  // end of each in `words_`
  absl::flat_hash_map<absl::string_view, uint32_t> by_text_;  // views into `words_`
  std::vector<uint32_t> posting_end_;  // end of each word's postings in `postings_`
  std::vector<uint32_t> postings_;
  absl::flat_hash_map<uint64_t, Range> near_;  // deletion key -> `near_words_`
  std::vector<uint32_t> near_words_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_MODEL_SEARCH_INDEX_H_
