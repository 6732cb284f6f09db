// UnaryCall and StreamCall on a real gRPC server, with the standard health
// protocol's messages as a test service: answered on the queue's thread or
// later from another, errors, calls the client abandons, streams written in
// order, cancelled, and cut by shutdown; each call freed exactly once.
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/catalog/grpc/serving_queues.h"
#include "services/catalog/grpc/stream_call.h"
#include "services/catalog/grpc/unary_call.h"

namespace modelcatalog::catalog {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using CheckMethod = UnaryMethod<HealthCheckRequest, HealthCheckResponse>;

std::atomic<int> live_streams{0};  // TestStream objects alive
std::atomic<int> streams_done{0};  // OnDone calls

// A Watch stream whose request says what it does: "three" writes SERVING
// three times and finishes OK; "hold" writes once and waits for the client to
// cancel (or the server to shut down), then finishes CANCELLED.
class TestStream final : public StreamCall<HealthCheckRequest, HealthCheckResponse> {
 public:
  static void Await(const Requester* requester, ServingQueues* queues) {
    AwaitCall(new TestStream(requester, queues));
  }
  ~TestStream() override { --live_streams; }

  bool cancelled() const { return cancelled_.load(); }

 private:
  TestStream(const Requester* requester, ServingQueues* queues)
      : StreamCall(requester, &queues->call_queue(0), &queues->stream_queue(0)),
        requester_(requester),
        queues_(queues) {
    ++live_streams;
  }

  void AwaitNext() override { Await(requester_, queues_); }
  void OnStart() override {
    left_ = request().service() == "three" ? 3 : 1;
    Write();
  }
  void OnWritten(bool ok) override {
    absl::MutexLock lock(&mu_);
    if (!ok) return FinishLocked(grpc::Status::CANCELLED);
    if (--left_ > 0) return WriteLocked();
    if (request().service() == "three") FinishLocked(grpc::Status::OK);
  }
  void OnCancelled() override {
    cancelled_ = true;
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }
  void OnDone() override {
    absl::MutexLock lock(&mu_);  // orders the callbacks before the delete
    ++streams_done;
  }

  void Write() {
    absl::MutexLock lock(&mu_);
    WriteLocked();
  }
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    HealthCheckResponse response;
    response.set_status(HealthCheckResponse::SERVING);
    StartWrite(response);
  }
  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    StartFinish(status);
  }

  const Requester* const requester_;
  ServingQueues* const queues_;
  absl::Mutex mu_;
  int left_ ABSL_GUARDED_BY(mu_) = 0;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> cancelled_{false};
};

class CallsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    live_streams = 0;
    streams_done = 0;
    check_.request = [this](auto* context, auto* request, auto* responder, auto* queue, void* tag) {
      service_.RequestCheck(context, request, responder, queue, queue, tag);
    };
    check_.handle = [this](CheckMethod::Call* call) {
      std::function<void(CheckMethod::Call*)> handler;
      {
        absl::MutexLock lock(&mu_);
        handler = handler_;
      }
      handler(call);
    };
    check_.on_finish = [this](const grpc::Status& status, absl::Duration) {
      absl::MutexLock lock(&mu_);
      finished_codes_.push_back(status.error_code());
    };
    watch_ = [this](grpc::ServerContext* context, HealthCheckRequest* request,
                    grpc::ServerAsyncWriter<HealthCheckResponse>* writer,
                    grpc::CompletionQueue* call_queue,
                    grpc::ServerCompletionQueue* notification_queue, void* tag) {
      service_.RequestWatch(context, request, writer, call_queue, notification_queue, tag);
    };
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    queues_.AddCallQueues(&builder, 1);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    queues_.Start();
    for (int i = 0; i < 2; ++i) {  // a backlog of two of each
      CheckMethod::Call::Await(&check_, &queues_.call_queue(0));
      TestStream::Await(&watch_, &queues_);
    }
    stub_ = Health::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    queues_.Stop();
    EXPECT_EQ(live_streams.load(), 0) << "a stream call was not freed";
  }

  grpc::Status Check(HealthCheckResponse* response, absl::Duration deadline = absl::Seconds(10)) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    return stub_->Check(&context, {}, response);
  }

  std::vector<grpc::StatusCode> FinishedCodes() {
    absl::MutexLock lock(&mu_);
    return finished_codes_;
  }

  Health::AsyncService service_;
  ServingQueues queues_{1, [](size_t) {}};
  CheckMethod check_;
  StreamCall<HealthCheckRequest, HealthCheckResponse>::Requester watch_;
  // How the next Check is answered.
  void SetHandler(std::function<void(CheckMethod::Call*)> handler) {
    absl::MutexLock lock(&mu_);
    handler_ = std::move(handler);
  }
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<Health::Stub> stub_;
  absl::Mutex mu_;
  std::vector<grpc::StatusCode> finished_codes_ ABSL_GUARDED_BY(mu_);
  std::function<void(CheckMethod::Call*)> handler_ ABSL_GUARDED_BY(mu_);
};

// Answered on the queue's thread: more calls than the backlog all go through,
// so each call requests the next before it is handled.
TEST_F(CallsTest, AUnaryCallAnsweredWhereItWasRead) {
  SetHandler([](CheckMethod::Call* call) {
    call->response()->set_status(HealthCheckResponse::SERVING);
    call->Finish(grpc::Status::OK);
  });
  for (int i = 0; i < 10; ++i) {
    HealthCheckResponse response;
    ASSERT_TRUE(Check(&response).ok());
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  }
  EXPECT_EQ(FinishedCodes().size(), 10u);
}

TEST_F(CallsTest, AUnaryCallAnsweredLaterFromAnotherThread) {
  std::vector<std::thread> answering;
  absl::Mutex threads_mu;
  SetHandler([&](CheckMethod::Call* call) {
    absl::MutexLock lock(&threads_mu);
    answering.emplace_back([call] {
      absl::SleepFor(absl::Milliseconds(20));
      call->response()->set_status(HealthCheckResponse::NOT_SERVING);
      call->Finish(grpc::Status::OK);
    });
  });
  HealthCheckResponse response;
  ASSERT_TRUE(Check(&response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  absl::MutexLock lock(&threads_mu);
  for (std::thread& thread : answering) thread.join();
}

TEST_F(CallsTest, AnErrorIsWrittenWithItsCodeAndMessage) {
  SetHandler([](CheckMethod::Call* call) {
    call->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such thing"));
  });
  HealthCheckResponse response;
  const grpc::Status status = Check(&response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "no such thing");
  EXPECT_EQ(FinishedCodes(), std::vector<grpc::StatusCode>({grpc::StatusCode::NOT_FOUND}));
}

// The client gives up before the answer; the call is still finished (once)
// when its answer comes, and freed (ASan's leak check in CI says so).
TEST_F(CallsTest, ACallItsClientAbandonedIsStillFinished) {
  absl::Notification abandoned, answered;
  std::thread answering;
  SetHandler([&](CheckMethod::Call* call) {
    answering = std::thread([&, call] {
      abandoned.WaitForNotification();
      call->Finish(grpc::Status::OK);
      answered.Notify();
    });
  });
  HealthCheckResponse response;
  EXPECT_EQ(Check(&response, absl::Milliseconds(50)).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  abandoned.Notify();
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  answering.join();
  EXPECT_EQ(FinishedCodes().size(), 1u);
}

TEST_F(CallsTest, AStreamWritesInOrderAndFinishesOnce) {
  grpc::ClientContext context;
  HealthCheckRequest request;
  request.set_service("three");
  auto reader = stub_->Watch(&context, request);
  HealthCheckResponse response;
  int read = 0;
  while (reader->Read(&response)) ++read;
  EXPECT_EQ(read, 3);
  EXPECT_TRUE(reader->Finish().ok());
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (streams_done.load() < 1 && absl::Now() < until) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(streams_done.load(), 1);
}

TEST_F(CallsTest, AStreamTheClientCancelsHearsOfItAndIsFreed) {
  grpc::ClientContext context;
  HealthCheckRequest request;
  request.set_service("hold");
  auto reader = stub_->Watch(&context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(reader->Read(&response));
  context.TryCancel();
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (streams_done.load() < 1 && absl::Now() < until) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(streams_done.load(), 1);
}

// A stream still open when the server shuts down is cancelled by it, and
// freed before the queues stop.
TEST_F(CallsTest, ShutdownEndsAStreamStillOpen) {
  grpc::ClientContext context;
  HealthCheckRequest request;
  request.set_service("hold");
  auto reader = stub_->Watch(&context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(reader->Read(&response));
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Milliseconds(100)));
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_FALSE(reader->Finish().ok());
  queues_.Stop();
  EXPECT_EQ(streams_done.load(), 1);
}

// A call answered after the server shut down (a hub call that comes back
// late): Stop waits for the answer before it closes the queues, since an
// operation on a closed queue would abort the process.
TEST_F(CallsTest, StopWaitsForACallAnsweredAfterTheServerShutDown) {
  absl::Notification arrived, shut_down;
  std::thread answering;
  SetHandler([&](CheckMethod::Call* call) {
    answering = std::thread([&, call] {
      shut_down.WaitForNotification();
      absl::SleepFor(absl::Milliseconds(200));  // Stop is waiting by now
      call->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
    });
    arrived.Notify();
  });
  std::thread client([&] {
    HealthCheckResponse response;
    EXPECT_FALSE(Check(&response).ok());
  });
  ASSERT_TRUE(arrived.WaitForNotificationWithTimeout(absl::Seconds(10)));
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Milliseconds(50)));
  shut_down.Notify();
  queues_.Stop();
  EXPECT_EQ(FinishedCodes(),
            std::vector<grpc::StatusCode>({grpc::StatusCode::UNAVAILABLE}));  // answered, once
  answering.join();
  client.join();
}

}  // namespace
}  // namespace modelcatalog::catalog
