// The HTTP listeners of catalog-server: on the metrics port, Prometheus metrics
// that count what happened and a health probe, and nothing of the catalog's
// content; on its own port, the JSON view of the catalog in the hub's own shape.
#include "absl/strings/str_cat.h"
#include "clients/hub/model_json.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
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
using ::modelcatalog::testing::HubEmulatorProcess;
using ::testing::HasSubstr;

class HttpEndpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub = HubEmulatorProcess::Start();
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = *std::move(hub);
    absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> server =
        testing::StartCatalogServer(hub_->api_url(), [](catalog::CatalogServerOptions* o) {
          o->metrics_listen = "127.0.0.1:0";
          o->http_listen = "127.0.0.1:0";
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_NE(server_->metrics_port(), 0);
    ASSERT_NE(server_->http_port(), 0);
    ASSERT_NE(server_->http_port(), server_->metrics_port());
    stub_ = v1::ModelCatalogService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  // On the metrics port.
  std::string OpsUrl(const std::string& path) {
    return absl::StrCat("http://127.0.0.1:", server_->metrics_port(), path);
  }
  // On the JSON view's port.
  std::string Url(const std::string& path) {
    return absl::StrCat("http://127.0.0.1:", server_->http_port(), path);
  }

  std::unique_ptr<HubEmulatorProcess> hub_;
  std::unique_ptr<catalog::CatalogServer> server_;
  std::unique_ptr<v1::ModelCatalogService::Stub> stub_;
};

TEST_F(HttpEndpointsTest, MetricsCountCallsSyncsAndHubRequests) {
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    v1::ListModelsResponse response;
    ASSERT_TRUE(stub_->ListModels(&context, {}, &response).ok());
  }
  grpc::ClientContext context;
  v1::GetModelRequest missing;
  missing.set_id("nope");
  v1::GetModelResponse response;
  EXPECT_FALSE(stub_->GetModel(&context, missing, &response).ok());

  auto metrics = Fetch(OpsUrl("/metrics"));
  ASSERT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.Header("Content-Type"), HasSubstr("text/plain; version=0.0.4"));
  const std::string& text = metrics.body;
  EXPECT_THAT(text,
              HasSubstr("modelcatalog_rpc_calls_total{method=\"ListModels\",code=\"OK\"} 3\n"));
  EXPECT_THAT(
      text, HasSubstr("modelcatalog_rpc_calls_total{method=\"GetModel\",code=\"NOT_FOUND\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("modelcatalog_rpc_latency_seconds_count{method=\"ListModels\"} 3\n"));
  EXPECT_THAT(
      text,
      HasSubstr("modelcatalog_rpc_latency_seconds_bucket{method=\"ListModels\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("modelcatalog_syncs_total{outcome=\"success\"}"));
  EXPECT_THAT(text, HasSubstr("modelcatalog_hub_requests_total{endpoint=\"list\",status=\"200\"}"));
  EXPECT_THAT(text, HasSubstr("modelcatalog_catalog_models 17\n"));
  EXPECT_THAT(text, HasSubstr("modelcatalog_watchers 0\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE modelcatalog_rpc_latency_seconds histogram\n"));
  // Every series is there from the start, zeros included, so rate() sees the
  // first failure of a kind.
  EXPECT_THAT(
      text, HasSubstr("modelcatalog_rpc_calls_total{method=\"GetModel\",code=\"DATA_LOSS\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("modelcatalog_syncs_total{outcome=\"failure\"} 0\n"));
}

TEST_F(HttpEndpointsTest, TheJsonViewIsTheHubsOwnShape) {
  auto list = Fetch(Url("/v1/models"));
  ASSERT_EQ(list.status, 200);
  EXPECT_THAT(list.Header("Content-Type"), HasSubstr("application/json"));
  absl::StatusOr<hub::ParsedModelList> served = hub::ParseModelList(list.body);
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_TRUE(served->rejected.empty());
  ASSERT_EQ(served->models.size(), 17u);
  // Model for model, what the view serves reads back as what the hub sent.
  auto from_hub = Fetch(hub_->api_url() + "/models");
  absl::StatusOr<hub::ParsedModelList> original = hub::ParseModelList(from_hub.body);
  ASSERT_TRUE(original.ok());
  for (const v1::Model& model : original->models) {
    auto one = Fetch(Url("/v1/models/" + model.id()));
    ASSERT_EQ(one.status, 200) << model.id();
    absl::StatusOr<v1::Model> parsed = hub::ParseModel(one.body);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*parsed, model)) << model.id();
  }
}

TEST_F(HttpEndpointsTest, FiltersAndErrorsLikeTheHub) {
  auto filtered = Fetch(Url("/v1/models?developer_name=pixel%20studio"));
  ASSERT_EQ(filtered.status, 200);
  absl::StatusOr<hub::ParsedModelList> models = hub::ParseModelList(filtered.body);
  ASSERT_TRUE(models.ok());
  ASSERT_EQ(models->models.size(), 2u);
  for (const auto& m : models->models) EXPECT_EQ(m.developer().name(), "Pixel Studio");

  auto missing = Fetch(Url("/v1/models/no-such-model"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body,
            R"({"status":"error","status_message":"Model not found: no-such-model"})");
  auto elsewhere = Fetch(Url("/nothing-here"));
  EXPECT_EQ(elsewhere.status, 404);
  EXPECT_EQ(elsewhere.body, R"({"status":"error","status_message":"Not found: /nothing-here"})");
  testing::FetchOptions post;
  post.method = "POST";
  auto posted = Fetch(Url("/v1/models"), post);
  EXPECT_EQ(posted.status, 405);
  EXPECT_EQ(posted.Header("Allow"), "GET, HEAD");
  EXPECT_EQ(posted.body, R"({"status":"error","status_message":"Method not allowed: POST"})");
  testing::FetchOptions head;
  head.method = "HEAD";
  auto headed = Fetch(Url("/v1/models/claude-sonnet-4-6"), head);
  EXPECT_EQ(headed.status, 200);
  EXPECT_TRUE(headed.body.empty());
  EXPECT_NE(headed.Header("Content-Length"), "");
  EXPECT_NE(headed.Header("Content-Length"), "0");
}

TEST_F(HttpEndpointsTest, TheMetricsPortServesProbesAndScrapersButNoModelData) {
  auto healthz = Fetch(OpsUrl("/healthz"));
  EXPECT_EQ(healthz.status, 200);
  EXPECT_EQ(healthz.body, "SERVING\n");
  // The catalog's content is not on this port, whatever the path.
  for (const std::string path : {"/v1/models", "/v1/models/claude-sonnet-4-6"}) {
    auto models = Fetch(OpsUrl(path));
    EXPECT_EQ(models.status, 404) << path;
    EXPECT_EQ(models.body,
              absl::StrCat(R"({"status":"error","status_message":"Not found: )", path, "\"}"));
  }
  // Nor in the metrics: counts and codes, never an id, a name or a price.
  auto metrics = Fetch(OpsUrl("/metrics"));
  ASSERT_EQ(metrics.status, 200);
  for (const char* model_data : {"claude", "sonnet", "Anthropic", "flux", "3e-06", "0.000003"}) {
    EXPECT_THAT(metrics.body, ::testing::Not(HasSubstr(model_data))) << model_data;
  }
  // And the JSON view's port serves neither metrics nor the probe.
  EXPECT_EQ(Fetch(Url("/metrics")).status, 404);
  EXPECT_EQ(Fetch(Url("/healthz")).status, 404);
}

}  // namespace
}  // namespace modelcatalog
