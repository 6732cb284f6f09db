// Text as search compares it: a model's id, display name and developer name,
// and a person's query, cut into the same pieces.
//
// Normalization (utf8proc): compatibility forms (NFKC: "ﬁ" is "fi", full-width
// "ＧＰＴ" is "gpt"), full case folding ("ß" is "ss", a final sigma is a sigma)
// and marks removed ("Über" is "uber", "Ερμής" is "ερμησ").
//
// Pieces: a *word* is a run of letters and digits between separators (spaces,
// punctuation, symbols: "GPT-5" has the words "gpt" and "5", "DALL·E" has
// "dall" and "e"). A word is cut further into *atoms* where letters meet
// digits ("qwen3" is "qwen" "3"), where a lower-case letter meets an upper-case
// one ("DeepSeek" is "deep" "seek"), and around every character of a script
// written without spaces (Chinese, Japanese, Thai...: "通义万相" is four atoms),
// so that a query matches at any atom and may span several: "gpt5", "gpt 5"
// and "gpt-5" find "GPT-5" alike, "dalle" finds "DALL·E", "万相" finds "通义万相".
//
// Encoded form (what a snapshot keeps per model and the index reads): atoms
// in order, each preceded by a marker byte, fields separated by another;
// normalized text holds letters and digits only, so the markers never clash.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_MODEL_SEARCH_TEXT_H_
#define MODEL_CATALOG_SERVICES_CATALOG_MODEL_SEARCH_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace modelcatalog::catalog {

// Marker bytes of the encoded form.
inline constexpr char kAtomInWord = '\x01';  // an atom that continues a word
inline constexpr char kWordStart = '\x02';   // an atom that starts a word
inline constexpr char kFieldEnd = '\x03';    // ends the id, the display name

// Appends the atoms of `text`, encoded, to `out`.
void AppendSearchAtoms(absl::string_view text, std::string* out);

// The encoded words of a model: id, kFieldEnd, display name, kFieldEnd,
// developer name.
std::string ModelSearchWords(absl::string_view id, absl::string_view display_name,
                             absl::string_view developer_name);

// The fields a model's words are in.
enum class SearchField : uint8_t { kId = 0, kDisplayName = 1, kDeveloper = 2 };
inline constexpr size_t kSearchFieldCount = 3;

// One atom of decoded words.
struct SearchAtom {
  absl::string_view text;
  bool starts_word;
};

// Calls `visit(field, index_in_field, atom)` for every atom of encoded words,
// in order.
template <typename Visit>
void ForEachSearchAtom(absl::string_view encoded, Visit visit) {
  uint8_t field = 0;
  uint32_t index = 0;
  size_t pos = 0;
  while (pos < encoded.size()) {
    const char marker = encoded[pos];
    if (marker == kFieldEnd) {
      ++field;
      index = 0;
      ++pos;
      continue;
    }
    size_t end = pos + 1;
    while (end < encoded.size() && static_cast<uint8_t>(encoded[end]) > 0x03) ++end;
    visit(static_cast<SearchField>(field), index++,
          SearchAtom{encoded.substr(pos + 1, end - pos - 1), marker == kWordStart});
    pos = end;
  }
}

// A query cut into terms (its words, normalized): "Claude-Sonnet 4.5" is
// "claude" "sonnet" "4" "5". Each term also knows where its atoms begin
// ("gpt5": 0 and 3), how many characters it has, and whether it has a digit.
struct SearchTerm {
  std::string text;
  std::vector<uint32_t> atom_starts;  // byte offsets in `text`, 0 first
  uint32_t characters = 0;
  bool has_digit = false;
  // Two terms of the query joined into one (SearchQuery::joined_neighbours):
  // it matches one atom only, not a run.
  bool joined = false;
};
std::vector<SearchTerm> SearchTerms(absl::string_view query);

// How many edits a term may differ by from a word: one for 4 to 7
// characters, two from 8, none for shorter terms and none for a term with a
// digit ("4o" never matches "4.1", "gpt4" never "gpt5").
int AllowedTypos(const SearchTerm& term);

// The optimal string alignment distance (insertions, deletions,
// substitutions and swaps of neighbours, one edit each) between two texts,
// counted in code points, or `limit + 1` when it exceeds `limit`.
int EditDistance(absl::string_view a, absl::string_view b, int limit);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_MODEL_SEARCH_TEXT_H_
