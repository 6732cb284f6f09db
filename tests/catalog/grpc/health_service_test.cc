// The health service on a real gRPC server: Check and Watch follow SetServing,
// answer for the server and its services, carry the details as trailing
// metadata, and end their watches at shutdown.
#include "services/catalog/grpc/health_service.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace modelcatalog::catalog {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

class HealthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(health_.service());
    queues_.AddCallQueues(&builder, 1);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    queues_.Start();
    health_.Serve(&queues_, 2);
    stub_ = Health::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    health_.Shutdown();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    queues_.Stop();
  }

  grpc::Status Check(const std::string& service, HealthCheckResponse* response,
                     grpc::ClientContext* context = nullptr) {
    grpc::ClientContext own;
    if (context == nullptr) context = &own;
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    HealthCheckRequest request;
    request.set_service(service);
    return stub_->Check(context, request, response);
  }

  ServingQueues queues_{2, [](size_t) {}};
  HealthService health_{
      {"example.v1.Service"}, [] {
        return std::vector<std::pair<std::string, std::string>>{{"catalog-staleness-seconds", "7"}};
      }};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<Health::Stub> stub_;
};

TEST_F(HealthServiceTest, CheckFollowsTheServingStatusForTheServerAndItsServices) {
  HealthCheckResponse response;
  ASSERT_TRUE(Check("", &response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  health_.SetServing(true);
  for (const std::string service : {"", "example.v1.Service"}) {
    ASSERT_TRUE(Check(service, &response).ok()) << service;
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVING) << service;
  }
  const grpc::Status unknown = Check("other.Service", &response);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(unknown.error_message(), "unknown service: other.Service");
}

TEST_F(HealthServiceTest, CheckCarriesTheDetailsAsTrailingMetadata) {
  grpc::ClientContext context;
  HealthCheckResponse response;
  ASSERT_TRUE(Check("", &response, &context).ok());
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find("catalog-staleness-seconds");
  ASSERT_NE(it, trailers.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), "7");
}

TEST_F(HealthServiceTest, WatchHearsEveryChangeAndEndsAtShutdown) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto reader = stub_->Watch(&context, HealthCheckRequest());
  HealthCheckResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  health_.SetServing(true);
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  health_.SetServing(true);  // no change, no event
  health_.Shutdown();
  EXPECT_FALSE(reader->Read(&response));
  const grpc::Status ended = reader->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ended.error_message(), "the server is shutting down");
}

TEST_F(HealthServiceTest, WatchOfAnUnknownServiceSaysSoAndStaysOpen) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  HealthCheckRequest request;
  request.set_service("other.Service");
  auto reader = stub_->Watch(&context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  health_.SetServing(true);  // not its service: nothing more
  context.TryCancel();
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace modelcatalog::catalog
