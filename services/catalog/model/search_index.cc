#include "services/catalog/model/search_index.h"

#include <algorithm>

#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "services/catalog/model/catalog_snapshot.h"
#include "services/catalog/model/search_text.h"
#include "services/common/utf8.h"

namespace modelcatalog::catalog {
namespace {

// The shortest vocabulary entry kept for typos, and the shortest with keys of
// two deletions: a term of four characters (one edit) may be a word of three
// plus one character; one of eight (two edits), a word of six plus two.
constexpr size_t kNearMinCharacters = 3;
constexpr size_t kNearTwoDeletionsMinCharacters = 6;

uint64_t NearKey(absl::string_view text) { return absl::Hash<absl::string_view>{}(text); }

// The byte offsets of `text`'s code points, and its size last.
absl::InlinedVector<uint32_t, 33> CodePointStarts(absl::string_view text) {
  absl::InlinedVector<uint32_t, 33> starts;
  for (size_t pos = 0; pos < text.size();) {
    starts.push_back(static_cast<uint32_t>(pos));
    char32_t c = 0;
    const size_t length = DecodeUtf8(text, pos, &c);
    pos += length == 0 ? 1 : length;
  }
  starts.push_back(static_cast<uint32_t>(text.size()));
  return starts;
}

// Calls `key(k)` for `text` and for every text left when one code point is
// deleted from it, and two when `deletions` is 2 (a key may repeat).
template <typename Key>
void ForEachDeletionKey(absl::string_view text, int deletions, Key key) {
  const absl::InlinedVector<uint32_t, 33> starts = CodePointStarts(text);
  const size_t characters = starts.size() - 1;
  key(NearKey(text));
  std::string scratch;
  for (size_t i = 0; i < characters && deletions >= 1; ++i) {
    scratch.assign(text.data(), starts[i]);
    scratch.append(text.data() + starts[i + 1], text.size() - starts[i + 1]);
    key(NearKey(scratch));
    for (size_t j = i + 1; j < characters && deletions >= 2; ++j) {
      std::string twice(text.data(), starts[i]);
      twice.append(text.data() + starts[i + 1], starts[j] - starts[i + 1]);
      twice.append(text.data() + starts[j + 1], text.size() - starts[j + 1]);
      key(NearKey(twice));
    }
  }
}

bool LettersOnly(absl::string_view text) {
  for (const SearchTerm& term : SearchTerms(text)) {
    if (term.has_digit) return false;
  }
  return true;
}

}  // namespace

// Two passes: the first gives every distinct text a provisional number and
// notes (number, position) for each model's distinct texts; the vocabulary is
// then sorted and the notes counted into place, positions ascending because
// models are read in position order.
class SearchIndex::Builder {
 public:
  explicit Builder(SearchIndex* index) : index_(index) {}

  void Add(uint32_t position, absl::string_view encoded) {
    index_->model_words_.append(encoded.data(), encoded.size());
    index_->model_words_end_.push_back(static_cast<uint32_t>(index_->model_words_.size()));
    model_words_.clear();
    std::string word;  // the current word's atoms joined
    size_t word_atoms = 0;
    bool word_has_letters_only = true;
    const auto end_word = [&] {
      if (word_atoms > 1 && word_has_letters_only) model_words_.push_back(Number(word));
      word.clear();
      word_atoms = 0;
      word_has_letters_only = true;
    };
    SearchField field = SearchField::kId;
    ForEachSearchAtom(encoded, [&](SearchField atom_field, uint32_t, const SearchAtom& atom) {
      if (atom.starts_word || atom_field != field) end_word();
      field = atom_field;
      model_words_.push_back(Number(atom.text));
      word.append(atom.text.data(), atom.text.size());
      ++word_atoms;
      if (word_has_letters_only && !atom.text.empty()) {
        const char first = atom.text[0];
        if (first >= '0' && first <= '9') word_has_letters_only = false;
      }
    });
    end_word();
    std::sort(model_words_.begin(), model_words_.end());
    model_words_.erase(std::unique(model_words_.begin(), model_words_.end()), model_words_.end());
    for (uint32_t number : model_words_) notes_.push_back({number, position});
  }

  void Finish() {
    // Sorted vocabulary: provisional number -> final number.
    std::vector<uint32_t> order(texts_.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return texts_[a] < texts_[b]; });
    std::vector<uint32_t> final_number(texts_.size());
    size_t bytes = 0;
    for (uint32_t i = 0; i < order.size(); ++i) {
      final_number[order[i]] = i;
      bytes += texts_[order[i]].size();
    }
    index_->words_.reserve(bytes);
    index_->word_end_.reserve(order.size());
    for (uint32_t provisional : order) {
      index_->words_.append(texts_[provisional]);
      index_->word_end_.push_back(static_cast<uint32_t>(index_->words_.size()));
    }
    // `words_` is at its final size: views into it stay valid.
    index_->by_text_.reserve(order.size());
    for (uint32_t w = 0; w < order.size(); ++w) index_->by_text_.emplace(index_->Word(w), w);

    std::vector<uint32_t> counts(order.size() + 1, 0);
    for (const Note& note : notes_) ++counts[final_number[note.number] + 1];
    for (size_t w = 1; w < counts.size(); ++w) counts[w] += counts[w - 1];
    index_->posting_end_.assign(counts.begin() + 1, counts.end());
    index_->postings_.resize(notes_.size());
    for (const Note& note : notes_) {
      index_->postings_[counts[final_number[note.number]]++] = note.position;
    }
    notes_.clear();
    notes_.shrink_to_fit();

    BuildNearWords();
  }

 private:
  struct Note {
    uint32_t number;
    uint32_t position;
  };

  uint32_t Number(absl::string_view text) {
    auto it = numbers_.find(text);
    if (it != numbers_.end()) return it->second;
    const uint32_t number = static_cast<uint32_t>(texts_.size());
    texts_.emplace_back(text);
    numbers_.emplace(std::string(text), number);
    return number;
  }

  void BuildNearWords() {
    std::vector<std::pair<uint64_t, uint32_t>> keyed;
    for (uint32_t w = 0; w < index_->vocabulary_size(); ++w) {
      const absl::string_view text = index_->Word(w);
      const size_t characters = CodePointStarts(text).size() - 1;
      if (characters < kNearMinCharacters || !LettersOnly(text)) continue;
      ForEachDeletionKey(text, characters >= kNearTwoDeletionsMinCharacters ? 2 : 1,
                         [&](uint64_t key) {
                           keyed.push_back({key, w});
                         });
    }
    std::sort(keyed.begin(), keyed.end());
    keyed.erase(std::unique(keyed.begin(), keyed.end()), keyed.end());
    index_->near_words_.reserve(keyed.size());
    for (size_t i = 0; i < keyed.size();) {
      Range range{static_cast<uint32_t>(index_->near_words_.size()), 0};
      const uint64_t key = keyed[i].first;
      for (; i < keyed.size() && keyed[i].first == key; ++i) {
        index_->near_words_.push_back(keyed[i].second);
        ++range.size;
      }
      index_->near_.emplace(key, range);
    }
  }

  SearchIndex* index_;
  absl::flat_hash_map<std::string, uint32_t> numbers_;
  std::vector<std::string> texts_;
  std::vector<Note> notes_;
  std::vector<uint32_t> model_words_;
};

std::shared_ptr<const SearchIndex> SearchIndex::Build(
    const std::vector<std::shared_ptr<const CatalogEntry>>& entries) {
  return Build(entries.size(), [&entries](uint32_t position) {
    return entries[position]->fields.text(ModelFields::kSearchWords);
  });
}

std::shared_ptr<const SearchIndex> SearchIndex::Build(
    size_t count, absl::FunctionRef<absl::string_view(uint32_t)> words_of) {
  auto index = std::shared_ptr<SearchIndex>(new SearchIndex());
  Builder builder(index.get());
  index->model_words_end_.reserve(count);
  for (uint32_t p = 0; p < count; ++p) builder.Add(p, words_of(p));
  index->model_words_.shrink_to_fit();
  builder.Finish();
  return index;
}

absl::string_view SearchIndex::Word(uint32_t word) const {
  const uint32_t begin = word == 0 ? 0 : word_end_[word - 1];
  return absl::string_view(words_).substr(begin, word_end_[word] - begin);
}

absl::optional<uint32_t> SearchIndex::Find(absl::string_view text) const {
  auto it = by_text_.find(text);
  if (it == by_text_.end()) return absl::nullopt;
  return it->second;
}

std::pair<uint32_t, uint32_t> SearchIndex::WithPrefix(absl::string_view prefix) const {
  const auto word_at = [this](uint32_t w) { return Word(w); };
  uint32_t low = 0;
  uint32_t high = static_cast<uint32_t>(vocabulary_size());
  while (low < high) {  // the first entry not below `prefix`
    const uint32_t mid = low + (high - low) / 2;
    if (word_at(mid) < prefix) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  const uint32_t first = low;
  high = static_cast<uint32_t>(vocabulary_size());
  while (low < high) {  // the first entry past those that start with it
    const uint32_t mid = low + (high - low) / 2;
    if (word_at(mid).substr(0, prefix.size()) == prefix) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return {first, low};
}

absl::Span<const uint32_t> SearchIndex::Postings(uint32_t word) const {
  const uint32_t begin = word == 0 ? 0 : posting_end_[word - 1];
  return absl::MakeConstSpan(postings_).subspan(begin, posting_end_[word] - begin);
}

void SearchIndex::ForEachNearWord(absl::string_view term, int limit,
                                  absl::FunctionRef<void(uint32_t)> visit) const {
  absl::InlinedVector<uint32_t, 16> seen;
  ForEachDeletionKey(term, limit, [&](uint64_t key) {
    auto it = near_.find(key);
    if (it == near_.end()) return;
    for (uint32_t i = 0; i < it->second.size; ++i) {
      const uint32_t word = near_words_[it->second.begin + i];
      if (std::find(seen.begin(), seen.end(), word) != seen.end()) continue;
      seen.push_back(word);
      // A shared deletion key says only that the texts may be close: "abcd"
      // and "bcda" share "bcd" yet are two edits apart.
      if (EditDistance(term, Word(word), limit) <= limit) visit(word);
    }
  });
}

size_t SearchIndex::MemoryBytes() const {
  return model_words_.capacity() + model_words_end_.capacity() * sizeof(uint32_t) +
         words_.capacity() + word_end_.capacity() * sizeof(uint32_t) +
         by_text_.capacity() * (sizeof(absl::string_view) + sizeof(uint32_t) + 1) +
         posting_end_.capacity() * sizeof(uint32_t) + postings_.capacity() * sizeof(uint32_t) +
         near_.capacity() * (sizeof(uint64_t) + sizeof(Range) + 1) +
         near_words_.capacity() * sizeof(uint32_t);
}

}  // namespace modelcatalog::catalog
