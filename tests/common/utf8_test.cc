#include "services/common/utf8.h"

#include "gtest/gtest.h"

namespace modelcatalog {
namespace {

TEST(DisplayWidthTest, CountsTheColumnsATerminalGivesEachCharacter) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("flux-2-dev"), 10u);
  EXPECT_EQ(DisplayWidth("\u00c9lan"), 4u);                 // precomposed: one column
  EXPECT_EQ(DisplayWidth("E\u0301lan"), 4u);                // a combining mark takes none
  EXPECT_EQ(DisplayWidth("\u901a\u4e49\u5343\u95ee"), 8u);  // CJK: two each
  EXPECT_EQ(DisplayWidth("Qwen \u901a\u4e49"), 9u);
  EXPECT_EQ(DisplayWidth("\uff21"), 2u);  // full-width Latin A
}

TEST(DisplayWidthTest, AByteThatIsNotUtf8TakesOneColumn) {
  EXPECT_EQ(DisplayWidth("a\xff"
                         "b"),
            3u);
  EXPECT_EQ(DisplayWidth("\xe6\x97"), 2u);  // a character cut short: its two bytes
}

}  // namespace
}  // namespace modelcatalog
