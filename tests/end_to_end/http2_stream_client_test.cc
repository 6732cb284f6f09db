// catalog-bench's own HTTP/2 reader of gRPC streams (benchmarks/load/
// http2_stream_client.h) against the real catalog-server: what it reads must be
// what gRPC's client would, since the watch figures of BENCHMARKS.md rest on it.
#include "benchmarks/load/http2_stream_client.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "modelcatalog/v1/catalog_service.pb.h"
#include "tests/support/catalog_server_for_test.h"
#include "tests/support/hub_emulator_process.h"

namespace modelcatalog {
namespace {

using ::modelcatalog::bench::Http2StreamClient;
using ::modelcatalog::bench::Http2StreamHandler;
using ::modelcatalog::testing::HubEmulatorProcess;
namespace v1 = ::modelcatalog::v1;

constexpr char kModel[] = "lab42-broken-tune";  // a custom model with one deployment
constexpr char kWatchDeployments[] = "/modelcatalog.v1.ModelCatalogService/WatchDeployments";

// Keeps what a stream told, for the test thread to wait on.
class RecordingHandler final : public Http2StreamHandler {
 public:
  void OnMessage(absl::string_view message, int64_t) override {
    absl::MutexLock lock(&mu_);
    messages_.emplace_back(message);
  }
  void OnClose(int code, absl::string_view message) override {
    absl::MutexLock lock(&mu_);
    code_ = code;
    message_ = std::string(message);
  }

  // Waits until `count` messages arrived; false after 10 s.
  bool AwaitMessages(size_t count) {
    absl::MutexLock lock(&mu_);
    awaited_ = count;
    return mu_.AwaitWithTimeout(absl::Condition(this, &RecordingHandler::HasAwaited),
                                absl::Seconds(10));
  }
  // Waits until the stream ended; its code, or -1 after 10 s.
  int AwaitClose() {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(this, &RecordingHandler::Closed), absl::Seconds(10));
    return code_;
  }
  std::vector<std::string> messages() {
    absl::MutexLock lock(&mu_);
    return messages_;
  }
  std::string close_message() {
    absl::MutexLock lock(&mu_);
    return message_;
  }

 private:
  bool HasAwaited() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return messages_.size() >= awaited_;
  }
  bool Closed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return code_ >= 0; }

  mutable absl::Mutex mu_;
  std::vector<std::string> messages_ ABSL_GUARDED_BY(mu_);
  size_t awaited_ ABSL_GUARDED_BY(mu_) = 0;
  int code_ ABSL_GUARDED_BY(mu_) = -1;
  std::string message_ ABSL_GUARDED_BY(mu_);
};

v1::WatchDeploymentsResponse Parse(const std::string& bytes) {
  v1::WatchDeploymentsResponse event;
  EXPECT_TRUE(event.ParseFromString(bytes));
  return event;
}

class Http2StreamClientTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> hub_flags) {
    absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub =
        HubEmulatorProcess::Start(std::move(hub_flags));
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = *std::move(hub);
    absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> server =
        testing::StartCatalogServer(hub_->api_url(), [](catalog::CatalogServerOptions* options) {
          options->deployment_poll_interval = absl::Hours(1);
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    absl::StatusOr<std::unique_ptr<Http2StreamClient>> client =
        Http2StreamClient::Connect(absl::StrCat("127.0.0.1:", server_->port()), 2);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  std::unique_ptr<HubEmulatorProcess> hub_;
  std::unique_ptr<catalog::CatalogServer> server_;
  std::unique_ptr<Http2StreamClient> client_;
};

TEST_F(Http2StreamClientTest, ReadsAWatchAsGrpcSendsItAndCancelsIt) {
  ASSERT_NO_FATAL_FAILURE(Start({}));
  v1::WatchDeploymentsRequest request;
  request.add_model_ids(kModel);
  RecordingHandler on_first, on_second;
  client_->Open(0, kWatchDeployments, request.SerializeAsString(), true, &on_first);
  client_->Open(1, kWatchDeployments, request.SerializeAsString(), true, &on_second);

  // The model's INITIAL event, then the marker, on both connections.
  for (RecordingHandler* handler : {&on_first, &on_second}) {
    ASSERT_TRUE(handler->AwaitMessages(2));
    const std::vector<std::string> start = handler->messages();
    EXPECT_EQ(Parse(start[0]).type(), v1::WATCH_EVENT_TYPE_INITIAL);
    EXPECT_EQ(Parse(start[0]).model_id(), kModel);
    EXPECT_EQ(Parse(start[1]).type(), v1::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE);
  }

  // A change reaches both, whole.
  ASSERT_TRUE(hub_->SetDeploymentStatus(kModel, "active").ok());
  ASSERT_TRUE(server_->SyncNow().ok());
  for (RecordingHandler* handler : {&on_first, &on_second}) {
    ASSERT_TRUE(handler->AwaitMessages(3));
    const v1::WatchDeploymentsResponse changed = Parse(handler->messages()[2]);
    EXPECT_EQ(changed.type(), v1::WATCH_EVENT_TYPE_CHANGED);
    EXPECT_EQ(changed.model_id(), kModel);
    EXPECT_EQ(changed.status_raw(), "active");
  }

  // Cancelling one ends it CANCELLED; the other stays open.
  client_->Cancel(&on_first);
  EXPECT_EQ(on_first.AwaitClose(), 1) << on_first.close_message();
  ASSERT_TRUE(hub_->SetDeploymentStatus(kModel, "inactive").ok());
  ASSERT_TRUE(server_->SyncNow().ok());
  ASSERT_TRUE(on_second.AwaitMessages(4));
  EXPECT_EQ(Parse(on_second.messages()[3]).status_raw(), "inactive");
  EXPECT_EQ(on_first.messages().size(), 3u);
  client_->Cancel(&on_second);
  EXPECT_EQ(on_second.AwaitClose(), 1);
}

TEST_F(Http2StreamClientTest, TellsTheServersStatusAndMessage) {
  ASSERT_NO_FATAL_FAILURE(Start({}));
  RecordingHandler unknown, refused;
  client_->Open(0, "/modelcatalog.v1.ModelCatalogService/NoSuchMethod", "", true, &unknown);
  EXPECT_EQ(unknown.AwaitClose(), 12);  // UNIMPLEMENTED, from the trailers
  v1::WatchDeploymentsRequest request;
  request.set_resume_token("not a token");
  client_->Open(1, kWatchDeployments, request.SerializeAsString(), true, &refused);
  EXPECT_EQ(refused.AwaitClose(), 3);  // INVALID_ARGUMENT
  EXPECT_NE(refused.close_message(), "");
  EXPECT_TRUE(refused.messages().empty());
}

// A message larger than a DATA frame (16 KiB) arrives in pieces and is handed
// over whole, once.
TEST_F(Http2StreamClientTest, JoinsAMessageSplitAcrossFrames) {
  ASSERT_NO_FATAL_FAILURE(Start({"--generate_models=300"}));
  v1::ListModelsRequest request;
  request.set_page_size(100);
  request.set_view(v1::MODEL_VIEW_FULL);
  RecordingHandler handler;
  client_->Open(0, "/modelcatalog.v1.ModelCatalogService/ListModels", request.SerializeAsString(),
                true, &handler);
  EXPECT_EQ(handler.AwaitClose(), 0) << handler.close_message();
  const std::vector<std::string> messages = handler.messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_GT(messages[0].size(), 3u * 16384) << "not split: the test proves nothing";
  v1::ListModelsResponse page;
  ASSERT_TRUE(page.ParseFromString(messages[0]));
  EXPECT_EQ(page.models_size(), 100);
}

TEST_F(Http2StreamClientTest, AStreamOfAServerThatStopsEndsUnavailable) {
  ASSERT_NO_FATAL_FAILURE(Start({}));
  v1::WatchDeploymentsRequest request;
  request.add_model_ids(kModel);
  RecordingHandler handler;
  client_->Open(0, kWatchDeployments, request.SerializeAsString(), true, &handler);
  ASSERT_TRUE(handler.AwaitMessages(2));
  server_.reset();  // shuts down: ends the streams, then the connections
  EXPECT_EQ(handler.AwaitClose(), 14) << handler.close_message();
}

}  // namespace
}  // namespace modelcatalog
