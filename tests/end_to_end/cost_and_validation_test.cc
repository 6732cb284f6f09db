// EstimateCost and ValidateRequest end to end: catalog-server synced from the
// hub emulator's sample catalog over HTTP, asked over real gRPC and through
// the JSON view, with and without caller tokens.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"
#include "services/catalog/server/catalog_server.h"
#include "tests/support/catalog_server_for_test.h"
#include "tests/support/curl_fetch.h"
#include "tests/support/hub_emulator_process.h"

namespace modelcatalog {
namespace {

using ::modelcatalog::testing::Fetch;
using ::modelcatalog::testing::FetchOptions;
using ::modelcatalog::testing::HubEmulatorProcess;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class CostAndValidationTest : public ::testing::Test {
 protected:
  void Start(const std::string& tokens_file = "") {
    absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub = HubEmulatorProcess::Start();
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = *std::move(hub);
    absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> server =
        testing::StartCatalogServer(hub_->api_url(), [&](catalog::CatalogServerOptions* o) {
          o->http_listen = "127.0.0.1:0";
          o->metrics_listen = "";
          o->auth_tokens_file = tokens_file;
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::ModelCatalogService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  std::string Url(const std::string& path) {
    return absl::StrCat("http://127.0.0.1:", server_->http_port(), path);
  }

  std::unique_ptr<HubEmulatorProcess> hub_;
  std::unique_ptr<catalog::CatalogServer> server_;
  std::unique_ptr<v1::ModelCatalogService::Stub> stub_;
};

TEST_F(CostAndValidationTest, TheCheapestChatModelThatTakesImagesIsOneCall) {
  Start();
  v1::EstimateCostRequest request;
  request.set_filter(R"(capabilities.input:image AND endpoint = "/chat/completions")");
  request.mutable_usage()->set_input_tokens(1000000);
  request.mutable_usage()->set_output_tokens(200000);
  grpc::ClientContext context;
  v1::EstimateCostResponse response;
  const grpc::Status status = stub_->EstimateCost(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<std::string> ranked;
  for (const auto& e : response.estimates()) ranked.push_back(e.model_id() + "=" + e.total());
  // gemini-2-5-flash matches but the hub sends no token prices for it.
  EXPECT_THAT(ranked, ElementsAre("gpt-5-mini=0.65", "claude-sonnet-4-6=6"));
  EXPECT_EQ(response.unpriced_size(), 1);
}

TEST_F(CostAndValidationTest, GrpcAnswersAndRefusesByName) {
  Start();
  v1::EstimateCostRequest request;
  request.add_model_ids("kling-video-o3-pro-reference-to-video");
  request.mutable_usage()->set_video_output_seconds(5);
  request.mutable_usage()->set_with_audio(true);
  {
    grpc::ClientContext context;
    v1::EstimateCostResponse response;
    ASSERT_TRUE(stub_->EstimateCost(&context, request, &response).ok());
    ASSERT_EQ(response.estimates_size(), 1);
    EXPECT_EQ(response.estimates(0).total(), "1.12");
  }
  request.set_model_ids(0, "hermes-omega-video");  // no price with audio
  {
    grpc::ClientContext context;
    v1::EstimateCostResponse response;
    const grpc::Status status = stub_->EstimateCost(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(status.error_message(), HasSubstr("pricing.cost_per_second_with_audio"));
  }
  request.mutable_usage()->set_video_output_seconds(-1);
  {
    grpc::ClientContext context;
    v1::EstimateCostResponse response;
    const grpc::Status status = stub_->EstimateCost(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("usage.video_output_seconds"));
  }

  v1::ValidateRequestRequest validate;
  validate.set_model_id("flux-2-dev");
  validate.set_parameters_json(R"({"prompt": "a fox", "num_images": 9})");
  grpc::ClientContext context;
  v1::ValidateRequestResponse response;
  ASSERT_TRUE(stub_->ValidateRequest(&context, validate, &response).ok());
  EXPECT_FALSE(response.valid());
  ASSERT_EQ(response.violations_size(), 1);
  EXPECT_EQ(response.violations(0).pointer(), "/num_images");
  EXPECT_EQ(response.violations(0).keyword(), "maximum");
  EXPECT_EQ(response.violations(0).message(), "must be at most 4, got 9");
}

TEST_F(CostAndValidationTest, TheJsonViewValidatesAndEstimates) {
  Start();
  FetchOptions post;
  post.method = "POST";
  post.headers = {"Content-Type: application/json"};
  post.body = R"({"prompt": "a fox", "aspect_ratio": "2:1"})";
  auto validated = Fetch(Url("/v1/models/flux-2-dev:validate"), post);
  EXPECT_EQ(validated.status, 200);
  EXPECT_THAT(validated.body, HasSubstr(R"("valid":false)"));
  EXPECT_THAT(validated.body, HasSubstr(R"("pointer":"/aspect_ratio","keyword":"enum")"));

  post.body = R"({"messages": [{"role": "user", "content": "hi"}]})";
  auto valid = Fetch(Url("/v1/models/claude-sonnet-4-6:validate"), post);
  EXPECT_EQ(valid.status, 200);
  EXPECT_THAT(valid.body, HasSubstr(R"("valid":true)"));

  post.body = "{not json";
  auto not_json = Fetch(Url("/v1/models/flux-2-dev:validate"), post);
  EXPECT_EQ(not_json.status, 400);
  EXPECT_THAT(not_json.body, HasSubstr("parameters_json is not JSON"));
  post.body = "{}";
  EXPECT_EQ(Fetch(Url("/v1/models/nope:validate"), post).status, 404);
  auto wrong_method = Fetch(Url("/v1/models/flux-2-dev:validate"));
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.Header("Allow"), "POST");

  auto estimate =
      Fetch(Url("/v1/models/claude-sonnet-4-6:estimate?input_tokens=1000000&output_tokens=200000"));
  EXPECT_EQ(estimate.status, 200);
  EXPECT_THAT(estimate.body, HasSubstr(R"("model_id":"claude-sonnet-4-6")"));
  EXPECT_THAT(estimate.body, HasSubstr(R"("total":"6")"));
  EXPECT_THAT(estimate.body, HasSubstr(R"("unit_price":"0.000003")"));
  auto missing_price = Fetch(Url("/v1/models/gemini-2-5-flash:estimate?input_tokens=10"));
  EXPECT_EQ(missing_price.status, 400);
  EXPECT_THAT(missing_price.body, HasSubstr("pricing.input_cost_per_token"));
  EXPECT_EQ(Fetch(Url("/v1/models/flux-2-dev:estimate?images=two")).status, 400);
  EXPECT_EQ(Fetch(Url("/v1/models/flux-2-dev:estimate?images=-2")).status, 400);
}

TEST_F(CostAndValidationTest, BothNeedACallerTokenWhereTheRestDoes) {
  const std::string tokens = ::testing::TempDir() + "/cost_and_validation_tokens";
  std::ofstream(tokens) << "reader-token read\n";
  Start(tokens);
  {
    grpc::ClientContext context;
    v1::EstimateCostRequest request;
    request.add_model_ids("flux-2-dev");
    request.mutable_usage()->set_images(1);
    v1::EstimateCostResponse response;
    EXPECT_EQ(stub_->EstimateCost(&context, request, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer reader-token");
    v1::ValidateRequestRequest request;
    request.set_model_id("flux-2-dev");
    v1::ValidateRequestResponse response;
    EXPECT_TRUE(stub_->ValidateRequest(&context, request, &response).ok());
  }
  FetchOptions post;
  post.method = "POST";
  post.body = R"({"prompt": "x"})";
  EXPECT_EQ(Fetch(Url("/v1/models/flux-2-dev:validate"), post).status, 401);
  EXPECT_EQ(Fetch(Url("/v1/models/flux-2-dev:estimate?images=1")).status, 401);
  post.headers = {"Authorization: Bearer reader-token"};
  EXPECT_EQ(Fetch(Url("/v1/models/flux-2-dev:validate"), post).status, 200);
  FetchOptions get;
  get.headers = {"Authorization: Bearer reader-token"};
  EXPECT_EQ(Fetch(Url("/v1/models/flux-2-dev:estimate?images=1"), get).status, 200);
}

}  // namespace
}  // namespace modelcatalog
