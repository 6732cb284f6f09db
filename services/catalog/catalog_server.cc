#include "services/catalog/catalog_server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"

namespace modelcatalog::catalog {

CatalogServer::CatalogServer(CatalogServerOptions options)
    : options_(std::move(options)),
      hub_client_(options_.hub),
      sync_status_(options_.hub.base_url),
      impl_(&store_, &sync_status_),
      grpc_service_(&impl_),
      health_({std::string(modelcatalog::v1::ModelCatalogService::service_full_name())}) {}

absl::StatusOr<std::unique_ptr<CatalogServer>> CatalogServer::Start(CatalogServerOptions options) {
  std::unique_ptr<CatalogServer> server(new CatalogServer(std::move(options)));

  // Start-up order matters:
  // 1. The gRPC server starts first with health NOT_SERVING, so probes get an
  //    answer (not a refused connection) while the first sync runs.
  // 2. The syncer starts next; its first publish turns health SERVING. Until
  //    then, catalog calls return UNAVAILABLE.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(server->options_.listen, grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.RegisterService(&server->grpc_service_);
  builder.RegisterService(&server->health_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", server->options_.listen));
  }

  CatalogSyncerOptions sync_options;
  sync_options.interval = server->options_.sync_interval;
  HealthService* health = &server->health_;
  sync_options.on_publish = [health](const auto&, const auto&) { health->SetServing(true); };
  hub::HubClient* hub = &server->hub_client_;
  server->syncer_ = std::make_unique<CatalogSyncer>(
      [hub] { return hub->ListModels(); }, &server->store_, &server->sync_status_,
      std::move(sync_options));
  server->syncer_->Start();
  return server;
}

CatalogServer::~CatalogServer() { Shutdown(absl::ZeroDuration()); }

void CatalogServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  health_.Shutdown();
  if (syncer_) syncer_->Stop();
  if (server_) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }
}

}  // namespace modelcatalog::catalog
