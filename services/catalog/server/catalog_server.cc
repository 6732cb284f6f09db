#include "services/catalog/server/catalog_server.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/server_builder.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"
#include "services/catalog/grpc/reflection_v1.h"
#include "services/catalog/grpc/server_credentials.h"
#include "services/common/log.h"

namespace modelcatalog::catalog {
namespace {

// Calls of each method kept requested on each call queue, so a burst of calls
// finds them waiting.
constexpr int kRequestBacklog = 8;

size_t CallThreads(const CatalogServerOptions& options) {
  return options.call_threads != 0 ? options.call_threads : UsableCpuCount();
}

// At least 8 stream queues, even on one core: every watch stream keeps a tag
// on its queue for life, and Debian's gRPC (built with its debug checks) scans
// a queue's outstanding tags on every completion, so a write to one of 10,000
// streams on 2 queues scans up to 5,000 tags. With 8 queues the fan-out to
// 10,000 streams took 11-12 us of server CPU a delivery instead of 15 (spread
// 117-130 ms instead of 157; BENCHMARKS.md), the threads idle otherwise.
constexpr size_t kMinStreamThreads = 8;

size_t StreamThreads(const CatalogServerOptions& options) {
  return options.stream_threads != 0 ? options.stream_threads
                                     : std::max<size_t>(kMinStreamThreads, UsableCpuCount());
}

// The feed's shards are the stream queues: `serving` wakes a shard's queue,
// whose thread then delivers it.
ChangeFeedOptions FeedOptions(const CatalogServerOptions& options, ServingQueues* serving) {
  ChangeFeedOptions feed;
  feed.history_size = options.watch_history;
  feed.progress_interval = options.watch_progress_interval;
  feed.max_streams = options.max_watchers;
  feed.max_burst_hold = options.watch_burst_hold;
  // A shard per stream queue, whose thread fans a change out to the shard's
  // streams; a live look-up answers its caller without waiting for that.
  feed.shards = StreamThreads(options);
  feed.schedule_delivery = [serving](size_t shard) { serving->WakeStreamQueue(shard); };
  return feed;
}

// The hub client reports each request to the metrics.
hub::HubClientOptions Observed(hub::HubClientOptions options, CatalogMetrics* metrics) {
  options.on_response = [metrics](absl::string_view endpoint, int http_status,
                                  absl::Duration took) {
    metrics->RecordHubResponse(endpoint, http_status, took);
  };
  return options;
}

DeploymentPollerOptions PollerOptions(const CatalogServerOptions& options) {
  DeploymentPollerOptions poller;
  poller.interval = options.deployment_poll_interval;
  return poller;
}

CatalogSyncerOptions SyncerOptions(const CatalogServerOptions& options, CatalogMetrics* metrics) {
  CatalogSyncerOptions syncer;
  syncer.idle_priority = options.background_at_idle_priority;
  syncer.interval = options.sync_interval;
  syncer.retry = options.sync_retry;
  syncer.on_sync_done = [metrics](absl::string_view outcome, absl::Duration took) {
    metrics->RecordSync(outcome, took);
  };
  return syncer;
}

// What health's Check answers carry besides the status: how stale the
// catalog is and why the last sync failed.
HealthService::Details SyncDetails(const SyncStatusRecorder* sync_status) {
  return [sync_status] {
    const SyncStatus status = sync_status->Get();
    std::vector<std::pair<std::string, std::string>> details;
    if (status.last_success_time != absl::InfinitePast()) {
      details.emplace_back(
          "catalog-staleness-seconds",
          absl::StrCat(absl::ToInt64Seconds(absl::Now() - status.last_success_time)));
    }
    if (!status.last_error.empty()) details.emplace_back("catalog-last-error", status.last_error);
    return details;
  };
}

std::unique_ptr<CatalogFile> MakeCatalogFile(const CatalogServerOptions& options,
                                             const CatalogStore* store) {
  if (options.snapshot_path.empty()) return nullptr;
  // The file is bounded as the hub's answer is: both are read from outside.
  return std::make_unique<CatalogFile>(options.snapshot_path, store, absl::Seconds(1),
                                       options.background_at_idle_priority,
                                       options.hub.max_response_bytes);
}

}  // namespace

size_t DefaultMaxHubResponseBytes(absl::optional<uint64_t> memory_limit) {
  if (!memory_limit.has_value()) return hub::HubClientOptions().max_response_bytes;
  const uint64_t catalogs =
      *memory_limit > kServerOwnBytes ? *memory_limit - kServerOwnBytes : uint64_t{0};
  return std::max<size_t>(kMinMaxHubResponseBytes,
                          static_cast<size_t>(catalogs / (2 * kCatalogBytesPerJsonByte)));
}

absl::StatusOr<std::unique_ptr<CatalogServer>> CatalogServer::Start(CatalogServerOptions options) {
  // Configuration that can be wrong is checked before anything is built.
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(options.tls);
  if (!credentials.ok()) return credentials.status();
  std::unique_ptr<CallerAuth> auth;
  if (!options.auth_tokens_file.empty()) {
    absl::StatusOr<std::unique_ptr<CallerAuth>> loaded =
        CallerAuth::FromFile(options.auth_tokens_file, options.auth_reload_interval);
    if (!loaded.ok()) return loaded.status();
    auth = *std::move(loaded);
  }
  std::unique_ptr<CatalogServer> server(
      new CatalogServer(std::move(options), *std::move(credentials), std::move(auth)));
  if (absl::Status serving = server->Serve(); !serving.ok()) return serving;
  return server;
}

CatalogServer::CatalogServer(CatalogServerOptions options,
                             std::shared_ptr<grpc::ServerCredentials> credentials,
                             std::unique_ptr<CallerAuth> auth)
    : options_(std::move(options)),
      credentials_(std::move(credentials)),
      auth_(std::move(auth)),
      serving_(StreamThreads(options_), [this](size_t shard) { feed_.DeliverShard(shard); }),
      hub_client_(Observed(options_.hub, &metrics_)),
      source_(&hub_client_),
      sync_status_(options_.hub.base_url),
      feed_(FeedOptions(options_, &serving_)),
      health_({std::string(modelcatalog::v1::ModelCatalogService::service_full_name())},
              SyncDetails(&sync_status_)),
      health_follows_catalog_(&health_),
      catalog_file_(MakeCatalogFile(options_, &store_)),
      updater_(&store_, PublishListeners()),
      impl_(&store_, &sync_status_),
      poller_(&source_, &store_, &updater_, PollerOptions(options_)),
      live_(&source_, &store_, &updater_, &poller_),
      grpc_service_(&impl_, &live_, &feed_, auth_.get(), &metrics_,
                    options_.coalesce_watch_writes ? &connection_sockets_ : nullptr),
      syncer_(&source_, &updater_, &sync_status_, SyncerOptions(options_, &metrics_)),
      ops_endpoints_(&store_, &metrics_.registry()),
      json_view_(&impl_, auth_.get()) {
  RegisterComputedMetrics();
}

std::vector<CatalogListener*> CatalogServer::PublishListeners() {
  // The feed first: watchers hear of a change as soon as possible.
  std::vector<CatalogListener*> listeners = {&feed_, &health_follows_catalog_};
  if (catalog_file_ != nullptr) listeners.push_back(catalog_file_.get());
  return listeners;
}

absl::Status CatalogServer::Serve() {
  // Start-up order matters:
  // 1. The HTTP listeners and the gRPC server bind first, so a busy port fails
  //    the start before any thread runs. gRPC serves at once with health
  //    NOT_SERVING, so probes get an answer (not a refused connection) while
  //    the first sync runs; catalog calls and watches return UNAVAILABLE.
  // 2. The catalog persisted by a previous run, if any, is served at once, so
  //    a restart with the hub down still answers.
  // 3. The syncer starts next; its first publish turns health SERVING.
  // 4. The poller and the watch progress ticker start last; both only act on
  //    a loaded catalog.
  if (!options_.metrics_listen.empty()) {
    HttpListenerOptions listen;
    listen.listen = options_.metrics_listen;
    listen.flag = "--metrics_listen";
    absl::StatusOr<std::unique_ptr<HttpListener>> listener = HttpListener::Start(
        std::move(listen), [endpoints = &ops_endpoints_](const HttpRequest& request) {
          return endpoints->Handle(request);
        });
    if (!listener.ok()) return listener.status();
    ops_listener_ = *std::move(listener);
  }
  if (!options_.http_listen.empty()) {
    // Catalog data: the gRPC port's TLS and caller tokens hold here too.
    HttpListenerOptions listen;
    listen.listen = options_.http_listen;
    listen.flag = "--http_listen";
    listen.tls = options_.tls;
    listen.reads_body = JsonView::ReadsBody;
    absl::StatusOr<std::unique_ptr<HttpListener>> listener = HttpListener::Start(
        std::move(listen),
        [view = &json_view_](const HttpRequest& request) { return view->Handle(request); });
    if (!listener.ok()) return listener.status();
    json_listener_ = *std::move(listener);
  }

  // Reflection twice: grpc.reflection.v1alpha (gRPC's plugin) for older tools, v1 for
  // those that ask for it first.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.SetOption(ReflectionV1Option());
  builder.AddListeningPort(options_.listen, credentials_, &port_);
  builder.RegisterService(grpc_service_.service());
  builder.RegisterService(health_.service());
  serving_.AddCallQueues(&builder, CallThreads(options_));
  ApplyLimits(&builder);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
  }
  connection_sockets_.SetServerPort(port_);
  serving_.Start();
  grpc_service_.Serve(&serving_, kRequestBacklog);
  health_.Serve(&serving_, kRequestBacklog);

  if (catalog_file_ != nullptr) {
    catalog_file_->Restore(&updater_, &sync_status_);
    catalog_file_->Start();
  }
  syncer_.Start();
  poller_.Start();
  feed_.StartProgressTicker();
  return absl::OkStatus();
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
  const ChangeFeed* feed = &feed_;
  registry.AddComputedGauge("modelcatalog_catalog_models", "Models in the catalog being served.",
                            [store] {
                              auto snapshot = store->Current();
                              return snapshot ? static_cast<double>(snapshot->size()) : 0.0;
                            });
  registry.AddComputedGauge("modelcatalog_catalog_revision",
                            "Revision of the catalog being served.", [store] {
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
                            "Sync attempts failed in a row since the last success.", [status] {
                              return static_cast<double>(status->Get().consecutive_failures);
                            });
  registry.AddComputedGauge("modelcatalog_watchers",
                            "WatchDeployments and WatchModels streams open.",
                            [feed] { return static_cast<double>(feed->stream_count()); });
  registry.AddComputedCounter(
      "modelcatalog_watch_events_sent_total",
      "Events written to WatchDeployments and WatchModels streams.",
      [feed] { return static_cast<double>(feed->stats().events_sent.load()); });
  registry.AddComputedCounter(
      "modelcatalog_watch_changes_coalesced_total",
      "Changes merged into a pending change of the same model because a watcher lagged.",
      [feed] { return static_cast<double>(feed->stats().changes_coalesced.load()); });
  registry.AddComputedCounter(
      "modelcatalog_watch_changes_dropped_total",
      "Changes a lagging watcher never needed (a model added and removed meanwhile).",
      [feed] { return static_cast<double>(feed->stats().changes_dropped.load()); });
  registry.AddComputedCounter(
      "modelcatalog_watchers_refused_total", "Watch streams refused because the cap was reached.",
      [feed] { return static_cast<double>(feed->stats().streams_refused.load()); });
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
  syncer_.Stop();
  if (catalog_file_ != nullptr) catalog_file_->Stop();  // writes what is pending
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
