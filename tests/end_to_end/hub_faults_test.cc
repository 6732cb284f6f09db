// One test per hub fault, each over real HTTP from the hub emulator: the
// served catalog stays complete while the hub misbehaves, and the service
// recovers when the hub does.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"
#include "services/catalog/server/catalog_server.h"
#include "tests/support/catalog_server_for_test.h"
#include "tests/support/hub_emulator_process.h"

namespace modelcatalog {
namespace {

using ::modelcatalog::testing::HubEmulatorProcess;
using ::modelcatalog::v1::ModelCatalogService;
using ::testing::HasSubstr;

struct Fault {
  std::string name;
  std::string fault_json;  // injected for more requests than a sync's retries make
  absl::StatusCode sync_code;
  std::string error_part;  // in GetSyncStatus.last_error; $URL: the list's URL
};

// Test names and failures name the fault, not its bytes.
void PrintTo(const Fault& fault, std::ostream* out) { *out << fault.name; }

class HubFaultsTest : public ::testing::TestWithParam<Fault> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub = HubEmulatorProcess::Start();
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = *std::move(hub);
    absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> server = testing::StartCatalogServer(
        hub_->api_url(),
        [](catalog::CatalogServerOptions* o) { o->hub.request_timeout = absl::Milliseconds(500); });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = ModelCatalogService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
    expected_ids_ = ServedIds();
    ASSERT_EQ(expected_ids_.size(), 17u);
  }

  std::vector<std::string> ServedIds() {
    v1::ListModelsRequest request;
    request.set_page_size(1000);
    v1::ListModelsResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(stub_->ListModels(&context, request, &response).ok());
    std::vector<std::string> ids;
    for (const auto& m : response.models()) ids.push_back(m.id());
    return ids;
  }

  v1::GetSyncStatusResponse Status() {
    v1::GetSyncStatusResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(stub_->GetSyncStatus(&context, {}, &response).ok());
    return response;
  }

  std::unique_ptr<HubEmulatorProcess> hub_;
  std::unique_ptr<catalog::CatalogServer> server_;
  std::unique_ptr<ModelCatalogService::Stub> stub_;
  std::vector<std::string> expected_ids_;
};

TEST_P(HubFaultsTest, ServesTheLastGoodCatalogAndRecovers) {
  const Fault& fault = GetParam();
  ASSERT_TRUE(hub_->InjectFault(fault.fault_json).ok());
  absl::Status failed = server_->SyncNow();
  EXPECT_EQ(failed.code(), fault.sync_code) << failed;
  EXPECT_EQ(ServedIds(), expected_ids_);
  v1::GetSyncStatusResponse during = Status();
  EXPECT_THAT(during.last_error(), HasSubstr(absl::StrReplaceAll(
                                       fault.error_part, {{"$URL", hub_->api_url() + "/models"}})));
  EXPECT_EQ(during.consecutive_failures(), 1);
  EXPECT_EQ(during.model_count(), 17);
  EXPECT_TRUE(during.has_staleness());

  ASSERT_TRUE(hub_->ClearFaults().ok());
  ASSERT_TRUE(server_->SyncNow().ok());
  v1::GetSyncStatusResponse after = Status();
  EXPECT_EQ(after.last_error(), "");
  EXPECT_EQ(after.consecutive_failures(), 0);
  EXPECT_EQ(ServedIds(), expected_ids_);
}

INSTANTIATE_TEST_SUITE_P(
    EachFault, HubFaultsTest,
    ::testing::Values(
        Fault{"server_error", R"({"fault":"http_error","status":500,"count":4,"message":"boom"})",
              absl::StatusCode::kInternal, "GET $URL answered HTTP 500: boom (after 4 attempts)"},
        Fault{"unavailable", R"({"fault":"http_error","status":503,"count":4})",
              absl::StatusCode::kUnavailable, "GET $URL answered HTTP 503: "},
        Fault{"malformed_json", R"({"fault":"malformed_json","count":4})",
              absl::StatusCode::kDataLoss, "malformed response from GET $URL: invalid JSON"},
        Fault{"wrong_shape", R"({"fault":"wrong_shape","count":4})", absl::StatusCode::kDataLoss,
              "malformed response from GET $URL"},
        Fault{"empty_body", R"({"fault":"empty_body","count":4})", absl::StatusCode::kDataLoss,
              "malformed response from GET $URL"},
        Fault{"truncated", R"({"fault":"truncated","count":4})", absl::StatusCode::kUnavailable,
              "GET $URL: "},
        Fault{"hang_past_the_timeout", R"({"fault":"hang","count":4})",
              absl::StatusCode::kDeadlineExceeded, "GET $URL: "}),
    [](const ::testing::TestParamInfo<Fault>& info) { return info.param.name; });

// A --hub_url without the API's path reaches the hub's site, not its API: the
// sync's error says which URL answered what, and what --hub_url should be.
TEST(HubUrlTest, AWrongHubUrlIsNamedWithAHint) {
  absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub = HubEmulatorProcess::Start();
  ASSERT_TRUE(hub.ok()) << hub.status();
  catalog::CatalogServerOptions options;
  options.listen = "127.0.0.1:0";
  options.hub.base_url = (*hub)->base_url();  // no /api/ai
  options.sync_interval = absl::Hours(1);
  options.sync_retry.initial_backoff = absl::Milliseconds(5);
  absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> server =
      catalog::CatalogServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const absl::Status failed = (*server)->SyncNow();
  EXPECT_EQ(failed.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(failed.message(),
            absl::StrCat("GET ", (*hub)->base_url(),
                         "/models answered HTTP 404: Not found: GET /models (--hub_url is the base "
                         "of the hub's model API, to which /models is appended: it ends in "
                         "/api/ai, as in https://hub.oxen.ai/api/ai)"));
}

TEST_F(HubFaultsTest, HealthSaysHowStaleTheCatalogIsAndWhy) {
  ASSERT_TRUE(
      hub_->InjectFault(R"({"fault":"http_error","status":503,"count":4,"message":"hub down"})")
          .ok());
  server_->SyncNow().IgnoreError();
  auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, {}, &response).ok());
  // Still SERVING: stale is better than empty, so probes keep the replica in.
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  const auto& trailers = context.GetServerTrailingMetadata();
  auto staleness = trailers.find("catalog-staleness-seconds");
  auto error = trailers.find("catalog-last-error");
  ASSERT_NE(staleness, trailers.end());
  ASSERT_NE(error, trailers.end());
  EXPECT_THAT(std::string(error->second.data(), error->second.size()), HasSubstr("hub down"));
  EXPECT_THAT(std::string(staleness->second.data(), staleness->second.size()),
              ::testing::MatchesRegex("[0-9]+"));
}

TEST_F(HubFaultsTest, RateLimitWithRetryAfterIsWaitedOutWithinTheSync) {
  absl::StatusOr<testing::HubRequestCounts> before = hub_->Stats();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(
      hub_->InjectFault(R"({"fault":"rate_limit","retry_after_seconds":1,"count":1})").ok());
  // The second attempt comes after the hub's Retry-After, and succeeds.
  EXPECT_TRUE(server_->SyncNow().ok());
  absl::StatusOr<testing::HubRequestCounts> after = hub_->Stats();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->list - before->list, 2);
  EXPECT_EQ(Status().last_error(), "");
}

TEST_F(HubFaultsTest, ARateLimitThatOutlastsTheRetriesIsReported) {
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"rate_limit","retry_after_seconds":0,"count":4,
                                    "message":"Rate limit exceeded"})")
                  .ok());
  EXPECT_EQ(server_->SyncNow().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(Status().last_error(), HasSubstr("Rate limit exceeded"));
  EXPECT_EQ(ServedIds(), expected_ids_);
}

TEST_F(HubFaultsTest, AMassDisappearanceWaitsForConfirmation) {
  ASSERT_TRUE(hub_->ReplaceCatalog(R"({"object":"list","data":[]})").ok());
  absl::Status suspect = server_->SyncNow();
  EXPECT_EQ(suspect.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ServedIds(), expected_ids_);
  EXPECT_THAT(Status().last_error(),
              HasSubstr("suspect sync: the hub listed 0 models where the catalog has 17"));
  // The hub comes back with its catalog: nothing was lost, all is well.
  ASSERT_TRUE(hub_->Reset().ok());
  ASSERT_TRUE(server_->SyncNow().ok());
  EXPECT_EQ(ServedIds(), expected_ids_);
  EXPECT_EQ(Status().last_error(), "");
}

TEST_F(HubFaultsTest, ABadRecordKeepsItsPreviousVersionAndIsReported) {
  // Same id, but a field of the wrong type: the record cannot be read.
  ASSERT_TRUE(
      hub_->PatchModel("flux-2-dev", R"({"created":"yesterday","display_name":"Broken"})").ok());
  ASSERT_TRUE(server_->SyncNow().ok());
  EXPECT_EQ(ServedIds(), expected_ids_);
  v1::GetModelRequest request;
  request.set_id("flux-2-dev");
  v1::GetModelResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->GetModel(&context, request, &response).ok());
  EXPECT_NE(response.model().display_name(), "Broken");
  v1::GetSyncStatusResponse status = Status();
  ASSERT_EQ(status.rejected_records_size(), 1);
  EXPECT_EQ(status.rejected_records(0).id(), "flux-2-dev");
  EXPECT_TRUE(status.rejected_records(0).kept_previous());
  EXPECT_THAT(status.rejected_records(0).error(), HasSubstr(".created"));
}

}  // namespace
}  // namespace modelcatalog
