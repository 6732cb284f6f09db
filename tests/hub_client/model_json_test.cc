#include "clients/hub/model_json.h"

#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace modelcatalog::hub {
namespace {

namespace v1 = ::modelcatalog::v1;
using ::google::protobuf::Struct;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A model with every field of the hub's reference set, and unknown keys at every level.
constexpr char kFullModel[] = R"json({
  "id": "my-custom-model",
  "object": "model",
  "created": 1750000000,
  "owned_by": "acme",
  "display_name": "My Custom Model",
  "description": "A fine-tuned model",
  "summary": "Fine-tuned",
  "model_type": "custom",
  "endpoint": "/chat/completions",
  "capabilities": {
    "input": ["text", "image"],
    "output": ["text"],
    "max_context": 200000
  },
  "pricing": {
    "method": "token",
    "input_cost_per_token": 3e-6,
    "output_cost_per_token": 1.5e-5,
    "cost_per_second": 0.25,
    "cost_per_image": 0.04,
    "cost_per_second_high_res": 0.5,
    "cost_per_second_with_audio": 0.75,
    "currency": "USD"
  },
  "fine_tuning": {
    "actions": ["text_generation", "image_editing"],
    "cost_per_second": 0.001,
    "gpu": {"kind": "h100", "count": 8}
  },
  "deployments": [
    {"id": "dep-1", "status": "active", "provider": "modal", "replicas": [1, 2], "paused": false},
    {"status": "deploying", "started_at": null}
  ],
  "developer": {
    "name": "Acme",
    "logo": "https://example.test/logo.png",
    "verified": true
  },
  "source_model": "claude-sonnet-4-6",
  "image_url": "https://example.test/model.png",
  "released_at": "2025-06-19T10:20:30.125Z",
  "request_schema": {
    "type": "object",
    "required": ["prompt"],
    "properties": {
      "prompt": {"type": "string", "maxLength": 4000},
      "steps": {"type": "integer", "minimum": 1, "default": 28},
      "seed": {"type": ["integer", "null"], "default": null},
      "safe": {"type": "boolean", "default": true}
    }
  },
  "tags": ["beta", {"tier": 2}],
  "license": null
})json";

// A model whose every nullable field is null.
constexpr char kNullModel[] = R"json({
  "id": "bare", "object": "model", "created": null, "owned_by": "oxen", "display_name": "Bare",
  "description": null, "summary": null, "model_type": null, "endpoint": "/chat/completions",
  "capabilities": null, "pricing": null, "fine_tuning": null, "deployments": [],
  "developer": null, "source_model": null, "image_url": null, "released_at": null,
  "request_schema": null
})json";

v1::Model MustParse(absl::string_view json) {
  absl::StatusOr<v1::Model> model = ParseModel(json);
  EXPECT_TRUE(model.ok()) << model.status() << "\n" << json;
  return model.ok() ? *model : v1::Model();
}

// A model made of `id` plus the given members, e.g. R"("pricing": null)".
std::string ModelWith(absl::string_view members) {
  if (members.empty()) return R"({"id": "m"})";
  return absl::StrCat(R"({"id": "m", )", members, "}");
}

std::string ParseError(absl::string_view json) {
  absl::StatusOr<v1::Model> model = ParseModel(json);
  if (model.ok()) return "<parsed>";
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument) << model.status();
  return std::string(model.status().message());
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(message, &out).ok());
  return out;
}

// Compares a Struct with JSON text, whatever the order of its keys.
::testing::AssertionResult StructEquals(const Struct& actual, absl::string_view expected_json) {
  Struct expected;
  if (!google::protobuf::util::JsonStringToMessage(std::string(expected_json), &expected).ok()) {
    return ::testing::AssertionFailure() << "bad expectation: " << expected_json;
  }
  if (MessageDifferencer::Equals(actual, expected)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << ToJson(actual) << " != " << expected_json;
}

// --- Every field ---------------------------------------------------------------------------

TEST(ParseModelTest, MapsEveryFieldOfAFullModel) {
  v1::Model m = MustParse(kFullModel);
  EXPECT_EQ(m.id(), "my-custom-model");
  EXPECT_EQ(m.object(), "model");
  ASSERT_TRUE(m.has_created());
  EXPECT_EQ(m.created().seconds(), 1750000000);
  EXPECT_EQ(m.created().nanos(), 0);
  EXPECT_EQ(m.owned_by(), "acme");
  EXPECT_EQ(m.display_name(), "My Custom Model");
  ASSERT_TRUE(m.has_description());
  EXPECT_EQ(m.description(), "A fine-tuned model");
  ASSERT_TRUE(m.has_summary());
  EXPECT_EQ(m.summary(), "Fine-tuned");
  EXPECT_EQ(m.model_type(), v1::MODEL_TYPE_CUSTOM);
  EXPECT_EQ(m.model_type_raw(), "custom");
  EXPECT_EQ(m.endpoint(), "/chat/completions");

  ASSERT_TRUE(m.has_capabilities());
  EXPECT_THAT(m.capabilities().input(), ElementsAre("text", "image"));
  EXPECT_THAT(m.capabilities().output(), ElementsAre("text"));
  EXPECT_TRUE(StructEquals(m.capabilities().extra_fields(), R"({"max_context":200000})"));

  ASSERT_TRUE(m.has_pricing());
  const v1::Pricing& p = m.pricing();
  EXPECT_EQ(p.method(), v1::PRICING_METHOD_TOKEN);
  EXPECT_EQ(p.method_raw(), "token");
  EXPECT_EQ(p.input_cost_per_token(), 3e-6);
  EXPECT_EQ(p.output_cost_per_token(), 1.5e-5);
  EXPECT_EQ(p.cost_per_second(), 0.25);
  EXPECT_EQ(p.cost_per_image(), 0.04);
  EXPECT_EQ(p.cost_per_second_high_res(), 0.5);
  EXPECT_EQ(p.cost_per_second_with_audio(), 0.75);
  EXPECT_TRUE(StructEquals(p.extra_fields(), R"({"currency":"USD"})"));

  ASSERT_TRUE(m.has_fine_tuning());
  EXPECT_THAT(m.fine_tuning().actions(), ElementsAre("text_generation", "image_editing"));
  ASSERT_TRUE(m.fine_tuning().has_cost_per_second());
  EXPECT_EQ(m.fine_tuning().cost_per_second(), 0.001);
  EXPECT_TRUE(StructEquals(m.fine_tuning().extra_fields(), R"({"gpu":{"count":8,"kind":"h100"}})"));

  ASSERT_EQ(m.deployments_size(), 2);
  EXPECT_EQ(m.deployments(0).status(), v1::DEPLOYMENT_STATUS_ACTIVE);
  EXPECT_EQ(m.deployments(0).status_raw(), "active");
  EXPECT_TRUE(StructEquals(m.deployments(0).extra_fields(),
                           R"({"id":"dep-1","paused":false,"provider":"modal","replicas":[1,2]})"));
  EXPECT_EQ(m.deployments(1).status(), v1::DEPLOYMENT_STATUS_DEPLOYING);
  EXPECT_TRUE(StructEquals(m.deployments(1).extra_fields(), R"({"started_at":null})"));

  ASSERT_TRUE(m.has_developer());
  EXPECT_EQ(m.developer().name(), "Acme");
  ASSERT_TRUE(m.developer().has_logo());
  EXPECT_EQ(m.developer().logo(), "https://example.test/logo.png");
  EXPECT_TRUE(StructEquals(m.developer().extra_fields(), R"({"verified":true})"));

  ASSERT_TRUE(m.has_source_model());
  EXPECT_EQ(m.source_model(), "claude-sonnet-4-6");
  ASSERT_TRUE(m.has_image_url());
  EXPECT_EQ(m.image_url(), "https://example.test/model.png");
  ASSERT_TRUE(m.has_released_at());
  EXPECT_EQ(m.released_at().seconds(), 1750328430);  // 2025-06-19T10:20:30Z
  EXPECT_EQ(m.released_at().nanos(), 125000000);

  ASSERT_TRUE(m.has_request_schema());
  EXPECT_TRUE(StructEquals(m.extra_fields(), R"({"license":null,"tags":["beta",{"tier":2}]})"));
}

TEST(ParseModelTest, RequestSchemaKeepsItsNestedStructure) {
  v1::Model m = MustParse(kFullModel);
  const Struct& schema = m.request_schema();
  EXPECT_EQ(schema.fields().at("type").string_value(), "object");
  const auto& required = schema.fields().at("required").list_value();
  ASSERT_EQ(required.values_size(), 1);
  EXPECT_EQ(required.values(0).string_value(), "prompt");
  const Struct& properties = schema.fields().at("properties").struct_value();
  ASSERT_EQ(properties.fields_size(), 4);
  const Struct& steps = properties.fields().at("steps").struct_value();
  EXPECT_EQ(steps.fields().at("type").string_value(), "integer");
  EXPECT_EQ(steps.fields().at("minimum").number_value(), 1);
  EXPECT_EQ(steps.fields().at("default").number_value(), 28);
  const Struct& seed = properties.fields().at("seed").struct_value();
  EXPECT_EQ(seed.fields().at("default").kind_case(), google::protobuf::Value::kNullValue);
  EXPECT_EQ(seed.fields().at("type").list_value().values(1).string_value(), "null");
  EXPECT_TRUE(properties.fields().at("safe").struct_value().fields().at("default").bool_value());
  EXPECT_EQ(properties.fields().at("prompt").struct_value().fields().at("maxLength").number_value(),
            4000);
}

TEST(ParseModelTest, EmptyRequestSchemaIsSetButEmpty) {
  v1::Model m = MustParse(ModelWith(R"("request_schema": {})"));
  EXPECT_TRUE(m.has_request_schema());
  EXPECT_EQ(m.request_schema().fields_size(), 0);
}

// --- Null, missing, present ----------------------------------------------------------------

TEST(ParseModelTest, NullAndMissingLeaveEveryNullableFieldUnset) {
  for (const std::string& json : {std::string(kNullModel), ModelWith("")}) {
    SCOPED_TRACE(json);
    v1::Model m = MustParse(json);
    EXPECT_FALSE(m.has_created());
    EXPECT_FALSE(m.has_description());
    EXPECT_FALSE(m.has_summary());
    EXPECT_EQ(m.model_type(), v1::MODEL_TYPE_UNSPECIFIED);
    EXPECT_EQ(m.model_type_raw(), "");
    EXPECT_FALSE(m.has_capabilities());
    EXPECT_FALSE(m.has_pricing());
    EXPECT_FALSE(m.has_fine_tuning());
    EXPECT_EQ(m.deployments_size(), 0);
    EXPECT_FALSE(m.has_developer());
    EXPECT_FALSE(m.has_source_model());
    EXPECT_FALSE(m.has_image_url());
    EXPECT_FALSE(m.has_released_at());
    EXPECT_FALSE(m.has_request_schema());
    EXPECT_FALSE(m.has_extra_fields());
  }
}

TEST(ParseModelTest, PlainStringsReadNullAndMissingAsEmpty) {
  v1::Model m = MustParse(ModelWith(R"("object": null, "owned_by": null, "display_name": null)"));
  EXPECT_EQ(m.object(), "");
  EXPECT_EQ(m.owned_by(), "");
  EXPECT_EQ(m.display_name(), "");
  EXPECT_EQ(m.endpoint(), "");
}

TEST(ParseModelTest, DeploymentsNullIsEmpty) {
  EXPECT_EQ(MustParse(ModelWith(R"("deployments": null)")).deployments_size(), 0);
}

struct OptionalStringCase {
  const char* key;
  bool (*has)(const v1::Model&);
  const std::string& (*get)(const v1::Model&);
};

void PrintTo(const OptionalStringCase& c, std::ostream* out) { *out << c.key; }

class OptionalStringTest : public ::testing::TestWithParam<OptionalStringCase> {
 protected:
  // The member to test, inside its object when it is nested.
  static std::string Member(const char* key, absl::string_view value) {
    if (absl::string_view(key) == "developer.logo") {
      return absl::StrCat(R"("developer": {"name": "d", "logo": )", value, "}");
    }
    return absl::StrCat("\"", key, "\": ", value);
  }
};

TEST_P(OptionalStringTest, NullMissingEmptyAndTextAreDistinct) {
  const OptionalStringCase& c = GetParam();
  v1::Model null_model = MustParse(ModelWith(Member(c.key, "null")));
  EXPECT_FALSE(c.has(null_model));

  v1::Model missing = MustParse(absl::string_view(c.key) == "developer.logo"
                                    ? ModelWith(R"("developer": {"name": "d"})")
                                    : ModelWith(""));
  EXPECT_FALSE(c.has(missing));

  v1::Model empty = MustParse(ModelWith(Member(c.key, R"("")")));
  EXPECT_TRUE(c.has(empty));
  EXPECT_EQ(c.get(empty), "");

  v1::Model text = MustParse(ModelWith(Member(c.key, R"("x \"y\" \u00e9")")));
  EXPECT_TRUE(c.has(text));
  EXPECT_EQ(c.get(text), "x \"y\" \xc3\xa9");
}

INSTANTIATE_TEST_SUITE_P(
    AllOptionalStrings, OptionalStringTest,
    ::testing::Values(
        OptionalStringCase{
            "description", [](const v1::Model& m) { return m.has_description(); },
            [](const v1::Model& m) -> const std::string& { return m.description(); }},
        OptionalStringCase{"summary", [](const v1::Model& m) { return m.has_summary(); },
                           [](const v1::Model& m) -> const std::string& { return m.summary(); }},
        OptionalStringCase{
            "source_model", [](const v1::Model& m) { return m.has_source_model(); },
            [](const v1::Model& m) -> const std::string& { return m.source_model(); }},
        OptionalStringCase{"image_url", [](const v1::Model& m) { return m.has_image_url(); },
                           [](const v1::Model& m) -> const std::string& { return m.image_url(); }},
        OptionalStringCase{
            "developer.logo", [](const v1::Model& m) { return m.developer().has_logo(); },
            [](const v1::Model& m) -> const std::string& { return m.developer().logo(); }}),
    [](const ::testing::TestParamInfo<OptionalStringCase>& info) {
      return absl::StrReplaceAll(info.param.key, {{".", "_"}});
    });

struct OptionalCostCase {
  const char* object;  // "pricing" or "fine_tuning"
  const char* key;
  bool (*has)(const v1::Model&);
  double (*get)(const v1::Model&);
};

void PrintTo(const OptionalCostCase& c, std::ostream* out) { *out << c.object << "." << c.key; }

class OptionalCostTest : public ::testing::TestWithParam<OptionalCostCase> {};

TEST_P(OptionalCostTest, NullMissingZeroAndValueAreDistinct) {
  const OptionalCostCase& c = GetParam();
  auto with = [&c](absl::string_view value) {
    if (value.empty()) return ModelWith(absl::StrCat("\"", c.object, "\": {}"));
    return ModelWith(absl::StrCat("\"", c.object, "\": {\"", c.key, "\": ", value, "}"));
  };
  EXPECT_FALSE(c.has(MustParse(with("null"))));
  EXPECT_FALSE(c.has(MustParse(with(""))));
  v1::Model zero = MustParse(with("0"));
  EXPECT_TRUE(c.has(zero));
  EXPECT_EQ(c.get(zero), 0.0);
  v1::Model value = MustParse(with("1.25e-7"));
  EXPECT_TRUE(c.has(value));
  EXPECT_EQ(c.get(value), 1.25e-7);
  v1::Model integer = MustParse(with("3"));
  EXPECT_EQ(c.get(integer), 3.0);
  EXPECT_EQ(ParseError(with(R"("0.1")")),
            absl::StrCat(c.object, ".", c.key, ": expected a number or null, found a string"));
}

#define MC_COST_CASE(object, field)                                                              \
  OptionalCostCase {                                                                             \
#object, #field,                                                                             \
        [](const v1::Model&                                                                      \
               m) { return m.object().has_##field(); }, [](const v1::Model&                      \
                                                               m) { return m.object().field(); } \
  }

INSTANTIATE_TEST_SUITE_P(AllCosts, OptionalCostTest,
                         ::testing::Values(MC_COST_CASE(pricing, input_cost_per_token),
                                           MC_COST_CASE(pricing, output_cost_per_token),
                                           MC_COST_CASE(pricing, cost_per_second),
                                           MC_COST_CASE(pricing, cost_per_image),
                                           MC_COST_CASE(pricing, cost_per_second_high_res),
                                           MC_COST_CASE(pricing, cost_per_second_with_audio),
                                           MC_COST_CASE(fine_tuning, cost_per_second)),
                         [](const ::testing::TestParamInfo<OptionalCostCase>& info) {
                           return absl::StrCat(info.param.object, "_", info.param.key);
                         });

#undef MC_COST_CASE

TEST(ParseModelTest, ObjectFieldsNullAreUnsetAndEmptyAreSet) {
  v1::Model nulls = MustParse(ModelWith(
      R"("capabilities": null, "pricing": null, "fine_tuning": null, "developer": null)"));
  EXPECT_FALSE(nulls.has_capabilities());
  EXPECT_FALSE(nulls.has_pricing());
  EXPECT_FALSE(nulls.has_fine_tuning());
  EXPECT_FALSE(nulls.has_developer());

  v1::Model empties = MustParse(
      ModelWith(R"("capabilities": {}, "pricing": {}, "fine_tuning": {}, "developer": {})"));
  EXPECT_TRUE(empties.has_capabilities());
  EXPECT_TRUE(empties.has_pricing());
  EXPECT_EQ(empties.pricing().method(), v1::PRICING_METHOD_UNSPECIFIED);
  EXPECT_FALSE(empties.pricing().has_input_cost_per_token());
  EXPECT_TRUE(empties.has_fine_tuning());
  EXPECT_TRUE(empties.has_developer());
  EXPECT_FALSE(empties.developer().has_logo());
}

TEST(ParseModelTest, StringArraysNullAreEmpty) {
  v1::Model m = MustParse(ModelWith(
      R"("capabilities": {"input": null, "output": []}, "fine_tuning": {"actions": null})"));
  EXPECT_EQ(m.capabilities().input_size(), 0);
  EXPECT_EQ(m.capabilities().output_size(), 0);
  EXPECT_EQ(m.fine_tuning().actions_size(), 0);
}

// --- Timestamps ----------------------------------------------------------------------------

TEST(ParseModelTest, CreatedAcceptsIntegersAndIntegralNumbers) {
  for (const char* value : {"1750000000", "1750000000.0", "1.75e9", "17500000000e-1"}) {
    SCOPED_TRACE(value);
    v1::Model m = MustParse(ModelWith(absl::StrCat(R"("created": )", value)));
    EXPECT_EQ(m.created().seconds(), 1750000000);
    EXPECT_EQ(m.created().nanos(), 0);
  }
  EXPECT_EQ(MustParse(ModelWith(R"("created": 0)")).created().seconds(), 0);
  EXPECT_TRUE(MustParse(ModelWith(R"("created": 0)")).has_created());
  EXPECT_EQ(MustParse(ModelWith(R"("created": -86400)")).created().seconds(), -86400);
}

TEST(ParseModelTest, CreatedRejectsFractionsStringsAndOutOfRange) {
  EXPECT_EQ(ParseError(ModelWith(R"("created": 1750000000.5)")),
            "created: expected an integer (Unix seconds) or null, found a number");
  EXPECT_EQ(ParseError(ModelWith(R"("created": "1750000000")")),
            "created: expected an integer (Unix seconds) or null, found a string");
  EXPECT_EQ(ParseError(ModelWith(R"("created": 253402300800)")),
            "created: Unix time is outside the years 1 to 9999");
  EXPECT_EQ(ParseError(ModelWith(R"("created": 18446744073709551615)")),
            "created: Unix time is outside the years 1 to 9999");
  EXPECT_EQ(ParseError(ModelWith(R"("created": -1e300)")),
            "created: Unix time is outside the years 1 to 9999");
}

TEST(ParseModelTest, ReleasedAtReadsRfc3339AndDates) {
  struct Case {
    const char* text;
    int64_t seconds;
    int32_t nanos;
  };
  const Case cases[] = {
      {"2025-06-19T00:00:00Z", 1750291200, 0},
      {"2025-06-19", 1750291200, 0},  // midnight UTC
      {"2025-06-19t00:00:00z", 1750291200, 0},
      {"2025-06-19 00:00:00Z", 1750291200, 0},
      {"2025-06-19T10:20:30.125Z", 1750328430, 125000000},
      {"2025-06-19T10:20:30.000000001Z", 1750328430, 1},
      {"2025-06-19T10:20:30.1234567891234Z", 1750328430, 123456789},  // past nanos: dropped
      {"2025-06-19T12:20:30+02:00", 1750328430, 0},
      {"2025-06-19T04:50:30.5-05:30", 1750328430, 500000000},
      {"2025-06-19T10:20:30-00:00", 1750328430, 0},
      {"2024-02-29", 1709164800, 0},            // leap day
      {"2016-12-31T23:59:60Z", 1483228800, 0},  // leap second: the next minute's :00
      {"1970-01-01T00:00:00Z", 0, 0},
      {"1969-12-31T23:59:59.5Z", -1, 500000000},
      {"0001-01-01T00:00:00Z", -62135596800, 0},
      {"9999-12-31T23:59:59.999999999Z", 253402300799, 999999999},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    v1::Model m = MustParse(ModelWith(absl::StrCat(R"("released_at": ")", c.text, "\"")));
    ASSERT_TRUE(m.has_released_at());
    EXPECT_EQ(m.released_at().seconds(), c.seconds);
    EXPECT_EQ(m.released_at().nanos(), c.nanos);
  }
}

TEST(ParseModelTest, ReleasedAtRejectsWhatIsNotATimestamp) {
  for (const char* text : {"",
                           "yesterday",
                           "2025-6-19",
                           "2025-02-29",
                           "2025-13-01",
                           "2025-00-10",
                           "2025-06-31",
                           "2025-06-19T",
                           "2025-06-19T24:00:00Z",
                           "2025-06-19T10:60:00Z",
                           "2025-06-19T10:20:61Z",
                           "2025-06-19T10:20:30",
                           "2025-06-19T10:20Z",
                           "2025-06-19T10:20:30.Z",
                           "2025-06-19T10:20:30+0200",
                           "2025-06-19T10:20:30+24:00",
                           "2025-06-19T10:20:30Z ",
                           " 2025-06-19",
                           "2025-06-19x",
                           "2025-06-19T10:20:30UTC"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(
        ParseError(ModelWith(absl::StrCat(R"("released_at": ")", text, "\""))),
        absl::StrCat(R"(released_at: expected an RFC 3339 timestamp or a YYYY-MM-DD date, found ")",
                     text, "\""));
  }
  EXPECT_EQ(ParseError(ModelWith(R"("released_at": "0000-12-31")")),
            "released_at: timestamp is outside the years 1 to 9999");
  EXPECT_EQ(ParseError(ModelWith(R"("released_at": "0001-01-01T00:00:00+00:01")")),
            "released_at: timestamp is outside the years 1 to 9999");
  EXPECT_EQ(ParseError(ModelWith(R"("released_at": 1750000000)")),
            "released_at: expected an RFC 3339 timestamp string or null, found a number");
  // The hub's text is quoted escaped and bounded.
  std::string long_text(100, 'x');
  EXPECT_EQ(
      ParseError(ModelWith(absl::StrCat(R"("released_at": "\n)", long_text, "\""))),
      absl::StrCat(R"(released_at: expected an RFC 3339 timestamp or a YYYY-MM-DD date, found "\n)",
                   std::string(63, 'x'), "...\""));
}

// --- Enumerations --------------------------------------------------------------------------

TEST(ParseModelTest, ModelTypeMapsKnownOtherAndNull) {
  const std::pair<const char*, v1::ModelType> cases[] = {
      {"base", v1::MODEL_TYPE_BASE},  {"custom", v1::MODEL_TYPE_CUSTOM},
      {"lora", v1::MODEL_TYPE_OTHER}, {"Base", v1::MODEL_TYPE_OTHER},
      {"", v1::MODEL_TYPE_OTHER},
  };
  for (const auto& [raw, expected] : cases) {
    SCOPED_TRACE(raw);
    v1::Model m = MustParse(ModelWith(absl::StrCat(R"("model_type": ")", raw, "\"")));
    EXPECT_EQ(m.model_type(), expected);
    EXPECT_EQ(m.model_type_raw(), raw);
  }
  v1::Model null_type = MustParse(ModelWith(R"("model_type": null)"));
  EXPECT_EQ(null_type.model_type(), v1::MODEL_TYPE_UNSPECIFIED);
  EXPECT_EQ(null_type.model_type_raw(), "");
}

TEST(ParseModelTest, PricingMethodMapsKnownOtherAndNull) {
  const std::pair<const char*, v1::PricingMethod> cases[] = {
      {"token", v1::PRICING_METHOD_TOKEN},
      {"time", v1::PRICING_METHOD_TIME},
      {"per_image", v1::PRICING_METHOD_PER_IMAGE},
      {"per_video_output_second", v1::PRICING_METHOD_PER_VIDEO_OUTPUT_SECOND},
      {"per_request", v1::PRICING_METHOD_OTHER},
      {"TOKEN", v1::PRICING_METHOD_OTHER},
  };
  for (const auto& [raw, expected] : cases) {
    SCOPED_TRACE(raw);
    v1::Model m = MustParse(ModelWith(absl::StrCat(R"("pricing": {"method": ")", raw, "\"}")));
    EXPECT_EQ(m.pricing().method(), expected);
    EXPECT_EQ(m.pricing().method_raw(), raw);
  }
  v1::Model null_method = MustParse(ModelWith(R"("pricing": {"method": null})"));
  EXPECT_EQ(null_method.pricing().method(), v1::PRICING_METHOD_UNSPECIFIED);
  EXPECT_EQ(null_method.pricing().method_raw(), "");
}

TEST(ParseModelTest, DeploymentStatusMapsKnownOtherAndNull) {
  const std::pair<const char*, v1::DeploymentStatus> cases[] = {
      {"active", v1::DEPLOYMENT_STATUS_ACTIVE},
      {"inactive", v1::DEPLOYMENT_STATUS_INACTIVE},
      {"deploying", v1::DEPLOYMENT_STATUS_DEPLOYING},
      {"deactivating", v1::DEPLOYMENT_STATUS_DEACTIVATING},
      {"error", v1::DEPLOYMENT_STATUS_ERROR},
      {"unknown", v1::DEPLOYMENT_STATUS_UNKNOWN},
      {"paused", v1::DEPLOYMENT_STATUS_OTHER},
  };
  for (const auto& [raw, expected] : cases) {
    SCOPED_TRACE(raw);
    v1::Model m =
        MustParse(ModelWith(absl::StrCat(R"("deployments": [{"status": ")", raw, "\"}]")));
    ASSERT_EQ(m.deployments_size(), 1);
    EXPECT_EQ(m.deployments(0).status(), expected);
    EXPECT_EQ(m.deployments(0).status_raw(), raw);
    EXPECT_FALSE(m.deployments(0).has_extra_fields());
  }
  v1::Model no_status = MustParse(ModelWith(R"("deployments": [{"status": null}, {}])"));
  ASSERT_EQ(no_status.deployments_size(), 2);
  for (const v1::Deployment& d : no_status.deployments()) {
    EXPECT_EQ(d.status(), v1::DEPLOYMENT_STATUS_UNSPECIFIED);
    EXPECT_EQ(d.status_raw(), "");
  }
}

// --- Unknown keys --------------------------------------------------------------------------

TEST(ParseModelTest, UnknownKeysAtEveryLevelLandInExtraFields) {
  constexpr char kNested[] =
      R"({"s": "t", "n": -2.5, "b": false, "z": null, "a": [1, "two", null, [true], {"k": {}}],
          "o": {"deep": {"deeper": [{"x": 1}]}}})";
  v1::Model m = MustParse(ModelWith(
      absl::StrCat(R"("future": )", kNested, R"(, "capabilities": {"future": )", kNested,
                   R"(}, "pricing": {"future": )", kNested, R"(}, "fine_tuning": {"future": )",
                   kNested, R"(}, "deployments": [{"future": )", kNested,
                   R"(}], "developer": {"future": )", kNested, "}")));
  const std::string expected =
      R"({"future":{"a":[1,"two",null,[true],{"k":{}}],"b":false,"n":-2.5,)"
      R"("o":{"deep":{"deeper":[{"x":1}]}},"s":"t","z":null}})";
  EXPECT_TRUE(StructEquals(m.extra_fields(), expected));
  EXPECT_TRUE(StructEquals(m.capabilities().extra_fields(), expected));
  EXPECT_TRUE(StructEquals(m.pricing().extra_fields(), expected));
  EXPECT_TRUE(StructEquals(m.fine_tuning().extra_fields(), expected));
  EXPECT_TRUE(StructEquals(m.deployments(0).extra_fields(), expected));
  EXPECT_TRUE(StructEquals(m.developer().extra_fields(), expected));
}

TEST(ParseModelTest, EveryDeploymentKeyButStatusIsExtra) {
  v1::Model m = MustParse(ModelWith(
      R"("deployments": [{"id": "d1", "status": "inactive", "provider": "modal", "region": null}])"));
  EXPECT_TRUE(StructEquals(m.deployments(0).extra_fields(),
                           R"({"id":"d1","provider":"modal","region":null})"));
}

TEST(ParseModelTest, WhitespaceOrderAndEscapesDoNotMatter) {
  v1::Model m = MustParse("\n\t{ \"display_name\"\n:\"\\u0041\\u0000b\" ,\r\n\"id\" : \"x\" }  \n");
  EXPECT_EQ(m.id(), "x");
  EXPECT_EQ(m.display_name(), std::string("A\0b", 3));
}

TEST(ParseModelTest, ReadsUtf8AndEscapes) {
  v1::Model m = MustParse(
      "{\"id\": \"\xe6\x97\xa5\xe6\x9c\xac \xc3\xa9 \xf0\x9f\x98\x80\", "
      "\"summary\": \"\\\\uDC00 \\ud83d\\ude00 \\u00E9\\n\\/\"}");
  EXPECT_EQ(m.id(), "\xe6\x97\xa5\xe6\x9c\xac \xc3\xa9 \xf0\x9f\x98\x80");
  // An escaped backslash then the text "uDC00"; a surrogate pair; an escaped é.
  EXPECT_EQ(m.summary(), "\\uDC00 \xf0\x9f\x98\x80 \xc3\xa9\n/");
}

TEST(ParseModelTest, LastOccurrenceOfADuplicateKeyWins) {
  v1::Model m = MustParse(ModelWith(
      R"("description": "first", "description": null, "pricing": {"method": "time"},
         "pricing": {"cost_per_image": 1}, "extra": {"a": 1}, "extra": [2])"));
  EXPECT_FALSE(m.has_description());
  EXPECT_EQ(m.pricing().method(), v1::PRICING_METHOD_UNSPECIFIED);
  EXPECT_EQ(m.pricing().cost_per_image(), 1);
  EXPECT_TRUE(StructEquals(m.extra_fields(), R"({"extra":[2]})"));
}

// --- Wrong types and malformed input -------------------------------------------------------

TEST(ParseModelTest, WrongTypesNameThePathExpectedAndFound) {
  const std::pair<const char*, const char*> cases[] = {
      {R"("object": 1)", "object: expected a string or null, found a number"},
      {R"("owned_by": {})", "owned_by: expected a string or null, found an object"},
      {R"("display_name": true)", "display_name: expected a string or null, found a boolean"},
      {R"("description": 5)", "description: expected a string or null, found a number"},
      {R"("summary": [])", "summary: expected a string or null, found an array"},
      {R"("model_type": ["base"])", "model_type: expected a string or null, found an array"},
      {R"("endpoint": false)", "endpoint: expected a string or null, found a boolean"},
      {R"("capabilities": [])", "capabilities: expected an object or null, found an array"},
      {R"("capabilities": {"input": "text"})",
       "capabilities.input: expected an array of strings or null, found a string"},
      {R"("capabilities": {"output": ["text", 1]})",
       "capabilities.output[1]: expected a string, found a number"},
      {R"("pricing": "free")", "pricing: expected an object or null, found a string"},
      {R"("pricing": {"method": 1})", "pricing.method: expected a string or null, found a number"},
      {R"("pricing": {"input_cost_per_token": "3e-6"})",
       "pricing.input_cost_per_token: expected a number or null, found a string"},
      {R"("fine_tuning": true)", "fine_tuning: expected an object or null, found a boolean"},
      {R"("fine_tuning": {"actions": [{}]})",
       "fine_tuning.actions[0]: expected a string, found an object"},
      {R"("deployments": {})", "deployments: expected an array or null, found an object"},
      {R"("deployments": [{}, null])", "deployments[1]: expected an object, found null"},
      {R"("deployments": [{"status": 3}])",
       "deployments[0].status: expected a string or null, found a number"},
      {R"("developer": "Acme")", "developer: expected an object or null, found a string"},
      {R"("developer": {"name": 1})", "developer.name: expected a string or null, found a number"},
      {R"("developer": {"logo": false})",
       "developer.logo: expected a string or null, found a boolean"},
      {R"("source_model": 7)", "source_model: expected a string or null, found a number"},
      {R"("image_url": {})", "image_url: expected a string or null, found an object"},
      {R"("request_schema": "{}")", "request_schema: expected an object or null, found a string"},
      {R"("request_schema": [])", "request_schema: expected an object or null, found an array"},
  };
  for (const auto& [members, message] : cases) {
    SCOPED_TRACE(members);
    EXPECT_EQ(ParseError(ModelWith(members)), message);
  }
}

TEST(ParseModelTest, IdMustBeANonEmptyString) {
  EXPECT_EQ(ParseError(R"({"object": "model"})"), "id: expected a non-empty string, found nothing");
  EXPECT_EQ(ParseError(R"({"id": null})"), "id: expected a non-empty string, found null");
  EXPECT_EQ(ParseError(R"({"id": ""})"), "id: expected a non-empty string, found an empty string");
  EXPECT_EQ(ParseError(R"({"id": 42})"), "id: expected a non-empty string, found a number");
}

TEST(ParseModelTest, RootMustBeAnObject) {
  EXPECT_EQ(ParseError("[]"), "expected a model object, found an array");
  EXPECT_EQ(ParseError("null"), "expected a model object, found null");
  EXPECT_EQ(ParseError(R"("m")"), "expected a model object, found a string");
}

TEST(ParseModelTest, MalformedJsonNamesTheOffset) {
  const std::pair<std::string, const char*> cases[] = {
      {"", "invalid JSON at offset 0: The document is empty."},
      {"   ", "invalid JSON at offset 3: The document is empty."},
      {R"({"id": "m")",
       "invalid JSON at offset 10: Missing a comma or '}' after an object member."},
      {R"({"id": "m",})", "invalid JSON at offset 11: Missing a name for object member."},
      {R"({"id": "m"} {})",
       "invalid JSON at offset 12: The document root must not be followed by other values."},
      {R"({"id": 'm'})", "invalid JSON at offset 7: Invalid value."},
      {R"({"id": "m", "created": NaN})", "invalid JSON at offset 23: Invalid value."},
      {R"({"id": "m", "created": 1e999})",
       "invalid JSON at offset 23: Number too big to be stored in double."},
      {"{\"id\": \"\xff\"}", "invalid JSON at offset 8: invalid UTF-8"},
      {"{\"id\": \"ab\xc0\xaf\"}", "invalid JSON at offset 10: invalid UTF-8"},       // overlong
      {"{\"id\": \"\xed\xa0\x80\"}", "invalid JSON at offset 8: invalid UTF-8"},      // surrogate
      {"{\"id\": \"\xf4\x90\x80\x80\"}", "invalid JSON at offset 8: invalid UTF-8"},  // > U+10FFFF
      {"{\"id\": \"m\"} \xe2\x82", "invalid JSON at offset 12: invalid UTF-8"},       // cut short
      {R"({"id": "a\uDC00"})",
       "invalid JSON at offset 9: The surrogate pair in string is invalid."},
      {R"({"id": "a\uD800x"})",
       "invalid JSON at offset 9: The surrogate pair in string is invalid."},
      {std::string("{\"id\": \"m\"}\0{}", 14), "invalid JSON at offset 11: unexpected NUL byte"},
      {R"({"id": "m)", "invalid JSON at offset 9: Missing a closing quotation mark in string."},
  };
  for (const auto& [json, message] : cases) {
    SCOPED_TRACE(json);
    EXPECT_EQ(ParseError(json), message);
  }
}

TEST(ParseModelTest, DeepNestingIsRejectedNotCrashed) {
  std::string deep_ok = "{\"request_schema\": ";
  std::string deep_bad = deep_ok;
  for (int i = 0; i < kMaxStructDepth - 1; ++i) deep_ok += "{\"a\": ";
  deep_ok += "{}";
  for (int i = 0; i < kMaxStructDepth - 1; ++i) deep_ok += "}";
  deep_ok += ", \"id\": \"m\"}";
  EXPECT_EQ(ParseError(deep_ok), "<parsed>");

  for (int i = 0; i < kMaxStructDepth; ++i) deep_bad += "{\"a\": ";
  deep_bad += "[]";
  for (int i = 0; i < kMaxStructDepth; ++i) deep_bad += "}";
  deep_bad += ", \"id\": \"m\"}";
  std::string path = "request_schema";
  for (int i = 0; i < kMaxStructDepth; ++i) path += ".a";
  EXPECT_EQ(ParseError(deep_bad),
            absl::StrCat(path, ": nested deeper than ", kMaxStructDepth, " levels"));

  // Far deeper than any stack could recurse: the parser must fail cleanly.
  std::string hostile = std::string(1000000, '[') + std::string(1000000, ']');
  std::string hostile_path = "x";
  for (int i = 0; i < kMaxStructDepth; ++i) hostile_path += "[0]";
  EXPECT_EQ(ParseError(absl::StrCat(R"({"id": "m", "x": )", hostile, "}")),
            absl::StrCat(hostile_path, ": nested deeper than ", kMaxStructDepth, " levels"));
}

TEST(ParseModelValueTest, PrefixesMessagesWithThePath) {
  rapidjson::Document doc;
  doc.Parse(R"({"id": "m", "pricing": {"input_cost_per_token": "x"}})");
  v1::Model model;
  absl::Status status = ParseModelValue(doc, "data[3]", &model);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "data[3].pricing.input_cost_per_token: expected a number or null, found a string");
}

TEST(ParseModelValueTest, ClearsTheOutputFirst) {
  rapidjson::Document doc;
  doc.Parse(R"({"id": "m"})");
  v1::Model model;
  model.set_display_name("stale");
  model.set_description("stale");
  ASSERT_TRUE(ParseModelValue(doc, "", &model).ok());
  EXPECT_EQ(model.display_name(), "");
  EXPECT_FALSE(model.has_description());
}

// --- Lists ---------------------------------------------------------------------------------

TEST(ParseModelListTest, ReadsTheHubsListEnvelope) {
  absl::StatusOr<ParsedModelList> list = ParseModelList(
      absl::StrCat(R"({"object": "list", "data": [)", kFullModel, ",", kNullModel, "]}"));
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->models.size(), 2u);
  EXPECT_EQ(list->models[0].id(), "my-custom-model");
  EXPECT_EQ(list->models[1].id(), "bare");
  EXPECT_TRUE(list->rejected.empty());
}

TEST(ParseModelListTest, AcceptsABareArrayAndAnEmptyList) {
  absl::StatusOr<ParsedModelList> bare = ParseModelList(absl::StrCat("[", kNullModel, "]"));
  ASSERT_TRUE(bare.ok()) << bare.status();
  ASSERT_EQ(bare->models.size(), 1u);
  EXPECT_EQ(bare->models[0].id(), "bare");

  absl::StatusOr<ParsedModelList> empty = ParseModelList(R"({"object": "list", "data": []})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->models.empty());
  EXPECT_TRUE(empty->rejected.empty());
}

TEST(ParseModelListTest, ABadRecordIsRejectedAndTheOthersKept) {
  absl::StatusOr<ParsedModelList> list = ParseModelList(
      R"({"object": "list", "data": [
        {"id": "a"},
        {"id": "b", "pricing": {"input_cost_per_token": "cheap"}},
        {"id": "c"},
        "not a model",
        {"id": 7},
        {"id": "f", "released_at": "soon"}
      ]})");
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->models.size(), 2u);
  EXPECT_EQ(list->models[0].id(), "a");
  EXPECT_EQ(list->models[1].id(), "c");
  ASSERT_EQ(list->rejected.size(), 4u);
  EXPECT_EQ(list->rejected[0].index, 1u);
  EXPECT_EQ(list->rejected[0].id, "b");
  EXPECT_EQ(list->rejected[0].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(list->rejected[0].status.message(),
            "data[1].pricing.input_cost_per_token: expected a number or null, found a string");
  EXPECT_EQ(list->rejected[1].index, 3u);
  EXPECT_EQ(list->rejected[1].id, "");
  EXPECT_EQ(list->rejected[1].status.message(), "data[3]: expected a model object, found a string");
  EXPECT_EQ(list->rejected[2].index, 4u);
  EXPECT_EQ(list->rejected[2].id, "");
  EXPECT_EQ(list->rejected[2].status.message(),
            "data[4].id: expected a non-empty string, found a number");
  EXPECT_EQ(list->rejected[3].index, 5u);
  EXPECT_EQ(list->rejected[3].id, "f");
  EXPECT_THAT(std::string(list->rejected[3].status.message()),
              HasSubstr("data[5].released_at: expected an RFC 3339"));
}

TEST(ParseModelListTest, BareArrayRecordsAreNamedByIndex) {
  absl::StatusOr<ParsedModelList> list = ParseModelList(R"([{"id": "a"}, {"id": ""}])");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->rejected.size(), 1u);
  EXPECT_EQ(list->rejected[0].status.message(),
            "[1].id: expected a non-empty string, found an empty string");
}

TEST(ParseModelListTest, ADocumentOfTheWrongShapeFails) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"object": "list"})", "data: expected an array, found nothing"},
      {R"({"object": "list", "data": null})", "data: expected an array, found null"},
      {R"({"object": "list", "data": {"id": "a"}})", "data: expected an array, found an object"},
      {R"("list")", R"(expected an object with a "data" array, found a string)"},
      {"42", R"(expected an object with a "data" array, found a number)"},
      {R"({"data": [)", "invalid JSON at offset 10: Invalid value."},
  };
  for (const auto& [json, message] : cases) {
    SCOPED_TRACE(json);
    absl::StatusOr<ParsedModelList> list = ParseModelList(json);
    ASSERT_FALSE(list.ok());
    EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(list.status().message()), message);
  }
}

// The sink version reads a list record by record, in place and on a reused arena: it must see
// exactly the models, rejections and errors the one that keeps every model does.
TEST(ParseModelListTest, ASinkReceivesTheSameModelsAndRejections) {
  const std::string json = absl::StrCat(
      R"({"object": "list", "data": [)", kFullModel, ",", kNullModel,
      R"(, {"id": "b", "pricing": {"input_cost_per_token": "cheap"}}, "not a model",)",
      R"({"id": "s", "request_schema": {"type": "object", "properties": {"n": {"enum": [1, "x", null, [true]]}}}},)",
      R"({"id": "d", "deployments": [{"status": "active", "region": "eu"}]}]})");
  absl::StatusOr<ParsedModelList> kept = ParseModelList(json);
  ASSERT_TRUE(kept.ok()) << kept.status();
  std::vector<std::string> received;  // serializations: the models do not outlive the call
  absl::StatusOr<std::vector<RejectedRecord>> rejected = ParseModelList(
      json, [&received](const v1::Model& model) { received.push_back(model.SerializeAsString()); });
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  ASSERT_EQ(received.size(), kept->models.size());
  for (size_t i = 0; i < received.size(); ++i) {
    v1::Model model;
    ASSERT_TRUE(model.ParseFromString(received[i]));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(model, kept->models[i]))
        << model.DebugString() << "\nvs\n"
        << kept->models[i].DebugString();
  }
  ASSERT_EQ(rejected->size(), kept->rejected.size());
  for (size_t i = 0; i < rejected->size(); ++i) {
    EXPECT_EQ((*rejected)[i].index, kept->rejected[i].index);
    EXPECT_EQ((*rejected)[i].id, kept->rejected[i].id);
    EXPECT_EQ((*rejected)[i].status, kept->rejected[i].status);
  }
}

// A list is read as it arrives, so the models before the point where it fails have been
// handed over already: the call's error is what tells the caller to drop them.
TEST(ParseModelListTest, AListThatFailsLateFailsWithTheModelsBeforeHandedOver) {
  for (const char* json : {R"({"data": [{"id": "a"}, )", R"({"data": [{"id": "a"}], "n": 1e999})",
                           "[{\"id\": \"a\"}, \"\xff\"]"}) {
    SCOPED_TRACE(json);
    int calls = 0;
    absl::StatusOr<std::vector<RejectedRecord>> rejected =
        ParseModelList(json, [&calls](const v1::Model&) { ++calls; });
    EXPECT_EQ(rejected.status(), ParseModelList(absl::string_view(json)).status());
    EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(calls, 1);
  }
}

// The list's text, handed over in pieces of `piece_size` bytes.
absl::StatusOr<ParsedModelList> ParseInPieces(absl::string_view json, size_t piece_size) {
  size_t next = 0;
  auto source = [&]() {
    absl::string_view piece = json.substr(std::min(next, json.size()), piece_size);
    next += piece.size();
    return piece;
  };
  ParsedModelList list;
  absl::StatusOr<std::vector<RejectedRecord>> rejected = ParseModelList(
      TextSource(source), [&list](const v1::Model& model) { list.models.push_back(model); });
  if (!rejected.ok()) return rejected.status();
  list.rejected = *std::move(rejected);
  return list;
}

void ExpectSameList(const absl::StatusOr<ParsedModelList>& got,
                    const absl::StatusOr<ParsedModelList>& want) {
  ASSERT_EQ(got.status(), want.status());
  if (!want.ok()) return;
  ASSERT_EQ(got->models.size(), want->models.size());
  for (size_t i = 0; i < want->models.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(got->models[i], want->models[i]))
        << got->models[i].DebugString() << "\nvs\n"
        << want->models[i].DebugString();
  }
  ASSERT_EQ(got->rejected.size(), want->rejected.size());
  for (size_t i = 0; i < want->rejected.size(); ++i) {
    EXPECT_EQ(got->rejected[i].index, want->rejected[i].index);
    EXPECT_EQ(got->rejected[i].id, want->rejected[i].id);
    EXPECT_EQ(got->rejected[i].status, want->rejected[i].status);
  }
}

// Pieces are cut wherever the network cuts them: inside strings, escapes, surrogate pairs,
// UTF-8 sequences and numbers. The list reads the same however it is cut, errors and their
// offsets included.
TEST(ParseModelListTest, ReadsTheSameHoweverTheTextIsCut) {
  const std::string good = absl::StrCat(
      R"({"object": "list", "note": ["x", {"y": [1, 2.5e3]}], "data": [)", kFullModel, ",",
      kNullModel,
      R"(, {"id": "\u00e9t\u00e9 \ud83d\ude00 été 😀", "description": "a \"quoted\" \\ line\n"},)",
      R"({"id": "b", "pricing": {"input_cost_per_token": "cheap"}}, "not a model", 7,)",
      R"({"id": "n", "pricing": {"input_cost_per_token": 0.1000000000000000055511151231257827}}])",
      R"(, "data": "a second data key is ignored"})");
  absl::StatusOr<ParsedModelList> whole = ParseModelList(good);
  ASSERT_TRUE(whole.ok()) << whole.status();
  ASSERT_EQ(whole->models.size(), 4u);
  ASSERT_EQ(whole->rejected.size(), 3u);
  const std::string bad_utf8 =
      absl::StrCat(R"({"data": [{"id": "a", "description": "ok é, bad )", "\xc3\x28", R"("}]})");
  const std::string lone_surrogate = R"({"data": [{"id": "a", "description": "\udc00"}]})";
  const std::string nul = absl::StrCat(R"({"data": [{"id": "a"}, )", std::string(1, '\0'), "]}");
  const std::string cut = absl::StrCat(R"({"data": [)", kFullModel);
  // A syntax error before an invalid byte is the one reported, whether or not both lie in
  // the same piece.
  const std::string syntax_first =
      absl::StrCat(R"({"data": [{"id" "a"}, {"id": "b", "description": ")", "\xff", R"("}]})");
  // A NUL right after a high surrogate's escape is a NUL, not part of a pair.
  const std::string nul_in_pair =
      absl::StrCat(R"([{"id": "a\ud83d\ud)", std::string(2, '\0'), R"(00"}])");
  for (const std::string& json :
       {good, bad_utf8, lone_surrogate, nul, cut, syntax_first, nul_in_pair}) {
    const absl::StatusOr<ParsedModelList> want = ParseModelList(json);
    for (size_t piece_size = 1; piece_size <= 16; ++piece_size) {
      SCOPED_TRACE(absl::StrCat(json.substr(0, 40), "... in pieces of ", piece_size));
      ExpectSameList(ParseInPieces(json, piece_size), want);
    }
  }
  EXPECT_EQ(std::string(ParseModelList(bad_utf8).status().message()),
            "invalid JSON at offset 49: invalid UTF-8");
  EXPECT_EQ(std::string(ParseModelList(lone_surrogate).status().message()),
            "invalid JSON at offset 38: The surrogate pair in string is invalid.");
  EXPECT_EQ(std::string(ParseModelList(nul).status().message()),
            "invalid JSON at offset 23: unexpected NUL byte");
  EXPECT_EQ(std::string(ParseModelList(nul_in_pair).status().message()),
            "invalid JSON at offset 19: unexpected NUL byte");
  EXPECT_EQ(std::string(ParseModelList(syntax_first).status().message()),
            "invalid JSON at offset 16: Missing a colon after a name of object member.");
}

// Empty pieces in the middle of the text would read as its end: a source never returns one
// before the end, but the parser must not be misled by pieces that hold too little to judge.
TEST(ParseModelListTest, PiecesThatEndInsideASequenceWaitForTheNext) {
  const std::string json = R"([{"id": "été"}])";  // é is two bytes
  for (size_t piece_size = 1; piece_size < json.size(); ++piece_size) {
    absl::StatusOr<ParsedModelList> list = ParseInPieces(json, piece_size);
    ASSERT_TRUE(list.ok()) << list.status();
    ASSERT_EQ(list->models.size(), 1u);
    EXPECT_EQ(list->models[0].id(), "été");
  }
}

// A record too large to hold is rejected alone, with its index, and the list goes on.
TEST(ParseModelListTest, ARecordLargerThanTheLimitIsRejectedAndTheOthersKept) {
  std::string huge_array;
  huge_array.reserve(kMaxRecordBytes / 2 + 16);
  huge_array += "[0";
  while (huge_array.size() < kMaxRecordBytes / 2) huge_array += ",0";
  huge_array += "]";
  const std::string json = absl::StrCat(R"({"data": [{"id": "a"}, {"id": "big", "extra": )",
                                        huge_array, R"(}, {"id": "c"}]})");
  absl::StatusOr<ParsedModelList> list = ParseModelList(json);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->models.size(), 2u);
  EXPECT_EQ(list->models[0].id(), "a");
  EXPECT_EQ(list->models[1].id(), "c");
  ASSERT_EQ(list->rejected.size(), 1u);
  EXPECT_EQ(list->rejected[0].index, 1u);
  EXPECT_EQ(list->rejected[0].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(list->rejected[0].status.message()),
            "data[1]: the record takes more than 16 MiB to read (it starts at offset 22)");
}

// A single string (or nesting) the parser would have to hold past the limit fails the list:
// no record boundary lies inside it to recover at.
TEST(ParseModelListTest, AStringOrNestingLongerThanTheLimitFailsTheList) {
  const std::string long_string =
      absl::StrCat(R"({"data": [], "padding": ")", std::string(kMaxRecordBytes + 1, 'x'), R"("})");
  absl::Status status = ParseModelList(long_string).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("a value nests deeper or a string or number runs longer than the parser "
                        "holds (16 MiB)"));

  const std::string deep =
      absl::StrCat(R"({"data": [], "padding": )", std::string(kMaxRecordBytes, '['));
  status = ParseModelList(deep).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("nests deeper"));
}

// Rejections take far more memory than the records they name can ("1," is a record): past
// 16 MiB of them the list fails rather than grow with an endless list of bad records.
TEST(ParseModelListTest, EndlessBadRecordsFailTheListAtTheRejectionLimit) {
  int pieces = 0;
  auto endless = [&pieces]() -> absl::string_view {
    ++pieces;
    return pieces == 1 ? R"({"data": [1)" : ",1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1";
  };
  absl::StatusOr<std::vector<RejectedRecord>> list =
      ParseModelList(TextSource(endless), [](const v1::Model&) {});
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(list.status().message()),
              HasSubstr("more records rejected than the parser keeps (16 MiB of rejections, "));
  EXPECT_THAT(std::string(list.status().message()),
              HasSubstr("the first: data[0]: expected a model object, found a number"));
}

// The text is read only as far as needed: a list that is not one fails at once, without
// asking the source for what follows (an endless body ends at the first wrong token).
TEST(ParseModelListTest, StopsReadingAtTheFirstError) {
  int pieces = 0;
  auto endless = [&pieces]() -> absl::string_view {
    ++pieces;
    return pieces == 1 ? R"({"data": "no", "more": [)" : "0,";
  };
  absl::StatusOr<std::vector<RejectedRecord>> list =
      ParseModelList(TextSource(endless), [](const v1::Model&) {});
  EXPECT_EQ(list.status().message(), "data: expected an array, found a string");
  EXPECT_EQ(pieces, 1);
}

TEST(ParseModelListTest, ReadsAHundredThousandModelCatalog) {
  // The size of a full catalog sync: nothing here may be quadratic.
  constexpr int kModels = 100000;
  std::string json = R"({"object": "list", "data": [)";
  for (int i = 0; i < kModels; ++i) {
    absl::StrAppend(&json, i == 0 ? "" : ",", R"({"id": "model-)", i, R"(", "created": )", i,
                    R"(, "pricing": {"method": "token", "input_cost_per_token": )", i, "e-9},",
                    R"("request_schema": {"type": "object", "properties": {"n": {"default": )", i,
                    "}}}}");
  }
  json += "]}";
  absl::StatusOr<ParsedModelList> list = ParseModelList(json);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->models.size(), static_cast<size_t>(kModels));
  EXPECT_TRUE(list->rejected.empty());
  const v1::Model& last = list->models.back();
  EXPECT_EQ(last.id(), absl::StrCat("model-", kModels - 1));
  EXPECT_EQ(last.created().seconds(), kModels - 1);
  EXPECT_EQ(last.pricing().input_cost_per_token(), (kModels - 1) * 1e-9);
  EXPECT_TRUE(StructEquals(
      last.request_schema(),
      absl::StrCat(R"({"type": "object", "properties": {"n": {"default": )", kModels - 1, "}}}")));
}

// --- Writing -------------------------------------------------------------------------------

void ExpectRoundTrip(const v1::Model& model) {
  std::string json = ModelToJson(model);
  absl::StatusOr<v1::Model> again = ParseModel(json);
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << json;
  std::string differences;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differencer.Compare(model, *again)) << differences << "\n" << json;
}

TEST(ModelToJsonTest, RoundTripsAFullModel) { ExpectRoundTrip(MustParse(kFullModel)); }

TEST(ModelToJsonTest, RoundTripsAModelWithEverythingNull) {
  ExpectRoundTrip(MustParse(kNullModel));
  ExpectRoundTrip(MustParse(ModelWith("")));
}

TEST(ModelToJsonTest, RoundTripsAwkwardValues) {
  ExpectRoundTrip(MustParse(ModelWith(
      R"("description": "", "summary": "tab\there \"quoted\" \u00e9 \ud83d\ude00 \u0000",
         "model_type": "lora", "created": -62135596800,
         "pricing": {"method": "per_request", "input_cost_per_token": 0,
                     "output_cost_per_token": -0.0, "cost_per_second": 1e-300,
                     "cost_per_image": 0.1, "cost_per_second_high_res": 123456789012345678,
                     "cost_per_second_with_audio": 2.2250738585072014e-308},
         "deployments": [{"status": "paused", "n": 9007199254740993}, {}],
         "released_at": "2025-06-19T10:20:30.000001+05:45",
         "capabilities": {"input": [], "output": [""]},
         "x": {"big": 1e300, "neg": -17, "frac": 0.30000000000000004})")));
}

TEST(ModelToJsonTest, WritesEveryFieldWithNullWhereUnset) {
  std::string json = ModelToJson(MustParse(ModelWith("")));
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  ASSERT_TRUE(doc.IsObject()) << json;
  for (const char* key :
       {"created", "description", "summary", "model_type", "capabilities", "pricing", "fine_tuning",
        "developer", "source_model", "image_url", "released_at", "request_schema"}) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(doc.HasMember(key));
    EXPECT_TRUE(doc[key].IsNull());
  }
  for (const char* key : {"id", "object", "owned_by", "display_name", "endpoint"}) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(doc.HasMember(key));
    EXPECT_TRUE(doc[key].IsString());
  }
  ASSERT_TRUE(doc["deployments"].IsArray());
  EXPECT_EQ(doc.MemberCount(), 18u);
}

TEST(ModelToJsonTest, WritesTheHubsShape) {
  v1::Model m = MustParse(ModelWith(
      R"("created": 1750000000, "model_type": "base", "released_at": "2025-06-19",
         "pricing": {"method": "token", "input_cost_per_token": 3e-6},
         "deployments": [{"status": "active", "id": "d"}], "future": 1)"));
  EXPECT_EQ(ModelToJson(m),
            R"({"id":"m","object":"","created":1750000000,"owned_by":"","display_name":"",)"
            R"("description":null,"summary":null,"model_type":"base","endpoint":"",)"
            R"("capabilities":null,"pricing":{"method":"token","input_cost_per_token":0.000003,)"
            R"("output_cost_per_token":null,"cost_per_second":null,"cost_per_image":null,)"
            R"("cost_per_second_high_res":null,"cost_per_second_with_audio":null},)"
            R"("fine_tuning":null,"deployments":[{"status":"active","id":"d"}],)"
            R"("developer":null,"source_model":null,"image_url":null,)"
            R"("released_at":"2025-06-19T00:00:00Z","request_schema":null,"future":1})");
}

TEST(ModelToJsonTest, EnumsWithoutRawUseTheCanonicalString) {
  v1::Model m;
  m.set_id("m");
  m.set_model_type(v1::MODEL_TYPE_CUSTOM);
  m.mutable_pricing()->set_method(v1::PRICING_METHOD_PER_VIDEO_OUTPUT_SECOND);
  m.add_deployments()->set_status(v1::DEPLOYMENT_STATUS_DEACTIVATING);
  v1::Model again = MustParse(ModelToJson(m));
  EXPECT_EQ(again.model_type_raw(), "custom");
  EXPECT_EQ(again.pricing().method_raw(), "per_video_output_second");
  EXPECT_EQ(again.deployments(0).status_raw(), "deactivating");
}

TEST(ModelToJsonTest, NumbersJsonCannotCarryBecomeNull) {
  v1::Model m;
  m.set_id("m");
  m.mutable_pricing()->set_cost_per_image(std::numeric_limits<double>::quiet_NaN());
  m.mutable_pricing()->set_cost_per_second(std::numeric_limits<double>::infinity());
  v1::Model again = MustParse(ModelToJson(m));
  EXPECT_FALSE(again.pricing().has_cost_per_image());
  EXPECT_FALSE(again.pricing().has_cost_per_second());
}

TEST(ModelToJsonTest, ExtraFieldsNeverShadowKnownFields) {
  v1::Model m;
  m.set_id("m");
  (*m.mutable_extra_fields()->mutable_fields())["id"].set_string_value("other");
  (*m.mutable_extra_fields()->mutable_fields())["kept"].set_bool_value(true);
  v1::Model again = MustParse(ModelToJson(m));
  EXPECT_EQ(again.id(), "m");
  EXPECT_TRUE(StructEquals(again.extra_fields(), R"({"kept":true})"));
}

}  // namespace
}  // namespace modelcatalog::hub

namespace modelcatalog::hub {
namespace {

// Numbers read as their text says, correctly rounded, including the ones
// RapidJSON's own conversion gets wrong.
TEST(ParseNumbersTest, ReadsPricesExactlyAsWritten) {
  struct Case {
    const char* text;
    double value;
  };
  for (const Case& c : std::vector<Case>{{"0e62", 0.0},
                                         {"1e-324", 0.0},
                                         {"1e-325", 0.0},
                                         {"5e-324", 4.9406564584124654e-324},
                                         {"3e-6", 3e-6},
                                         {"0.1", 0.1},
                                         {"1.5e-5", 1.5e-5},
                                         {"12345678901234567890", 12345678901234567890.0}}) {
    const std::string json =
        std::string(R"({"id":"m","pricing":{"method":"token","input_cost_per_token":)") + c.text +
        "}}";
    absl::StatusOr<modelcatalog::v1::Model> model = ParseModel(json);
    ASSERT_TRUE(model.ok()) << c.text << ": " << model.status();
    EXPECT_EQ(model->pricing().input_cost_per_token(), c.value) << c.text;
  }
  absl::StatusOr<modelcatalog::v1::Model> too_big =
      ParseModel(R"({"id":"m","pricing":{"input_cost_per_token":1e999}})");
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_big.status().message()), ::testing::HasSubstr("Number too big"));
}

}  // namespace
}  // namespace modelcatalog::hub
