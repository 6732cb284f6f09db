// UTF-8 for the whole project, on utf8proc (Debian's libutf8proc): one decoder
// and one encoder, used by the catalog's text folding, the hub emulator's and
// the hub JSON parser's check of what it reads.
#ifndef MODEL_CATALOG_SERVICES_COMMON_UTF8_H_
#define MODEL_CATALOG_SERVICES_COMMON_UTF8_H_

#include <utf8proc.h>

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace modelcatalog {

// Decodes the code point that starts at `text[pos]` into `*code_point` and
// returns its length in bytes; 0 when the bytes there are not UTF-8 (RFC 3629:
// overlong forms, surrogates and anything past U+10FFFF are refused).
inline size_t DecodeUtf8(absl::string_view text, size_t pos, char32_t* code_point) {
  utf8proc_int32_t decoded = -1;
  const utf8proc_ssize_t length =
      utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + pos),
                       static_cast<utf8proc_ssize_t>(text.size() - pos), &decoded);
  if (length <= 0 || decoded < 0) return 0;
  *code_point = static_cast<char32_t>(decoded);
  return static_cast<size_t>(length);
}

// Appends `code_point` (a valid Unicode scalar value) as UTF-8.
inline void AppendUtf8(char32_t code_point, std::string* out) {
  utf8proc_uint8_t bytes[4];
  const utf8proc_ssize_t length =
      utf8proc_encode_char(static_cast<utf8proc_int32_t>(code_point), bytes);
  out->append(reinterpret_cast<const char*>(bytes), static_cast<size_t>(length));
}

// The simple (one code point to one) lowercase mapping of Unicode's data.
inline char32_t ToLower(char32_t code_point) {
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(code_point)));
}

// How many terminal columns `text` takes: Unicode's East Asian width (two
// for wide and full-width characters, none for combining marks), one for
// every byte that is not UTF-8. For aligning tables of names people typed.
inline size_t DisplayWidth(absl::string_view text) {
  size_t width = 0;
  for (size_t pos = 0; pos < text.size();) {
    char32_t code_point = 0;
    const size_t length = DecodeUtf8(text, pos, &code_point);
    if (length == 0) {
      ++width;
      ++pos;
      continue;
    }
    const int columns = utf8proc_charwidth(static_cast<utf8proc_int32_t>(code_point));
    width += columns > 0 ? static_cast<size_t>(columns) : 0;
    pos += length;
  }
  return width;
}

}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_COMMON_UTF8_H_
