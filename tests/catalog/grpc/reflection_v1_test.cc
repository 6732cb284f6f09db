// grpc.reflection.v1 on a real server over a real socket: what tools such as grpcurl and
// buf curl ask for first.
#include "services/catalog/grpc/reflection_v1.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"

namespace modelcatalog::catalog {
namespace {

using ::grpc::reflection::v1::ServerReflection;
using ::grpc::reflection::v1::ServerReflectionRequest;
using ::grpc::reflection::v1::ServerReflectionResponse;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// The file names a file answer carries, in order.
std::vector<std::string> FileNames(const ServerReflectionResponse& response) {
  std::vector<std::string> names;
  for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    EXPECT_TRUE(file.ParseFromString(bytes));
    names.push_back(file.name());
  }
  return names;
}

class ReflectionV1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&catalog_);
    builder.RegisterService(&health_);
    builder.SetOption(ReflectionV1Option());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = ServerReflection::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
    stream_ = stub_->ServerReflectionInfo(&context_);
  }

  void TearDown() override {
    stream_->WritesDone();
    EXPECT_TRUE(stream_->Finish().ok());
    server_->Shutdown();
  }

  ServerReflectionResponse Ask(const ServerReflectionRequest& request) {
    ServerReflectionResponse response;
    EXPECT_TRUE(stream_->Write(request));
    EXPECT_TRUE(stream_->Read(&response));
    return response;
  }

  // Services with no methods implemented: reflection needs only their names.
  modelcatalog::v1::ModelCatalogService::Service catalog_;
  grpc::health::v1::Health::Service health_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<ServerReflection::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<ServerReflectionRequest, ServerReflectionResponse>>
      stream_;
};

TEST_F(ReflectionV1Test, ListsEveryRegisteredServiceItselfIncluded) {
  ServerReflectionRequest request;
  request.set_host("localhost");
  request.set_list_services("");
  const ServerReflectionResponse response = Ask(request);
  EXPECT_EQ(response.valid_host(), "localhost");
  EXPECT_TRUE(response.original_request().has_list_services());
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_THAT(names,
              UnorderedElementsAre("modelcatalog.v1.ModelCatalogService", "grpc.health.v1.Health",
                                   "grpc.reflection.v1.ServerReflection"));
}

TEST_F(ReflectionV1Test, DescribesASymbolWithItsImportsOncePerStream) {
  ServerReflectionRequest request;
  request.set_file_containing_symbol("modelcatalog.v1.ModelCatalogService");
  const std::vector<std::string> first = FileNames(Ask(request));
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first[0], "modelcatalog/v1/catalog_service.proto");
  EXPECT_THAT(first, ::testing::Contains("modelcatalog/v1/model.proto"));
  EXPECT_THAT(first, ::testing::Contains("google/protobuf/timestamp.proto"));

  // The same stream already holds the imports: only the file asked for comes again.
  EXPECT_THAT(FileNames(Ask(request)), ElementsAre("modelcatalog/v1/catalog_service.proto"));
  // A nested symbol (a method) is found in its file too.
  request.set_file_containing_symbol("modelcatalog.v1.ModelCatalogService.ListModels");
  EXPECT_THAT(FileNames(Ask(request)), ElementsAre("modelcatalog/v1/catalog_service.proto"));
}

TEST_F(ReflectionV1Test, DescribesAFileByName) {
  ServerReflectionRequest request;
  request.set_file_by_filename("grpc/health/v1/health.proto");
  EXPECT_THAT(FileNames(Ask(request)), ElementsAre("grpc/health/v1/health.proto"));
}

TEST_F(ReflectionV1Test, UnknownNamesAreNotFoundInTheStream) {
  ServerReflectionRequest request;
  request.set_file_containing_symbol("modelcatalog.v1.NoSuchService");
  ServerReflectionResponse response = Ask(request);
  EXPECT_EQ(response.error_response().error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(response.error_response().error_message(),
            "symbol not found: modelcatalog.v1.NoSuchService");

  request.set_file_by_filename("no/such.proto");
  response = Ask(request);
  EXPECT_EQ(response.error_response().error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(response.error_response().error_message(), "file not found: no/such.proto");

  request.mutable_file_containing_extension()->set_containing_type("modelcatalog.v1.Model");
  request.mutable_file_containing_extension()->set_extension_number(1000);
  response = Ask(request);
  EXPECT_EQ(response.error_response().error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(response.error_response().error_message(),
            "extension not found: modelcatalog.v1.Model 1000");

  request.set_all_extension_numbers_of_type("modelcatalog.v1.NoSuchMessage");
  response = Ask(request);
  EXPECT_EQ(response.error_response().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ReflectionV1Test, AMessageWithoutExtensionsHasNone) {
  ServerReflectionRequest request;
  request.set_all_extension_numbers_of_type("modelcatalog.v1.Model");
  const ServerReflectionResponse response = Ask(request);
  EXPECT_EQ(response.all_extension_numbers_response().base_type_name(), "modelcatalog.v1.Model");
  EXPECT_EQ(response.all_extension_numbers_response().extension_number_size(), 0);
}

TEST_F(ReflectionV1Test, ARequestThatAsksNothingIsInvalid) {
  const ServerReflectionResponse response = Ask(ServerReflectionRequest());
  EXPECT_EQ(response.error_response().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(response.error_response().error_message(),
            "the request asks nothing: set one field of message_request");
}

}  // namespace
}  // namespace modelcatalog::catalog
