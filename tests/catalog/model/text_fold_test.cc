#include "services/catalog/model/text_fold.h"

#include "gtest/gtest.h"

namespace modelcatalog::catalog {
namespace {

TEST(FoldCaseTest, LowersAscii) { EXPECT_EQ(FoldCase("Claude-Sonnet-4.6"), "claude-sonnet-4.6"); }

TEST(FoldCaseTest, LowersLatinGreekAndCyrillic) {
  EXPECT_EQ(FoldCase("ÉLAN Über"), "élan über");
  EXPECT_EQ(FoldCase("ΑΘΗΝΑ"), "αθηνα");
  EXPECT_EQ(FoldCase("МОДЕЛЬ"), "модель");
}

TEST(FoldCaseTest, LeavesScriptsWithoutCaseAlone) { EXPECT_EQ(FoldCase("画像モデル"), "画像モデル"); }

TEST(FoldCaseTest, KeepsInvalidUtf8BytesAsTheyAre) {
  const std::string broken = std::string("A\xC3") + "B\xFF" + "\xE2\x82";  // truncated sequences
  EXPECT_EQ(FoldCase(broken), std::string("a\xC3") + "b\xFF" + "\xE2\x82");
}

TEST(IsWordStartTest, FindsWordsAfterSeparators) {
  const std::string text = "claude-sonnet 4.6";
  EXPECT_TRUE(IsWordStart(text, 0));    // c
  EXPECT_FALSE(IsWordStart(text, 1));   // l
  EXPECT_FALSE(IsWordStart(text, 6));   // '-' itself
  EXPECT_TRUE(IsWordStart(text, 7));    // s
  EXPECT_TRUE(IsWordStart(text, 14));   // 4
  EXPECT_TRUE(IsWordStart(text, 16));   // 6 after '.'
  EXPECT_FALSE(IsWordStart(text, 99));
}

TEST(IsWordStartTest, TreatsNonAsciiLettersAsLetters) {
  const std::string text = "x élan";  // é is two bytes at 2..3
  EXPECT_TRUE(IsWordStart(text, 2));
  EXPECT_FALSE(IsWordStart(text, 3));  // continuation byte
  EXPECT_FALSE(IsWordStart("aé", 1));  // é glued to a letter
}

}  // namespace
}  // namespace modelcatalog::catalog
