// catalog-server in-process over real sockets, syncing over real HTTP from the
// real hub emulator (a separate process): every RPC and every error code as a
// gRPC client sees them.
#include "services/catalog/server/catalog_server.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"
#include "tests/support/hub_emulator_process.h"

namespace modelcatalog {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::modelcatalog::testing::HubEmulatorProcess;
using ::modelcatalog::v1::GetModelRequest;
using ::modelcatalog::v1::GetModelResponse;
using ::modelcatalog::v1::GetSyncStatusResponse;
using ::modelcatalog::v1::ListModelsRequest;
using ::modelcatalog::v1::ListModelsResponse;
using ::modelcatalog::v1::ModelCatalogService;
using ::modelcatalog::v1::SearchModelsRequest;
using ::modelcatalog::v1::SearchModelsResponse;
using ::testing::ElementsAreArray;

std::unique_ptr<grpc::ClientContext> Deadline(absl::Duration d = absl::Seconds(10)) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + d));
  return context;
}

class CatalogServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub = HubEmulatorProcess::Start();
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = *std::move(hub);
    hub::HubClientOptions options;
    options.base_url = hub_->api_url();
    hub_client_ = std::make_unique<hub::HubClient>(std::move(options));
  }

  // Starts the server; the hub's first answer decides whether it loads a catalog.
  void StartServer(const std::string& snapshot_path = "", std::string hub_url = "") {
    catalog::CatalogServerOptions options;
    options.listen = "127.0.0.1:0";
    options.hub.base_url = hub_url.empty() ? hub_->api_url() : hub_url;
    options.snapshot_path = snapshot_path;
    options.sync_interval = absl::Hours(1);  // Tests sync explicitly with SyncNow.
    options.sync_retry.initial_backoff = absl::Milliseconds(5);
    absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> server =
        catalog::CatalogServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = ModelCatalogService::NewStub(channel_);
    health_ = Health::NewStub(channel_);
  }

  // Waits for SERVING through the health Watch stream: the server pushes it the
  // moment the first catalog is published, no polling needed.
  void WaitServing() {
    auto context = Deadline();
    HealthCheckRequest request;
    auto reader = health_->Watch(context.get(), request);
    HealthCheckResponse response;
    while (reader->Read(&response)) {
      if (response.status() == HealthCheckResponse::SERVING) {
        context->TryCancel();
        reader->Finish().IgnoreError();
        return;
      }
    }
    FAIL() << "never SERVING: " << reader->Finish().error_message();
  }

  void StartServing() {
    StartServer();
    WaitServing();
  }

  std::vector<std::string> HubIds(const hub::ListModelsFilter& filter = {}) {
    absl::StatusOr<hub::ParsedModelList> list = hub_client_->ListModels(filter);
    EXPECT_TRUE(list.ok()) << list.status();
    std::vector<std::string> ids;
    if (list.ok()) {
      for (const auto& m : list->models) ids.push_back(m.id());
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  std::vector<std::string> ListAll(ListModelsRequest request) {
    std::vector<std::string> ids;
    for (int page = 0; page < 1000; ++page) {
      ListModelsResponse response;
      grpc::Status status = stub_->ListModels(Deadline().get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const auto& m : response.models()) ids.push_back(m.id());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return ids;
  }

  std::unique_ptr<HubEmulatorProcess> hub_;
  std::unique_ptr<hub::HubClient> hub_client_;
  std::unique_ptr<catalog::CatalogServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ModelCatalogService::Stub> stub_;
  std::unique_ptr<Health::Stub> health_;
};

// The default response limit follows the memory the process may use: two catalogs and the
// server's own memory fit under it (see DefaultMaxHubResponseBytes).
TEST(DefaultMaxHubResponseBytesTest, KeepsTwoCatalogsAndTheServerUnderTheMemoryLimit) {
  EXPECT_EQ(catalog::DefaultMaxHubResponseBytes(absl::nullopt), size_t{512} << 20);
  for (const uint64_t limit : {uint64_t{256} << 20, uint64_t{512} << 20, uint64_t{4} << 30}) {
    SCOPED_TRACE(limit);
    const size_t max_json = catalog::DefaultMaxHubResponseBytes(limit);
    EXPECT_LE(catalog::kServerOwnBytes + 2 * catalog::kCatalogBytesPerJsonByte * max_json, limit);
    EXPECT_GT(catalog::kServerOwnBytes + 2 * catalog::kCatalogBytesPerJsonByte * (max_json + 1),
              limit);
  }
  // A limit too small for any catalog does not refuse every list.
  EXPECT_EQ(catalog::DefaultMaxHubResponseBytes(uint64_t{32} << 20),
            catalog::kMinMaxHubResponseBytes);
}

TEST_F(CatalogServerTest, ListsTheHubsWholeCatalogInIdOrder) {
  StartServing();
  ListModelsRequest request;
  request.set_page_size(3);
  EXPECT_THAT(ListAll(request), ElementsAreArray(HubIds()));
}

TEST_F(CatalogServerTest, FiltersLikeTheHub) {
  StartServing();
  for (const std::string developer : {"anthropic", "OpenAI", "nobody"}) {
    ListModelsRequest request;
    request.set_developer_name(developer);
    EXPECT_THAT(ListAll(request), ElementsAreArray(HubIds({developer, ""}))) << developer;
  }
  ListModelsRequest by_action;
  by_action.set_action("text_generation");
  const std::vector<std::string> hub_ids = HubIds({"", "text_generation"});
  EXPECT_FALSE(hub_ids.empty());
  EXPECT_THAT(ListAll(by_action), ElementsAreArray(hub_ids));
}

TEST_F(CatalogServerTest, GetReturnsExactlyWhatTheHubSent) {
  StartServing();
  for (const std::string& id : HubIds()) {
    absl::StatusOr<v1::Model> from_hub = hub_client_->RetrieveModel(id);
    ASSERT_TRUE(from_hub.ok()) << from_hub.status();
    GetModelRequest request;
    request.set_id(id);
    GetModelResponse response;
    ASSERT_TRUE(stub_->GetModel(Deadline().get(), request, &response).ok()) << id;
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(response.model(), *from_hub))
        << id << "\nserved: " << response.model().DebugString()
        << "\nhub: " << from_hub->DebugString();
  }
}

TEST_F(CatalogServerTest, SearchFindsTheWordsTheHubFindsExactIdFirst) {
  StartServing();
  const std::vector<std::string> ids = HubIds();
  ASSERT_FALSE(ids.empty());
  const std::string exact = ids.front();
  SearchModelsRequest request;
  request.set_query(exact);
  request.set_page_size(1);
  SearchModelsResponse first;
  ASSERT_TRUE(stub_->SearchModels(Deadline().get(), request, &first).ok());
  ASSERT_EQ(first.models_size(), 1);
  EXPECT_EQ(first.models(0).id(), exact);

  // Every model the hub's own search finds for a word, whatever the order,
  // each once across the pages; more only through the developer's name or a
  // typo (here: none).
  for (const std::string query : {"claude", "FLUX", "video", "gemini"}) {
    SearchModelsRequest search;
    search.set_query(query);
    search.set_page_size(2);
    std::set<std::string> served;
    for (int page = 0; page < 100; ++page) {
      SearchModelsResponse response;
      ASSERT_TRUE(stub_->SearchModels(Deadline().get(), search, &response).ok());
      for (const auto& m : response.models()) EXPECT_TRUE(served.insert(m.id()).second) << m.id();
      if (response.next_page_token().empty()) break;
      search.set_page_token(response.next_page_token());
    }
    absl::StatusOr<hub::ParsedModelList> from_hub = hub_client_->SearchModels(query);
    ASSERT_TRUE(from_hub.ok());
    std::set<std::string> expected;
    for (const auto& m : from_hub->models) expected.insert(m.id());
    EXPECT_FALSE(expected.empty()) << query;
    EXPECT_EQ(served, expected) << query;
  }
}

TEST_F(CatalogServerTest, ErrorCodesAndMessages) {
  StartServing();
  struct Case {
    std::string name;
    grpc::Status status;
    grpc::StatusCode code;
    std::string message;
  };
  GetModelResponse get;
  ListModelsResponse list;
  SearchModelsResponse search;
  GetModelRequest missing;
  missing.set_id("no-such-model");
  ListModelsRequest negative;
  negative.set_page_size(-5);
  ListModelsRequest bad_token;
  bad_token.set_page_token("bm90IGEgdG9rZW4");
  const std::vector<Case> cases = {
      {"unknown id", stub_->GetModel(Deadline().get(), missing, &get), grpc::StatusCode::NOT_FOUND,
       "Model not found: no-such-model"},
      {"empty id", stub_->GetModel(Deadline().get(), {}, &get), grpc::StatusCode::INVALID_ARGUMENT,
       "id must not be empty"},
      {"negative page size", stub_->ListModels(Deadline().get(), negative, &list),
       grpc::StatusCode::INVALID_ARGUMENT, "page_size must not be negative, got -5"},
      {"bad token", stub_->ListModels(Deadline().get(), bad_token, &list),
       grpc::StatusCode::INVALID_ARGUMENT,
       "page_token is not a valid page token: pass the next_page_token of the previous response "
       "unchanged"},
      {"empty query", stub_->SearchModels(Deadline().get(), {}, &search),
       grpc::StatusCode::INVALID_ARGUMENT, "query must not be empty"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.error_code(), c.code) << c.name;
    EXPECT_EQ(c.status.error_message(), c.message) << c.name;
  }
}

TEST_F(CatalogServerTest, NotServingAndUnavailableUntilTheFirstCatalogLoads) {
  // The hub fails the first sync, so the server starts with nothing to serve.
  // Every attempt of the first sync fails.
  ASSERT_TRUE(
      hub_->InjectFault(R"({"fault":"http_error","status":503,"endpoint":"list","count":4})").ok());
  StartServer();
  HealthCheckResponse health;
  ASSERT_TRUE(health_->Check(Deadline().get(), {}, &health).ok());
  // The first sync may still be in flight; either way nothing is loaded yet.
  EXPECT_EQ(health.status(), HealthCheckResponse::NOT_SERVING);
  ListModelsResponse list;
  grpc::Status status = stub_->ListModels(Deadline().get(), {}, &list);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(),
            "the catalog has not been loaded from the hub yet: retry shortly");

  // Health answers for the service by name too, and refuses unknown names.
  HealthCheckRequest named;
  named.set_service("modelcatalog.v1.ModelCatalogService");
  ASSERT_TRUE(health_->Check(Deadline().get(), named, &health).ok());
  HealthCheckRequest unknown;
  unknown.set_service("nope.Service");
  EXPECT_EQ(health_->Check(Deadline().get(), unknown, &health).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // The fault was for one request only: the next sync loads the catalog.
  ASSERT_TRUE(server_->SyncNow().ok());
  WaitServing();
  ASSERT_TRUE(health_->Check(Deadline().get(), named, &health).ok());
  EXPECT_EQ(health.status(), HealthCheckResponse::SERVING);
}

TEST_F(CatalogServerTest, ASyncBetweenTwoPagesNeitherRepeatsNorSkips) {
  StartServing();
  const std::vector<std::string> before = HubIds();
  ASSERT_GE(before.size(), 6u);
  ListModelsRequest request;
  request.set_page_size(3);
  ListModelsResponse first;
  ASSERT_TRUE(stub_->ListModels(Deadline().get(), request, &first).ok());
  ASSERT_EQ(first.models_size(), 3);

  // Between the pages: one model already seen and one not yet seen disappear,
  // a new one appears after the cursor.
  const std::string seen = before[1];
  const std::string unseen = before[4];
  ASSERT_TRUE(hub_->DeleteModel(seen).ok());
  ASSERT_TRUE(hub_->DeleteModel(unseen).ok());
  ASSERT_TRUE(hub_->PutModel("zzz-new-model", R"({"id":"zzz-new-model","object":"model",
      "display_name":"New","model_type":"base","owned_by":"oxen","endpoint":"/chat/completions",
      "deployments":[]})")
                  .ok());
  ASSERT_TRUE(server_->SyncNow().ok());

  request.set_page_token(first.next_page_token());
  std::vector<std::string> all = {first.models(0).id(), first.models(1).id(), first.models(2).id()};
  for (const std::string& id : ListAll(request)) all.push_back(id);
  std::vector<std::string> expected(before.begin(), before.end());
  expected.erase(std::remove(expected.begin(), expected.end(), unseen), expected.end());
  expected.push_back("zzz-new-model");
  EXPECT_THAT(all, ElementsAreArray(expected));
}

// The same with a filter and an order: the token carries the last model's
// price, so the next page starts after it in the new catalog.
TEST_F(CatalogServerTest, AFilteredOrderedListPagesExactlyAcrossASync) {
  StartServing();
  absl::StatusOr<hub::ParsedModelList> hub_list = hub_client_->ListModels({});
  ASSERT_TRUE(hub_list.ok()) << hub_list.status();
  // The chat models by input price, dearest first, those without a price last.
  std::vector<std::pair<double, std::string>> chat;  // (-price or +inf, id)
  for (const auto& m : hub_list->models) {
    if (m.endpoint() != "/chat/completions") continue;
    chat.emplace_back(m.pricing().has_input_cost_per_token()
                          ? -m.pricing().input_cost_per_token()
                          : std::numeric_limits<double>::infinity(),
                      m.id());
  }
  std::sort(chat.begin(), chat.end());
  ASSERT_GE(chat.size(), 6u);

  ListModelsRequest request;
  request.set_filter(R"(endpoint = "/chat/completions")");
  request.set_order_by("pricing.input_cost_per_token desc");
  request.set_page_size(3);
  ListModelsResponse first;
  ASSERT_TRUE(stub_->ListModels(Deadline().get(), request, &first).ok());
  ASSERT_EQ(first.models_size(), 3);
  EXPECT_EQ(first.total_size(), static_cast<int32_t>(chat.size()));

  // Between the pages: a model already seen and one not yet seen disappear; a
  // model dearer than the first page appears (before the cursor: not listed)
  // and one cheaper than every priced model appears (after it: listed).
  ASSERT_TRUE(hub_->DeleteModel(chat[1].second).ok());
  ASSERT_TRUE(hub_->DeleteModel(chat[4].second).ok());
  auto chat_model = [](const std::string& id, double price) {
    return absl::StrCat(
        R"({"id":")", id, R"(","object":"model","display_name":")", id,
        R"(","model_type":"base","owned_by":"oxen","endpoint":"/chat/completions",)",
        R"("pricing":{"method":"per_token","input_cost_per_token":)", price,
        R"(,"output_cost_per_token":1},"deployments":[]})");
  };
  ASSERT_TRUE(hub_->PutModel("aaa-dearest", chat_model("aaa-dearest", 1.0)).ok());
  ASSERT_TRUE(hub_->PutModel("zzz-cheapest", chat_model("zzz-cheapest", 1e-12)).ok());
  ASSERT_TRUE(server_->SyncNow().ok());

  request.set_page_token(first.next_page_token());
  std::vector<std::string> all;
  for (const auto& m : first.models()) all.push_back(m.id());
  for (const std::string& id : ListAll(request)) all.push_back(id);
  std::vector<std::string> expected;
  for (size_t i = 0; i < chat.size(); ++i) {
    if (i == 4) continue;
    if (i > 0 && std::isfinite(chat[i - 1].first) && !std::isfinite(chat[i].first)) {
      expected.push_back("zzz-cheapest");  // the last priced model, before the unpriced ones
    }
    expected.push_back(chat[i].second);
  }
  if (std::isfinite(chat.back().first)) expected.push_back("zzz-cheapest");
  EXPECT_THAT(all, ElementsAreArray(expected));

  // A token is for its own query: another order is refused.
  request.set_order_by("pricing.input_cost_per_token");
  ListModelsResponse refused;
  const grpc::Status status = stub_->ListModels(Deadline().get(), request, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(CatalogServerTest, KeepsServingTheLastGoodCatalogWhenTheHubFails) {
  StartServing();
  const std::vector<std::string> ids = HubIds();
  // Down for longer than the sync's retries last.
  ASSERT_TRUE(
      hub_->InjectFault(R"({"fault":"http_error","status":503,"message":"hub is down","count":4})")
          .ok());
  EXPECT_FALSE(server_->SyncNow().ok());
  ListModelsRequest request;
  request.set_page_size(1000);
  EXPECT_THAT(ListAll(request), ElementsAreArray(ids));
  GetSyncStatusResponse status;
  ASSERT_TRUE(stub_->GetSyncStatus(Deadline().get(), {}, &status).ok());
  EXPECT_EQ(status.last_error(),
            absl::StrCat("UNAVAILABLE: GET ", hub_->api_url(),
                         "/models answered HTTP 503: hub is down (after 4 attempts)"));
  EXPECT_EQ(status.consecutive_failures(), 1);
  EXPECT_EQ(status.model_count(), static_cast<int64_t>(ids.size()));
  EXPECT_EQ(status.revision(), 1);
}

// A sync's two parts are told apart: a hub that takes 300 ms to answer shows
// in the fetch, and what the server does with the answer in the apply.
TEST_F(CatalogServerTest, SyncStatusSplitsTheLastSyncIntoFetchAndApply) {
  StartServing();
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"slow","delay_ms":300,"endpoint":"list"})").ok());
  ASSERT_TRUE(server_->SyncNow().ok());
  GetSyncStatusResponse status;
  ASSERT_TRUE(stub_->GetSyncStatus(Deadline().get(), {}, &status).ok());
  ASSERT_TRUE(status.has_last_sync_fetch_duration());
  ASSERT_TRUE(status.has_last_sync_apply_duration());
  const auto millis = [](const google::protobuf::Duration& d) {
    return d.seconds() * 1000 + d.nanos() / 1000000;
  };
  EXPECT_GE(millis(status.last_sync_fetch_duration()), 300);  // the hub's delay is in the fetch
  EXPECT_GT(status.last_sync_apply_duration().seconds() * 1000000000LL +
                status.last_sync_apply_duration().nanos(),
            0);
}

TEST_F(CatalogServerTest, RevisionGrowsOnlyWhenTheCatalogChanges) {
  StartServing();
  ASSERT_TRUE(server_->SyncNow().ok());
  GetSyncStatusResponse unchanged;
  ASSERT_TRUE(stub_->GetSyncStatus(Deadline().get(), {}, &unchanged).ok());
  EXPECT_EQ(unchanged.revision(), 1);
  EXPECT_EQ(unchanged.source(), hub_->api_url());
  EXPECT_TRUE(unchanged.has_last_success_time());

  ASSERT_TRUE(hub_->PatchModel(HubIds().front(), R"({"display_name":"Renamed"})").ok());
  ASSERT_TRUE(server_->SyncNow().ok());
  GetSyncStatusResponse changed;
  ASSERT_TRUE(stub_->GetSyncStatus(Deadline().get(), {}, &changed).ok());
  EXPECT_EQ(changed.revision(), 2);
  GetModelRequest request;
  request.set_id(HubIds().front());
  GetModelResponse response;
  ASSERT_TRUE(stub_->GetModel(Deadline().get(), request, &response).ok());
  EXPECT_EQ(response.model().display_name(), "Renamed");
}

TEST_F(CatalogServerTest, ARestartWithTheHubDownServesThePersistedCatalog) {
  char dir[] = "/tmp/catalog_server_test.XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/catalog.bin";
  StartServer(path);
  WaitServing();
  const std::vector<std::string> ids = HubIds();
  server_->Shutdown(absl::Seconds(1));  // the final write happens here
  server_.reset();

  // The hub is gone: nothing listens at its address any more.
  const std::string dead_hub = hub_->api_url();
  ASSERT_TRUE(hub_->Stop().ok());
  StartServer(path, dead_hub);
  HealthCheckResponse health;
  ASSERT_TRUE(health_->Check(Deadline().get(), {}, &health).ok());
  EXPECT_EQ(health.status(), HealthCheckResponse::SERVING);  // at once, no sync needed
  ListModelsRequest request;
  request.set_page_size(1000);
  EXPECT_THAT(ListAll(request), ElementsAreArray(ids));
  GetSyncStatusResponse status;
  ASSERT_TRUE(stub_->GetSyncStatus(Deadline().get(), {}, &status).ok());
  EXPECT_EQ(status.origin(), v1::CATALOG_ORIGIN_SNAPSHOT_FILE);
  EXPECT_FALSE(status.has_last_sync_apply_duration());  // this process has not synced
  EXPECT_TRUE(status.has_staleness());
  EXPECT_TRUE(status.has_last_success_time());
  std::system(absl::StrCat("rm -rf ", dir).c_str());
}

TEST_F(CatalogServerTest, ACorruptCatalogFileIsReportedAndIgnored) {
  char dir[] = "/tmp/catalog_server_test.XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/catalog.bin";
  {
    std::FILE* file = std::fopen(path.c_str(), "w");
    std::fputs("MCCATLG1 but then nothing that makes sense", file);
    std::fclose(file);
  }
  StartServer(path);
  WaitServing();                         // from the hub, as if there were no file
  ASSERT_TRUE(server_->SyncNow().ok());  // and the first sync's status is recorded
  GetSyncStatusResponse status;
  ASSERT_TRUE(stub_->GetSyncStatus(Deadline().get(), {}, &status).ok());
  EXPECT_EQ(status.origin(), v1::CATALOG_ORIGIN_HUB);
  EXPECT_EQ(status.model_count(), static_cast<int64_t>(HubIds().size()));
  server_->Shutdown(absl::Seconds(1));
  // The file was replaced by a good one.
  absl::StatusOr<catalog::StoredCatalog> stored = catalog::ReadCatalogFile(path);
  EXPECT_TRUE(stored.ok()) << stored.status();
  std::system(absl::StrCat("rm -rf ", dir).c_str());
}

TEST_F(CatalogServerTest, ShutdownEndsHealthWatchersWithAClearStatus) {
  StartServing();
  auto context = Deadline();
  auto reader = health_->Watch(context.get(), {});
  HealthCheckResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  server_->Shutdown(absl::Seconds(5));
  while (reader->Read(&response)) {
  }
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "the server is shutting down");
}

}  // namespace
}  // namespace modelcatalog
