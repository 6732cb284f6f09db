// The filter language: every comparator on every kind of field, precedence,
// wildcards, missing values, and every error with its offset.
#include "services/catalog/query/filter.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace modelcatalog::catalog {
namespace {

using ::testing::ElementsAre;

// A catalog whose models exercise every field.
std::shared_ptr<const CatalogSnapshot> Catalog() {
  const std::vector<std::string> json = {
      R"({"id":"claude-sonnet-4-6","displayName":"Claude Sonnet 4.6","ownedBy":"oxen",
          "modelType":"MODEL_TYPE_BASE","modelTypeRaw":"base","endpoint":"/chat/completions",
          "capabilities":{"input":["text","image"],"output":["text"]},
          "pricing":{"method":"PRICING_METHOD_TOKEN","methodRaw":"token",
                     "inputCostPerToken":3e-6,"outputCostPerToken":1.5e-5},
          "developer":{"name":"Anthropic"},"created":"2025-06-15T00:00:00Z",
          "releasedAt":"2025-06-19T00:00:00Z"})",
      R"({"id":"flux-2-dev","displayName":"FLUX.2 [dev]","ownedBy":"oxen",
          "modelType":"MODEL_TYPE_BASE","modelTypeRaw":"base","endpoint":"/images/generate",
          "capabilities":{"input":["text"],"output":["image"]},
          "pricing":{"method":"PRICING_METHOD_PER_IMAGE","methodRaw":"per_image","costPerImage":0.025},
          "developer":{"name":"Black Forest Labs"},"created":"2025-11-01T00:00:00Z"})",
      R"({"id":"flux-pro","displayName":"FLUX Pro","ownedBy":"oxen",
          "modelType":"MODEL_TYPE_BASE","modelTypeRaw":"base","endpoint":"/images/generate",
          "capabilities":{"input":["text"],"output":["image"]},
          "pricing":{"method":"PRICING_METHOD_PER_IMAGE","methodRaw":"per_image","costPerImage":0.05},
          "developer":{"name":"Black Forest Labs"},"created":"2025-09-01T00:00:00Z"})",
      R"({"id":"acme-bot","displayName":"Acme Bot","ownedBy":"acme",
          "modelType":"MODEL_TYPE_CUSTOM","modelTypeRaw":"custom","endpoint":"/chat/completions",
          "capabilities":{"input":["text"],"output":["text"]},
          "pricing":{"method":"PRICING_METHOD_TOKEN","methodRaw":"token","inputCostPerToken":1e-6},
          "fineTuning":{"actions":["text_generation"],"costPerSecond":0.01},
          "deployments":[{"status":"DEPLOYMENT_STATUS_ERROR","statusRaw":"error"}],
          "sourceModel":"claude-sonnet-4-6","developer":{"name":"Acme"},"created":"2025-06-14T00:00:00Z"})",
      R"({"id":"acme-painter","displayName":"Acme Painter","ownedBy":"acme",
          "modelType":"MODEL_TYPE_CUSTOM","modelTypeRaw":"custom","endpoint":"/images/generate",
          "pricing":{"method":"PRICING_METHOD_OTHER","methodRaw":"per_megapixel"},
          "deployments":[{"status":"DEPLOYMENT_STATUS_ACTIVE","statusRaw":"active"},
                         {"status":"DEPLOYMENT_STATUS_OTHER","statusRaw":"warming"}]})",
  };
  std::vector<modelcatalog::v1::Model> models;
  for (const std::string& text : json) {
    modelcatalog::v1::Model model;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &model).ok()) << text;
    models.push_back(model);
  }
  return CatalogSnapshot::Build(models, 1, absl::UnixEpoch());
}

// The ids of the models `filter` matches, in id order.
std::vector<std::string> Matching(absl::string_view filter) {
  static const std::shared_ptr<const CatalogSnapshot> catalog = Catalog();
  absl::StatusOr<Filter> parsed = Filter::Parse(filter);
  EXPECT_TRUE(parsed.ok()) << filter << ": " << parsed.status();
  std::vector<std::string> ids;
  if (!parsed.ok()) return ids;
  for (size_t i = 0; i < catalog->size(); ++i) {
    if (parsed->Matches(catalog->entry(i))) ids.push_back(catalog->entry(i).id);
  }
  return ids;
}

std::string ErrorOf(absl::string_view filter) {
  absl::StatusOr<Filter> parsed = Filter::Parse(filter);
  if (parsed.ok()) return "(parsed)";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(FilterTest, AnEmptyFilterMatchesEverything) {
  EXPECT_EQ(Matching("").size(), 5u);
  EXPECT_EQ(Matching("   ").size(), 5u);
}

TEST(FilterTest, StringsCompareCaseInsensitivelyWithWildcards) {
  EXPECT_THAT(Matching("developer.name = anthropic"), ElementsAre("claude-sonnet-4-6"));
  EXPECT_THAT(Matching("developer.name = \"BLACK FOREST LABS\""),
              ElementsAre("flux-2-dev", "flux-pro"));
  EXPECT_THAT(Matching("id = \"flux-*\""), ElementsAre("flux-2-dev", "flux-pro"));
  EXPECT_THAT(Matching("id = flux-*"), ElementsAre("flux-2-dev", "flux-pro"));
  EXPECT_THAT(Matching("display_name = '*bot'"), ElementsAre("acme-bot"));
  EXPECT_THAT(Matching("id != acme-*"), ElementsAre("claude-sonnet-4-6", "flux-2-dev", "flux-pro"));
  EXPECT_THAT(Matching("id < b"), ElementsAre("acme-bot", "acme-painter"));
  EXPECT_THAT(Matching("id >= flux-pro"), ElementsAre("flux-pro"));
  EXPECT_THAT(Matching("endpoint = \"/chat/completions\""),
              ElementsAre("acme-bot", "claude-sonnet-4-6"));
}

TEST(FilterTest, EnumerationsTakeTheHubsStringOrTheEnumsName) {
  EXPECT_THAT(Matching("model_type = custom"), ElementsAre("acme-bot", "acme-painter"));
  EXPECT_THAT(Matching("model_type = MODEL_TYPE_CUSTOM"), ElementsAre("acme-bot", "acme-painter"));
  EXPECT_THAT(Matching("model_type != base"), ElementsAre("acme-bot", "acme-painter"));
  EXPECT_THAT(Matching("pricing.method = per_image"), ElementsAre("flux-2-dev", "flux-pro"));
  EXPECT_THAT(Matching("pricing.method = per_megapixel"), ElementsAre("acme-painter"));
  EXPECT_THAT(Matching("pricing.method = PRICING_METHOD_OTHER"), ElementsAre("acme-painter"));
}

TEST(FilterTest, ListsHaveAnElementThatMatches) {
  EXPECT_THAT(Matching("capabilities.input:image"), ElementsAre("claude-sonnet-4-6"));
  EXPECT_THAT(Matching("capabilities.output = image"), ElementsAre("flux-2-dev", "flux-pro"));
  EXPECT_THAT(Matching("capabilities.input != image"),
              ElementsAre("acme-bot", "acme-painter", "flux-2-dev", "flux-pro"));
  EXPECT_THAT(Matching("deployments.status:error"), ElementsAre("acme-bot"));
  EXPECT_THAT(Matching("deployments.status:DEPLOYMENT_STATUS_ACTIVE"), ElementsAre("acme-painter"));
  EXPECT_THAT(Matching("deployments.status:warming"), ElementsAre("acme-painter"));
  EXPECT_THAT(Matching("deployments.status:*"), ElementsAre("acme-bot", "acme-painter"));
  EXPECT_THAT(Matching("fine_tuning.actions:text_*"), ElementsAre("acme-bot"));
}

// A comparison with a value the model does not have is false, whatever the comparator.
TEST(FilterTest, NumbersAndMissingPrices) {
  EXPECT_THAT(Matching("pricing.cost_per_image < 0.03"), ElementsAre("flux-2-dev"));
  EXPECT_THAT(Matching("pricing.cost_per_image >= 2.5e-2"), ElementsAre("flux-2-dev", "flux-pro"));
  EXPECT_THAT(Matching("pricing.cost_per_image != 0.025"), ElementsAre("flux-pro"));
  EXPECT_THAT(Matching("pricing.input_cost_per_token <= 1e-6"), ElementsAre("acme-bot"));
  EXPECT_THAT(Matching("pricing.input_cost_per_token = 3e-6"), ElementsAre("claude-sonnet-4-6"));
  EXPECT_THAT(Matching("pricing.output_cost_per_token:*"), ElementsAre("claude-sonnet-4-6"));
  EXPECT_THAT(Matching("NOT pricing.cost_per_image:*"),
              ElementsAre("acme-bot", "acme-painter", "claude-sonnet-4-6"));
  EXPECT_THAT(Matching("fine_tuning.cost_per_second > 0"), ElementsAre("acme-bot"));
}

TEST(FilterTest, TimesInRfc3339OrUnixSeconds) {
  EXPECT_THAT(Matching("created > 2025-08-01T00:00:00Z"), ElementsAre("flux-2-dev", "flux-pro"));
  EXPECT_THAT(Matching("created <= \"2025-06-15T00:00:00Z\""),
              ElementsAre("acme-bot", "claude-sonnet-4-6"));
  EXPECT_THAT(Matching("created = 1749859200"), ElementsAre("acme-bot"));
  EXPECT_THAT(Matching("released_at:*"), ElementsAre("claude-sonnet-4-6"));
  EXPECT_THAT(Matching("released_at < 2030-01-01T00:00:00Z"), ElementsAre("claude-sonnet-4-6"));
}

TEST(FilterTest, OptionalStrings) {
  EXPECT_THAT(Matching("source_model = claude-sonnet-4-6"), ElementsAre("acme-bot"));
  EXPECT_THAT(Matching("source_model:*"), ElementsAre("acme-bot"));
  EXPECT_THAT(Matching("-source_model:*"),
              ElementsAre("acme-painter", "claude-sonnet-4-6", "flux-2-dev", "flux-pro"));
  EXPECT_THAT(Matching("source_model != x"), ElementsAre("acme-bot"));  // absent: false
}

// AIP-160: OR binds tighter than AND; terms side by side are AND'ed; NOT and
// a leading '-' negate.
TEST(FilterTest, PrecedenceAndNegation) {
  EXPECT_THAT(Matching("model_type = custom AND endpoint = \"/images/generate\" OR "
                       "endpoint = \"/chat/completions\""),
              ElementsAre("acme-bot", "acme-painter"));
  EXPECT_THAT(Matching("(model_type = custom AND endpoint = \"/images/generate\") OR "
                       "endpoint = \"/chat/completions\""),
              ElementsAre("acme-bot", "acme-painter", "claude-sonnet-4-6"));
  EXPECT_THAT(Matching("model_type = base capabilities.output:image"),
              ElementsAre("flux-2-dev", "flux-pro"));
  EXPECT_THAT(Matching("NOT (model_type = base OR deployments.status:error)"),
              ElementsAre("acme-painter"));
  EXPECT_THAT(Matching("-model_type = base -id = acme-bot"), ElementsAre("acme-painter"));
  EXPECT_THAT(Matching("pricing.cost_per_image > -1"), ElementsAre("flux-2-dev", "flux-pro"));
}

TEST(FilterTest, ErrorsNameTheProblemAndItsOffset) {
  EXPECT_EQ(ErrorOf("pricing.cost < 1"), "filter: unknown field \"pricing.cost\" at offset 0");
  EXPECT_EQ(ErrorOf("id = a AND pricing.cost_per_image < cheap"),
            "filter: expected a number after \"<\" at offset 36");
  EXPECT_EQ(ErrorOf("created > yesterday"),
            "filter: expected an RFC 3339 time or Unix seconds after \">\" at offset 10");
  EXPECT_EQ(ErrorOf("id"),
            "filter: expected a comparison (=, !=, <, <=, >, >=, :) after \"id\" "
            "at offset 2");
  EXPECT_EQ(ErrorOf("id ="), "filter: expected a value after \"=\" at offset 4");
  EXPECT_EQ(ErrorOf("(id = a"), "filter: unbalanced \"(\" at offset 0");
  EXPECT_EQ(ErrorOf("id = a)"), "filter: unbalanced \")\" at offset 6");
  EXPECT_EQ(ErrorOf("id = \"a"), "filter: unterminated string at offset 5");
  EXPECT_EQ(ErrorOf("= a"), "filter: expected a field name at offset 0");
  EXPECT_EQ(ErrorOf("id = a AND"), "filter: expected a comparison at offset 10");
  EXPECT_EQ(ErrorOf("model_type < base"),
            "filter: cannot order \"model_type\": use =, != or : at offset 11");
  EXPECT_EQ(ErrorOf("capabilities.input > a"),
            "filter: \"capabilities.input\" is a list: use : or = at offset 19");
  EXPECT_EQ(ErrorOf(std::string(2001, ' ')), "filter is 2001 bytes long; at most 2000 are allowed");
  std::string many = "id = a";
  for (int i = 0; i < 100; ++i) many += " OR id = a";
  EXPECT_EQ(ErrorOf(many), "filter: more than 100 comparisons; at most 100 are allowed");
  std::string deep(40, '(');
  EXPECT_EQ(ErrorOf(deep + "id = a" + std::string(40, ')')),
            "filter: nested too deep at offset 32");
}

TEST(WildcardMatchTest, StarsMatchAnyRun) {
  EXPECT_TRUE(WildcardMatch("*", ""));
  EXPECT_TRUE(WildcardMatch("a*c", "abbbc"));
  EXPECT_TRUE(WildcardMatch("*a*b*", "xxaxxbxx"));
  EXPECT_FALSE(WildcardMatch("a*c", "abcd"));
  EXPECT_TRUE(WildcardMatch("a**", "a"));
  EXPECT_FALSE(WildcardMatch("abc", "ab"));
}

}  // namespace
}  // namespace modelcatalog::catalog
