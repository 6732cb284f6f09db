// Building blocks of the tokens handed to clients (page tokens, resume
// tokens): little-endian fields and FNV-1a, a tiny hash that is the same in
// every process, build and machine (absl::Hash is seeded per process).
#ifndef MODEL_CATALOG_SERVICES_CATALOG_MODEL_TOKEN_ENCODING_H_
#define MODEL_CATALOG_SERVICES_CATALOG_MODEL_TOKEN_ENCODING_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace modelcatalog::catalog {

inline constexpr uint64_t kStableHashSeed = 0xcbf29ce484222325ULL;

inline uint64_t StableHash(absl::string_view bytes, uint64_t hash = kStableHashSeed) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// A 32-bit checksum of `bytes`, for detecting damaged or edited tokens.
inline uint32_t StableChecksum(absl::string_view bytes) {
  const uint64_t h = StableHash(bytes);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

inline void PutLittleEndian(uint64_t value, int size, std::string* out) {
  for (int i = 0; i < size; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

inline uint64_t GetLittleEndian(const char* data, int size) {
  uint64_t value = 0;
  for (int i = 0; i < size; ++i) {
    value |= static_cast<uint64_t>(static_cast<uint8_t>(data[i])) << (8 * i);
  }
  return value;
}

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_MODEL_TOKEN_ENCODING_H_
