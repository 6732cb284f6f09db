// What every catalog-bench scenario shares: the server's address and process,
// the load connections, the hub emulator's control API, and a sample of the
// catalog the requests are drawn from.
#ifndef MODEL_CATALOG_BENCHMARKS_LOAD_BENCH_CONTEXT_H_
#define MODEL_CATALOG_BENCHMARKS_LOAD_BENCH_CONTEXT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "benchmarks/load/hub_control.h"
#include "grpcpp/channel.h"

namespace modelcatalog::bench {

// What the benchmark knows about the catalog being served, read through
// ListModels before any scenario runs.
struct CatalogSample {
  std::vector<std::string> ids;            // every model, in id order
  std::vector<std::string> display_names;  // same order
  // page_token of every page of an unfiltered ListModels at page_size 100;
  // the first entry is "" (the first page).
  std::vector<std::string> page_tokens;
  // Custom models with at least one deployment whose first status is settled
  // (not deploying or deactivating), and that status.
  std::vector<std::string> custom_ids;
  std::vector<std::string> custom_statuses;
  int64_t revision = 0;
};

struct BenchContext {
  std::string server;  // host:port
  int server_pid = 0;  // 0: memory and server CPU are not measured
  std::unique_ptr<HubControl> hub;  // null without --hub_url
  // One channel per connection, each on its own TCP connection.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  // A separate connection for set-up and monitoring calls.
  std::shared_ptr<grpc::Channel> control;
  CatalogSample catalog;
};

// A channel on a connection of its own: channels with identical arguments
// share one connection, so each gets a distinct `modelcatalog.bench.connection`
// argument and a local subchannel pool. Messages of any size are accepted.
std::shared_ptr<grpc::Channel> MakeConnection(const std::string& server, int index);

// Waits until `channel` is connected; false after `timeout`.
bool Connect(const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout);

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_LOAD_BENCH_CONTEXT_H_
