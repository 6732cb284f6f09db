#include "services/catalog/catalog_server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"

namespace modelcatalog::catalog {
namespace {

DeploymentFeedOptions FeedOptions(const CatalogServerOptions& options) {
  DeploymentFeedOptions feed;
  feed.history_size = options.watch_history;
  feed.progress_interval = options.watch_progress_interval;
  return feed;
}

DeploymentPollerOptions PollerOptions(const CatalogServerOptions& options) {
  DeploymentPollerOptions poller;
  poller.interval = options.deployment_poll_interval;
  return poller;
}

}  // namespace

CatalogServer::CatalogServer(CatalogServerOptions options)
    : options_(std::move(options)),
      hub_client_(options_.hub),
      sync_status_(options_.hub.base_url),
      feed_(FeedOptions(options_)),
      updater_(&store_, &feed_),
      impl_(&store_, &sync_status_),
      poller_([this](const std::string& id) { return hub_client_.RetrieveModel(id, true); },
              &store_, &updater_, PollerOptions(options_)),
      live_(&hub_client_, &store_, &updater_, &poller_),
      grpc_service_(&impl_, &live_, &feed_),
      health_({std::string(modelcatalog::v1::ModelCatalogService::service_full_name())}) {}

absl::StatusOr<std::unique_ptr<CatalogServer>> CatalogServer::Start(CatalogServerOptions options) {
  std::unique_ptr<CatalogServer> server(new CatalogServer(std::move(options)));

  // Start-up order matters:
  // 1. The gRPC server starts first with health NOT_SERVING, so probes get an
  //    answer (not a refused connection) while the first sync runs.
  // 2. The syncer starts next; its first publish turns health SERVING. Until
  //    then, catalog calls and watches return UNAVAILABLE.
  // 3. The poller and the watch progress ticker start last; both only act on
  //    a loaded catalog.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(server->options_.listen, grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.RegisterService(&server->grpc_service_);
  builder.RegisterService(&server->health_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", server->options_.listen));
  }

  HealthService* health = &server->health_;
  server->updater_.SetOnPublish([health] { health->SetServing(true); });
  CatalogSyncerOptions sync_options;
  sync_options.interval = server->options_.sync_interval;
  sync_options.retry = server->options_.sync_retry;
  hub::HubClient* hub = &server->hub_client_;
  server->syncer_ = std::make_unique<CatalogSyncer>(
      [hub] { return hub->ListModels(); }, &server->updater_, &server->sync_status_,
      std::move(sync_options));
  server->syncer_->Start();
  server->poller_.Start();
  server->feed_.StartProgressTicker();
  return server;
}

CatalogServer::~CatalogServer() { Shutdown(absl::ZeroDuration()); }

void CatalogServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  // Tell probes and clients first, then stop producing news, then let calls
  // in flight finish.
  health_.Shutdown();
  feed_.Shutdown();
  poller_.Stop();
  if (syncer_) syncer_->Stop();
  if (server_) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }
  live_.Stop();
}

}  // namespace modelcatalog::catalog
