// WatchDeployments, ActivateModel / DeactivateModel and live GetModel over real
// sockets: catalog-server in-process, syncing over real HTTP from the hub
// emulator, driven through its control API.
#include <atomic>
#include <deque>
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
using ::modelcatalog::v1::WatchDeploymentsRequest;
using ::modelcatalog::v1::WatchDeploymentsResponse;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

// Generous bounds: a test waits this long for something that should come
// much sooner, and fails instead of hanging when it does not.
constexpr absl::Duration kWait = absl::Seconds(10);

std::string Describe(const WatchDeploymentsResponse& e) {
  std::string text = v1::WatchEventType_Name(e.type()).substr(17);  // without WATCH_EVENT_TYPE_
  if (!e.model_id().empty()) absl::StrAppend(&text, " ", e.model_id());
  if (!e.previous_status_raw().empty()) absl::StrAppend(&text, " ", e.previous_status_raw(), "->");
  if (!e.status_raw().empty()) {
    absl::StrAppend(&text, e.previous_status_raw().empty() ? " " : "", e.status_raw());
  }
  if (e.resync()) absl::StrAppend(&text, " resync");
  return text;
}

// A watch stream read by its own thread into a queue the test pops from.
class Watcher {
 public:
  Watcher(ModelCatalogService::Stub* stub, WatchDeploymentsRequest request) {
    reader_ = stub->WatchDeployments(&context_, request);
    thread_ = std::thread([this] {
      WatchDeploymentsResponse event;
      while (reader_->Read(&event)) {
        absl::MutexLock lock(&mu_);
        events_.push_back(event);
      }
      grpc::Status status = reader_->Finish();
      absl::MutexLock lock(&mu_);
      status_ = status;
    });
  }
  ~Watcher() {
    context_.TryCancel();
    thread_.join();
  }

  // The next event, or nullopt if none comes within `timeout`.
  absl::optional<WatchDeploymentsResponse> Next(absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !events_.empty() || status_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
    if (events_.empty()) return absl::nullopt;
    WatchDeploymentsResponse event = events_.front();
    events_.pop_front();
    return event;
  }

  // Descriptions of events up to and including the first INITIAL_STATE_COMPLETE.
  std::vector<std::string> UntilMarker() {
    std::vector<std::string> seen;
    while (auto event = Next()) {
      seen.push_back(Describe(*event));
      if (event->type() == v1::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE) {
        last_token_ = event->resume_token();
        break;
      }
    }
    return seen;
  }

  // The next event that is not PROGRESS.
  absl::optional<WatchDeploymentsResponse> NextChange(absl::Duration timeout = kWait) {
    while (auto event = Next(timeout)) {
      if (event->type() != v1::WATCH_EVENT_TYPE_PROGRESS) {
        if (!event->resume_token().empty()) last_token_ = event->resume_token();
        return event;
      }
    }
    return absl::nullopt;
  }

  absl::optional<grpc::Status> WaitFinished(absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return status_.has_value(); };
    mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
    return status_;
  }

  const std::string& last_token() const { return last_token_; }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<WatchDeploymentsResponse>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::deque<WatchDeploymentsResponse> events_ ABSL_GUARDED_BY(mu_);
  absl::optional<grpc::Status> status_ ABSL_GUARDED_BY(mu_);
  std::string last_token_;
};

WatchDeploymentsRequest WatchOf(std::vector<std::string> ids = {}, std::string token = "") {
  WatchDeploymentsRequest request;
  for (const std::string& id : ids) request.add_model_ids(id);
  request.set_resume_token(token);
  return request;
}

class DeploymentsTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(absl::Milliseconds(100), absl::Hours(1)); }

  void Start(absl::Duration poll_interval, absl::Duration progress_interval) {
    absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub =
        HubEmulatorProcess::Start({"--deploy_delay=300ms"});
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = *std::move(hub);
    catalog::CatalogServerOptions options;
    options.listen = "127.0.0.1:0";
    options.hub.base_url = hub_->api_url();
    options.sync_interval = absl::Hours(1);  // only polls and live calls see changes quickly
    options.deployment_poll_interval = poll_interval;
    options.watch_progress_interval = progress_interval;
    absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> server =
        catalog::CatalogServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = ModelCatalogService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
    // The syncer's first sync runs in the background; one more here makes sure
    // a catalog is loaded before the test starts.
    ASSERT_TRUE(server_->SyncNow().ok());
  }

  std::unique_ptr<grpc::ClientContext> Deadline() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + kWait));
    return context;
  }

  // Asks the service for a live status: the quickest way to make it observe a
  // change made in the emulator.
  v1::Model GetLive(const std::string& id) {
    v1::GetModelRequest request;
    request.set_id(id);
    request.set_live(true);
    v1::GetModelResponse response;
    grpc::Status status = stub_->GetModel(Deadline().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.model();
  }

  std::unique_ptr<HubEmulatorProcess> hub_;
  std::unique_ptr<catalog::CatalogServer> server_;
  std::unique_ptr<ModelCatalogService::Stub> stub_;
};

TEST_F(DeploymentsTest, StartsWithTheStateOfEveryModelWithDeploymentsThenAMarker) {
  Watcher watcher(stub_.get(), WatchOf());
  EXPECT_THAT(watcher.UntilMarker(),
              ElementsAre("INITIAL acme-illustrator inactive", "INITIAL acme-support-bot active",
                          "INITIAL lab42-broken-tune error", "INITIAL lab42-mystery unknown",
                          "INITIAL pixel-studio-promo-video deactivating",
                          "INITIAL pixel-studio-sketch deploying", "INITIAL_STATE_COMPLETE"));
  EXPECT_FALSE(watcher.last_token().empty());
}

TEST_F(DeploymentsTest, AStatusFlippedAtTheHubArrivesThroughPolling) {
  Watcher watcher(stub_.get(), WatchOf());
  watcher.UntilMarker();
  // pixel-studio-sketch is deploying, so it is polled every 100ms; the full
  // sync is an hour away. The flip can only arrive through the poller.
  ASSERT_TRUE(hub_->SetDeploymentStatus("pixel-studio-sketch", "active").ok());
  absl::optional<WatchDeploymentsResponse> event = watcher.NextChange(absl::Seconds(5));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(Describe(*event), "CHANGED pixel-studio-sketch deploying->active");
  EXPECT_EQ(event->status(), v1::DEPLOYMENT_STATUS_ACTIVE);
  EXPECT_EQ(event->previous_status(), v1::DEPLOYMENT_STATUS_DEPLOYING);
  EXPECT_TRUE(event->has_observe_time());
  EXPECT_EQ(event->deployments_size(), 1);
}

TEST_F(DeploymentsTest, ActivationGoesInactiveDeployingActiveOnTheStream) {
  Watcher watcher(stub_.get(), WatchOf({"acme-illustrator"}));
  EXPECT_THAT(watcher.UntilMarker(),
              ElementsAre("INITIAL acme-illustrator inactive", "INITIAL_STATE_COMPLETE"));
  v1::ActivateModelRequest request;
  request.set_id("acme-illustrator");
  v1::ActivateModelResponse response;
  grpc::Status status = stub_->ActivateModel(Deadline().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.model().deployments(0).status_raw(), "deploying");

  auto deploying = watcher.NextChange();
  ASSERT_TRUE(deploying);
  EXPECT_EQ(Describe(*deploying), "CHANGED acme-illustrator inactive->deploying");
  auto active = watcher.NextChange();
  ASSERT_TRUE(active);
  EXPECT_EQ(Describe(*active), "CHANGED acme-illustrator deploying->active");
  EXPECT_GT(active->revision(), deploying->revision());

  // The catalog serves the new status too.
  v1::GetModelRequest get;
  get.set_id("acme-illustrator");
  v1::GetModelResponse got;
  ASSERT_TRUE(stub_->GetModel(Deadline().get(), get, &got).ok());
  EXPECT_EQ(got.model().deployments(0).status_raw(), "active");
}

TEST_F(DeploymentsTest, DeactivationGoesDeactivatingThenInactive) {
  Watcher watcher(stub_.get(), WatchOf({"acme-support-bot"}));
  watcher.UntilMarker();
  v1::DeactivateModelRequest request;
  request.set_id("acme-support-bot");
  v1::DeactivateModelResponse response;
  ASSERT_TRUE(stub_->DeactivateModel(Deadline().get(), request, &response).ok());
  EXPECT_EQ(response.model().deployments(0).status_raw(), "deactivating");
  auto first = watcher.NextChange();
  auto second = watcher.NextChange();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(Describe(*first), "CHANGED acme-support-bot active->deactivating");
  EXPECT_EQ(Describe(*second), "CHANGED acme-support-bot deactivating->inactive");
}

TEST_F(DeploymentsTest, ActivateAndDeactivateErrors) {
  struct Case {
    std::string id;
    bool activate;
    grpc::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", true, grpc::StatusCode::INVALID_ARGUMENT, "id must not be empty"},
      {"no-such-model", true, grpc::StatusCode::NOT_FOUND, "Model not found: no-such-model"},
      {"claude-sonnet-4-6", true, grpc::StatusCode::FAILED_PRECONDITION,
       "claude-sonnet-4-6 is a base model: base models are always active and cannot be activated"},
      {"claude-sonnet-4-6", false, grpc::StatusCode::FAILED_PRECONDITION,
       "claude-sonnet-4-6 is a base model: base models are always active and cannot be "
       "deactivated"},
  };
  for (const Case& c : cases) {
    grpc::Status status;
    if (c.activate) {
      v1::ActivateModelRequest request;
      request.set_id(c.id);
      v1::ActivateModelResponse response;
      status = stub_->ActivateModel(Deadline().get(), request, &response);
    } else {
      v1::DeactivateModelRequest request;
      request.set_id(c.id);
      v1::DeactivateModelResponse response;
      status = stub_->DeactivateModel(Deadline().get(), request, &response);
    }
    EXPECT_EQ(status.error_code(), c.code) << c.id;
    EXPECT_EQ(status.error_message(), c.message) << c.id;
  }
  // The hub's own failures come back with the matching code and its message.
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"http_error","status":503,"endpoint":"activate",
                                    "message":"provider capacity exhausted"})").ok());
  v1::ActivateModelRequest request;
  request.set_id("acme-illustrator");
  v1::ActivateModelResponse response;
  grpc::Status status = stub_->ActivateModel(Deadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("provider capacity exhausted"));
}

TEST_F(DeploymentsTest, LiveGetUpdatesTheCatalogAndWatchers) {
  Watcher watcher(stub_.get(), WatchOf({"lab42-broken-tune"}));
  watcher.UntilMarker();
  ASSERT_TRUE(hub_->SetDeploymentStatus("lab42-broken-tune", "active").ok());
  EXPECT_EQ(GetLive("lab42-broken-tune").deployments(0).status_raw(), "active");
  auto event = watcher.NextChange();
  ASSERT_TRUE(event);
  EXPECT_EQ(Describe(*event), "CHANGED lab42-broken-tune error->active");
}

TEST_F(DeploymentsTest, ConcurrentLiveLookupsOfOneModelShareOneHubCall) {
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"slow","delay_ms":1000,"endpoint":"retrieve","count":100})").ok());
  absl::StatusOr<testing::HubRequestCounts> before = hub_->Stats();
  ASSERT_TRUE(before.ok());
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    callers.emplace_back([&] {
      if (GetLive("acme-support-bot").id() == "acme-support-bot") ++ok;
    });
  }
  for (auto& t : callers) t.join();
  absl::StatusOr<testing::HubRequestCounts> after = hub_->Stats();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(ok.load(), 20);
  // Poller calls for the models in transition are counted too; one live call
  // per second for them at most, against 20 callers.
  const int64_t live_calls = after->retrieve_live - before->retrieve_live;
  EXPECT_LT(live_calls, 20);
}

TEST_F(DeploymentsTest, ResumeReceivesExactlyTheMissedEvents) {
  std::string token;
  {
    Watcher watcher(stub_.get(), WatchOf({"acme-support-bot", "lab42-mystery"}));
    watcher.UntilMarker();
    token = watcher.last_token();
  }  // disconnected
  ASSERT_TRUE(hub_->SetDeploymentStatus("acme-support-bot", "error").ok());
  GetLive("acme-support-bot");
  ASSERT_TRUE(hub_->SetDeploymentStatus("lab42-mystery", "active").ok());
  GetLive("lab42-mystery");

  Watcher resumed(stub_.get(), WatchOf({"acme-support-bot", "lab42-mystery"}, token));
  EXPECT_THAT(resumed.UntilMarker(),
              ElementsAre("CHANGED acme-support-bot active->error",
                          "CHANGED lab42-mystery unknown->active", "INITIAL_STATE_COMPLETE"));
}

TEST_F(DeploymentsTest, AStaleTokenReceivesAResync) {
  const std::string foreign = catalog::EncodeResumeToken({server_->feed().instance() + 1, 3});
  Watcher watcher(stub_.get(), WatchOf({"acme-support-bot"}, foreign));
  EXPECT_THAT(watcher.UntilMarker(), ElementsAre("INITIAL acme-support-bot active resync",
                                                 "INITIAL_STATE_COMPLETE resync"));
  Watcher garbage(stub_.get(), WatchOf({}, "not-a-token"));
  absl::optional<grpc::Status> status = garbage.WaitFinished();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status->error_message(),
            "resume_token is not a valid resume token: pass the resume_token of an event unchanged");
}

TEST_F(DeploymentsTest, WatchesOnlyTheListedModels) {
  Watcher watcher(stub_.get(), WatchOf({"acme-illustrator", "claude-sonnet-4-6"}));
  EXPECT_THAT(watcher.UntilMarker(),
              ElementsAre("INITIAL acme-illustrator inactive", "INITIAL claude-sonnet-4-6",
                          "INITIAL_STATE_COMPLETE"));
  ASSERT_TRUE(hub_->SetDeploymentStatus("acme-support-bot", "error").ok());
  GetLive("acme-support-bot");  // not watched
  ASSERT_TRUE(hub_->SetDeploymentStatus("acme-illustrator", "error").ok());
  GetLive("acme-illustrator");
  auto event = watcher.NextChange();
  ASSERT_TRUE(event);
  EXPECT_EQ(Describe(*event), "CHANGED acme-illustrator inactive->error");
}

TEST_F(DeploymentsTest, AModelThatDisappearsIsReportedRemoved) {
  Watcher watcher(stub_.get(), WatchOf());
  watcher.UntilMarker();
  ASSERT_TRUE(hub_->DeleteModel("lab42-mystery").ok());
  ASSERT_TRUE(hub_->PutModel("new-custom", R"({"id":"new-custom","object":"model",
      "model_type":"custom","display_name":"New","owned_by":"acme","endpoint":"/chat/completions",
      "deployments":[{"id":"d1","status":"inactive"}]})").ok());
  ASSERT_TRUE(server_->SyncNow().ok());
  auto first = watcher.NextChange();
  auto second = watcher.NextChange();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(Describe(*first), "REMOVED lab42-mystery unknown->");
  EXPECT_TRUE(first->deployments().empty());
  EXPECT_EQ(Describe(*second), "ADDED new-custom inactive");
}

TEST_F(DeploymentsTest, ShutdownEndsStreamsWithAClearStatus) {
  Watcher watcher(stub_.get(), WatchOf());
  watcher.UntilMarker();
  server_->Shutdown(absl::Seconds(5));
  absl::optional<grpc::Status> status = watcher.WaitFinished();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status->error_message(), "the server is shutting down");
}

class ProgressTest : public DeploymentsTest {
 protected:
  void SetUp() override { Start(absl::Hours(1), absl::Milliseconds(200)); }
};

TEST_F(ProgressTest, AQuietStreamGetsProgressWithTheLatestRevision) {
  Watcher watcher(stub_.get(), WatchOf({"acme-support-bot"}));
  watcher.UntilMarker();
  // A change to a model this stream does not watch still moves the revision.
  ASSERT_TRUE(hub_->SetDeploymentStatus("lab42-mystery", "active").ok());
  GetLive("lab42-mystery");
  absl::optional<WatchDeploymentsResponse> progress;
  while (auto event = watcher.Next()) {
    if (event->type() == v1::WATCH_EVENT_TYPE_PROGRESS && event->revision() == server_->feed().revision()) {
      progress = event;
      break;
    }
  }
  ASSERT_TRUE(progress) << "no progress event";
  EXPECT_FALSE(progress->resume_token().empty());
  // Its token resumes with nothing missed.
  Watcher resumed(stub_.get(), WatchOf({"acme-support-bot"}, progress->resume_token()));
  EXPECT_THAT(resumed.UntilMarker(), ElementsAre("INITIAL_STATE_COMPLETE"));
}

// Many watchers, each an asynchronous reader: no thread per watcher on either side.
class CountingWatcher : public grpc::ClientReadReactor<WatchDeploymentsResponse> {
 public:
  CountingWatcher(ModelCatalogService::Stub* stub, std::atomic<int>* markers,
                  std::atomic<int>* changes)
      : markers_(markers), changes_(changes) {
    stub->async()->WatchDeployments(&context_, &request_, this);
    StartRead(&event_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (event_.type() == v1::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE) ++*markers_;
    if (event_.type() == v1::WATCH_EVENT_TYPE_CHANGED) ++*changes_;
    StartRead(&event_);
  }
  void OnDone(const grpc::Status&) override {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }
  void CancelAndWait() {
    context_.TryCancel();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
  }

 private:
  grpc::ClientContext context_;
  WatchDeploymentsRequest request_ = WatchOf({"acme-support-bot"});
  WatchDeploymentsResponse event_;
  std::atomic<int>* markers_;
  std::atomic<int>* changes_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

bool WaitFor(const std::atomic<int>& counter, int target) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (counter.load() < target && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  return counter.load() >= target;
}

TEST_F(DeploymentsTest, AThousandWatchersAllReceiveTheEvent) {
  constexpr int kWatchers = 1000;
  // Several connections, as many clients would have: channels with distinct
  // arguments do not share one.
  std::vector<std::unique_ptr<ModelCatalogService::Stub>> stubs;
  for (int i = 0; i < 8; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("modelcatalog.test.connection", i);
    stubs.push_back(ModelCatalogService::NewStub(grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials(), args)));
  }
  std::atomic<int> markers{0};
  std::atomic<int> changes{0};
  std::vector<std::unique_ptr<CountingWatcher>> watchers;
  for (int i = 0; i < kWatchers; ++i) {
    watchers.push_back(std::make_unique<CountingWatcher>(stubs[i % stubs.size()].get(), &markers, &changes));
  }
  ASSERT_TRUE(WaitFor(markers, kWatchers)) << markers.load() << " of " << kWatchers << " started";
  ASSERT_TRUE(hub_->SetDeploymentStatus("acme-support-bot", "error").ok());
  GetLive("acme-support-bot");
  EXPECT_TRUE(WaitFor(changes, kWatchers)) << changes.load() << " of " << kWatchers << " got it";
  EXPECT_EQ(changes.load(), kWatchers);
  for (auto& watcher : watchers) watcher->CancelAndWait();
}

TEST_F(DeploymentsTest, AWatcherThatDoesNotReadDoesNotHoldUpOthers) {
  // The stalled client opens its stream and never reads: its flow-control
  // window fills, and the server must keep only its latest state per model.
  grpc::ClientContext stalled_context;
  auto stalled = stub_->WatchDeployments(&stalled_context, WatchOf());
  Watcher reader(stub_.get(), WatchOf());
  reader.UntilMarker();

  // Two thousand new custom models: far more event bytes than one window holds.
  std::string catalog = R"({"object":"list","data":[)";
  constexpr int kModels = 2000;
  for (int i = 0; i < kModels; ++i) {
    absl::StrAppend(&catalog, i ? "," : "", R"({"id":"bulk-)", 10000 + i,
                    R"(","object":"model","model_type":"custom","display_name":"Bulk model with a long enough name )",
                    i, R"(","owned_by":"bulk","endpoint":"/chat/completions","deployments":[{"id":"deployment-)",
                    i, R"(","status":"inactive","provider":"bulk-provider"}]})");
  }
  absl::StrAppend(&catalog, "]}");
  ASSERT_TRUE(hub_->ReplaceCatalog(catalog).ok());
  ASSERT_TRUE(server_->SyncNow().ok());  // returns although one watcher is stuck

  std::set<std::string> added;
  while (static_cast<int>(added.size()) < kModels) {
    auto event = reader.NextChange();
    ASSERT_TRUE(event) << "reader stopped after " << added.size() << " additions";
    if (event->type() == v1::WATCH_EVENT_TYPE_ADDED) added.insert(event->model_id());
  }
  // The stalled client, reading at last, gets every model's latest state.
  std::set<std::string> stalled_added;
  WatchDeploymentsResponse event;
  while (static_cast<int>(stalled_added.size()) < kModels && stalled->Read(&event)) {
    if (event.type() == v1::WATCH_EVENT_TYPE_ADDED) stalled_added.insert(event.model_id());
  }
  EXPECT_EQ(stalled_added, added);
  stalled_context.TryCancel();
}

}  // namespace
}  // namespace modelcatalog
