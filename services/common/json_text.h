// Writing JSON string literals: logs, error bodies and other small documents
// written by hand rather than through a JSON library.
#ifndef MODEL_CATALOG_SERVICES_COMMON_JSON_TEXT_H_
#define MODEL_CATALOG_SERVICES_COMMON_JSON_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace modelcatalog {

// Appends `v` as a quoted JSON string, escaping quotes, backslashes and
// control characters.
void AppendJsonString(std::string* out, absl::string_view v);

}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_COMMON_JSON_TEXT_H_
