// The whole catalog-server in one object: every part, built complete in the
// constructor and wired to the others there (each receives what it needs; no
// part is changed after it is built), then started in one written order by
// Start. main() only parses flags and waits for a signal; tests start a
// CatalogServer in-process on port 0.
//
// The data flows one way: hub -> HubCatalogSource -> CatalogSyncer ->
// CatalogUpdater -> snapshot in the CatalogStore -> the RPCs and the JSON view;
// and each change the updater publishes -> ChangeFeed -> watch streams.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_SERVER_CATALOG_SERVER_H_
#define MODEL_CATALOG_SERVICES_CATALOG_SERVER_CATALOG_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/hub/hub_client.h"
#include "clients/hub/retry.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "services/catalog/api/caller_auth.h"
#include "services/catalog/api/catalog_metrics.h"
#include "services/catalog/api/catalog_service_impl.h"
#include "services/catalog/grpc/catalog_grpc_service.h"
#include "services/catalog/grpc/health_service.h"
#include "services/catalog/grpc/serving_queues.h"
#include "services/catalog/http/http_listener.h"
#include "services/catalog/http/json_view.h"
#include "services/catalog/http/ops_endpoints.h"
#include "services/catalog/model/catalog_store.h"
#include "services/catalog/model/model_change.h"
#include "services/catalog/sync/catalog_file.h"
#include "services/catalog/sync/catalog_syncer.h"
#include "services/catalog/sync/catalog_updater.h"
#include "services/catalog/sync/deployment_poller.h"
#include "services/catalog/sync/hub_catalog_source.h"
#include "services/catalog/sync/live_operations.h"
#include "services/catalog/sync/sync_status.h"
#include "services/catalog/watch/change_feed.h"
#include "services/common/tls_files.h"

namespace modelcatalog::catalog {

// The default of --max_hub_response_bytes, the largest answer of the hub (and
// catalog file) read, for a process that may use `memory_limit` bytes (its
// cgroup's limit; absl::nullopt: none, and the hub client's own default).
//
// The peak of a sync is reached when every model changes: the catalog served
// and the one being built are both held, each about kCatalogBytesPerJsonByte
// for every byte of the JSON it was read from, beside the server's own memory
// (kServerOwnBytes: threads, gRPC, the parser's bounded buffers). The list
// itself is never held (it is read as it arrives). So a limit L allows
// (L - kServerOwnBytes) / (2 * kCatalogBytesPerJsonByte) bytes of JSON.
// BENCHMARKS.md ("Memory during a sync") measures both figures.
inline constexpr uint64_t kServerOwnBytes = uint64_t{64} << 20;
inline constexpr uint64_t kCatalogBytesPerJsonByte = 3;
// Below this, a limit is too small to be meant for a catalog: the default does
// not fall under it, so that a tiny limit does not refuse every sync.
inline constexpr size_t kMinMaxHubResponseBytes = size_t{16} << 20;
size_t DefaultMaxHubResponseBytes(absl::optional<uint64_t> memory_limit);

struct CatalogServerOptions {
  std::string listen = "0.0.0.0:50051";  // host:port; port 0 picks a free one
  hub::HubClientOptions hub;
  absl::Duration sync_interval = absl::Seconds(30);
  hub::RetryPolicy sync_retry;
  absl::Duration deployment_poll_interval = absl::Seconds(2);
  absl::Duration watch_progress_interval = absl::Seconds(10);
  size_t watch_history = 10000;
  // Where the last good catalog is kept across restarts; empty: nowhere.
  std::string snapshot_path;

  // host:port of the plaintext HTTP listener for /metrics and /healthz; empty: none.
  std::string metrics_listen;
  // host:port of the HTTP listener of the JSON view (/v1/models), with the
  // gRPC port's TLS and caller tokens; empty: none.
  std::string http_listen;

  // Transport security; plaintext by default.
  TlsFiles tls;
  // Callers must present a token from this file; empty: no caller auth.
  std::string auth_tokens_file;
  absl::Duration auth_reload_interval = absl::Seconds(10);

  // Serving threads (see serving_queues.h): call threads poll the sockets and
  // answer unary calls; stream threads own the watch streams and write their
  // events. 0: one of each per CPU this process may run on, and at least 8
  // stream threads.
  size_t call_threads = 0;
  size_t stream_threads = 0;
  // Writes a watch fan-out's events to each client connection together, so
  // they leave in a few TCP segments instead of one each
  // (connection_sockets.h).
  bool coalesce_watch_writes = true;
  // How long a fan-out may hold its written events so that they leave for
  // every connection together (ChangeFeedOptions::max_burst_hold).
  absl::Duration watch_burst_hold = absl::Milliseconds(100);
  // Syncing and writing the catalog file run at idle CPU priority, so they
  // never delay a call (see CatalogSyncerOptions::idle_priority).
  bool background_at_idle_priority = true;

  // Limits that keep one caller from hurting the others.
  size_t max_watchers = 20000;
  int max_concurrent_streams = 1000;  // per connection
  // Requests are small but for WatchModels' known_versions, about 42 bytes per
  // model held: 8 MiB holds those of a catalog of some 200,000 models.
  int max_receive_message_bytes = 8 << 20;
  int max_send_message_bytes = 64 << 20;  // a full page of large models fits
  // Connections are closed (gracefully) after this age, so load balancers can
  // spread long-lived streams again; streams then get `grace` to finish, and
  // clients resume them elsewhere with their token.
  absl::Duration max_connection_age = absl::Minutes(30);
  absl::Duration max_connection_age_grace = absl::Minutes(5);
  // Clients may ping at most this often without sending data.
  absl::Duration min_client_ping_interval = absl::Seconds(10);
  // The server pings idle connections this often and drops them if the ping
  // is not answered within the timeout.
  absl::Duration keepalive_time = absl::Minutes(1);
  absl::Duration keepalive_timeout = absl::Seconds(20);
};

// Turns health SERVING when the first catalog is published.
class HealthFollowsCatalog final : public CatalogListener {
 public:
  explicit HealthFollowsCatalog(HealthService* health) : health_(health) {}
  void OnCatalogPublished(const std::shared_ptr<const CatalogSnapshot>& snapshot,
                          const std::vector<ModelChange>& changes) override {
    health_->SetServing(true);
  }

 private:
  HealthService* const health_;
};

class CatalogServer {
 public:
  // Builds every part, binds, starts serving (health NOT_SERVING), then starts
  // syncing; health turns SERVING when the first catalog is published.
  // INVALID_ARGUMENT naming the flag for bad configuration (TLS files, the
  // tokens file, an address); UNAVAILABLE when an address cannot be bound.
  static absl::StatusOr<std::unique_ptr<CatalogServer>> Start(CatalogServerOptions options);
  ~CatalogServer();

  // The bound port.
  int port() const { return port_; }
  // The bound port of the metrics listener; 0 without one.
  int metrics_port() const { return ops_listener_ ? ops_listener_->port() : 0; }
  // The bound port of the JSON view's listener; 0 without one.
  int http_port() const { return json_listener_ ? json_listener_->port() : 0; }

  // Health goes NOT_SERVING and streams end with UNAVAILABLE; then calls in
  // flight get up to `grace` to finish before they are cancelled. Idempotent.
  void Shutdown(absl::Duration grace);

  // For tests: run a sync now rather than at the next tick.
  // Waits for the first background sync first, so the two cannot race.
  absl::Status SyncNow() {
    syncer_.WaitForFirstSync();
    return syncer_.SyncOnce();
  }
  const ChangeFeed& feed() const { return feed_; }

 private:
  CatalogServer(CatalogServerOptions options, std::shared_ptr<grpc::ServerCredentials> credentials,
                std::unique_ptr<CallerAuth> auth);
  // Binds the listeners and starts every thread, in order.
  absl::Status Serve();
  std::vector<CatalogListener*> PublishListeners();
  void ApplyLimits(grpc::ServerBuilder* builder) const;
  void RegisterComputedMetrics();

  // Members are built in this order, each from those above it.
  const CatalogServerOptions options_;
  const std::shared_ptr<grpc::ServerCredentials> credentials_;
  const std::unique_ptr<CallerAuth> auth_;  // null: every caller is let in
  // Each stream queue's task delivers its shard of the feed (built below; no
  // task runs before Serve starts the queues). Stopped by Shutdown after
  // everything that can finish a call.
  ServingQueues serving_;
  CatalogMetrics metrics_;  // before everything that reports to it
  hub::HubClient hub_client_;
  HubCatalogSource source_;
  CatalogStore store_;
  SyncStatusRecorder sync_status_;
  ChangeFeed feed_;
  HealthService health_;
  HealthFollowsCatalog health_follows_catalog_;
  const std::unique_ptr<CatalogFile> catalog_file_;  // null without --snapshot_path
  CatalogUpdater updater_;                           // publishes to the three above
  CatalogServiceImpl impl_;
  DeploymentPoller poller_;
  LiveOperations live_;
  ConnectionSockets connection_sockets_;
  CatalogGrpcService grpc_service_;
  CatalogSyncer syncer_;
  OpsEndpoints ops_endpoints_;
  JsonView json_view_;
  std::unique_ptr<HttpListener> ops_listener_;   // set by Serve
  std::unique_ptr<HttpListener> json_listener_;  // set by Serve
  std::unique_ptr<grpc::Server> server_;         // set by Serve
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_SERVER_CATALOG_SERVER_H_
