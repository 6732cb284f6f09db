#include "services/common/stable_hash.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace modelcatalog {
namespace {

// The values are part of the contract: replicas of different builds, or on
// machines of another byte order, must agree on a model's version. A change
// of the algorithm fails here first.
TEST(StableHashTest, IsTheSameEverywhere) {
  EXPECT_EQ(StableHash64(""), 0xac9d16383878d5e5ULL);
  EXPECT_EQ(StableHash64("a"), 0xaa16003e20b35cb1ULL);
  EXPECT_EQ(StableHash64("two 16-byte blocks, then a tail of six"), 0xc368524ce2a31a67ULL);
}

TEST(StableHashTest, TellsNearbyInputsApart) {
  std::set<uint64_t> seen;
  std::string text;
  for (int i = 0; i < 64; ++i) {
    // Every length from 0 to 63 (every tail size, one and more blocks), and
    // a trailing zero byte, which zero-padding alone would not tell apart.
    EXPECT_TRUE(seen.insert(StableHash64(text)).second) << text.size();
    EXPECT_TRUE(seen.insert(StableHash64(text + std::string(1, '\0'))).second) << text.size();
    text.push_back(static_cast<char>('a' + i % 26));
  }
  // One bit flipped anywhere changes the hash.
  const std::string base(40, 'x');
  for (size_t i = 0; i < base.size(); ++i) {
    std::string flipped = base;
    flipped[i] ^= 1;
    EXPECT_NE(StableHash64(flipped), StableHash64(base)) << i;
  }
}

}  // namespace
}  // namespace modelcatalog
