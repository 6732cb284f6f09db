#include "services/catalog/model/search_text.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace modelcatalog::catalog {
namespace {

using ::testing::ElementsAre;

// The atoms of `text`, a word's first atom marked with '|'.
std::vector<std::string> Atoms(const std::string& text) {
  std::string encoded;
  AppendSearchAtoms(text, &encoded);
  std::vector<std::string> atoms;
  ForEachSearchAtom(encoded, [&](SearchField, uint32_t, const SearchAtom& atom) {
    atoms.push_back((atom.starts_word ? "|" : "") + std::string(atom.text));
  });
  return atoms;
}

TEST(SearchTextTest, CutsWordsAtSeparatorsDigitsAndCamelHumps) {
  EXPECT_THAT(Atoms("GPT-4o mini"), ElementsAre("|gpt", "|4", "o", "|mini"));
  EXPECT_THAT(Atoms("DeepSeek-V3.1"), ElementsAre("|deep", "seek", "|v", "3", "|1"));
  EXPECT_THAT(Atoms("DALL·E 3"), ElementsAre("|dall", "|e", "|3"));
  EXPECT_THAT(Atoms("OpenAI ChatGPT"), ElementsAre("|open", "ai", "|chat", "gpt"));
  EXPECT_THAT(Atoms("FLUX.2 [dev]"), ElementsAre("|flux", "|2", "|dev"));
  EXPECT_THAT(Atoms("  --  "), ElementsAre());
}

TEST(SearchTextTest, NormalizesUnicode) {
  EXPECT_THAT(Atoms("Über Straße"), ElementsAre("|uber", "|strasse"));
  EXPECT_THAT(Atoms("ΕΡΜΉΣ Ερμής"), ElementsAre("|ερμησ", "|ερμησ"));  // final sigma, tonos
  EXPECT_THAT(Atoms("ＧＰＴ－５"), ElementsAre("|gpt", "|5"));         // full width (NFKC)
  EXPECT_THAT(Atoms("ﬁne x²"), ElementsAre("|fine", "|x", "2"));       // ligature, superscript
  EXPECT_THAT(Atoms("한국어 모델"), ElementsAre("|한국어", "|모델"));  // Hangul stays whole
}

TEST(SearchTextTest, EveryCharacterOfAnUnspacedScriptIsAnAtom) {
  EXPECT_THAT(Atoms("通义万相 Max"), ElementsAre("|通", "义", "万", "相", "|max"));
  EXPECT_THAT(Atoms("日本語スワロー"), ElementsAre("|日", "本", "語", "ス", "ワ", "ロ", "ー"));
}

TEST(SearchTextTest, BytesThatAreNotUtf8SeparateWords) {
  EXPECT_THAT(Atoms("ab\xff"
                    "cd"),
              ElementsAre("|ab", "|cd"));
}

TEST(SearchTextTest, TermsKnowTheirAtomsLengthAndDigits) {
  const std::vector<SearchTerm> terms = SearchTerms("gpt5 Sonnet, 万相");
  ASSERT_EQ(terms.size(), 3u);
  EXPECT_EQ(terms[0].text, "gpt5");
  EXPECT_THAT(terms[0].atom_starts, ElementsAre(0u, 3u));
  EXPECT_TRUE(terms[0].has_digit);
  EXPECT_EQ(terms[1].text, "sonnet");
  EXPECT_EQ(terms[1].characters, 6u);
  EXPECT_EQ(terms[2].characters, 2u);
  EXPECT_EQ(AllowedTypos(terms[0]), 0);  // a digit
  EXPECT_EQ(AllowedTypos(terms[1]), 1);
  EXPECT_EQ(AllowedTypos(terms[2]), 0);  // short
  EXPECT_EQ(AllowedTypos(SearchTerms("midjourney")[0]), 2);
}

TEST(SearchTextTest, EditDistanceCountsSwapsAsOneAndCodePointsAsCharacters) {
  EXPECT_EQ(EditDistance("claude", "cluade", 2), 1);  // a swap
  EXPECT_EQ(EditDistance("sonnet", "sonet", 2), 1);
  EXPECT_EQ(EditDistance("gemini", "gemeni", 2), 1);
  EXPECT_EQ(EditDistance("midjourney", "mdjurney", 2), 2);
  EXPECT_EQ(EditDistance("ερμησ", "ερμασ", 2), 1);  // two-byte letters, one edit
  EXPECT_EQ(EditDistance("abcd", "bcda", 2), 2);
  EXPECT_EQ(EditDistance("abcdef", "uvwxyz", 2), 3);  // past the limit: limit + 1
  EXPECT_EQ(EditDistance("same", "same", 1), 0);
}

}  // namespace
}  // namespace modelcatalog::catalog
