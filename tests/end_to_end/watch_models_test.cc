// WatchModels over real sockets: catalog-server in-process, syncing over real
// HTTP from the hub emulator, whose catalog the tests edit through its control
// API. Every way a change reaches the catalog (a sync, a live read, the
// deployment poller, an activation) reaches the stream; a restarted server
// resumes a client from the versions it holds.
#include <deque>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"
#include "services/catalog/server/catalog_server.h"
#include "tests/support/hub_emulator_process.h"

namespace modelcatalog {
namespace {

using ::modelcatalog::testing::HubEmulatorProcess;
using ::modelcatalog::v1::ModelCatalogService;
using ::modelcatalog::v1::WatchModelsRequest;
using ::modelcatalog::v1::WatchModelsResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(10);

// "TYPE id path…", "resync" when set.
std::string Describe(const WatchModelsResponse& e) {
  std::string text = v1::WatchEventType_Name(e.type()).substr(17);
  if (!e.model_id().empty()) absl::StrAppend(&text, " ", e.model_id());
  for (const std::string& path : e.changed_fields().paths()) absl::StrAppend(&text, " ", path);
  if (e.resync()) absl::StrAppend(&text, " resync");
  return text;
}

// A WatchModels stream read by its own thread into a queue the test pops from.
class ModelsWatcher {
 public:
  ModelsWatcher(ModelCatalogService::Stub* stub, const WatchModelsRequest& request) {
    reader_ = stub->WatchModels(&context_, request);
    thread_ = std::thread([this] {
      WatchModelsResponse event;
      while (reader_->Read(&event)) {
        absl::MutexLock lock(&mu_);
        events_.push_back(event);
      }
      grpc::Status status = reader_->Finish();
      absl::MutexLock lock(&mu_);
      status_ = status;
    });
  }
  ~ModelsWatcher() {
    context_.TryCancel();
    thread_.join();
  }

  absl::optional<WatchModelsResponse> Next(absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !events_.empty() || status_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
    if (events_.empty()) return absl::nullopt;
    WatchModelsResponse event = events_.front();
    events_.pop_front();
    return event;
  }

  // Events up to and including the first marker; records the versions held.
  std::vector<std::string> UntilMarker() {
    std::vector<std::string> seen;
    while (auto event = Next()) {
      seen.push_back(Describe(*event));
      Hold(*event);
      if (event->type() == v1::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE) break;
    }
    return seen;
  }

  // The next event that is not PROGRESS.
  absl::optional<WatchModelsResponse> NextChange(absl::Duration timeout = kWait) {
    while (auto event = Next(timeout)) {
      if (event->type() == v1::WATCH_EVENT_TYPE_PROGRESS) continue;
      Hold(*event);
      return event;
    }
    return absl::nullopt;
  }

  // The stream's end, or nullopt while it runs.
  absl::optional<grpc::Status> WaitFinished(absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return status_.has_value(); };
    mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
    return status_;
  }

  // What a client keeps to resume anywhere.
  std::map<std::string, std::string> versions;
  std::string token;

 private:
  void Hold(const WatchModelsResponse& event) {
    if (!event.resume_token().empty()) token = event.resume_token();
    if (event.type() == v1::WATCH_EVENT_TYPE_REMOVED) {
      versions.erase(event.model_id());
    } else if (!event.model_version().empty()) {
      versions[event.model_id()] = event.model_version();
    }
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<WatchModelsResponse>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::deque<WatchModelsResponse> events_ ABSL_GUARDED_BY(mu_);
  absl::optional<grpc::Status> status_ ABSL_GUARDED_BY(mu_);
};

WatchModelsRequest WatchOf(const std::string& filter,
                           const std::map<std::string, std::string>& known = {},
                           const std::string& token = "") {
  WatchModelsRequest request;
  request.set_filter(filter);
  request.set_resume_token(token);
  for (const auto& [id, version] : known) (*request.mutable_known_versions())[id] = version;
  return request;
}

class WatchModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub =
        HubEmulatorProcess::Start({"--deploy_delay=300ms"});
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = *std::move(hub);
    StartServer();
  }

  void StartServer() {
    server_.reset();
    catalog::CatalogServerOptions options;
    options.listen = "127.0.0.1:0";
    options.hub.base_url = hub_->api_url();
    options.sync_interval = absl::Hours(1);  // the tests sync when they want
    options.deployment_poll_interval = absl::Milliseconds(100);
    absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> server =
        catalog::CatalogServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = ModelCatalogService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
    ASSERT_TRUE(server_->SyncNow().ok());
  }

  std::unique_ptr<grpc::ClientContext> Deadline() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + kWait));
    return context;
  }

  // The status a stream with `request` ends with, when it is refused.
  grpc::Status Refusal(const WatchModelsRequest& request) {
    ModelsWatcher watcher(stub_.get(), request);
    absl::optional<grpc::Status> status = watcher.WaitFinished();
    EXPECT_TRUE(status.has_value()) << "the stream was not refused";
    return status.value_or(grpc::Status::OK);
  }

  std::unique_ptr<HubEmulatorProcess> hub_;
  std::unique_ptr<catalog::CatalogServer> server_;
  std::unique_ptr<ModelCatalogService::Stub> stub_;
};

TEST_F(WatchModelsTest, APriceChangedAtTheHubArrivesWithTheSyncFieldByField) {
  ModelsWatcher watcher(stub_.get(), WatchOf("pricing.cost_per_image > 0"));
  EXPECT_THAT(watcher.UntilMarker(),
              ElementsAre("INITIAL flux-2-dev", "INITIAL pixel-studio-sketch",
                          "INITIAL qwen-image-max", "INITIAL_STATE_COMPLETE"));
  ASSERT_TRUE(hub_->PatchModel("flux-2-dev", R"({"pricing":{"cost_per_image":0.02}})").ok());
  ASSERT_TRUE(server_->SyncNow().ok());
  auto event = watcher.NextChange();
  ASSERT_TRUE(event);
  EXPECT_EQ(Describe(*event), "CHANGED flux-2-dev pricing.cost_per_image");
  EXPECT_DOUBLE_EQ(event->previous().pricing().cost_per_image(), 0.025);
  EXPECT_DOUBLE_EQ(event->model().pricing().cost_per_image(), 0.02);
  EXPECT_EQ(event->model().display_name(), "FLUX.2 [dev]");  // the whole model, in FULL
  EXPECT_EQ(event->model_version().size(), 16u);
  EXPECT_FALSE(event->resume_token().empty());
}

TEST_F(WatchModelsTest, ModelsComeAndGoAsTheyStartAndStopMatchingTheFilter) {
  ModelsWatcher watcher(stub_.get(), WatchOf("pricing.cost_per_image < 0.03"));
  EXPECT_THAT(watcher.UntilMarker(), ElementsAre("INITIAL flux-2-dev", "INITIAL_STATE_COMPLETE"));
  ASSERT_TRUE(hub_->PatchModel("qwen-image-max", R"({"pricing":{"cost_per_image":0.01}})").ok());
  ASSERT_TRUE(hub_->PatchModel("flux-2-dev", R"({"pricing":{"cost_per_image":0.05}})").ok());
  ASSERT_TRUE(server_->SyncNow().ok());
  auto first = watcher.NextChange();
  auto second = watcher.NextChange();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(Describe(*first), "REMOVED flux-2-dev");  // in id order within a sync
  EXPECT_DOUBLE_EQ(first->model().pricing().cost_per_image(), 0.05);
  EXPECT_EQ(Describe(*second), "ADDED qwen-image-max");
}

TEST_F(WatchModelsTest, ActivationPollingAndLiveReadsAllReachTheStream) {
  ModelsWatcher watcher(stub_.get(), WatchOf("model_type = custom", {}, ""));
  watcher.UntilMarker();
  // An activation: deploying at once, then active through the poller.
  v1::ActivateModelRequest activate;
  activate.set_id("acme-illustrator");
  v1::ActivateModelResponse activated;
  ASSERT_TRUE(stub_->ActivateModel(Deadline().get(), activate, &activated).ok());
  auto deploying = watcher.NextChange();
  ASSERT_TRUE(deploying);
  EXPECT_EQ(Describe(*deploying), "CHANGED acme-illustrator deployments");
  EXPECT_EQ(deploying->previous().deployments(0).status_raw(), "inactive");
  EXPECT_EQ(deploying->model().deployments(0).status_raw(), "deploying");
  auto active = watcher.NextChange();
  ASSERT_TRUE(active);
  EXPECT_EQ(Describe(*active), "CHANGED acme-illustrator deployments");
  EXPECT_EQ(active->model().deployments(0).status_raw(), "active");

  // A live read.
  ASSERT_TRUE(hub_->SetDeploymentStatus("lab42-broken-tune", "active").ok());
  v1::GetModelRequest get;
  get.set_id("lab42-broken-tune");
  get.set_live(true);
  v1::GetModelResponse got;
  ASSERT_TRUE(stub_->GetModel(Deadline().get(), get, &got).ok());
  auto live = watcher.NextChange();
  ASSERT_TRUE(live);
  EXPECT_EQ(Describe(*live), "CHANGED lab42-broken-tune deployments");
  EXPECT_EQ(live->model().deployments(0).status_raw(), "active");
}

TEST_F(WatchModelsTest, ARestartedServerResumesAClientFromItsVersionsWithoutResync) {
  std::map<std::string, std::string> versions;
  std::string token;
  {
    ModelsWatcher watcher(stub_.get(), WatchOf(""));
    watcher.UntilMarker();
    versions = watcher.versions;
    token = watcher.token;
  }
  EXPECT_EQ(versions.size(), 17u);
  // A new process: its feed's tokens are not the old one's.
  StartServer();
  {
    ModelsWatcher resumed(stub_.get(), WatchOf("", versions, token));
    EXPECT_THAT(resumed.UntilMarker(), ElementsAre("INITIAL_STATE_COMPLETE"));
  }
  // What changed while the client was away, and only that.
  ASSERT_TRUE(hub_->PatchModel("flux-2-dev", R"({"pricing":{"cost_per_image":0.02}})").ok());
  ASSERT_TRUE(hub_->DeleteModel("lab42-mystery").ok());
  StartServer();
  ModelsWatcher resumed(stub_.get(), WatchOf("", versions, token));
  EXPECT_THAT(resumed.UntilMarker(),
              ElementsAre("CHANGED flux-2-dev", "REMOVED lab42-mystery", "INITIAL_STATE_COMPLETE"));
  ASSERT_EQ(resumed.versions.count("flux-2-dev"), 1u);
  EXPECT_NE(resumed.versions["flux-2-dev"], versions["flux-2-dev"]);
}

TEST_F(WatchModelsTest, RefusesRequestsOverTheLimitsWithAClearError) {
  grpc::Status status = Refusal(WatchOf("pricing.cost >"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("filter: "));

  status = Refusal(WatchOf("", {{"flux-2-dev", "v1"}}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "known_versions[\"flux-2-dev\"] is \"v1\", not a model_version (16 hexadecimal "
            "digits, as events carry them)");

  std::map<std::string, std::string> too_many;
  for (int i = 0; i < 17 + 1001; ++i) too_many[absl::StrCat("m", i)] = "0000000000000000";
  status = Refusal(WatchOf("", too_many));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "known_versions holds 1018 entries; at most 1017 are allowed (the catalog's 17 "
            "models plus 1000)");

  status = Refusal(WatchOf("", {{"", "0000000000000000"}}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "known_versions has an empty model id");

  status = Refusal(WatchOf("", {}, "not-a-token"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("resume_token is not a valid resume token"));
}

}  // namespace
}  // namespace modelcatalog
