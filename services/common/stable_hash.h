// A 64-bit hash of bytes that is the same in every process, on every machine
// and in every build: what replicas compare (a model's content version) must
// not depend on a per-process seed, as absl::Hash's values do.
//
// Not cryptographic: it tells contents apart, it does not resist someone who
// crafts collisions. Two lanes of 8-byte words, each folded through a
// 64x64->128-bit multiply, so a catalog's 75 MB hash in tens of milliseconds.
#ifndef MODEL_CATALOG_SERVICES_COMMON_STABLE_HASH_H_
#define MODEL_CATALOG_SERVICES_COMMON_STABLE_HASH_H_

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace modelcatalog {

namespace stable_hash_internal {

// Bytes as a little-endian number, whatever the machine's order.
inline uint64_t LoadLittleEndian64(const char* p) {
  uint64_t value;
  std::memcpy(&value, p, sizeof(value));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  value = __builtin_bswap64(value);
#endif
  return value;
}

inline uint64_t Fold(uint64_t a, uint64_t b) {
  const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

}  // namespace stable_hash_internal

inline uint64_t StableHash64(absl::string_view bytes) {
  using stable_hash_internal::Fold;
  using stable_hash_internal::LoadLittleEndian64;
  constexpr uint64_t k0 = 0x9e3779b97f4a7c15ULL;
  constexpr uint64_t k1 = 0xbf58476d1ce4e5b9ULL;
  constexpr uint64_t k2 = 0x94d049bb133111ebULL;
  uint64_t a = k0 ^ static_cast<uint64_t>(bytes.size());
  uint64_t b = k1;
  const char* p = bytes.data();
  size_t left = bytes.size();
  for (; left >= 16; p += 16, left -= 16) {
    a = Fold(a ^ LoadLittleEndian64(p), k1);
    b = Fold(b ^ LoadLittleEndian64(p + 8), k2);
  }
  // The last 0 to 15 bytes, zero-padded; the size mixed in first tells
  // "a" from "a\0".
  char tail[16] = {};
  std::memcpy(tail, p, left);
  a = Fold(a ^ LoadLittleEndian64(tail), k1);
  b = Fold(b ^ LoadLittleEndian64(tail + 8), k2);
  uint64_t x = a ^ ((b << 31) | (b >> 33));
  // SplitMix64's finalizer: every input bit reaches every output bit.
  x = (x ^ (x >> 30)) * k1;
  x = (x ^ (x >> 27)) * k2;
  return x ^ (x >> 31);
}

}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_COMMON_STABLE_HASH_H_
