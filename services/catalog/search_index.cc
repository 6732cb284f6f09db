#include "services/catalog/search_index.h"

#include <algorithm>

#include "absl/hash/hash.h"
#include "services/catalog/catalog_snapshot.h"
#include "services/catalog/text_fold.h"

namespace modelcatalog::catalog {
namespace {

// Keys of the different lists never mix: each kind hashes with its own tag.
uint64_t Key(char kind, absl::string_view bytes) {
  return absl::Hash<std::pair<char, absl::string_view>>{}({kind, bytes});
}

uint64_t GramKey(absl::string_view gram) {
  uint64_t key = 0x100000000ull * gram.size();
  for (unsigned char c : gram) key = key << 8 | c;
  return key;
}

// Appends `position` to the list of `key` unless it is already its last
// element (a model with the same key twice is listed once).
void Add(absl::flat_hash_map<uint64_t, std::vector<uint32_t>>* lists, uint64_t key,
         uint32_t position) {
  std::vector<uint32_t>& list = (*lists)[key];
  if (list.empty() || list.back() != position) list.push_back(position);
}

}  // namespace

std::shared_ptr<const SearchIndex> SearchIndex::Build(
    const std::vector<std::shared_ptr<const CatalogEntry>>& entries) {
  auto index = std::make_shared<SearchIndex>();
  for (uint32_t position = 0; position < entries.size(); ++position) {
    const CatalogEntry& entry = *entries[position];
    Add(&index->exact_, Key('e', entry.folded_id), position);
    for (absl::string_view text : {absl::string_view(entry.folded_id),
                                   absl::string_view(entry.folded_display_name)}) {
      for (size_t n = 1; n <= std::min(kMaxKeyBytes, text.size()); ++n) {
        Add(&index->prefixes_, Key('p', text.substr(0, n)), position);
      }
      for (size_t start = 0; start < text.size(); ++start) {
        if (IsWordStart(text, start)) {
          const size_t end = std::min(text.size(), start + kMaxKeyBytes);
          for (size_t n = 1; start + n <= end; ++n) {
            Add(&index->word_starts_, Key('w', text.substr(start, n)), position);
          }
        }
        for (size_t n = 2; n <= 3 && start + n <= text.size(); ++n) {
          Add(&index->grams_, GramKey(text.substr(start, n)), position);
        }
      }
    }
  }
  // Positions were added in ascending order, each at most once per list, so
  // every list is sorted already. Growth left spare capacity: give it back.
  for (Lists* lists : {&index->exact_, &index->prefixes_, &index->word_starts_, &index->grams_}) {
    for (auto& [key, list] : *lists) list.shrink_to_fit();
  }
  return index;
}

absl::Span<const uint32_t> SearchIndex::Find(const Lists& lists, uint64_t key) {
  auto it = lists.find(key);
  if (it == lists.end()) return {};
  return it->second;
}

absl::Span<const uint32_t> SearchIndex::ExactIds(absl::string_view folded_query) const {
  return Find(exact_, Key('e', folded_query));
}

absl::Span<const uint32_t> SearchIndex::Prefixes(absl::string_view folded_query) const {
  return Find(prefixes_, Key('p', folded_query.substr(0, kMaxKeyBytes)));
}

absl::Span<const uint32_t> SearchIndex::WordStarts(absl::string_view folded_query) const {
  return Find(word_starts_, Key('w', folded_query.substr(0, kMaxKeyBytes)));
}

absl::optional<absl::Span<const uint32_t>> SearchIndex::Substrings(
    absl::string_view folded_query) const {
  if (folded_query.size() < 2) return absl::nullopt;
  const size_t n = folded_query.size() == 2 ? 2 : 3;
  absl::optional<absl::Span<const uint32_t>> shortest;
  for (size_t start = 0; start + n <= folded_query.size(); ++start) {
    absl::Span<const uint32_t> list = Find(grams_, GramKey(folded_query.substr(start, n)));
    if (!shortest || list.size() < shortest->size()) shortest = list;
    if (list.empty()) break;  // a sequence no model has: nothing matches
  }
  return shortest;
}

}  // namespace modelcatalog::catalog
