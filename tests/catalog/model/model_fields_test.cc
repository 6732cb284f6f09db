// The stored serialization of a model (StoredWire): the whole model, read back
// exactly, with the BASIC view as a prefix; and the fields queries read.
#include "services/catalog/model/model_fields.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::catalog {
namespace {

modelcatalog::v1::Model ModelFromJson(const std::string& json) {
  modelcatalog::v1::Model model;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &model).ok()) << json;
  return model;
}

// Every field around the two the BASIC view leaves out, the Structs after
// them (extra_fields is field 20) included.
constexpr char kRichModel[] = R"({"id":"m","object":"model","created":"2025-06-15T00:00:00Z",
    "ownedBy":"oxen","displayName":"M","description":"a long description","summary":"s",
    "modelType":"MODEL_TYPE_CUSTOM","modelTypeRaw":"custom","endpoint":"/chat/completions",
    "capabilities":{"input":["text"],"output":["text"]},
    "pricing":{"method":"PRICING_METHOD_TOKEN","methodRaw":"token","inputCostPerToken":3e-6},
    "deployments":[{"status":"DEPLOYMENT_STATUS_ACTIVE","statusRaw":"active"}],
    "developer":{"name":"Acme"},"sourceModel":"base","releasedAt":"2025-06-19T00:00:00Z",
    "requestSchema":{"type":"object","properties":{"prompt":{"type":"string"}}},
    "extraFields":{"new_key":[1,2,3]}})";

struct StoredWireCase {
  std::string name;
  bool description;
  bool schema;
};
void PrintTo(const StoredWireCase& c, std::ostream* os) { *os << c.name; }

class StoredWireTest : public ::testing::TestWithParam<StoredWireCase> {};

TEST_P(StoredWireTest, ReadsBackAsTheModelWithTheBasicViewFirst) {
  modelcatalog::v1::Model model = ModelFromJson(kRichModel);
  if (!GetParam().description) model.clear_description();
  if (!GetParam().schema) model.clear_request_schema();
  uint32_t basic_size = 0;
  const std::string stored = StoredWire(model, &basic_size);
  EXPECT_EQ(stored.size(), DeterministicWire(model).size());

  modelcatalog::v1::Model whole;
  ASSERT_TRUE(whole.ParseFromString(stored));
  EXPECT_EQ(DeterministicWire(whole), DeterministicWire(model));

  modelcatalog::v1::Model basic;
  ASSERT_TRUE(basic.ParseFromString(stored.substr(0, basic_size)));
  modelcatalog::v1::Model expected = model;
  expected.clear_description();
  expected.clear_request_schema();
  EXPECT_EQ(DeterministicWire(basic), DeterministicWire(expected));
  EXPECT_EQ(basic_size, DeterministicWire(expected).size());
}

INSTANTIATE_TEST_SUITE_P(DescriptionAndSchema, StoredWireTest,
                         ::testing::Values(StoredWireCase{"both", true, true},
                                           StoredWireCase{"description_only", true, false},
                                           StoredWireCase{"schema_only", false, true},
                                           StoredWireCase{"neither", false, false}),
                         [](const ::testing::TestParamInfo<StoredWireCase>& info) {
                           return info.param.name;
                         });

// Equal models store equal bytes, whatever order their Structs were built in:
// the catalog's fingerprints hash these bytes.
TEST(StoredWireDeterminismTest, EqualModelsStoreEqualBytes) {
  const modelcatalog::v1::Model a = ModelFromJson(
      R"({"id":"m","description":"d","requestSchema":{"a":1,"b":{"c":[1,2]},"d":"x"}})");
  const modelcatalog::v1::Model b = ModelFromJson(
      R"({"id":"m","description":"d","requestSchema":{"d":"x","b":{"c":[1,2]},"a":1}})");
  uint32_t basic_a = 0, basic_b = 0;
  EXPECT_EQ(StoredWire(a, &basic_a), StoredWire(b, &basic_b));
  EXPECT_EQ(basic_a, basic_b);
}

TEST(ModelFieldsTest, AppendBasicWritesThePrefix) {
  const modelcatalog::v1::Model model = ModelFromJson(kRichModel);
  uint32_t basic_size = 0;
  const std::string stored = StoredWire(model, &basic_size);
  const ModelFields fields = FieldsOf(model, basic_size);
  std::string out = "x";
  AppendBasic(stored, fields, &out);
  EXPECT_EQ(out, "x" + stored.substr(0, basic_size));
  EXPECT_EQ(BasicSize(stored, fields), basic_size);
  EXPECT_EQ(fields.text(ModelFields::kEndpoint), "/chat/completions");
  EXPECT_TRUE(fields.HasPrice(ModelFields::kInputCostPerToken));
  EXPECT_FALSE(fields.HasPrice(ModelFields::kCostPerImage));
}

// Every string a query reads, folded, from the one block; lists in order;
// the deployments' enums beside their strings; a copy owns its own block.
TEST(ModelFieldsTest, KeepsEveryFoldedStringAndListAndCopiesThem) {
  modelcatalog::v1::Model model = ModelFromJson(R"({"id":"m","ownedBy":"Oxen",
      "endpoint":"/Chat/Completions","modelTypeRaw":"Custom","developer":{"name":"ÉLAN Labs"},
      "pricing":{"methodRaw":"Per_Image"},"sourceModel":"Base-1",
      "capabilities":{"input":["Text","IMAGE"],"output":["Text"]},
      "fineTuning":{"actions":["Text_Generation"]},
      "deployments":[{"status":"DEPLOYMENT_STATUS_ERROR","statusRaw":"Error"},
                     {"status":"DEPLOYMENT_STATUS_OTHER","statusRaw":"warming"}]})");
  const ModelFields fields = FieldsOf(model, 0);
  EXPECT_EQ(fields.text(ModelFields::kOwnedBy), "oxen");
  EXPECT_EQ(fields.text(ModelFields::kEndpoint), "/chat/completions");
  EXPECT_EQ(fields.text(ModelFields::kModelType), "custom");
  EXPECT_EQ(fields.text(ModelFields::kDeveloper), "élan labs");
  EXPECT_EQ(fields.text(ModelFields::kPricingMethod), "per_image");
  EXPECT_EQ(fields.text(ModelFields::kSourceModel), "base-1");
  EXPECT_TRUE(fields.has_source_model);
  const auto values = [](ModelFields::TextList list) {
    std::vector<std::string> out;
    for (size_t i = 0; i < list.size(); ++i) out.emplace_back(list[i]);
    return out;
  };
  EXPECT_THAT(values(fields.list(ModelFields::kInput)), ::testing::ElementsAre("text", "image"));
  EXPECT_THAT(values(fields.list(ModelFields::kOutput)), ::testing::ElementsAre("text"));
  EXPECT_THAT(values(fields.list(ModelFields::kActions)),
              ::testing::ElementsAre("text_generation"));
  EXPECT_THAT(values(fields.list(ModelFields::kStatuses)),
              ::testing::ElementsAre("error", "warming"));
  EXPECT_EQ(fields.status_enum(0), modelcatalog::v1::DEPLOYMENT_STATUS_ERROR);
  EXPECT_EQ(fields.status_enum(1), modelcatalog::v1::DEPLOYMENT_STATUS_OTHER);

  ModelFields copy = fields;
  {
    const ModelFields temporary = fields;
    copy = temporary;
  }  // the copy's strings outlive the one it was copied from
  EXPECT_EQ(copy.text(ModelFields::kDeveloper), "élan labs");
  EXPECT_THAT(values(copy.list(ModelFields::kStatuses)),
              ::testing::ElementsAre("error", "warming"));
}

TEST(ModelFieldsTest, AModelWithoutStringsHasEmptyOnes) {
  const ModelFields fields = FieldsOf(ModelFromJson(R"({"id":"m"})"), 0);
  EXPECT_EQ(fields.text(ModelFields::kEndpoint), "");
  EXPECT_FALSE(fields.has_source_model);
  for (auto list :
       {ModelFields::kInput, ModelFields::kOutput, ModelFields::kActions, ModelFields::kStatuses}) {
    EXPECT_TRUE(fields.list(list).empty());
  }
}

}  // namespace
}  // namespace modelcatalog::catalog
