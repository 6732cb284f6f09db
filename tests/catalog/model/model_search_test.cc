#include "services/catalog/model/model_search.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/model/search_text.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Search(const CatalogSnapshot& s, const std::string& text) {
  absl::StatusOr<SearchQuery> query = ParseSearchQuery(text);
  EXPECT_TRUE(query.ok()) << query.status();
  std::vector<std::string> ids;
  for (uint32_t position : RankedMatches(s, *query)) ids.push_back(s.entry(position).id);
  return ids;
}

absl::optional<SearchRank> RankOf(const CatalogSnapshot& s, const std::string& id,
                                  const std::string& text) {
  absl::StatusOr<SearchQuery> query = ParseSearchQuery(text);
  EXPECT_TRUE(query.ok()) << query.status();
  return RankEntry(s.entry(*s.PositionOf(id)), *query);
}

std::shared_ptr<const CatalogSnapshot> Snapshot(std::vector<modelcatalog::v1::Model> models) {
  return CatalogSnapshot::Build(models, 1, absl::UnixEpoch());
}

TEST(SearchQueryTest, CutsTermsOnSpacesAndPunctuation) {
  absl::StatusOr<SearchQuery> query = ParseSearchQuery("  Claude-Sonnet 4.5 ");
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->key, "claude sonnet 4 5");
  EXPECT_EQ(query->joined, "claudesonnet45");
}

TEST(SearchQueryTest, WithoutLetterOrDigitIsInvalid) {
  absl::StatusOr<SearchQuery> query = ParseSearchQuery(" -·- ");
  EXPECT_EQ(query.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(query.status().message(),
            "query has no letter or digit: search matches words of model ids and names");
}

TEST(ModelSearchTest, SeparatorsDoNotMatter) {
  auto s =
      Snapshot({MakeModel("gpt-5", "GPT-5", "OpenAI"), MakeModel("dall-e-3", "DALL·E 3"),
                MakeModel("gen4-turbo", "Gen-4 Turbo"), MakeModel("deepseek-r1", "DeepSeek R1"),
                MakeModel("qwen3-max", "Qwen3 Max"), MakeModel("gpt-4-1", "GPT-4.1")});
  for (const char* q : {"gpt5", "gpt 5", "gpt-5", "GPT_5"}) {
    EXPECT_THAT(Search(*s, q), ElementsAre("gpt-5")) << q;
  }
  EXPECT_THAT(Search(*s, "dalle"), ElementsAre("dall-e-3"));
  EXPECT_THAT(Search(*s, "gen4"), ElementsAre("gen4-turbo"));
  EXPECT_THAT(Search(*s, "gen 4"), ElementsAre("gen4-turbo"));
  EXPECT_THAT(Search(*s, "deepseek"), ElementsAre("deepseek-r1"));
  EXPECT_THAT(Search(*s, "deep seek"), ElementsAre("deepseek-r1"));
  EXPECT_THAT(Search(*s, "qwen 3"), ElementsAre("qwen3-max"));
  EXPECT_THAT(Search(*s, "qwen3"), ElementsAre("qwen3-max"));
}

TEST(ModelSearchTest, TermsTypedApartFindOneWord) {
  auto s = Snapshot({MakeModel("midjourney-v7", "Midjourney v7"),
                     MakeModel("mid-tier-journey", "Mid Tier Journey"),
                     MakeModel("deepseek-r1", "Deepseek R1")});
  // "mid journey" matches the second model's words as typed, and the first's
  // word only joined: below it.
  EXPECT_THAT(Search(*s, "mid journey"), ElementsAre("mid-tier-journey", "midjourney-v7"));
  EXPECT_EQ(RankOf(*s, "midjourney-v7", "mid journey"), 9);
  EXPECT_THAT(Search(*s, "deep seek r1"), ElementsAre("deepseek-r1"));
  EXPECT_EQ(RankOf(*s, "midjourney-v7", "mid journey v7"), kExactIdRank);
}

TEST(ModelSearchTest, FoldsCaseCompatibilityFormsAndMarks) {
  auto s = Snapshot({MakeModel("uber-coder", "Über Coder"), MakeModel("hermes", "Ερμής"),
                     MakeModel("strasse", "Straße Modell"), MakeModel("elan", "Élan Vital"),
                     MakeModel("wanxiang", "通义万相 Max"), MakeModel("fullwidth", "ＧＰＴ Mini")});
  EXPECT_THAT(Search(*s, "uber"), ElementsAre("uber-coder"));
  EXPECT_THAT(Search(*s, "ÜBER"), ElementsAre("uber-coder"));
  EXPECT_THAT(Search(*s, "Ερμης"), ElementsAre("hermes"));
  EXPECT_THAT(Search(*s, "ΕΡΜΉΣ"), ElementsAre("hermes"));  // final sigma, tonos
  EXPECT_THAT(Search(*s, "strasse modell"), ElementsAre("strasse"));
  EXPECT_THAT(Search(*s, "STRAẞE"), ElementsAre("strasse"));
  EXPECT_THAT(Search(*s, "ELAN"), ElementsAre("elan"));
  EXPECT_THAT(Search(*s, "万相"), ElementsAre("wanxiang"));
  EXPECT_THAT(Search(*s, "义万"), ElementsAre("wanxiang"));
  EXPECT_THAT(Search(*s, "gpt mini"), ElementsAre("fullwidth"));
}

TEST(ModelSearchTest, EveryTermMustMatchInAnyOrder) {
  auto s = Snapshot({MakeModel("claude-sonnet-4-5", "Claude Sonnet 4.5", "Anthropic"),
                     MakeModel("claude-opus-4-1", "Claude Opus 4.1", "Anthropic"),
                     MakeModel("gemini-2-5-flash", "Gemini 2.5 Flash", "Google")});
  EXPECT_THAT(Search(*s, "sonnet claude"), ElementsAre("claude-sonnet-4-5"));
  EXPECT_THAT(Search(*s, "gemini flash"), ElementsAre("gemini-2-5-flash"));
  EXPECT_THAT(Search(*s, "claude flash"), IsEmpty());
  // A term may match the developer's name.
  EXPECT_THAT(Search(*s, "anthropic opus"), ElementsAre("claude-opus-4-1"));
  EXPECT_THAT(Search(*s, "google"), ElementsAre("gemini-2-5-flash"));
}

TEST(ModelSearchTest, LastTermMatchesAsPrefix) {
  auto s = Snapshot({MakeModel("claude-sonnet-4-5", "Claude Sonnet 4.5"),
                     MakeModel("claude-opus-4-1", "Claude Opus 4.1")});
  EXPECT_THAT(Search(*s, "claude son"), ElementsAre("claude-sonnet-4-5"));
  EXPECT_THAT(Search(*s, "cla"), ElementsAre("claude-opus-4-1", "claude-sonnet-4-5"));
  // Only the last term: "son claude" is not "sonnet claude".
  EXPECT_THAT(Search(*s, "son claude"), IsEmpty());
}

TEST(ModelSearchTest, TyposByTermLength) {
  auto s = Snapshot({MakeModel("claude-sonnet-4-5", "Claude Sonnet 4.5"),
                     MakeModel("midjourney-v7", "Midjourney v7"),
                     MakeModel("gemini-2-5-pro", "Gemini 2.5 Pro"), MakeModel("gpt-4o", "GPT-4o"),
                     MakeModel("gpt-4-1", "GPT-4.1"), MakeModel("deepseek-v3", "DeepSeek V3")});
  EXPECT_THAT(Search(*s, "cluade"), ElementsAre("claude-sonnet-4-5"));        // a swap
  EXPECT_THAT(Search(*s, "claude sonet"), ElementsAre("claude-sonnet-4-5"));  // a deletion
  EXPECT_THAT(Search(*s, "gemeni"), ElementsAre("gemini-2-5-pro"));           // a substitution
  EXPECT_THAT(Search(*s, "midjurney"), ElementsAre("midjourney-v7"));         // 9 letters
  EXPECT_THAT(Search(*s, "mdjurney"), ElementsAre("midjourney-v7"));          // two edits
  EXPECT_THAT(Search(*s, "mdjurny"), IsEmpty());  // seven letters: one edit, not two
  EXPECT_THAT(Search(*s, "deepsek"), ElementsAre("deepseek-v3"));  // a camel-case word whole
  // None under four characters, none with a digit.
  EXPECT_THAT(Search(*s, "pto"), IsEmpty());
  EXPECT_THAT(Search(*s, "4o"), ElementsAre("gpt-4o"));
  EXPECT_THAT(Search(*s, "gpt4o"), ElementsAre("gpt-4o"));
  EXPECT_THAT(Search(*s, "gpt 4x"), IsEmpty());
}

TEST(ModelSearchTest, RanksByTier) {
  auto s = Snapshot({
      MakeModel("flux-2-dev", "FLUX.2 [dev]", "Black Forest Labs"),  // in order, family
      MakeModel("dev-flux-lora", "Dev Flux LoRA", "Someone"),        // any order
      MakeModel("my-flux-dev-tune", "My Flux Dev Tune", "Someone"),  // in order, mentions
      MakeModel("flux-devious", "Flux Devious", "Someone"),          // prefix
      MakeModel("flux-dex", "Flux Dex", "Someone"),                  // no match ("dex")
      MakeModel("fluxx-dev", "Fluxx Dev", "Someone"),                // a typo in a term
      MakeModel("schnell", "Schnell Dev", "Flux Studio"),            // developer needed
  });
  EXPECT_THAT(Search(*s, "flux dev"), ElementsAre("flux-2-dev", "my-flux-dev-tune", "flux-devious",
                                                  "dev-flux-lora", "schnell", "fluxx-dev"));
  EXPECT_EQ(RankOf(*s, "flux-2-dev", "flux dev"), 1);
  EXPECT_EQ(RankOf(*s, "my-flux-dev-tune", "flux dev"), 2);
  EXPECT_EQ(RankOf(*s, "flux-devious", "flux dev"), 5);
  EXPECT_EQ(RankOf(*s, "dev-flux-lora", "flux dev"), 9);
  EXPECT_EQ(RankOf(*s, "schnell", "flux dev"), 12);
  EXPECT_EQ(RankOf(*s, "fluxx-dev", "flux dev"), 13);
  EXPECT_EQ(RankOf(*s, "flux-2-dev", "FLUX-2-dev"), kExactIdRank);
  EXPECT_EQ(RankOf(*s, "flux-2-dev", "flux2dev"), kExactIdRank);
}

TEST(ModelSearchTest, FamilyBeforeMentions) {
  auto s = Snapshot({MakeModel("a-distill-claude", "A Distill of Claude"),
                     MakeModel("claude-haiku-4-5", "Claude Haiku 4.5"),
                     MakeModel("claude-sonnet-4-5", "Claude Sonnet 4.5")});
  EXPECT_THAT(Search(*s, "claude"),
              ElementsAre("claude-haiku-4-5", "claude-sonnet-4-5", "a-distill-claude"));
}

TEST(ModelSearchTest, PagesResumeAfterTheCursor) {
  auto s = Snapshot({MakeModel("claude-a", "Claude A"), MakeModel("claude-b", "Claude B"),
                     MakeModel("x-claude", "X Claude"), MakeModel("y-claude", "Y Claude")});
  absl::StatusOr<SearchQuery> query = ParseSearchQuery("claude");
  ASSERT_TRUE(query.ok());
  const std::vector<uint32_t> ranked = RankedMatches(*s, *query);
  ASSERT_EQ(ranked.size(), 4u);
  const CatalogEntry& second = s->entry(ranked[1]);
  EXPECT_EQ(second.id, "claude-b");
  EXPECT_EQ(FirstMatchAfter(*s, *query, ranked, *RankEntry(second, *query), second.id), 2u);
  // The cursor's model gone from a later catalog: its place still holds.
  EXPECT_EQ(FirstMatchAfter(*s, *query, ranked, *RankEntry(second, *query), "claude-bb"), 2u);
  EXPECT_EQ(FirstMatchAfter(*s, *query, ranked, kWorstSearchRank, "zzz"), 4u);
}

TEST(ModelSearchTest, FilterAcceptsPositions) {
  auto s = Snapshot({MakeModel("claude-a"), MakeModel("claude-b"), MakeModel("claude-c")});
  absl::StatusOr<SearchQuery> query = ParseSearchQuery("claude");
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(RankedMatches(*s, *query, [](uint32_t p) { return p != 1; }).size(), 2u);
}

// The index must change nothing but speed: every query finds exactly what
// ranking every model would.
TEST(ModelSearchIndexTest, AgreesWithRankingEveryModel) {
  std::vector<modelcatalog::v1::Model> models;
  const char* kinds[] = {"chat", "image", "video-pro", "Élan", "ΑΘΗΝΑ", "DeepSeek", "通义万相"};
  const char* developers[] = {"", "Anthropic", "Black Forest Labs", "Ερμής"};
  for (int i = 0; i < 1500; ++i) {
    const std::string kind = kinds[i % 7];
    char number[16];
    std::snprintf(number, sizeof(number), "%06d", i * 7);
    models.push_back(MakeModel(i % 2 ? "gen-custom-" + kind + "-" + number : kind + "-" + number,
                               (i % 3 ? "Custom " : "Generated ") + kind + " " + std::to_string(i),
                               developers[i % 4]));
  }
  auto snapshot = Snapshot(models);
  std::mt19937 random(7);
  std::vector<std::string> queries = {"zzz",
                                      "q",
                                      "0",
                                      "ch",
                                      "élan",
                                      "αθ",
                                      "gen-custom-chat-000007",
                                      "custom chta",
                                      "genrated",
                                      "antropic chat",
                                      "万相",
                                      "deep sek",
                                      "labs 7",
                                      "deepseek"};
  for (int i = 0; i < 300; ++i) {
    const CatalogEntry& entry = snapshot->entry(random() % snapshot->size());
    const std::string& text = random() % 2 ? entry.id : entry.folded_display_name;
    const size_t length = 1 + random() % 8;
    const size_t start = random() % text.size();
    queries.push_back(text.substr(start, length));
  }
  for (const std::string& text : queries) {
    absl::StatusOr<SearchQuery> query = ParseSearchQuery(text);
    if (!query.ok()) continue;  // punctuation alone
    std::vector<std::pair<SearchRank, uint32_t>> expected;
    for (uint32_t p = 0; p < snapshot->size(); ++p) {
      if (auto rank = RankEntry(snapshot->entry(p), *query)) expected.push_back({*rank, p});
    }
    std::sort(expected.begin(), expected.end());
    const std::vector<uint32_t> found = RankedMatches(*snapshot, *query);
    ASSERT_EQ(found.size(), expected.size()) << "query " << text;
    for (size_t i = 0; i < found.size(); ++i) {
      ASSERT_EQ(found[i], expected[i].second) << "query " << text << " hit " << i;
    }
  }
}

}  // namespace
}  // namespace modelcatalog::catalog
