#include "services/catalog/model/text_fold.h"

#include <locale.h>
#include <wctype.h>

#include <cstdint>

namespace modelcatalog::catalog {
namespace {

// The C.UTF-8 locale ships with the C library (libc-bin on Debian); when it is
// missing folding degrades to ASCII rather than failing.
locale_t Utf8Locale() {
  static const locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return locale;
}

// Decodes one code point at `text[*pos]`, advancing `*pos`. Returns -1 for an
// invalid sequence (then *pos advances by one byte).
int32_t DecodeUtf8(absl::string_view text, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t b0 = byte(*pos);
  int len;
  int32_t cp;
  if (b0 < 0x80) {
    ++*pos;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++*pos;
    return -1;
  }
  if (*pos + len > text.size()) {
    ++*pos;
    return -1;
  }
  for (int i = 1; i < len; ++i) {
    const uint8_t b = byte(*pos + i);
    if ((b & 0xC0) != 0x80) {
      ++*pos;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  // Reject overlong forms and surrogates so that re-encoding is byte-identical.
  static constexpr int32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*pos;
    return -1;
  }
  *pos += len;
  return cp;
}

void AppendUtf8(int32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

std::string FoldCase(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  const locale_t locale = Utf8Locale();
  size_t pos = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (static_cast<uint8_t>(c) < 0x80) {  // The common case: ASCII, no table look-up.
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      ++pos;
      continue;
    }
    const size_t start = pos;
    const int32_t cp = DecodeUtf8(text, &pos);
    if (cp < 0 || locale == static_cast<locale_t>(0)) {
      out.append(text.data() + start, pos - start);
      continue;
    }
    AppendUtf8(static_cast<int32_t>(towlower_l(static_cast<wint_t>(cp), locale)), &out);
  }
  return out;
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
