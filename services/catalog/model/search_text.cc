#include "services/catalog/model/search_text.h"

#include <utf8proc.h>

#include <algorithm>

#include "absl/container/inlined_vector.h"
#include "services/common/utf8.h"

namespace modelcatalog::catalog {
namespace {

enum class CharClass : uint8_t { kSeparator, kLetter, kDigit, kUnspaced };

// Scripts written without spaces between words: every character is an atom,
// so a query matches any run of them.
bool IsUnspacedScript(char32_t c) {
  return (c >= 0x0E00 && c <= 0x0EFF) ||  // Thai, Lao
         (c >= 0x1000 && c <= 0x109F) ||  // Myanmar
         (c >= 0x1780 && c <= 0x17FF) ||  // Khmer
         (c >= 0x3040 && c <= 0x30FF) ||  // Hiragana, Katakana
         (c >= 0x31F0 && c <= 0x31FF) ||  // Katakana phonetic extensions
         (c >= 0x3400 && c <= 0x4DBF) ||  // CJK extension A
         (c >= 0x4E00 && c <= 0x9FFF) ||  // CJK unified ideographs
         (c >= 0xF900 && c <= 0xFAFF) ||  // CJK compatibility ideographs
         (c >= 0x20000 && c <= 0x3134F);  // CJK extensions B to G
}

CharClass ClassOf(char32_t c) {
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return CharClass::kLetter;
    if (c >= '0' && c <= '9') return CharClass::kDigit;
    return CharClass::kSeparator;
  }
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return IsUnspacedScript(c) ? CharClass::kUnspaced : CharClass::kLetter;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kDigit;
    default:
      return CharClass::kSeparator;
  }
}

bool IsUpper(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z';
  const utf8proc_category_t category = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return category == UTF8PROC_CATEGORY_LU || category == UTF8PROC_CATEGORY_LT;
}

bool IsLower(char32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z';
  return utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_LL;
}

// Writes atoms as code points arrive, deciding where each one begins.
class AtomWriter {
 public:
  explicit AtomWriter(std::string* out) : out_(out) {}

  // One code point of the normalized text; `upper` and `lower` tell the case
  // of the character it came from (for camel humps).
  void Add(char32_t c, bool upper, bool lower) {
    const CharClass cls = ClassOf(c);
    if (cls == CharClass::kSeparator) {
      in_word_ = false;
      return;
    }
    if (!in_word_) {
      out_->push_back(kWordStart);
    } else if (cls != previous_ || cls == CharClass::kUnspaced || (upper && previous_lower_)) {
      out_->push_back(kAtomInWord);
    }
    if (c < 0x80) {
      out_->push_back(static_cast<char>(c));
    } else {
      AppendUtf8(c, out_);
    }
    in_word_ = true;
    previous_ = cls;
    previous_lower_ = cls == CharClass::kLetter && lower;
  }

 private:
  std::string* out_;
  bool in_word_ = false;
  CharClass previous_ = CharClass::kSeparator;
  bool previous_lower_ = false;
};

}  // namespace

void AppendSearchAtoms(absl::string_view text, std::string* out) {
  AtomWriter writer(out);
  size_t pos = 0;
  while (pos < text.size()) {
    const char byte = text[pos];
    if (static_cast<uint8_t>(byte) < 0x80) {  // ASCII: no table look-up
      const bool upper = byte >= 'A' && byte <= 'Z';
      const char folded = upper ? static_cast<char>(byte - 'A' + 'a') : byte;
      writer.Add(static_cast<char32_t>(folded), upper, byte >= 'a' && byte <= 'z');
      ++pos;
      continue;
    }
    char32_t c = 0;
    const size_t length = DecodeUtf8(text, pos, &c);
    if (length == 0) {  // not UTF-8: a separator, never part of a word
      writer.Add(U' ', false, false);
      ++pos;
      continue;
    }
    pos += length;
    const bool upper = IsUpper(c);
    const bool lower = IsLower(c);
    if (c >= 0xAC00 && c <= 0xD7A3) {  // a Hangul syllable stays whole, not as its jamo
      writer.Add(c, false, false);
      continue;
    }
    // Compatibility decomposition, full case folding, marks and default
    // ignorables dropped: Unicode's own data, one character at a time.
    utf8proc_int32_t mapped[32];
    int boundclass = 0;
    const utf8proc_ssize_t count = utf8proc_decompose_char(
        static_cast<utf8proc_int32_t>(c), mapped, 32,
        static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                                       UTF8PROC_STRIPMARK | UTF8PROC_IGNORE),
        &boundclass);
    if (count < 0 || count > 32) {
      writer.Add(U' ', false, false);
      continue;
    }
    for (utf8proc_ssize_t i = 0; i < count; ++i) {
      writer.Add(static_cast<char32_t>(mapped[i]), upper, lower);
    }
  }
}

std::string ModelSearchWords(absl::string_view id, absl::string_view display_name,
                             absl::string_view developer_name) {
  std::string out;
  out.reserve(id.size() + display_name.size() + developer_name.size() + 16);
  AppendSearchAtoms(id, &out);
  out.push_back(kFieldEnd);
  AppendSearchAtoms(display_name, &out);
  out.push_back(kFieldEnd);
  AppendSearchAtoms(developer_name, &out);
  return out;
}

std::vector<SearchTerm> SearchTerms(absl::string_view query) {
  std::string encoded;
  AppendSearchAtoms(query, &encoded);
  std::vector<SearchTerm> terms;
  ForEachSearchAtom(encoded, [&](SearchField, uint32_t, const SearchAtom& atom) {
    if (atom.starts_word || terms.empty()) terms.emplace_back();
    SearchTerm& term = terms.back();
    term.atom_starts.push_back(static_cast<uint32_t>(term.text.size()));
    term.text.append(atom.text.data(), atom.text.size());
  });
  for (SearchTerm& term : terms) {
    for (size_t pos = 0; pos < term.text.size();) {
      char32_t c = 0;
      const size_t length = DecodeUtf8(term.text, pos, &c);
      pos += length == 0 ? 1 : length;
      ++term.characters;
      if (ClassOf(c) == CharClass::kDigit) term.has_digit = true;
    }
  }
  return terms;
}

int AllowedTypos(const SearchTerm& term) {
  if (term.has_digit || term.characters < 4) return 0;
  return term.characters < 8 ? 1 : 2;
}

int EditDistance(absl::string_view a, absl::string_view b, int limit) {
  // Code points, so that "é" against "e" is one edit, not two.
  const auto decode = [](absl::string_view text) {
    absl::InlinedVector<char32_t, 32> out;
    for (size_t pos = 0; pos < text.size();) {
      char32_t c = 0;
      const size_t length = DecodeUtf8(text, pos, &c);
      if (length == 0) c = static_cast<uint8_t>(text[pos]);
      out.push_back(c);
      pos += length == 0 ? 1 : length;
    }
    return out;
  };
  const absl::InlinedVector<char32_t, 32> s = decode(a);
  const absl::InlinedVector<char32_t, 32> t = decode(b);
  const int n = static_cast<int>(s.size());
  const int m = static_cast<int>(t.size());
  if (std::abs(n - m) > limit) return limit + 1;
  // Three rows of the dynamic programme: the one two back for swaps.
  absl::InlinedVector<int, 33> before(m + 1), previous(m + 1), current(m + 1);
  for (int j = 0; j <= m; ++j) previous[j] = j;
  for (int i = 1; i <= n; ++i) {
    current[0] = i;
    int row_best = current[0];
    for (int j = 1; j <= m; ++j) {
      const int cost = s[i - 1] == t[j - 1] ? 0 : 1;
      int best = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && s[i - 1] == t[j - 2] && s[i - 2] == t[j - 1]) {
        best = std::min(best, before[j - 2] + 1);
      }
      current[j] = best;
      row_best = std::min(row_best, best);
    }
    if (row_best > limit) return limit + 1;
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return std::min(previous[m], limit + 1);
}

}  // namespace modelcatalog::catalog
