#include "services/catalog/grpc/reflection_v1.h"

#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/impl/server_initializer.h"

namespace modelcatalog::catalog {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::FileDescriptor;
using ::google::protobuf::FileDescriptorProto;
using ::grpc::reflection::v1::ServerReflectionRequest;
using ::grpc::reflection::v1::ServerReflectionResponse;

void SetError(grpc::StatusCode code, std::string message, ServerReflectionResponse* response) {
  response->mutable_error_response()->set_error_code(static_cast<int32_t>(code));
  response->mutable_error_response()->set_error_message(std::move(message));
}

// `file` and, breadth first, the files it imports that `sent` does not hold yet.
void AddFileAndDependencies(const FileDescriptor* file, absl::flat_hash_set<std::string>* sent,
                            ServerReflectionResponse* response) {
  auto* files = response->mutable_file_descriptor_response();
  std::deque<const FileDescriptor*> pending = {file};
  sent->insert(file->name());
  while (!pending.empty()) {
    const FileDescriptor* next = pending.front();
    pending.pop_front();
    FileDescriptorProto proto;
    next->CopyTo(&proto);
    proto.SerializeToString(files->add_file_descriptor_proto());
    for (int i = 0; i < next->dependency_count(); ++i) {
      const FileDescriptor* dependency = next->dependency(i);
      if (sent->insert(dependency->name()).second) pending.push_back(dependency);
    }
  }
}

// Adds the service at InitServer, before the server starts, and learns the registered
// services' names at Finish, once every service (its own included) is registered.
class ReflectionV1Plugin final : public grpc::ServerBuilderPlugin {
 public:
  std::string name() override { return "modelcatalog_reflection_v1"; }
  void InitServer(grpc::ServerInitializer* initializer) override {
    initializer->RegisterService(service_);
  }
  void Finish(grpc::ServerInitializer* initializer) override {
    service_->SetServiceNames(*initializer->GetServiceList());
  }
  void ChangeArguments(const std::string& name, void* value) override {}
  bool has_sync_methods() const override { return true; }

 private:
  std::shared_ptr<ReflectionV1Service> service_ = std::make_shared<ReflectionV1Service>();
};

class ReflectionV1BuilderOption final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments* args) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ReflectionV1Plugin>());
  }
};

}  // namespace

ReflectionV1Service::ReflectionV1Service(const google::protobuf::DescriptorPool* pool)
    : pool_(pool) {}

void ReflectionV1Service::SetServiceNames(std::vector<std::string> names) {
  absl::MutexLock lock(&mu_);
  service_names_ = std::move(names);
}

grpc::Status ReflectionV1Service::ServerReflectionInfo(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<ServerReflectionResponse, ServerReflectionRequest>* stream) {
  absl::flat_hash_set<std::string> sent;
  ServerReflectionRequest request;
  while (stream->Read(&request)) {
    if (!stream->Write(Answer(request, &sent))) break;
  }
  return grpc::Status::OK;
}

ServerReflectionResponse ReflectionV1Service::Answer(const ServerReflectionRequest& request,
                                                     absl::flat_hash_set<std::string>* sent) const {
  ServerReflectionResponse response;
  response.set_valid_host(request.host());
  *response.mutable_original_request() = request;
  switch (request.message_request_case()) {
    case ServerReflectionRequest::kFileByFilename: {
      const FileDescriptor* file = pool_->FindFileByName(request.file_by_filename());
      if (file == nullptr) {
        SetError(grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("file not found: ", request.file_by_filename()), &response);
      } else {
        AddFileAndDependencies(file, sent, &response);
      }
      break;
    }
    case ServerReflectionRequest::kFileContainingSymbol: {
      const FileDescriptor* file =
          pool_->FindFileContainingSymbol(request.file_containing_symbol());
      if (file == nullptr) {
        SetError(grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("symbol not found: ", request.file_containing_symbol()), &response);
      } else {
        AddFileAndDependencies(file, sent, &response);
      }
      break;
    }
    case ServerReflectionRequest::kFileContainingExtension: {
      const auto& asked = request.file_containing_extension();
      const Descriptor* type = pool_->FindMessageTypeByName(asked.containing_type());
      const FieldDescriptor* extension =
          type == nullptr ? nullptr : pool_->FindExtensionByNumber(type, asked.extension_number());
      if (extension == nullptr) {
        SetError(grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("extension not found: ", asked.containing_type(), " ",
                              asked.extension_number()),
                 &response);
      } else {
        AddFileAndDependencies(extension->file(), sent, &response);
      }
      break;
    }
    case ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const Descriptor* type =
          pool_->FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) {
        SetError(grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("type not found: ", request.all_extension_numbers_of_type()),
                 &response);
        break;
      }
      std::vector<const FieldDescriptor*> extensions;
      pool_->FindAllExtensions(type, &extensions);
      auto* numbers = response.mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const FieldDescriptor* extension : extensions) {
        numbers->add_extension_number(extension->number());
      }
      break;
    }
    case ServerReflectionRequest::kListServices: {
      absl::MutexLock lock(&mu_);
      auto* services = response.mutable_list_services_response();
      for (const std::string& name : service_names_) services->add_service()->set_name(name);
      break;
    }
    case ServerReflectionRequest::MESSAGE_REQUEST_NOT_SET:
      SetError(grpc::StatusCode::INVALID_ARGUMENT,
               "the request asks nothing: set one field of message_request", &response);
      break;
  }
  return response;
}

std::unique_ptr<grpc::ServerBuilderOption> ReflectionV1Option() {
  return std::make_unique<ReflectionV1BuilderOption>();
}

}  // namespace modelcatalog::catalog
