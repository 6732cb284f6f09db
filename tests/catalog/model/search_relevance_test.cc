// The relevance suite: a catalog of the names real hubs list (chat, image,
// video, audio and embedding models of many developers, Unicode names, custom
// models) and the queries people type for them, each with the model that must
// come first or within the first five. The suite prints its pass rate and
// fails below 95%; every miss is printed with what came instead.
//
// search_relevance/catalog.json is a hub model list, read by the hub client's
// parser as a sync reads one; search_relevance/queries.tsv holds the queries.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "clients/hub/model_json.h"
#include "gtest/gtest.h"
#include "services/catalog/model/catalog_snapshot.h"
#include "services/catalog/model/model_search.h"

namespace modelcatalog::catalog {
namespace {

constexpr double kRequiredPassRate = 0.95;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct RelevanceCase {
  std::string query;
  std::string expected_id;
  size_t within = 1;
};

std::vector<RelevanceCase> ReadCases(const std::string& path) {
  std::vector<RelevanceCase> cases;
  for (absl::string_view line : absl::StrSplit(ReadFile(path), '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() != 3 || (fields[2] != "1" && fields[2] != "5")) {
      ADD_FAILURE() << "bad line in " << path << ": " << line;
      continue;
    }
    cases.push_back({fields[0], fields[1], fields[2] == "1" ? 1u : 5u});
  }
  return cases;
}

class SearchRelevanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir =
        std::string(MODEL_CATALOG_SOURCE_DIR) + "/tests/catalog/model/search_relevance/";
    absl::StatusOr<hub::ParsedModelList> list = hub::ParseModelList(ReadFile(dir + "catalog.json"));
    ASSERT_TRUE(list.ok()) << list.status();
    ASSERT_TRUE(list->rejected.empty()) << list->rejected.front().status;
    models_ = list->models.size();
    snapshot_ = CatalogSnapshot::Build(list->models, 1, absl::UnixEpoch());
    cases_ = ReadCases(dir + "queries.tsv");
  }

  size_t models_ = 0;
  std::shared_ptr<const CatalogSnapshot> snapshot_;
  std::vector<RelevanceCase> cases_;
};

TEST_F(SearchRelevanceTest, PeoplesQueriesFindTheModelTheyMean) {
  ASSERT_GE(models_, 100u);
  ASSERT_GE(cases_.size(), 80u);
  size_t passed = 0;
  for (const RelevanceCase& c : cases_) {
    ASSERT_TRUE(snapshot_->PositionOf(c.expected_id).has_value())
        << "queries.tsv expects " << c.expected_id << ", which the catalog does not have";
    absl::StatusOr<SearchQuery> query = ParseSearchQuery(c.query);
    ASSERT_TRUE(query.ok()) << c.query << ": " << query.status();
    const std::vector<uint32_t> ranked = RankedMatches(*snapshot_, *query);
    std::vector<std::string> top;
    size_t place = 0;  // 1-based; 0: not found
    for (size_t i = 0; i < ranked.size(); ++i) {
      const std::string& id = snapshot_->entry(ranked[i]).id;
      if (i < 5) top.push_back(id);
      if (id == c.expected_id && place == 0) place = i + 1;
    }
    if (place != 0 && place <= c.within) {
      ++passed;
      continue;
    }
    std::printf("MISS  %-28s expected %s %s, found %s; first: %s\n", c.query.c_str(),
                c.expected_id.c_str(), c.within == 1 ? "first" : "in the first five",
                place == 0 ? "nowhere" : ("at " + std::to_string(place)).c_str(),
                absl::StrJoin(top, ", ").c_str());
  }
  const double rate = static_cast<double>(passed) / static_cast<double>(cases_.size());
  std::printf("search relevance: %zu of %zu queries (%.1f%%) over %zu models\n", passed,
              cases_.size(), 100.0 * rate, models_);
  EXPECT_GE(rate, kRequiredPassRate);
}

}  // namespace
}  // namespace modelcatalog::catalog
