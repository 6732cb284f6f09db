#include "services/catalog/model/search_index.h"

#include <algorithm>
#include <array>

#include "absl/hash/hash.h"
#include "services/catalog/model/catalog_snapshot.h"
#include "services/catalog/model/text_fold.h"

namespace modelcatalog::catalog {
namespace {

// Up to seven bytes and their count packed into one key: distinct byte
// strings get distinct keys, so a list holds exactly the models with its key.
uint64_t BytesKey(absl::string_view bytes) {
  uint64_t key = static_cast<uint64_t>(bytes.size()) << 56;
  for (size_t i = 0; i < bytes.size(); ++i) {
    key |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  }
  return key;
}

uint64_t ExactKey(absl::string_view folded_id) { return absl::Hash<absl::string_view>{}(folded_id); }

}  // namespace

// Builds the lists in two passes over the catalog, so that every list gets its
// final place at once: the first counts each key's models, the second writes
// the positions. A model with the same key twice (e.g. a prefix of both its id
// and its display name) is listed once: positions arrive in ascending order,
// so a repeat is always the list's last position.
class SearchIndex::Builder {
 public:
  explicit Builder(SearchIndex* index) : index_(index) {}

  void Count(uint32_t position, const SearchText& text) {
    ForEachKey(text, [position](Lists* lists, uint64_t key) {
      // While counting, `begin` holds the last position counted plus one.
      Range& range = (*lists)[key];
      if (range.size > 0 && range.begin == position + 1) return;
      range.begin = position + 1;
      ++range.size;
    });
  }

  // Gives every list its place in the postings array.
  void Place() {
    size_t total = 0;
    for (Lists* lists : AllLists()) {
      for (auto& [key, range] : *lists) {
        range.begin = static_cast<uint32_t>(total);
        total += range.size;
        range.size = 0;  // refilled by Fill
      }
    }
    index_->postings_.resize(total);
  }

  void Fill(uint32_t position, const SearchText& text) {
    uint32_t* postings = index_->postings_.data();
    ForEachKey(text, [position, postings](Lists* lists, uint64_t key) {
      Range& range = lists->find(key)->second;
      if (range.size > 0 && postings[range.begin + range.size - 1] == position) return;
      postings[range.begin + range.size++] = position;
    });
  }

 private:
  std::array<Lists*, 4> AllLists() const {
    return {&index_->exact_, &index_->prefixes_, &index_->word_starts_, &index_->grams_};
  }

  template <typename Visit>
  void ForEachKey(const SearchText& text, Visit visit) {
    visit(&index_->exact_, ExactKey(text.folded_id));
    for (absl::string_view part : {text.folded_id, text.folded_display_name}) {
      for (size_t n = 1; n <= std::min(kMaxKeyBytes, part.size()); ++n) {
        visit(&index_->prefixes_, BytesKey(part.substr(0, n)));
      }
      for (size_t start = 0; start < part.size(); ++start) {
        if (IsWordStart(part, start)) {
          const size_t end = std::min(part.size(), start + kMaxKeyBytes);
          for (size_t n = 1; start + n <= end; ++n) {
            visit(&index_->word_starts_, BytesKey(part.substr(start, n)));
          }
        }
        for (size_t n = 2; n <= 3 && start + n <= part.size(); ++n) {
          visit(&index_->grams_, BytesKey(part.substr(start, n)));
        }
      }
    }
  }

  SearchIndex* const index_;
};

std::shared_ptr<const SearchIndex> SearchIndex::Build(
    const std::vector<std::shared_ptr<const CatalogEntry>>& entries) {
  return Build(entries.size(), [&entries](uint32_t position) {
    const CatalogEntry& entry = *entries[position];
    return SearchText{entry.folded_id, entry.folded_display_name};
  });
}

std::shared_ptr<const SearchIndex> SearchIndex::Build(
    size_t count, absl::FunctionRef<SearchText(uint32_t)> text_of) {
  auto index = std::make_shared<SearchIndex>();
  Builder builder(index.get());
  for (uint32_t position = 0; position < count; ++position) builder.Count(position, text_of(position));
  builder.Place();
  for (uint32_t position = 0; position < count; ++position) builder.Fill(position, text_of(position));
  return index;
}

absl::Span<const uint32_t> SearchIndex::Find(const Lists& lists, uint64_t key) const {
  auto it = lists.find(key);
  if (it == lists.end()) return {};
  return absl::Span<const uint32_t>(postings_.data() + it->second.begin, it->second.size);
}

absl::Span<const uint32_t> SearchIndex::ExactIds(absl::string_view folded_query) const {
  return Find(exact_, ExactKey(folded_query));
}

absl::Span<const uint32_t> SearchIndex::Prefixes(absl::string_view folded_query) const {
  return Find(prefixes_, BytesKey(folded_query.substr(0, kMaxKeyBytes)));
}

absl::Span<const uint32_t> SearchIndex::WordStarts(absl::string_view folded_query) const {
  return Find(word_starts_, BytesKey(folded_query.substr(0, kMaxKeyBytes)));
}

SearchIndex::SubstringLists SearchIndex::Substrings(absl::string_view folded_query) const {
  SubstringLists lists;
  if (folded_query.size() < 2) return lists;
  const size_t n = folded_query.size() == 2 ? 2 : 3;
  for (size_t start = 0; start + n <= folded_query.size(); ++start) {
    absl::Span<const uint32_t> list = Find(grams_, BytesKey(folded_query.substr(start, n)));
    if (list.empty()) {  // a sequence no model has: nothing matches
      lists.assign(1, list);
      return lists;
    }
    // A sequence the query repeats gives the same list: walk it once.
    const bool seen = std::any_of(lists.begin(), lists.end(), [&list](absl::Span<const uint32_t> other) {
      return other.data() == list.data();
    });
    if (!seen) lists.push_back(list);
  }
  std::sort(lists.begin(), lists.end(),
            [](absl::Span<const uint32_t> a, absl::Span<const uint32_t> b) { return a.size() < b.size(); });
  return lists;
}

size_t SearchIndex::MemoryBytes() const {
  size_t bytes = postings_.capacity() * sizeof(uint32_t);
  for (const Lists* lists : {&exact_, &prefixes_, &word_starts_, &grams_}) {
    // A slot holds the key and its range, plus one control byte.
    bytes += lists->capacity() * (sizeof(Lists::value_type) + 1);
  }
  return bytes;
}

}  // namespace modelcatalog::catalog
