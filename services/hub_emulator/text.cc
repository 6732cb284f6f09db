#include "services/hub_emulator/text.h"

#include <cstdint>

#include "services/common/utf8.h"

namespace modelcatalog {
namespace hub_emulator {

std::string FoldCase(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const uint8_t b = static_cast<uint8_t>(text[i]);
    if (b < 0x80) {
      out.push_back(static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b));
      ++i;
      continue;
    }
    char32_t c = 0;
    const size_t length = DecodeUtf8(text, i, &c);
    if (length == 0) {  // not UTF-8: kept as it is
      out.push_back(text[i]);
      ++i;
      continue;
    }
    // Final sigma is a lowercase letter of its own; it matches sigma.
    AppendUtf8(c == U'ς' ? U'σ' : ToLower(c), &out);
    i += length;
  }
  return out;
}

}  // namespace hub_emulator
}  // namespace modelcatalog
