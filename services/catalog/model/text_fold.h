// Case-insensitive text matching for search: UTF-8 strings are folded to lower
// case code point by code point with Unicode's own tables (utf8proc), so
// "ÉLAN", "Élan" and "élan" fold alike, as do Greek and Cyrillic. Folding is done once per model
// when a snapshot is built and once per query, never per comparison.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_MODEL_TEXT_FOLD_H_
#define MODEL_CATALOG_SERVICES_CATALOG_MODEL_TEXT_FOLD_H_

#include <string>

#include "absl/strings/string_view.h"

namespace modelcatalog::catalog {

// Lower-cases every code point of `text`. Bytes that are not valid UTF-8 are
// kept as they are, so folding never fails and never loses input.
std::string FoldCase(absl::string_view text);
// The same, appended to `out`.
void AppendFoldCase(absl::string_view text, std::string* out);

// True when `text[pos]` starts a word: it is a letter or digit and it is the
// first byte or follows a separator (anything but an ASCII letter or digit, or a
// byte of a multi-byte code point). "claude-sonnet-4-6" has words at 0, 7 and 14.
bool IsWordStart(absl::string_view text, size_t pos);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_MODEL_TEXT_FOLD_H_
