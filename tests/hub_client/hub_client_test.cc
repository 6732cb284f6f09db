// HubClient over real sockets: against the real hub emulator (a child process), and against
// a scripted HTTP server for what the emulator does not produce (other error envelopes,
// HTTP-date Retry-After, redirects, oversized bodies, echoed keys, raw request details).
#include "clients/hub/hub_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/hub_emulator/http/http_message.h"
#include "services/hub_emulator/http/http_server.h"
#include "tests/support/hub_emulator_process.h"

namespace modelcatalog::hub {
namespace {

namespace v1 = ::modelcatalog::v1;
using ::modelcatalog::testing::HubEmulatorProcess;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

constexpr char kApiKey[] = "sk-hub-T0pS3cret-4242";

std::vector<std::string> Ids(const ParsedModelList& list) {
  std::vector<std::string> ids;
  for (const v1::Model& m : list.models) ids.push_back(m.id());
  return ids;
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

ListModelsFilter Filter(std::string developer_name, std::string action) {
  ListModelsFilter filter;
  filter.developer_name = std::move(developer_name);
  filter.action = std::move(action);
  return filter;
}

// A port on 127.0.0.1 that refuses connections: bound, never listening, so no other process
// can take it while the test runs.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      socklen_t len = sizeof(addr);
      getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
      port_ = ntohs(addr.sin_port);
    }
  }
  ~RefusingPort() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// --- Against the hub emulator ----------------------------------------------------------------

class HubClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Lifecycle steps complete at the next request: no test waits on a clock.
    absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub =
        HubEmulatorProcess::Start({"--deploy_delay=0s"});
    if (hub.ok()) {
      hub_ = std::move(*hub).release();
    } else {
      start_error_ = new absl::Status(hub.status());
    }
  }

  static void TearDownTestSuite() {
    delete hub_;
    hub_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(hub_, nullptr) << *start_error_;
    ASSERT_TRUE(hub_->Reset().ok());
  }

  static HubClientOptions Options() {
    HubClientOptions options;
    options.base_url = hub_->api_url();
    options.request_timeout = absl::Seconds(10);
    return options;
  }

  void InjectFault(absl::string_view json) {
    absl::Status status = hub_->InjectFault(json);
    ASSERT_TRUE(status.ok()) << status;
  }

  static HubEmulatorProcess* hub_;
  static absl::Status* start_error_;
};

HubEmulatorProcess* HubClientTest::hub_ = nullptr;
absl::Status* HubClientTest::start_error_ = nullptr;

TEST_F(HubClientTest, ListModelsReturnsTheWholeCatalog) {
  HubClient client(Options());
  absl::StatusOr<ParsedModelList> list = client.ListModels();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->models.size(), 17u);
  EXPECT_TRUE(list->rejected.empty());
  const v1::Model& first = list->models.front();
  EXPECT_EQ(first.id(), "claude-sonnet-4-6");
  EXPECT_EQ(first.display_name(), "Claude Sonnet 4.6");
  EXPECT_EQ(first.model_type(), v1::MODEL_TYPE_BASE);
  EXPECT_EQ(first.pricing().method(), v1::PRICING_METHOD_TOKEN);
  EXPECT_EQ(first.pricing().input_cost_per_token(), 3e-6);
  EXPECT_EQ(first.developer().name(), "Anthropic");
  EXPECT_TRUE(first.has_request_schema());
  EXPECT_EQ(first.created().seconds(), 1750000000);
  absl::StatusOr<testing::HubRequestCounts> counts = hub_->Stats();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->list, 1);
}

TEST_F(HubClientTest, ListModelsFiltersByDeveloper) {
  HubClient client(Options());
  absl::StatusOr<ParsedModelList> list = client.ListModels(Filter("Acme", ""));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(Ids(*list), ElementsAre("acme-support-bot", "acme-illustrator"));

  // A value that needs percent-encoding reaches the hub intact.
  list = client.ListModels(Filter("Black Forest Labs", ""));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(Ids(*list), ElementsAre("flux-2-dev"));
}

TEST_F(HubClientTest, ListModelsFiltersByAction) {
  HubClient client(Options());
  absl::StatusOr<ParsedModelList> list = client.ListModels(Filter("", "image_generation"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(Ids(*list), ElementsAre("flux-2-dev", "qwen-image-max"));
}

TEST_F(HubClientTest, ListModelsCombinesFilters) {
  HubClient client(Options());
  absl::StatusOr<ParsedModelList> list = client.ListModels(Filter("OpenAI", "text_generation"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(Ids(*list), ElementsAre("gpt-5-mini"));
  list = client.ListModels(Filter("Anthropic", "text_generation"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->models.empty());
}

TEST_F(HubClientTest, SearchModelsFindsByName) {
  HubClient client(Options());
  absl::StatusOr<ParsedModelList> list = client.SearchModels("kling");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(Ids(*list), ElementsAre("kling-video-o3-pro-reference-to-video"));

  list = client.SearchModels("Sonnet 4.6");  // a space and a dot in the query
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(Ids(*list), ElementsAre("claude-sonnet-4-6"));

  list = client.SearchModels("no model is called this");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(list->models.empty());
  absl::StatusOr<testing::HubRequestCounts> counts = hub_->Stats();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->search, 3);
}

TEST_F(HubClientTest, SearchWithoutAQueryIsTheHubsInvalidArgument) {
  HubClient client(Options());
  absl::StatusOr<ParsedModelList> list = client.SearchModels("");
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(list.status()), "Missing required query parameter: search");
}

TEST_F(HubClientTest, RetrieveModel) {
  HubClient client(Options());
  absl::StatusOr<v1::Model> model = client.RetrieveModel("flux-2-dev");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->id(), "flux-2-dev");
  EXPECT_THAT(model->fine_tuning().actions(), ElementsAre("image_generation", "image_editing"));
  absl::StatusOr<testing::HubRequestCounts> counts = hub_->Stats();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->retrieve, 1);
  EXPECT_EQ(counts->retrieve_live, 0);
}

TEST_F(HubClientTest, RetrieveModelWithLiveDeploymentStatus) {
  HubClient client(Options());
  ASSERT_TRUE(hub_->SetDeploymentStatus("acme-support-bot", "error").ok());
  absl::StatusOr<v1::Model> model = client.RetrieveModel("acme-support-bot", true);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_EQ(model->deployments_size(), 1);
  EXPECT_EQ(model->deployments(0).status(), v1::DEPLOYMENT_STATUS_ERROR);
  absl::StatusOr<testing::HubRequestCounts> counts = hub_->Stats();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->retrieve_live, 1);
  EXPECT_EQ(counts->retrieve, 0);
}

TEST_F(HubClientTest, RetrieveUnknownModelIsNotFoundWithTheHubsMessage) {
  HubClient client(Options());
  absl::StatusOr<v1::Model> model = client.RetrieveModel("no-such-model");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Message(model.status()), "Model not found: no-such-model");
  // Every reserved character travels percent-encoded and arrives as it was.
  model = client.RetrieveModel("a/b c?d=e&f#g%h");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Message(model.status()), "Model not found: a/b c?d=e&f#g%h");
  model = client.RetrieveModel("..");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Message(model.status()), "Model not found: ..");
}

TEST_F(HubClientTest, EmptyIdIsRefusedWithoutARequest) {
  HubClient client(Options());
  EXPECT_EQ(client.RetrieveModel("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client.ActivateModel("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client.DeactivateModel("").status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<testing::HubRequestCounts> counts = hub_->Stats();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->retrieve + counts->activate + counts->deactivate, 0);
}

TEST_F(HubClientTest, ActivateAndDeactivateACustomModel) {
  HubClient client(Options());
  absl::StatusOr<v1::Model> model = client.ActivateModel("acme-illustrator");
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_EQ(model->deployments_size(), 1);
  EXPECT_EQ(model->deployments(0).status(), v1::DEPLOYMENT_STATUS_DEPLOYING);

  model = client.RetrieveModel("acme-illustrator");  // the emulator's delay is zero
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->deployments(0).status(), v1::DEPLOYMENT_STATUS_ACTIVE);

  model = client.DeactivateModel("acme-illustrator");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->deployments(0).status(), v1::DEPLOYMENT_STATUS_DEACTIVATING);
  EXPECT_EQ(model->deployments(0).status_raw(), "deactivating");

  model = client.RetrieveModel("acme-illustrator");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->deployments(0).status(), v1::DEPLOYMENT_STATUS_INACTIVE);
  absl::StatusOr<testing::HubRequestCounts> counts = hub_->Stats();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->activate, 1);
  EXPECT_EQ(counts->deactivate, 1);
}

TEST_F(HubClientTest, ActivatingABaseModelIsTheHubsInvalidArgument) {
  HubClient client(Options());
  absl::StatusOr<v1::Model> model = client.ActivateModel("claude-sonnet-4-6");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(model.status()), "Base models are always active and do not need activation");
  model = client.DeactivateModel("claude-sonnet-4-6");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(model.status()), "Base models are always active and cannot be deactivated");
  model = client.ActivateModel("no-such-model");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Message(model.status()), "Model not found: no-such-model");
}

TEST_F(HubClientTest, HttpErrorsMapToCodesWithTheHubsMessage) {
  const std::pair<int, absl::StatusCode> cases[] = {
      {400, absl::StatusCode::kInvalidArgument},
      {401, absl::StatusCode::kUnauthenticated},
      {403, absl::StatusCode::kPermissionDenied},
      {404, absl::StatusCode::kNotFound},
      {409, absl::StatusCode::kFailedPrecondition},
      {429, absl::StatusCode::kResourceExhausted},
      {500, absl::StatusCode::kInternal},
      {502, absl::StatusCode::kUnavailable},
      {503, absl::StatusCode::kUnavailable},
      {504, absl::StatusCode::kUnavailable},
      {418, absl::StatusCode::kUnknown},
      {501, absl::StatusCode::kUnknown},
  };
  HubClient client(Options());
  for (const auto& [http_status, code] : cases) {
    SCOPED_TRACE(http_status);
    std::string message = absl::StrCat("hub says ", http_status);
    InjectFault(absl::StrCat(R"({"fault": "http_error", "status": )", http_status,
                             R"(, "message": ")", message, R"("})"));
    absl::StatusOr<ParsedModelList> list = client.ListModels();
    EXPECT_EQ(list.status().code(), code);
    EXPECT_EQ(Message(list.status()), message);
    EXPECT_EQ(RetryAfter(list.status()), absl::nullopt);
  }
}

TEST_F(HubClientTest, EveryEndpointMapsErrors) {
  HubClient client(Options());
  InjectFault(R"({"fault": "http_error", "status": 503, "count": 5})");
  EXPECT_EQ(client.ListModels().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.SearchModels("a").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.RetrieveModel("flux-2-dev").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.ActivateModel("acme-illustrator").status().code(),
            absl::StatusCode::kUnavailable);
  absl::StatusOr<v1::Model> model = client.DeactivateModel("acme-support-bot");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Message(model.status()), "Service Unavailable");  // the emulator's default message
  EXPECT_TRUE(client.ListModels().ok());                      // the fault is used up
}

TEST_F(HubClientTest, RateLimitCarriesRetryAfter) {
  HubClient client(Options());
  InjectFault(R"({"fault": "rate_limit", "retry_after_seconds": 2})");
  absl::StatusOr<ParsedModelList> list = client.ListModels();
  EXPECT_EQ(list.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Message(list.status()), "Rate limit exceeded");
  EXPECT_EQ(RetryAfter(list.status()), absl::Seconds(2));
  EXPECT_EQ(RetryAfter(absl::OkStatus()), absl::nullopt);
}

TEST_F(HubClientTest, HangTimesOutWithinTheRequestTimeout) {
  HubClientOptions options = Options();
  options.request_timeout = absl::Milliseconds(500);
  HubClient client(options);
  InjectFault(R"({"fault": "hang", "endpoint": "retrieve"})");
  // The hub never answers: only the timeout can end the call.
  absl::StatusOr<v1::Model> model = client.RetrieveModel("flux-2-dev");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(Message(model.status()), StartsWith("GET /models/flux-2-dev: "));
  EXPECT_TRUE(client.RetrieveModel("flux-2-dev").ok());  // the client recovers
}

TEST_F(HubClientTest, TheCallersDeadlineBoundsTheRequest) {
  HubClient client(Options());  // request_timeout far longer than the deadline
  InjectFault(R"({"fault": "hang", "endpoint": "activate"})");
  absl::StatusOr<v1::Model> model =
      client.ActivateModel("acme-illustrator", absl::Now() + absl::Milliseconds(300));
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(HubClientTest, ADeadlineAlreadyPastSendsNothing) {
  HubClient client(Options());
  absl::StatusOr<testing::HubRequestCounts> before = hub_->Stats();
  ASSERT_TRUE(before.ok());
  absl::StatusOr<v1::Model> model =
      client.RetrieveModel("flux-2-dev", true, absl::Now() - absl::Seconds(1));
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(Message(model.status()), "GET /models/flux-2-dev: the caller's deadline has passed");
  absl::StatusOr<testing::HubRequestCounts> after = hub_->Stats();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->retrieve_live, before->retrieve_live);
}

TEST_F(HubClientTest, SlowResponsesSucceedWithinTheTimeoutAndFailBeyondIt) {
  HubClientOptions options = Options();
  options.request_timeout = absl::Milliseconds(700);
  HubClient client(options);
  InjectFault(R"({"fault": "slow", "delay_ms": 100})");
  EXPECT_TRUE(client.ListModels().ok());
  InjectFault(R"({"fault": "slow", "delay_ms": 3000})");
  EXPECT_EQ(client.ListModels().status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(HubClientTest, MalformedBodiesAreDataLoss) {
  HubClient client(Options());
  InjectFault(R"({"fault": "malformed_json"})");
  absl::StatusOr<ParsedModelList> list = client.ListModels();
  EXPECT_EQ(list.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Message(list.status()),
            "malformed response from GET /models: invalid JSON at offset 0: Invalid value.");

  InjectFault(R"({"fault": "empty_body", "endpoint": "search"})");
  list = client.SearchModels("kling");
  EXPECT_EQ(list.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Message(list.status()),
            "malformed response from GET /models/search: invalid JSON at offset 0: "
            "The document is empty.");

  InjectFault(R"({"fault": "empty_body", "endpoint": "activate"})");
  absl::StatusOr<v1::Model> model = client.ActivateModel("acme-illustrator");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(model.status()),
              StartsWith("malformed response from POST /models/acme-illustrator/activate: "));
}

TEST_F(HubClientTest, WrongShapesAreDataLoss) {
  HubClient client(Options());
  InjectFault(R"({"fault": "wrong_shape", "endpoint": "list"})");
  absl::StatusOr<ParsedModelList> list = client.ListModels();
  EXPECT_EQ(list.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Message(list.status()),
            "malformed response from GET /models: data: expected an array, found an object");

  InjectFault(R"({"fault": "wrong_shape", "endpoint": "retrieve"})");
  absl::StatusOr<v1::Model> model = client.RetrieveModel("flux-2-dev");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Message(model.status()),
            "malformed response from GET /models/flux-2-dev: id: expected a non-empty string, "
            "found a number");
}

TEST_F(HubClientTest, TruncatedTransfersAreUnavailable) {
  HubClient client(Options());
  InjectFault(R"({"fault": "truncated"})");
  absl::StatusOr<ParsedModelList> list = client.ListModels();
  EXPECT_EQ(list.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Message(list.status()), StartsWith("GET /models: transfer closed with"));
  EXPECT_TRUE(client.ListModels().ok());
}

// A hub (or a proxy in front of it) that never stops sending: the list is read as it arrives,
// models are handed on while it does, and the transfer ends at max_response_bytes, having held
// neither the body nor the list whole.
TEST_F(HubClientTest, AnEndlessListEndsAtTheResponseLimit) {
  HubClientOptions options = Options();
  options.max_response_bytes = 4 << 20;
  HubClient client(options);
  InjectFault(R"({"fault": "endless_body", "endpoint": "list"})");
  size_t models = 0;
  absl::StatusOr<std::vector<RejectedRecord>> rejected =
      client.ListModels({}, [&models](const v1::Model&) { ++models; });
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Message(rejected.status()),
            "GET /models: response larger than max_response_bytes (4194304)");
  EXPECT_EQ(RetryAfter(rejected.status()), absl::nullopt);
  // Models came while the body did: 4 MiB of the sample's models is over a thousand.
  EXPECT_GT(models, 1000u);
  EXPECT_TRUE(client.ListModels().ok());  // the fault is used up; the client still works
}

TEST_F(HubClientTest, AnAnnouncedBodyOverTheLimitIsRefusedBeforeItsFirstByte) {
  HubClient client(Options());                                   // the default limit, 512 MiB
  InjectFault(R"({"fault": "huge_body", "endpoint": "list"})");  // 50 GiB
  size_t models = 0;
  absl::StatusOr<std::vector<RejectedRecord>> rejected =
      client.ListModels({}, [&models](const v1::Model&) { ++models; });
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Message(rejected.status()),
            "GET /models: response larger than max_response_bytes (536870912)");
  EXPECT_EQ(models, 0u);
}

TEST_F(HubClientTest, AnEndlessModelEndsAtTheResponseLimit) {
  HubClientOptions options = Options();
  options.max_response_bytes = 1 << 20;
  HubClient client(options);
  InjectFault(R"({"fault": "endless_body", "endpoint": "retrieve"})");
  absl::StatusOr<v1::Model> model = client.RetrieveModel("flux-2-dev");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Message(model.status()),
            "GET /models/flux-2-dev: response larger than max_response_bytes (1048576)");
}

TEST_F(HubClientTest, ARecordTheParserRejectsDoesNotFailTheList) {
  ASSERT_TRUE(hub_->PutModel("broken-pricing",
                             R"({"id": "broken-pricing", "pricing": {"method": "token",
                                 "input_cost_per_token": "free"}})")
                  .ok());
  HubClient client(Options());
  absl::StatusOr<ParsedModelList> list = client.ListModels();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->models.size(), 17u);
  ASSERT_EQ(list->rejected.size(), 1u);
  EXPECT_EQ(list->rejected[0].id, "broken-pricing");
  EXPECT_EQ(list->rejected[0].index, 17u);
  EXPECT_EQ(Message(list->rejected[0].status),
            "data[17].pricing.input_cost_per_token: expected a number or null, found a string");
}

TEST_F(HubClientTest, ConnectionRefusedIsUnavailable) {
  RefusingPort port;
  ASSERT_NE(port.port(), 0);
  HubClientOptions options;
  options.base_url = absl::StrCat("http://127.0.0.1:", port.port(), "/api/ai");
  HubClient client(options);
  absl::StatusOr<ParsedModelList> list = client.ListModels();
  EXPECT_EQ(list.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Message(list.status()), StartsWith("GET /models: "));
  absl::StatusOr<v1::Model> model = client.ActivateModel("x");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Message(model.status()), StartsWith("POST /models/x/activate: "));
}

TEST_F(HubClientTest, ABaseUrlCurlCannotUseIsInvalidArgument) {
  HubClientOptions options;
  options.base_url = "ftp://127.0.0.1/api/ai";
  EXPECT_EQ(HubClient(options).ListModels().status().code(), absl::StatusCode::kInvalidArgument);
  options.base_url = "";
  EXPECT_EQ(HubClient(options).ListModels().status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(HubClientTest, ConcurrentCallsShareOneClient) {
  HubClient client(Options());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&client, &failures, t] {
      for (int i = 0; i < 10; ++i) {
        bool ok = (i + t) % 2 == 0 ? client.ListModels().ok()
                                   : client.RetrieveModel("claude-sonnet-4-6").ok();
        if (!ok) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  absl::StatusOr<testing::HubRequestCounts> counts = hub_->Stats();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->list + counts->retrieve, 80);
}

TEST_F(HubClientTest, BaseUrlDropsATrailingSlash) {
  HubClientOptions options = Options();
  options.base_url += "/";
  HubClient client(options);
  EXPECT_EQ(client.base_url(), hub_->api_url());
  EXPECT_TRUE(client.ListModels().ok());
}

// --- Authentication --------------------------------------------------------------------------

class HubClientAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HubEmulatorProcess::Options options;
    options.api_key = kApiKey;
    options.flags = {"--deploy_delay=0s"};
    absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub =
        HubEmulatorProcess::StartWithOptions(options);
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = std::move(*hub);
  }

  HubClientOptions Options(absl::string_view key) const {
    HubClientOptions options;
    options.base_url = hub_->api_url();
    options.api_key = std::string(key);
    options.request_timeout = absl::Milliseconds(800);
    return options;
  }

  std::unique_ptr<HubEmulatorProcess> hub_;
};

TEST_F(HubClientAuthTest, WithoutTheKeyTheHubSaysUnauthenticated) {
  for (absl::string_view key : {"", "sk-wrong"}) {
    SCOPED_TRACE(key);
    HubClient client(Options(key));
    absl::StatusOr<ParsedModelList> list = client.ListModels();
    EXPECT_EQ(list.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(Message(list.status()), "unauthenticated");
    EXPECT_EQ(client.RetrieveModel("flux-2-dev").status().code(),
              absl::StatusCode::kUnauthenticated);
  }
}

TEST_F(HubClientAuthTest, WithTheKeyEveryEndpointWorks) {
  HubClient client(Options(kApiKey));
  EXPECT_TRUE(client.ListModels().ok());
  EXPECT_TRUE(client.ListModels(Filter("Acme", "")).ok());
  EXPECT_TRUE(client.SearchModels("kling").ok());
  EXPECT_TRUE(client.RetrieveModel("flux-2-dev").ok());
  EXPECT_TRUE(client.RetrieveModel("flux-2-dev", true).ok());
  EXPECT_TRUE(client.ActivateModel("acme-illustrator").ok());
  EXPECT_TRUE(client.DeactivateModel("acme-illustrator").ok());
}

TEST_F(HubClientAuthTest, TheKeyNeverAppearsInAnError) {
  HubClient client(Options(kApiKey));
  std::vector<absl::Status> errors;
  auto collect = [&errors](absl::Status status) {
    EXPECT_FALSE(status.ok());
    errors.push_back(std::move(status));
  };
  for (const char* fault :
       {R"({"fault": "http_error", "status": 500})", R"({"fault": "rate_limit"})",
        R"({"fault": "malformed_json"})", R"({"fault": "wrong_shape"})",
        R"({"fault": "empty_body"})", R"({"fault": "truncated"})", R"({"fault": "hang"})",
        R"({"fault": "slow", "delay_ms": 2000})"}) {
    ASSERT_TRUE(hub_->InjectFault(fault).ok()) << fault;
    collect(client.ListModels().status());
    ASSERT_TRUE(hub_->InjectFault(fault).ok()) << fault;
    collect(client.RetrieveModel("flux-2-dev").status());
  }
  collect(client.RetrieveModel("no-such-model").status());
  collect(client.ActivateModel("claude-sonnet-4-6").status());
  collect(client.SearchModels("").status());
  collect(HubClient(Options("sk-wrong")).ListModels().status());
  RefusingPort port;
  HubClientOptions refused = Options(kApiKey);
  refused.base_url = absl::StrCat("http://127.0.0.1:", port.port(), "/api/ai");
  collect(HubClient(refused).ListModels().status());

  ASSERT_EQ(errors.size(), 21u);
  for (const absl::Status& status : errors) {
    SCOPED_TRACE(status.ToString());
    EXPECT_FALSE(
        absl::StrContains(status.ToString(absl::StatusToStringMode::kWithEverything), kApiKey));
    EXPECT_FALSE(absl::StrContains(status.ToString(), "T0pS3cret"));
  }
}

// --- Against a scripted HTTP server ----------------------------------------------------------

// Answers every request with the response of `respond`, and records the requests.
class ScriptedHub {
 public:
  explicit ScriptedHub(std::function<http::HttpResponse(const http::HttpRequest&)> respond)
      : respond_(std::move(respond)), server_([this](const http::HttpRequest& request) {
          {
            absl::MutexLock lock(&mu_);
            requests_.push_back(request);
          }
          return respond_(request);
        }) {
    absl::StatusOr<int> port = server_.Start("127.0.0.1", 0);
    EXPECT_TRUE(port.ok()) << port.status();
    port_ = port.ok() ? *port : 0;
  }

  std::string api_url() const { return absl::StrCat("http://127.0.0.1:", port_, "/api/ai"); }

  std::vector<http::HttpRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  std::function<http::HttpResponse(const http::HttpRequest&)> respond_;
  absl::Mutex mu_;
  std::vector<http::HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
  http::HttpServer server_;  // last: stopped before the fields its handler uses go away
  int port_ = 0;
};

http::HttpResponse Respond(int status, std::string body,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  for (auto& [name, value] : headers) response.SetHeader(name, value);
  return response;
}

constexpr char kOneModel[] = R"({"id": "m", "object": "model"})";

TEST(HubClientRequestTest, SendsTheExpectedRequests) {
  ScriptedHub hub([](const http::HttpRequest& request) {
    if (request.raw_path == "/api/ai/models" || request.raw_path == "/api/ai/models/search") {
      return Respond(200, R"({"object": "list", "data": []})");
    }
    return Respond(200, kOneModel);
  });
  HubClientOptions options;
  options.base_url = hub.api_url();
  options.api_key = kApiKey;
  HubClient client(options);
  ASSERT_TRUE(client.ListModels().ok());
  ASSERT_TRUE(client.ListModels(Filter("Black Forest/Labs", "a&b=c")).ok());
  ASSERT_TRUE(client.SearchModels("50% off+more").ok());
  ASSERT_TRUE(client.RetrieveModel("a/b c").ok());
  ASSERT_TRUE(client.RetrieveModel("m", true).ok());
  ASSERT_TRUE(client.ActivateModel("my.model_v2~x").ok());
  ASSERT_TRUE(client.DeactivateModel(".").ok());

  std::vector<http::HttpRequest> requests = hub.requests();
  ASSERT_EQ(requests.size(), 7u);
  std::vector<std::string> lines;
  for (const http::HttpRequest& r : requests) lines.push_back(r.method + " " + r.target);
  EXPECT_THAT(
      lines,
      ElementsAre("GET /api/ai/models",
                  "GET /api/ai/models?developer_name=Black%20Forest%2FLabs&action=a%26b%3Dc",
                  "GET /api/ai/models/search?search=50%25%20off%2Bmore",
                  "GET /api/ai/models/a%2Fb%20c", "GET /api/ai/models/m?deployment_status=live",
                  "POST /api/ai/models/my.model_v2~x/activate",
                  "POST /api/ai/models/%2E/deactivate"));
  for (const http::HttpRequest& r : requests) {
    SCOPED_TRACE(r.target);
    ASSERT_NE(r.FindHeader("Authorization"), nullptr);
    EXPECT_EQ(*r.FindHeader("Authorization"), absl::StrCat("Bearer ", kApiKey));
    ASSERT_NE(r.FindHeader("User-Agent"), nullptr);
    EXPECT_THAT(*r.FindHeader("User-Agent"), StartsWith("model-catalog/"));
    ASSERT_NE(r.FindHeader("Accept"), nullptr);
    EXPECT_EQ(*r.FindHeader("Accept"), "application/json");
    EXPECT_EQ(r.body, "");
    if (r.method == "POST") {
      EXPECT_EQ(r.FindHeader("Content-Type"), nullptr);
    }
  }
  // Keep-alive: one connection served every request.
  for (const http::HttpRequest& r : requests) EXPECT_EQ(r.peer, requests[0].peer);
}

TEST(HubClientRequestTest, KeyWhitespaceIsTrimmedAndControlCharactersRefused) {
  ScriptedHub hub([](const http::HttpRequest&) { return Respond(200, kOneModel); });
  HubClientOptions options;
  options.base_url = hub.api_url();
  options.api_key = absl::StrCat(" ", kApiKey, "\n");
  ASSERT_TRUE(HubClient(options).RetrieveModel("m").ok());
  ASSERT_EQ(hub.requests().size(), 1u);
  EXPECT_EQ(*hub.requests()[0].FindHeader("Authorization"), absl::StrCat("Bearer ", kApiKey));

  options.api_key = absl::StrCat(kApiKey, "\r\nX-Injected: 1");
  absl::StatusOr<v1::Model> model = HubClient(options).RetrieveModel("m");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(model.status()), "GET /models/m: api_key contains control characters");
  EXPECT_EQ(hub.requests().size(), 1u);  // nothing was sent
}

TEST(HubClientRequestTest, NoKeyNoAuthorizationHeader) {
  ScriptedHub hub([](const http::HttpRequest&) { return Respond(200, kOneModel); });
  HubClientOptions options;
  options.base_url = hub.api_url();
  ASSERT_TRUE(HubClient(options).RetrieveModel("m").ok());
  ASSERT_EQ(hub.requests().size(), 1u);
  EXPECT_EQ(hub.requests()[0].FindHeader("Authorization"), nullptr);
}

TEST(HubClientErrorTest, ReadsTheMessageFromEveryEnvelope) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"status": "error", "status_message": "from the hub"})", "from the hub"},
      {R"({"error": "plain error"})", "plain error"},
      {R"({"error": {"message": "nested error", "type": "x"}})", "nested error"},
      {R"({"message": "just a message"})", "just a message"},
      {R"({"status": "error", "status_message": "first", "message": "second"})", "first"},
      {"upstream exploded\n", "upstream exploded"},
      {"<html><body>Bad Gateway</body></html>", "HTTP 502"},
      {"", "HTTP 502"},
      {R"({"detail": "not a known envelope"})", "HTTP 502"},
      {R"(["error"])", "HTTP 502"},
      {std::string(1000, 'x'), "HTTP 502"},
  };
  for (const auto& [body, message] : cases) {
    SCOPED_TRACE(body);
    std::string reply = body;
    ScriptedHub hub([reply](const http::HttpRequest&) { return Respond(502, reply); });
    HubClientOptions options;
    options.base_url = hub.api_url();
    absl::StatusOr<ParsedModelList> list = HubClient(options).ListModels();
    EXPECT_EQ(list.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(Message(list.status()), message);
  }
}

TEST(HubClientErrorTest, ReadsRetryAfterSecondsAndDates) {
  // What the next answer's Retry-After says; the server reads it on its own thread.
  absl::Mutex mu;
  std::string retry_after_value;
  auto set_retry_after = [&](std::string value) {
    absl::MutexLock lock(&mu);
    retry_after_value = std::move(value);
  };
  ScriptedHub hub([&](const http::HttpRequest&) {
    absl::MutexLock lock(&mu);
    return Respond(503, R"({"status": "error", "status_message": "busy"})",
                   {{"Retry-After", retry_after_value}});
  });
  HubClientOptions options;
  options.base_url = hub.api_url();
  HubClient client(options);

  set_retry_after("7");
  absl::Status status = client.ListModels().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(RetryAfter(status), absl::Seconds(7));

  set_retry_after("0");
  EXPECT_EQ(RetryAfter(client.ListModels().status()), absl::ZeroDuration());

  set_retry_after(absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::Now() + absl::Seconds(30),
                                   absl::UTCTimeZone()));
  absl::optional<absl::Duration> wait = RetryAfter(client.ListModels().status());
  ASSERT_TRUE(wait.has_value());
  EXPECT_GT(*wait, absl::Seconds(25));
  EXPECT_LE(*wait, absl::Seconds(31));

  set_retry_after("Thu, 01 Jan 1970 00:00:00 GMT");  // in the past: retry now
  EXPECT_EQ(RetryAfter(client.ListModels().status()), absl::ZeroDuration());

  set_retry_after("soon");
  EXPECT_EQ(RetryAfter(client.ListModels().status()), absl::nullopt);
}

TEST(HubClientErrorTest, RedirectsAreNotFollowed) {
  ScriptedHub hub([](const http::HttpRequest&) {
    return Respond(302, "", {{"Location", "http://127.0.0.1:1/elsewhere"}});
  });
  HubClientOptions options;
  options.base_url = hub.api_url();
  options.api_key = kApiKey;
  absl::StatusOr<ParsedModelList> list = HubClient(options).ListModels();
  EXPECT_EQ(list.status().code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(Message(list.status()),
            "HTTP 302 (redirect to http://127.0.0.1:1/elsewhere not followed)");
  EXPECT_EQ(hub.requests().size(), 1u);
}

TEST(HubClientErrorTest, ResponsesOverTheLimitAreRefused) {
  ScriptedHub hub([](const http::HttpRequest&) {
    return Respond(200,
                   absl::StrCat(R"({"object": "list", "data": [)", std::string(5000, ' '), "]}"));
  });
  HubClientOptions options;
  options.base_url = hub.api_url();
  options.max_response_bytes = 1000;
  absl::StatusOr<ParsedModelList> list = HubClient(options).ListModels();
  EXPECT_EQ(list.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Message(list.status()), "GET /models: response larger than max_response_bytes (1000)");
  EXPECT_EQ(RetryAfter(list.status()), absl::nullopt);

  options.max_response_bytes = 5100;
  EXPECT_TRUE(HubClient(options).ListModels().ok());
}

// A list found malformed early ends its transfer at once, with the parser's error: an endless
// body that is not a list is not read to the limit.
TEST(HubClientErrorTest, AMalformedListEndsItsTransferEarly) {
  ScriptedHub hub([](const http::HttpRequest&) {
    http::HttpResponse response = Respond(200, R"({"object": "list", "data": "none", "x": ")");
    response.endless_tail = "padding ";
    return response;
  });
  HubClientOptions options;
  options.base_url = hub.api_url();
  absl::StatusOr<ParsedModelList> list = HubClient(options).ListModels();
  EXPECT_EQ(list.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Message(list.status()),
            "malformed response from GET /models: data: expected an array, found a string");
}

TEST(HubClientErrorTest, AnEchoedKeyIsRedacted) {
  ScriptedHub hub([](const http::HttpRequest& request) {
    const std::string* auth = request.FindHeader("Authorization");
    std::string message = absl::StrCat("bad credentials: ", auth != nullptr ? *auth : "none");
    if (request.method == "POST") {
      // A 200 whose body the parser quotes back.
      return Respond(200, absl::StrCat(R"({"id": "m", "released_at": ")",
                                       auth != nullptr ? auth->substr(7) : "", "\"}"));
    }
    return Respond(403, absl::StrCat(R"({"status": "error", "status_message": ")", message, "\"}"));
  });
  HubClientOptions options;
  options.base_url = hub.api_url();
  options.api_key = kApiKey;
  HubClient client(options);
  absl::StatusOr<ParsedModelList> list = client.ListModels();
  EXPECT_EQ(list.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Message(list.status()), "bad credentials: Bearer <redacted>");
  absl::StatusOr<v1::Model> model = client.ActivateModel("m");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(model.status()), HasSubstr("found \"<redacted>\""));
  EXPECT_THAT(Message(model.status()), ::testing::Not(HasSubstr("T0pS3cret")));
}

}  // namespace
}  // namespace modelcatalog::hub
