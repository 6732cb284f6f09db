#include "services/catalog/server/catalog_server.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"
#include "services/common/log.h"

namespace modelcatalog::catalog {
namespace {

// Calls of each method kept requested on each call queue, so a burst of calls
// finds them waiting.
constexpr int kRequestBacklog = 8;

size_t CallThreads(const CatalogServerOptions& options) {
  return options.call_threads != 0 ? options.call_threads : UsableCpuCount();
}

size_t StreamThreads(const CatalogServerOptions& options) {
  return options.stream_threads != 0 ? options.stream_threads
                                     : std::max<size_t>(2, UsableCpuCount());
}

// `deliveries`: filled before anything is published.
DeploymentFeedOptions FeedOptions(const CatalogServerOptions& options,
                                  const std::vector<QueueTask*>* deliveries) {
  DeploymentFeedOptions feed;
  feed.history_size = options.watch_history;
  feed.progress_interval = options.watch_progress_interval;
  feed.max_streams = options.max_watchers;
  // A shard per stream queue, whose thread fans a change out to the shard's
  // streams; a live look-up answers its caller without waiting for that.
  feed.shards = StreamThreads(options);
  feed.schedule_delivery = [deliveries](size_t shard) { (*deliveries)[shard]->Schedule(); };
  return feed;
}

// The hub client reports each request to the metrics.
hub::HubClientOptions Observed(hub::HubClientOptions options, CatalogMetrics* metrics) {
  options.on_response = [metrics](absl::string_view endpoint, int http_status, absl::Duration took) {
    metrics->RecordHubResponse(endpoint, http_status, took);
  };
  return options;
}

DeploymentPollerOptions PollerOptions(const CatalogServerOptions& options) {
  DeploymentPollerOptions poller;
  poller.interval = options.deployment_poll_interval;
  return poller;
}

}  // namespace

CatalogServer::CatalogServer(CatalogServerOptions options)
    : options_(std::move(options)),
      serving_(StreamThreads(options_)),
      hub_client_(Observed(options_.hub, &metrics_)),
      sync_status_(options_.hub.base_url),
      feed_(FeedOptions(options_, &deliveries_)),
      updater_(&store_, &feed_),
      impl_(&store_, &sync_status_),
      poller_([this](const std::string& id) { return hub_client_.RetrieveModel(id, true); },
              &store_, &updater_, PollerOptions(options_)),
      live_(&hub_client_, &store_, &updater_, &poller_),
      health_({std::string(modelcatalog::v1::ModelCatalogService::service_full_name())}) {
  for (size_t shard = 0; shard < feed_.shard_count(); ++shard) {
    deliveries_.push_back(
        serving_.AddStreamTask(shard, [feed = &feed_, shard] { feed->DeliverShard(shard); }));
  }
}

absl::StatusOr<std::unique_ptr<CatalogServer>> CatalogServer::Start(CatalogServerOptions options) {
  std::unique_ptr<CatalogServer> server(new CatalogServer(std::move(options)));

  // Start-up order matters:
  // 1. The gRPC server starts first with health NOT_SERVING, so probes get an
  //    answer (not a refused connection) while the first sync runs.
  // 2. The syncer starts next; its first publish turns health SERVING. Until
  //    then, catalog calls and watches return UNAVAILABLE.
  //    Before it, the catalog persisted by a previous run (if any) is served
  //    at once, so a restart with the hub down still answers.
  // 3. The poller and the watch progress ticker start last; both only act on
  //    a loaded catalog.
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(server->options_.tls);
  if (!credentials.ok()) return credentials.status();
  if (!server->options_.auth_tokens_file.empty()) {
    absl::StatusOr<std::unique_ptr<CallerAuth>> auth = CallerAuth::FromFile(
        server->options_.auth_tokens_file, server->options_.auth_reload_interval);
    if (!auth.ok()) return auth.status();
    server->auth_ = *std::move(auth);
  }
  server->grpc_service_ = std::make_unique<CatalogGrpcService>(
      &server->impl_, &server->live_, &server->feed_, server->auth_.get(), &server->metrics_);
  server->RegisterComputedMetrics();
  if (absl::Status http = server->StartHttp(); !http.ok()) return http;

  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(server->options_.listen, *credentials, &server->port_);
  builder.RegisterService(server->grpc_service_->service());
  builder.RegisterService(server->health_.service());
  server->serving_.AddCallQueues(&builder, CallThreads(server->options_));
  server->ApplyLimits(&builder);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", server->options_.listen));
  }

  HealthService* health = &server->health_;
  server->updater_.SetOnPublish([health] { health->SetServing(true); });
  SyncStatusRecorder* sync_status = &server->sync_status_;
  health->SetDetails([sync_status] {
    const SyncStatus status = sync_status->Get();
    std::vector<std::pair<std::string, std::string>> details;
    if (status.last_success_time != absl::InfinitePast()) {
      details.emplace_back(
          "catalog-staleness-seconds",
          absl::StrCat(absl::ToInt64Seconds(absl::Now() - status.last_success_time)));
    }
    if (!status.last_error.empty()) details.emplace_back("catalog-last-error", status.last_error);
    return details;
  });
  server->serving_.Start();
  server->grpc_service_->Serve(&server->serving_, kRequestBacklog);
  health->Serve(&server->serving_, kRequestBacklog);
  server->RestoreFromFile();
  if (!server->options_.snapshot_path.empty()) {
    server->file_writer_ = std::make_unique<CatalogFileWriter>(
        server->options_.snapshot_path, &server->store_, absl::Seconds(1),
        server->options_.background_at_idle_priority);
    server->file_writer_->Start();
    CatalogFileWriter* writer = server->file_writer_.get();
    server->updater_.SetOnPublish([health, writer] {
      health->SetServing(true);
      writer->MarkDirty();
    });
  }
  CatalogSyncerOptions sync_options;
  sync_options.idle_priority = server->options_.background_at_idle_priority;
  sync_options.interval = server->options_.sync_interval;
  sync_options.retry = server->options_.sync_retry;
  CatalogMetrics* metrics = &server->metrics_;
  sync_options.on_sync_done = [metrics](absl::string_view outcome, absl::Duration took) {
    metrics->RecordSync(outcome, took);
  };
  hub::HubClient* hub = &server->hub_client_;
  server->syncer_ = std::make_unique<CatalogSyncer>(
      [hub]() -> absl::StatusOr<FetchedCatalog> {
        // Each model becomes its snapshot entry as it is parsed: the catalog
        // is never held as 100,000 messages at once.
        FetchedCatalog fetched;
        absl::StatusOr<std::vector<hub::RejectedRecord>> rejected = hub->ListModels(
            {}, [&fetched](const modelcatalog::v1::Model& model) { fetched.models.Add(model); },
            &fetched.received_at);
        if (!rejected.ok()) return rejected.status();
        fetched.rejected = *std::move(rejected);
        return fetched;
      },
      &server->updater_, &server->sync_status_,
      std::move(sync_options));
  server->syncer_->Start();
  server->poller_.Start();
  server->feed_.StartProgressTicker();
  return server;
}

void CatalogServer::ApplyLimits(grpc::ServerBuilder* builder) const {
  const auto ms = [](absl::Duration d) {
    return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), INT32_MAX));
  };
  builder->SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  builder->SetMaxSendMessageSize(options_.max_send_message_bytes);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, ms(options_.max_connection_age));
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                              ms(options_.max_connection_age_grace));
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, ms(options_.keepalive_time));
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ms(options_.keepalive_timeout));
  // Enforcement: clients may keep idle connections alive with pings, but not
  // more often than min_client_ping_interval; two strikes close the connection.
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                              ms(options_.min_client_ping_interval));
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  // No bandwidth-delay probes: they size what clients may send us, and every
  // request is small. Left on, they put a PING and its answer on the wire
  // beside most calls: two more wake-ups per call, one on each side.
  builder->AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
}

void CatalogServer::RegisterComputedMetrics() {
  metrics::Registry& registry = metrics_.registry();
  const CatalogStore* store = &store_;
  const SyncStatusRecorder* status = &sync_status_;
  const DeploymentFeed* feed = &feed_;
  registry.AddComputedGauge("modelcatalog_catalog_models", "Models in the catalog being served.",
                            [store] {
                              auto snapshot = store->Current();
                              return snapshot ? static_cast<double>(snapshot->size()) : 0.0;
                            });
  registry.AddComputedGauge("modelcatalog_catalog_revision", "Revision of the catalog being served.",
                            [store] {
                              auto snapshot = store->Current();
                              return snapshot ? static_cast<double>(snapshot->revision()) : 0.0;
                            });
  registry.AddComputedGauge(
      "modelcatalog_last_successful_sync_timestamp_seconds",
      "When the catalog being served was fetched from the hub (Unix time); 0: never.", [status] {
        const absl::Time t = status->Get().last_success_time;
        return t == absl::InfinitePast() ? 0.0 : absl::ToDoubleSeconds(t - absl::UnixEpoch());
      });
  registry.AddComputedGauge("modelcatalog_sync_consecutive_failures",
                            "Sync attempts failed in a row since the last success.",
                            [status] { return static_cast<double>(status->Get().consecutive_failures); });
  registry.AddComputedGauge("modelcatalog_watchers", "WatchDeployments streams open.",
                            [feed] { return static_cast<double>(feed->stream_count()); });
  registry.AddComputedCounter("modelcatalog_watch_events_sent_total",
                              "Events written to WatchDeployments streams.",
                              [feed] { return static_cast<double>(feed->stats().events_sent.load()); });
  registry.AddComputedCounter(
      "modelcatalog_watch_changes_coalesced_total",
      "Changes merged into a pending change of the same model because a watcher lagged.",
      [feed] { return static_cast<double>(feed->stats().changes_coalesced.load()); });
  registry.AddComputedCounter(
      "modelcatalog_watch_changes_dropped_total",
      "Changes a lagging watcher never needed (a model added and removed meanwhile).",
      [feed] { return static_cast<double>(feed->stats().changes_dropped.load()); });
  registry.AddComputedCounter("modelcatalog_watchers_refused_total",
                              "WatchDeployments streams refused because the cap was reached.",
                              [feed] { return static_cast<double>(feed->stats().streams_refused.load()); });
}

absl::Status CatalogServer::StartHttp() {
  if (!options_.metrics_listen.empty()) {
    ops_endpoints_ = std::make_unique<OpsEndpoints>(&store_, &metrics_.registry());
    HttpListenerOptions listen;
    listen.listen = options_.metrics_listen;
    listen.flag = "--metrics_listen";
    absl::StatusOr<std::unique_ptr<HttpListener>> listener = HttpListener::Start(
        std::move(listen),
        [endpoints = ops_endpoints_.get()](const HttpRequest& request) {
          return endpoints->Handle(request);
        });
    if (!listener.ok()) return listener.status();
    ops_listener_ = *std::move(listener);
  }
  if (!options_.http_listen.empty()) {
    // Catalog data: the gRPC port's TLS and caller tokens hold here too.
    json_view_ = std::make_unique<JsonView>(&store_, auth_.get());
    HttpListenerOptions listen;
    listen.listen = options_.http_listen;
    listen.flag = "--http_listen";
    listen.tls = options_.tls;
    absl::StatusOr<std::unique_ptr<HttpListener>> listener = HttpListener::Start(
        std::move(listen),
        [view = json_view_.get()](const HttpRequest& request) { return view->Handle(request); });
    if (!listener.ok()) return listener.status();
    json_listener_ = *std::move(listener);
  }
  return absl::OkStatus();
}

void CatalogServer::RestoreFromFile() {
  const std::string& path = options_.snapshot_path;
  if (path.empty()) return;
  // Each stored model becomes its entry as it is read: the file is never
  // held as messages (see CatalogSnapshot::Builder).
  CatalogSnapshot::Builder models;
  absl::StatusOr<CatalogFileHeader> stored =
      ReadCatalogFile(path, [&models](const modelcatalog::v1::Model& model) { models.Add(model); });
  if (!stored.ok()) {
    // A missing file is the first start; anything else is reported and
    // ignored: the hub is the source of truth, the file only a head start.
    const bool first_start = absl::IsNotFound(stored.status());
    Log(first_start ? LogLevel::kInfo : LogLevel::kWarning,
        first_start ? "catalog_file_absent" : "catalog_file_unusable",
        {{"path", path}, {"error", stored.status().ToString()}});
    return;
  }
  const size_t count = models.size();
  updater_.Restore(std::move(models), stored->revision, stored->fetched_at);
  sync_status_.RecordRestored(stored->fetched_at);
  Log(LogLevel::kInfo, "catalog_restored",
      {{"path", path}, {"models", count}, {"revision", stored->revision},
       {"fetched", absl::FormatTime(stored->fetched_at)}});
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
  if (file_writer_) file_writer_->Stop();  // writes what is pending
  if (server_) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }
  if (ops_listener_) ops_listener_->Stop();
  if (json_listener_) json_listener_->Stop();
  live_.Stop();
  // Last: until here a call could still be finished (by a hub call ending).
  serving_.Stop();
}

}  // namespace modelcatalog::catalog
