#include "services/catalog/model/text_fold.h"

#include <cstdint>

#include "services/common/utf8.h"

namespace modelcatalog::catalog {
namespace {

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

std::string FoldCase(absl::string_view text) {
  std::string out;
  AppendFoldCase(text, &out);
  return out;
}

void AppendFoldCase(absl::string_view text, std::string* out) {
  out->reserve(out->size() + text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (static_cast<uint8_t>(c) < 0x80) {  // The common case: ASCII, no table look-up.
      out->push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      ++pos;
      continue;
    }
    char32_t code_point = 0;
    const size_t length = DecodeUtf8(text, pos, &code_point);
    if (length == 0) {  // not UTF-8: kept as it is
      out->push_back(c);
      ++pos;
      continue;
    }
    AppendUtf8(ToLower(code_point), out);
    pos += length;
  }
}

bool IsWordStart(absl::string_view text, size_t pos) {
  if (pos >= text.size()) return false;
  const auto is_word_byte = [](char c) {
    // Bytes of multi-byte code points count as letters: words in any script.
    return IsAsciiAlnum(c) || static_cast<uint8_t>(c) >= 0x80;
  };
  if (!is_word_byte(text[pos])) return false;
  // A continuation byte is inside a code point, never the start of a word.
  if ((static_cast<uint8_t>(text[pos]) & 0xC0) == 0x80) return false;
  return pos == 0 || !is_word_byte(text[pos - 1]);
}

}  // namespace modelcatalog::catalog
