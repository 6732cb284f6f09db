// The scenarios of catalog-bench. Each returns what it measured; the caller
// names them, computes ratios to Health.Check and prints them.
#ifndef MODEL_CATALOG_BENCHMARKS_LOAD_SCENARIOS_H_
#define MODEL_CATALOG_BENCHMARKS_LOAD_SCENARIOS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "benchmarks/load/bench_context.h"
#include "benchmarks/load/closed_loop.h"
#include "benchmarks/load/etcd_process.h"
#include "benchmarks/load/results.h"

namespace modelcatalog::bench {

// What reads the watch streams: gRPC's C++ client on completion queues, or
// catalog-bench's own HTTP/2 reader (http2_stream_client.h), which costs the
// client a fraction of a microsecond per message instead of several, so that
// the figures are the server's.
enum class WatchClient { kGrpc, kHttp2 };

struct WatchOptions {
  int watchers = 10000;
  int connections = 16;
  int rounds = 3;  // deployment status changes delivered
  // Completion queues (one thread each) the streams read on, connections
  // shared out in turn; 0: one per connection.
  int client_queues = 0;
  // How the client reads an event: parsed into its generated message (what a
  // service would do), or as bytes, decoding only the fields it times (the
  // type and the watched id or key) for every target alike, so that the
  // client's own parsing (a WatchModels event carries a whole model, a
  // WatchDeployments event Structs) does not stand in for the server's
  // fan-out.
  bool decode_fields = false;
  // kHttp2 always decodes fields; client_queues is for kGrpc only.
  WatchClient client = WatchClient::kGrpc;
  absl::Duration open_timeout = absl::Seconds(120);     // for every INITIAL_STATE_COMPLETE
  absl::Duration delivery_timeout = absl::Seconds(30);  // for every watcher to see a change
};

// Opens `watchers` WatchDeployments streams for one custom model, measures the
// server's RSS before and after, then changes the model's deployment status
// `rounds` times (hub control API, then a live GetModel so the server observes
// it at once) and measures, per watcher, the time from the live call to its
// CHANGED event.
// `method`: the streams are WatchDeployments of the model ("watch"), or
// WatchModels with a filter naming it, in the BASIC view ("watch_models").
enum class WatchMethod { kWatchDeployments, kWatchModels };
ScenarioResult RunWatchScenario(BenchContext& context, const WatchOptions& options,
                                WatchMethod method = WatchMethod::kWatchDeployments);

struct EtcdWatchOptions {
  WatchOptions watch;   // the same streams, connections and rounds as the catalog's
  std::string address;  // a running etcd's client address, host:port; empty: start one
  int pid = 0;          // that etcd's process id, for its memory; 0: not measured
  EtcdOptions process;  // how to start one
  std::string key = "/model-catalog/bench/deployment-status";
  // Each change's value: a status, padded so that etcd's event message is
  // about the size of the catalog's CHANGED event (164 bytes with 80).
  size_t value_bytes = 80;
};

// The watch scenario against etcd's watch: `watchers` Watch streams of one key
// (one watch per stream), etcd's RSS before and after, then `rounds` Puts of
// the key, each stream's receipt timed from the Put's send.
ScenarioResult RunEtcdWatchScenario(const EtcdWatchOptions& options);

struct SyncOptions {
  // GetModel calls per second, sent open loop: on schedule whatever the
  // answers, latency counted from the scheduled send time.
  double rate = 2000;
  size_t connections = 4;
  int syncs = 3;  // complete syncs to observe
  absl::Duration warmup = absl::Seconds(2);
  absl::Duration max_duration = absl::Seconds(180);       // gives up after this
  absl::Duration poll_interval = absl::Milliseconds(20);  // of GetSyncStatus
  // A call this close after a sync's observed end counts as neither idle nor during.
  absl::Duration settle = absl::Milliseconds(250);
};

// GetModel latency while full syncs are applied (the server runs with a short
// --sync_interval), against the same load between syncs. Sync windows, split
// into fetch and apply, are read from GetSyncStatus; before each sync one
// model is edited on the hub so that every sync changes the catalog and is
// applied (new revision, swap). Returns three results: "sync_idle" (calls
// clear of every sync), "sync_during" (calls that overlapped an apply) and
// "sync_fetch" (calls that overlapped only a fetch).
std::vector<ScenarioResult> RunSyncScenario(BenchContext& context, const SyncOptions& options);

struct LiveDuringSyncOptions {
  int spin_cpu = -1;  // the server's CPU, kept busy at nice 19; -1: not pinned
  absl::Duration probe_interval = absl::Milliseconds(20);  // between two activations
  int syncs = 3;
  absl::Duration warmup = absl::Seconds(2);
  absl::Duration max_duration = absl::Seconds(180);
  absl::Duration settle = absl::Milliseconds(250);
};

// What a live call costs while a sync is applied on a saturated core: a
// spinning thread at nice 19 keeps the server's core busy, an activation
// (ActivateModel and DeactivateModel of one custom model in turn) goes out
// every probe interval, and the syncs are watched as in RunSyncScenario.
// Returns "live_idle" and "live_during" (activations clear of syncs, and
// overlapping an apply).
std::vector<ScenarioResult> RunLiveDuringSyncScenario(BenchContext& context,
                                                      const LiveDuringSyncOptions& options);

// The server's resident memory now and the size of the catalog JSON the hub
// serves (one GET of the list).
ScenarioResult RunMemoryScenario(BenchContext& context);

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_LOAD_SCENARIOS_H_
