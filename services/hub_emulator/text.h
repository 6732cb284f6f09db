// Case-insensitive text matching for search and filters.
#ifndef MODEL_CATALOG_SERVICES_HUB_EMULATOR_TEXT_H_
#define MODEL_CATALOG_SERVICES_HUB_EMULATOR_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace modelcatalog {
namespace hub_emulator {

// Lower-cases UTF-8 text so that two strings differing only in case compare
// equal: Unicode's simple lowercase mapping of every code point (utf8proc),
// with final sigma folded to sigma. Scripts without case (CJK) and bytes that
// are not valid UTF-8 pass through unchanged. A one-to-one mapping, not full
// case folding ("ß" stays "ß").
std::string FoldCase(absl::string_view text);

}  // namespace hub_emulator
}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_HUB_EMULATOR_TEXT_H_
