// Prints the three cheapest image models: one ListModels call that filters, orders and pages.
//
//   cheapest-image-models --server=localhost:50051 [--token_file=FILE]
//
// One line per model (id, price per image, display name), cheapest first, ties in id order,
// and on stderr how many image models the catalog has. Exit status 1 with
// "error: <CODE>: <message>" when the call fails, 2 on a usage error.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "grpcpp/grpcpp.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"

namespace {

constexpr char kUsage[] = "usage: cheapest-image-models [--server=HOST:PORT] [--token_file=FILE]\n";

bool ReadFile(const std::string& path, std::string* contents) {
  std::ifstream file(path);
  if (!file) return false;
  std::stringstream text;
  text << file.rdbuf();
  *contents = text.str();
  return true;
}

// The code's name as the gRPC docs spell it: "NOT_FOUND".
const char* CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index < 17 ? kNames[index] : "UNKNOWN";
}

}  // namespace

int main(int argc, char** argv) {
  std::string server = "localhost:50051";
  std::string token;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--server=", 0) == 0) {
      server = arg.substr(9);
    } else if (arg.rfind("--token_file=", 0) == 0) {
      if (!ReadFile(arg.substr(13), &token)) {
        std::cerr << "cannot read " << arg.substr(13) << "\n";
        return 2;
      }
      token.erase(token.find_last_not_of(" \t\r\n") + 1);
    } else {
      std::cerr << kUsage;
      return 2;
    }
  }
  std::string service_config;
  if (!ReadFile(SERVICE_CONFIG_PATH, &service_config)) {
    std::cerr << "cannot read the service config " << SERVICE_CONFIG_PATH << "\n";
    return 2;
  }
  grpc::ChannelArguments channel_args;
  channel_args.SetServiceConfigJSON(service_config);
  auto stub = modelcatalog::v1::ModelCatalogService::NewStub(
      grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), channel_args));

  modelcatalog::v1::ListModelsRequest request;
  request.set_filter("capabilities.output:image");  // the models that produce images
  request.set_order_by("pricing.cost_per_image");   // models without one come last
  request.set_page_size(3);
  request.set_view(modelcatalog::v1::MODEL_VIEW_BASIC);
  grpc::ClientContext context;
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  modelcatalog::v1::ListModelsResponse response;
  const grpc::Status status = stub->ListModels(&context, request, &response);
  if (!status.ok()) {
    std::cerr << "error: " << CodeName(status.error_code()) << ": " << status.error_message()
              << "\n";
    return 1;
  }
  for (const modelcatalog::v1::Model& model : response.models()) {
    char price[32] = "-";
    if (model.pricing().has_cost_per_image()) {
      std::snprintf(price, sizeof(price), "%g", model.pricing().cost_per_image());
    }
    std::printf("%-45s %-8s %s\n", model.id().c_str(), price, model.display_name().c_str());
  }
  std::fprintf(stderr, "%d of %d image models\n", response.models_size(), response.total_size());
  return 0;
}
