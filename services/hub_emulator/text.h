// Case-insensitive text matching for search and filters.
#ifndef MODEL_CATALOG_SERVICES_HUB_EMULATOR_TEXT_H_
#define MODEL_CATALOG_SERVICES_HUB_EMULATOR_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace modelcatalog {
namespace hub_emulator {

// Lower-cases UTF-8 text so that two strings differing only in case compare
// equal: ASCII, Latin-1, Latin Extended-A and Additional, Greek (final sigma
// folds to sigma), Cyrillic and fullwidth Latin. Scripts without case (CJK)
// and bytes that are not valid UTF-8 pass through unchanged. A simple
// one-to-one mapping, not full Unicode case folding ("ß" stays "ß").
std::string FoldCase(absl::string_view text);

}  // namespace hub_emulator
}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_HUB_EMULATOR_TEXT_H_
