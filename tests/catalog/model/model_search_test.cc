#include "services/catalog/model/model_search.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/model/text_fold.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::testing::ElementsAre;

std::vector<std::string> Search(const CatalogSnapshot& s, const std::string& query,
                                absl::optional<SearchCursor> cursor = absl::nullopt,
                                size_t limit = 100) {
  std::vector<std::string> ids;
  for (const SearchHit& hit : SearchSnapshot(s, FoldCase(query), cursor, limit)) {
    ids.push_back(s.entry(hit.position).model().id());
  }
  return ids;
}

class ModelSearchTest : public ::testing::Test {
 protected:
  std::shared_ptr<const CatalogSnapshot> snapshot_ = CatalogSnapshot::Build(
      {
          MakeModel("kling", "Kling"),                                   // exact id
          MakeModel("kling-video-o3", "Kling Video O3"),                 // id prefix
          MakeModel("zz-1", "KLING turbo"),                              // name prefix
          MakeModel("video-kling-pro", "Video"),                         // word prefix in id
          MakeModel("aa-2", "Fast Kling"),                               // word prefix in name
          MakeModel("mkling", "Something"),                              // substring
          MakeModel("unrelated", "Claude"),                              // no match
      },
      1, absl::UnixEpoch());
};

TEST_F(ModelSearchTest, RanksExactThenPrefixThenWordPrefixThenSubstring) {
  EXPECT_THAT(Search(*snapshot_, "kling"),
              ElementsAre("kling", "kling-video-o3", "zz-1", "aa-2", "video-kling-pro", "mkling"));
}

TEST_F(ModelSearchTest, IsCaseInsensitive) {
  EXPECT_EQ(Search(*snapshot_, "KLING"), Search(*snapshot_, "kling"));
}

TEST_F(ModelSearchTest, RankIsTheBestOfIdAndName) {
  const CatalogEntry* entry = snapshot_->Find("zz-1");
  EXPECT_EQ(RankEntry(*entry, "kling"), MatchRank::kPrefix);
  EXPECT_EQ(RankEntry(*entry, "turbo"), MatchRank::kWordPrefix);
  EXPECT_EQ(RankEntry(*entry, "urbo"), MatchRank::kSubstring);
  EXPECT_EQ(RankEntry(*entry, "zz-1"), MatchRank::kExactId);
  EXPECT_EQ(RankEntry(*entry, "nothing"), absl::nullopt);
}

TEST_F(ModelSearchTest, AWordPrefixLaterInTheTextBeatsAnEarlierSubstring) {
  auto s = CatalogSnapshot::Build({MakeModel("x", "proto pro")}, 1, absl::UnixEpoch());
  EXPECT_EQ(RankEntry(s->entry(0), "ro"), MatchRank::kSubstring);
  EXPECT_EQ(RankEntry(s->entry(0), "pro"), MatchRank::kPrefix);
  auto t = CatalogSnapshot::Build({MakeModel("x", "aproto pro")}, 1, absl::UnixEpoch());
  EXPECT_EQ(RankEntry(t->entry(0), "pro"), MatchRank::kWordPrefix);
}

TEST_F(ModelSearchTest, MatchesUnicodeCaseInsensitively) {
  auto s = CatalogSnapshot::Build({MakeModel("elan", "Élan Vision"), MakeModel("greek", "ΑΘΗΝΑ Large")},
                                  1, absl::UnixEpoch());
  EXPECT_THAT(Search(*s, "éLAN"), ElementsAre("elan"));
  EXPECT_THAT(Search(*s, "αθη"), ElementsAre("greek"));
  EXPECT_THAT(Search(*s, "ΝΑ"), ElementsAre("greek"));
}

TEST_F(ModelSearchTest, ContinuesAfterACursorAndHonoursTheLimit) {
  const std::vector<std::string> all = Search(*snapshot_, "kling");
  EXPECT_THAT(Search(*snapshot_, "kling", absl::nullopt, 2), ElementsAre(all[0], all[1]));
  // After (prefix, "zz-1") come the word-prefix hits and then the substring one.
  EXPECT_THAT(Search(*snapshot_, "kling", SearchCursor{MatchRank::kPrefix, "zz-1"}, 2),
              ElementsAre("aa-2", "video-kling-pro"));
  // A cursor whose model is gone still continues at the right place.
  EXPECT_THAT(Search(*snapshot_, "kling", SearchCursor{MatchRank::kWordPrefix, "b-gone"}),
              ElementsAre("video-kling-pro", "mkling"));
}

TEST_F(ModelSearchTest, EmptyQueryOrLimitFindsNothing) {
  EXPECT_TRUE(Search(*snapshot_, "").empty());
  EXPECT_TRUE(Search(*snapshot_, "kling", absl::nullopt, 0).empty());
}

// Each 3-byte sequence of "abcd" is in these models, but never the whole of
// it in one text: being on every sequence's list is not a match.
TEST(ModelSearchIndexTest, EverySequenceOfTheQueryIsNotTheQuery) {
  auto snapshot = CatalogSnapshot::Build(
      {
          MakeModel("xabcx-bcdx", "Split in the id"),
          MakeModel("xabcx", "xbcdx"),  // split between id and display name
          MakeModel("zabcd", "Whole"),
          MakeModel("aaaa-1", "Repeats"),
      },
      1, absl::UnixEpoch());
  EXPECT_THAT(Search(*snapshot, "abcd"), ElementsAre("zabcd"));
  EXPECT_THAT(Search(*snapshot, "bcdx"), ElementsAre("xabcx-bcdx", "xabcx"));
  // A query made of one repeated sequence.
  EXPECT_THAT(Search(*snapshot, "aaaa"), ElementsAre("aaaa-1"));
  EXPECT_THAT(Search(*snapshot, "aaaaa"), ElementsAre());
  // A sequence no model has ends the search at once.
  EXPECT_THAT(Search(*snapshot, "abqd"), ElementsAre());
}

// The index must change nothing but speed: every query, paged through with
// cursors, finds exactly what ranking every model would.
TEST(ModelSearchIndexTest, AgreesWithRankingEveryModel) {
  std::vector<modelcatalog::v1::Model> models;
  const char* kinds[] = {"chat", "image", "video-pro", "Élan", "ΑΘΗΝΑ"};
  for (int i = 0; i < 1500; ++i) {
    const std::string kind = kinds[i % 5];
    char number[16];
    std::snprintf(number, sizeof(number), "%06d", i * 7);
    models.push_back(MakeModel(i % 2 ? "gen-custom-" + kind + "-" + number : kind + "-" + number,
                               (i % 3 ? "Custom " : "Generated ") + kind + " " + std::to_string(i)));
  }
  auto snapshot = CatalogSnapshot::Build(models, 1, absl::UnixEpoch());
  std::mt19937 random(7);
  std::vector<std::string> queries = {"zzz", "q", "-", "0", "ch", "élan", "αθ", "gen-custom-chat-000007"};
  for (int i = 0; i < 300; ++i) {
    const CatalogEntry& entry = snapshot->entry(random() % snapshot->size());
    const std::string& text = random() % 2 ? entry.folded_id : entry.folded_display_name;
    const size_t length = 1 + random() % 8;
    const size_t start = random() % text.size();
    queries.push_back(text.substr(start, length));
  }
  for (const std::string& query : queries) {
    std::vector<SearchHit> expected;
    for (uint32_t p = 0; p < snapshot->size(); ++p) {
      if (auto rank = RankEntry(snapshot->entry(p), query)) expected.push_back({*rank, p});
    }
    std::stable_sort(expected.begin(), expected.end(), [](const SearchHit& a, const SearchHit& b) {
      return a.rank < b.rank;
    });
    std::vector<SearchHit> found;
    absl::optional<SearchCursor> cursor;
    for (int page = 0; page < 1000; ++page) {
      std::vector<SearchHit> hits = SearchSnapshot(*snapshot, query, cursor, 7);
      found.insert(found.end(), hits.begin(), hits.end());
      if (hits.size() < 7) break;
      cursor = SearchCursor{hits.back().rank, snapshot->entry(hits.back().position).id};
    }
    ASSERT_EQ(found.size(), expected.size()) << "query " << query;
    // The count agrees, from the index alone or from the candidates, and with
    // a filter it counts what the filter accepts.
    EXPECT_EQ(CountSearchMatches(*snapshot, query), expected.size()) << "query " << query;
    const auto even = [](uint32_t position) { return position % 2 == 0; };
    const size_t expected_even = std::count_if(expected.begin(), expected.end(),
                                               [](const SearchHit& h) { return h.position % 2 == 0; });
    EXPECT_EQ(CountSearchMatches(*snapshot, query, even), expected_even) << "query " << query;
    for (size_t i = 0; i < found.size(); ++i) {
      ASSERT_EQ(found[i].position, expected[i].position) << "query " << query << " hit " << i;
      ASSERT_EQ(found[i].rank, expected[i].rank) << "query " << query << " hit " << i;
    }
  }
}

}  // namespace
}  // namespace modelcatalog::catalog
