#include "services/catalog/watch/model_diff.h"

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace modelcatalog::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

modelcatalog::v1::Model FromJson(const std::string& json) {
  modelcatalog::v1::Model model;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &model).ok()) << json;
  return model;
}

const char kFlux[] = R"({
  "id": "flux-2-dev", "displayName": "FLUX.2 [dev]",
  "capabilities": {"input": ["text"], "output": ["image"]},
  "pricing": {"method": "PRICING_METHOD_PER_IMAGE", "methodRaw": "per_image", "costPerImage": 0.025},
  "deployments": [{"status": "DEPLOYMENT_STATUS_ACTIVE", "statusRaw": "active"}],
  "developer": {"name": "Black Forest Labs"},
  "requestSchema": {"type": "object"}})";

TEST(ModelDiffTest, TheSameModelHasNoChangedField) {
  EXPECT_THAT(ChangedFields(FromJson(kFlux), FromJson(kFlux)), IsEmpty());
}

TEST(ModelDiffTest, NamesNestedFieldsOfTheModelsOwnMessages) {
  modelcatalog::v1::Model after = FromJson(kFlux);
  after.mutable_pricing()->set_cost_per_image(0.02);
  after.mutable_capabilities()->add_input("image");
  after.set_display_name("FLUX.2 [dev] (new)");
  EXPECT_THAT(ChangedFields(FromJson(kFlux), after),
              ElementsAre("display_name", "capabilities.input", "pricing.cost_per_image"));
}

TEST(ModelDiffTest, ListsTimestampsAndSchemasChangeAsAWhole) {
  modelcatalog::v1::Model after = FromJson(kFlux);
  after.mutable_deployments(0)->set_status_raw("deploying");
  (*after.mutable_request_schema()->mutable_fields())["required"].set_string_value("prompt");
  after.mutable_created()->set_seconds(1);
  const std::vector<std::string> paths = ChangedFields(FromJson(kFlux), after);
  EXPECT_THAT(paths, ElementsAre("created", "deployments", "request_schema"));
}

TEST(ModelDiffTest, APriceThatAppearsOrGoesIsAChange) {
  modelcatalog::v1::Model after = FromJson(kFlux);
  after.mutable_pricing()->clear_cost_per_image();
  EXPECT_THAT(ChangedFields(FromJson(kFlux), after), ElementsAre("pricing.cost_per_image"));
  // Set to zero is not unset.
  after.mutable_pricing()->set_cost_per_image(0);
  EXPECT_THAT(ChangedFields(FromJson(kFlux), after), ElementsAre("pricing.cost_per_image"));
  // A message that comes or goes is one path.
  after.clear_developer();
  EXPECT_THAT(ChangedFields(FromJson(kFlux), after),
              ElementsAre("pricing.cost_per_image", "developer"));
}

TEST(ModelDiffTest, OnlyFieldsKeepsThePathsAlone) {
  modelcatalog::v1::Model before = FromJson(kFlux);
  const modelcatalog::v1::Model only =
      OnlyFields(before, {"pricing.cost_per_image", "deployments"});
  EXPECT_TRUE(only.id().empty());
  EXPECT_FALSE(only.has_capabilities());
  EXPECT_DOUBLE_EQ(only.pricing().cost_per_image(), 0.025);
  EXPECT_TRUE(only.pricing().method_raw().empty());
  ASSERT_EQ(only.deployments_size(), 1);
  EXPECT_EQ(only.deployments(0).status_raw(), "active");
}

}  // namespace
}  // namespace modelcatalog::catalog
