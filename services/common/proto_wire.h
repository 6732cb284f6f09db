// Protocol-buffer wire format, written by hand where a response is assembled
// from bytes already serialized (a model stored in the snapshot) instead of
// copying them into a message that is serialized again. Parsers accept fields
// in any order, so such bytes may follow a message serialized the usual way.
#ifndef MODEL_CATALOG_SERVICES_COMMON_PROTO_WIRE_H_
#define MODEL_CATALOG_SERVICES_COMMON_PROTO_WIRE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace modelcatalog {

inline void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// The tag and length of a length-delimited field (a message, a string) of `size` bytes.
inline void AppendLengthDelimitedHeader(int number, size_t size, std::string* out) {
  AppendVarint(static_cast<uint64_t>(number) << 3 | 2, out);
  AppendVarint(size, out);
}

// A length-delimited field holding `bytes`.
inline void AppendLengthDelimited(int number, absl::string_view bytes, std::string* out) {
  AppendLengthDelimitedHeader(number, bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_COMMON_PROTO_WIRE_H_
