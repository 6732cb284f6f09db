// EstimateCost on CatalogServiceImpl: the hub's pricing rules, exact amounts,
// the cheapest-first order of a filter and its pages, and every refusal.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/api/catalog_service_impl.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::modelcatalog::v1::EstimateCostRequest;
using ::modelcatalog::v1::EstimateCostResponse;
using ::modelcatalog::v1::Model;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Model Priced(const std::string& id, const std::string& method,
             std::vector<std::pair<std::string, double>> prices) {
  Model model = MakeModel(id);
  v1::Pricing* pricing = model.mutable_pricing();
  pricing->set_method_raw(method);
  if (method == "token") pricing->set_method(v1::PRICING_METHOD_TOKEN);
  if (method == "time") pricing->set_method(v1::PRICING_METHOD_TIME);
  if (method == "per_image") pricing->set_method(v1::PRICING_METHOD_PER_IMAGE);
  if (method == "per_video_output_second") {
    pricing->set_method(v1::PRICING_METHOD_PER_VIDEO_OUTPUT_SECOND);
  }
  if (method == "subscription") pricing->set_method(v1::PRICING_METHOD_OTHER);
  for (const auto& [field, price] : prices) {
    if (field == "input_cost_per_token") pricing->set_input_cost_per_token(price);
    if (field == "output_cost_per_token") pricing->set_output_cost_per_token(price);
    if (field == "cost_per_second") pricing->set_cost_per_second(price);
    if (field == "cost_per_image") pricing->set_cost_per_image(price);
    if (field == "cost_per_second_high_res") pricing->set_cost_per_second_high_res(price);
    if (field == "cost_per_second_with_audio") pricing->set_cost_per_second_with_audio(price);
  }
  return model;
}

class EstimateCostTest : public ::testing::Test {
 protected:
  EstimateCostTest() {
    CatalogServiceOptions options;
    options.clock = [this] { return now_; };
    impl_ = std::make_unique<CatalogServiceImpl>(&store_, &status_, options);
    std::vector<Model> models = {
        Priced("claude", "token",
               {{"input_cost_per_token", 3e-6}, {"output_cost_per_token", 1.5e-5}}),
        Priced("mini", "token",
               {{"input_cost_per_token", 2.5e-7}, {"output_cost_per_token", 2e-6}}),
        Priced("no-prices", "token", {}),
        Priced("input-only", "token", {{"input_cost_per_token", 1e-7}}),
        Priced("flux", "per_image", {{"cost_per_image", 0.025}}),
        Priced("sdxl", "time", {{"cost_per_second", 0.0014}}),
        Priced("kling", "per_video_output_second",
               {{"cost_per_second", 0.112},
                {"cost_per_second_high_res", 0.168},
                {"cost_per_second_with_audio", 0.224}}),
        Priced("plain-video", "per_video_output_second", {{"cost_per_second", 0.05}}),
        Priced("odd", "subscription", {{"cost_per_second", 1}}),
    };
    store_.Publish(CatalogSnapshot::Build(std::move(models), 1, now_));
  }

  absl::StatusOr<EstimateCostResponse> Estimate(const EstimateCostRequest& request) {
    EstimateCostResponse response;
    absl::Status status = impl_->EstimateCost(request, &response);
    if (!status.ok()) return status;
    return response;
  }

  static EstimateCostRequest ForIds(std::vector<std::string> ids) {
    EstimateCostRequest request;
    for (const std::string& id : ids) request.add_model_ids(id);
    return request;
  }

  absl::Time now_ = absl::FromUnixSeconds(1764000000);
  CatalogStore store_;
  SyncStatusRecorder status_{"http://hub.test/api/ai"};
  std::unique_ptr<CatalogServiceImpl> impl_;
};

TEST_F(EstimateCostTest, TokensArePricedExactlyWithABreakdown) {
  EstimateCostRequest request = ForIds({"claude"});
  request.mutable_usage()->set_input_tokens(1000000);
  request.mutable_usage()->set_output_tokens(200000);
  absl::StatusOr<EstimateCostResponse> response = Estimate(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->estimates_size(), 1);
  const v1::CostEstimate& estimate = response->estimates(0);
  EXPECT_EQ(estimate.model_id(), "claude");
  EXPECT_EQ(estimate.pricing_method(), v1::PRICING_METHOD_TOKEN);
  EXPECT_EQ(estimate.pricing_method_raw(), "token");
  EXPECT_EQ(estimate.currency_code(), "USD");
  EXPECT_EQ(estimate.total(), "6");  // 3 + 3, not 5.999999999999999
  ASSERT_EQ(estimate.lines_size(), 2);
  EXPECT_EQ(estimate.lines(0).price_field(), "input_cost_per_token");
  EXPECT_EQ(estimate.lines(0).unit_price(), "0.000003");
  EXPECT_EQ(estimate.lines(0).usage_field(), "input_tokens");
  EXPECT_EQ(estimate.lines(0).quantity(), "1000000");
  EXPECT_EQ(estimate.lines(0).amount(), "3");
  EXPECT_EQ(estimate.lines(1).price_field(), "output_cost_per_token");
  EXPECT_EQ(estimate.lines(1).unit_price(), "0.000015");
  EXPECT_EQ(estimate.lines(1).amount(), "3");
}

TEST_F(EstimateCostTest, EachMethodBillsItsOwnQuantity) {
  EstimateCostRequest request = ForIds({"flux", "sdxl", "kling", "mini"});
  v1::Usage* usage = request.mutable_usage();
  usage->set_images(3);
  usage->set_seconds(2.5);
  usage->set_video_output_seconds(10);
  usage->set_input_tokens(1234);
  absl::StatusOr<EstimateCostResponse> response = Estimate(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->estimates_size(), 4);
  EXPECT_EQ(response->estimates(0).total(), "0.075");   // 3 × 0.025
  EXPECT_EQ(response->estimates(1).total(), "0.0035");  // 2.5 × 0.0014
  EXPECT_EQ(response->estimates(1).lines(0).quantity(), "2.5");
  EXPECT_EQ(response->estimates(2).total(), "1.12");  // 10 × 0.112
  EXPECT_EQ(response->estimates(2).lines(0).price_field(), "cost_per_second");
  EXPECT_EQ(response->estimates(3).total(), "0.0003085");  // 1234 × 2.5e-7
  ASSERT_EQ(response->estimates(3).lines_size(), 1);       // no output tokens: no line
}

TEST_F(EstimateCostTest, VideoSecondsTakeTheHighResOrAudioPriceAsAsked) {
  EstimateCostRequest request = ForIds({"kling"});
  request.mutable_usage()->set_video_output_seconds(5);
  request.mutable_usage()->set_high_res(true);
  absl::StatusOr<EstimateCostResponse> high_res = Estimate(request);
  ASSERT_TRUE(high_res.ok()) << high_res.status();
  EXPECT_EQ(high_res->estimates(0).total(), "0.84");
  EXPECT_EQ(high_res->estimates(0).lines(0).price_field(), "cost_per_second_high_res");
  request.mutable_usage()->set_high_res(false);
  request.mutable_usage()->set_with_audio(true);
  absl::StatusOr<EstimateCostResponse> audio = Estimate(request);
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->estimates(0).total(), "1.12");
  EXPECT_EQ(audio->estimates(0).lines(0).price_field(), "cost_per_second_with_audio");
}

TEST_F(EstimateCostTest, AMissingPriceIsAFailedPreconditionNamingIt) {
  EstimateCostRequest request = ForIds({"claude", "input-only"});
  request.mutable_usage()->set_input_tokens(10);
  request.mutable_usage()->set_output_tokens(10);
  absl::StatusOr<EstimateCostResponse> response = Estimate(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(response.status().message(),
            "model input-only has no pricing.output_cost_per_token (the hub sent none), which "
            "its \"token\" pricing needs for output_tokens");

  request = ForIds({"plain-video"});
  request.mutable_usage()->set_video_output_seconds(4);
  request.mutable_usage()->set_with_audio(true);
  EXPECT_THAT(Estimate(request).status().message(),
              HasSubstr("has no pricing.cost_per_second_with_audio"));

  // A quantity of 0 needs no price.
  request = ForIds({"input-only"});
  request.mutable_usage()->set_input_tokens(10);
  ASSERT_TRUE(Estimate(request).ok());
  EXPECT_EQ(Estimate(request)->estimates(0).total(), "0.000001");
}

TEST_F(EstimateCostTest, AnUnknownMethodOrAnUnbilledUsageIsAFailedPrecondition) {
  EstimateCostRequest request = ForIds({"odd"});
  request.mutable_usage()->set_seconds(1);
  absl::StatusOr<EstimateCostResponse> response = Estimate(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(response.status().message(),
            "model odd has pricing method \"subscription\", which this version does not know "
            "how to price");

  request = ForIds({"sdxl"});
  request.mutable_usage()->set_input_tokens(1000);
  response = Estimate(request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(response.status().message(),
            "model sdxl is priced by \"time\": the usage must give seconds");
}

TEST_F(EstimateCostTest, BadUsageIsAnInvalidArgumentNamingTheField) {
  const auto code_and_message = [&](const EstimateCostRequest& request) {
    absl::Status status = Estimate(request).status();
    return std::make_pair(status.code(), std::string(status.message()));
  };
  EstimateCostRequest request = ForIds({"claude"});
  request.mutable_usage()->set_input_tokens(-1);
  EXPECT_EQ(code_and_message(request),
            std::make_pair(absl::StatusCode::kInvalidArgument,
                           std::string("usage.input_tokens must not be negative, got -1")));
  request.mutable_usage()->set_input_tokens(0);
  request.mutable_usage()->set_seconds(-0.5);
  EXPECT_EQ(code_and_message(request).second,
            "usage.seconds must be a finite number of 0 or more, got -0.5");
  request.mutable_usage()->set_seconds(std::nan(""));
  EXPECT_THAT(code_and_message(request).second, HasSubstr("usage.seconds must be a finite"));
  request.mutable_usage()->set_seconds(0);
  EXPECT_THAT(code_and_message(request).second, HasSubstr("usage is empty"));
  request.mutable_usage()->set_video_output_seconds(1);
  request.mutable_usage()->set_high_res(true);
  request.mutable_usage()->set_with_audio(true);
  EXPECT_THAT(code_and_message(request).second, HasSubstr("usage.high_res and usage.with_audio"));

  EstimateCostRequest neither;
  neither.mutable_usage()->set_images(1);
  EXPECT_EQ(code_and_message(neither).second, "give the models to price: model_ids or a filter");
  EstimateCostRequest both = ForIds({"flux"});
  both.set_filter("id = flux");
  both.mutable_usage()->set_images(1);
  EXPECT_EQ(code_and_message(both).second, "give model_ids or filter, not both");
  EstimateCostRequest unknown = ForIds({"flux", "nope"});
  unknown.mutable_usage()->set_images(1);
  EXPECT_EQ(code_and_message(unknown),
            std::make_pair(absl::StatusCode::kNotFound, std::string("Model not found: nope")));
  EstimateCostRequest empty_id = ForIds({"flux", ""});
  empty_id.mutable_usage()->set_images(1);
  EXPECT_EQ(code_and_message(empty_id).second, "model_ids[1] is empty");
}

std::vector<std::string> IdsAndTotals(const EstimateCostResponse& response) {
  std::vector<std::string> out;
  for (const v1::CostEstimate& e : response.estimates()) {
    out.push_back(absl::StrCat(e.model_id(), "=", e.total()));
  }
  return out;
}

TEST_F(EstimateCostTest, AFilterListsPricedModelsCheapestFirstAndCountsTheOthers) {
  EstimateCostRequest request;
  request.set_filter("pricing.method = token");
  request.mutable_usage()->set_input_tokens(1000000);
  request.mutable_usage()->set_output_tokens(200000);
  absl::StatusOr<EstimateCostResponse> response = Estimate(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_THAT(IdsAndTotals(*response), ElementsAre("mini=0.65", "claude=6"));
  EXPECT_EQ(response->total_size(), 2);
  EXPECT_EQ(response->unpriced_size(), 2);  // no-prices, input-only (no output price)
  EXPECT_TRUE(response->next_page_token().empty());
}

TEST_F(EstimateCostTest, FilterPagesFollowTheOrderAndBreakTiesById) {
  std::vector<Model> models;
  // Four prices for ten models: ties broken by id.
  const double prices[] = {0, 0.01, 0.02, 0.03};
  for (int i = 0; i < 10; ++i) {
    models.push_back(
        Priced(absl::StrCat("img-", i), "per_image", {{"cost_per_image", prices[i % 4]}}));
  }
  store_.Publish(CatalogSnapshot::Build(std::move(models), 2, now_));
  EstimateCostRequest request;
  request.set_filter("id = \"img-*\"");
  request.mutable_usage()->set_images(1);
  request.set_page_size(3);
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<EstimateCostResponse> response = Estimate(request);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->total_size(), 10);
    for (const std::string& s : IdsAndTotals(*response)) seen.push_back(s);
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  EXPECT_THAT(seen,
              ElementsAre("img-0=0", "img-4=0", "img-8=0", "img-1=0.01", "img-5=0.01", "img-9=0.01",
                          "img-2=0.02", "img-6=0.02", "img-3=0.03", "img-7=0.03"));
}

TEST_F(EstimateCostTest, APageTokenBelongsToItsFilterAndUsage) {
  EstimateCostRequest request;
  request.set_filter("pricing.method = token");
  request.mutable_usage()->set_input_tokens(10);
  request.set_page_size(1);
  absl::StatusOr<EstimateCostResponse> first = Estimate(request);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_FALSE(first->next_page_token().empty());
  request.set_page_token(first->next_page_token());
  request.mutable_usage()->set_input_tokens(11);
  EXPECT_EQ(Estimate(request).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Estimate(request).status().message(),
              HasSubstr("page_token belongs to a different query"));
  request.set_page_token("garbage");
  EXPECT_EQ(Estimate(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.set_page_token("");
  request.set_filter("pricing.nope = 1");
  EXPECT_THAT(Estimate(request).status().message(), HasSubstr("unknown field"));
  request.set_filter("pricing.method = token");
  request.set_page_size(-1);
  EXPECT_EQ(Estimate(request).status().message(), "page_size must not be negative, got -1");
}

TEST_F(EstimateCostTest, UnavailableBeforeTheFirstCatalog) {
  CatalogStore empty;
  CatalogServiceImpl impl(&empty, &status_);
  EstimateCostRequest request = ForIds({"claude"});
  request.mutable_usage()->set_input_tokens(1);
  EstimateCostResponse response;
  EXPECT_EQ(impl.EstimateCost(request, &response).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace modelcatalog::catalog
