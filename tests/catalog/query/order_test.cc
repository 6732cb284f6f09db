// Orderings: fields and directions, absent values last both ways, ties by id,
// keys that page tokens carry.
#include "services/catalog/query/order.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::testing::ElementsAre;

std::shared_ptr<const CatalogSnapshot> Catalog() {
  const auto priced = [](const std::string& id, double price, const std::string& name) {
    modelcatalog::v1::Model model = MakeModel(id, name);
    if (price >= 0) model.mutable_pricing()->set_cost_per_image(price);
    return model;
  };
  return CatalogSnapshot::Build(
      {priced("a", 0.05, "Zed"), priced("b", 0.01, "alpha"), priced("c", -1, "Beta"),
       priced("d", 0.01, "gamma"), priced("e", -1, "Alpha")},
      1, absl::UnixEpoch());
}

// The catalog's ids in `order_by`, as Ordering::Sort puts them (from the
// snapshot's positions reversed), checked against a sort by Ordering::Less.
std::vector<std::string> Sorted(absl::string_view order_by) {
  static const std::shared_ptr<const CatalogSnapshot> catalog = Catalog();
  absl::StatusOr<Ordering> ordering = Ordering::Parse(order_by);
  EXPECT_TRUE(ordering.ok()) << ordering.status();
  std::vector<uint32_t> positions(catalog->size());
  for (uint32_t i = 0; i < positions.size(); ++i) positions[i] = positions.size() - 1 - i;
  std::vector<uint32_t> by_less = positions;
  ordering->Sort(*catalog, &positions);
  std::sort(by_less.begin(), by_less.end(), [&](uint32_t a, uint32_t b) {
    return ordering->Less(catalog->entry(a), catalog->entry(b));
  });
  EXPECT_EQ(positions, by_less) << order_by;
  std::vector<std::string> ids;
  for (uint32_t p : positions) ids.push_back(catalog->entry(p).id);
  return ids;
}

TEST(OrderingTest, AbsentValuesComeLastInBothDirectionsAndTiesGoById) {
  EXPECT_THAT(Sorted(""), ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_THAT(Sorted("pricing.cost_per_image"), ElementsAre("b", "d", "a", "c", "e"));
  EXPECT_THAT(Sorted("pricing.cost_per_image desc"), ElementsAre("a", "b", "d", "c", "e"));
  EXPECT_THAT(Sorted("display_name"), ElementsAre("b", "e", "c", "d", "a"));  // case-insensitive
  EXPECT_THAT(Sorted(" pricing.cost_per_image  DESC , display_name desc"),
              ElementsAre("a", "d", "b", "c", "e"));
  EXPECT_THAT(Sorted("id desc"), ElementsAre("e", "d", "c", "b", "a"));
}

TEST(OrderingTest, SortsSomeOfTheCatalog) {
  const std::shared_ptr<const CatalogSnapshot> catalog = Catalog();
  absl::StatusOr<Ordering> ordering = Ordering::Parse("pricing.cost_per_image desc");
  ASSERT_TRUE(ordering.ok());
  std::vector<uint32_t> positions = {4, 3, 1};  // e (no price), d (0.01), b (0.01)
  ordering->Sort(*catalog, &positions);
  EXPECT_THAT(positions, ElementsAre(1, 3, 4));
}

TEST(OrderingTest, CanonicalTextNamesTheOrderOneWay) {
  EXPECT_EQ(Ordering::Parse("")->Canonical(), "id");
  EXPECT_EQ(Ordering::Parse("id, display_name")->Canonical(), "id");  // nothing after id matters
  EXPECT_EQ(Ordering::Parse("  pricing.cost_per_image   DESC,created asc")->Canonical(),
            "pricing.cost_per_image desc,created");
}

TEST(OrderingTest, KeysCompareAsTheirModels) {
  const std::shared_ptr<const CatalogSnapshot> catalog = Catalog();
  for (const char* order : {"pricing.cost_per_image", "display_name desc", "created, id desc"}) {
    absl::StatusOr<Ordering> ordering = Ordering::Parse(order);
    ASSERT_TRUE(ordering.ok()) << ordering.status();
    for (size_t i = 0; i < catalog->size(); ++i) {
      const std::string key = ordering->EncodeKey(catalog->entry(i));
      for (size_t j = 0; j < catalog->size(); ++j) {
        const int by_entries = ordering->Compare(catalog->entry(j), catalog->entry(i));
        const int by_key = ordering->CompareWithKey(catalog->entry(j), key);
        EXPECT_EQ(by_entries < 0, by_key < 0) << order << " " << i << " " << j;
        EXPECT_EQ(by_entries == 0, by_key == 0) << order << " " << i << " " << j;
      }
    }
  }
}

TEST(OrderingTest, ErrorsNameTheField) {
  EXPECT_EQ(Ordering::Parse("capabilities.input").status().message(),
            "order_by: cannot sort by \"capabilities.input\"");
  EXPECT_EQ(Ordering::Parse("price").status().message(), "order_by: unknown field \"price\"");
  EXPECT_EQ(Ordering::Parse("created upward").status().message(),
            "order_by: expected \"desc\" or a comma after \"created\"");
  EXPECT_EQ(Ordering::Parse("created, created desc").status().message(),
            "order_by: \"created\" is listed twice");
  EXPECT_EQ(Ordering::Parse("created,,id").status().message(),
            "order_by: an empty field in the list");
}

}  // namespace
}  // namespace modelcatalog::catalog
