// A closed-loop load on gRPC's callback client API: every connection keeps a
// fixed number of calls outstanding; each call that finishes starts the next
// one from its completion callback. Every call that ends inside the measured
// window (after the warm-up) is counted under its status code; only OK calls
// give latencies and throughput, so a failure is never counted as a success.
#ifndef MODEL_CATALOG_BENCHMARKS_LOAD_CLOSED_LOOP_H_
#define MODEL_CATALOG_BENCHMARKS_LOAD_CLOSED_LOOP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "benchmarks/load/now_nanos.h"
#include "benchmarks/load/results.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace modelcatalog::bench {

// The call one slot makes over and over. Each Start issues one RPC on
// `context` (fresh for every call) and calls `done` when it finishes. A slot
// has one call in flight at a time, so an implementation may keep its request
// and response as members.
class SlotCall {
 public:
  virtual ~SlotCall() = default;
  virtual void Start(grpc::ClientContext* context, std::function<void(grpc::Status)> done) = 0;
  // Called when the call finishes, before it is counted. False when the
  // status is OK but the response is wrong: the call is then counted as
  // UNKNOWN, never as a success.
  virtual bool Finished(const grpc::Status& status) { return true; }
  // Bytes of the response of the call that just finished.
  virtual size_t ResponseBytes() const { return 0; }
};

// Makes the call object of one slot on connection `connection`; `seed` differs per slot.
using SlotCallFactory = std::function<std::unique_ptr<SlotCall>(size_t connection, uint64_t seed)>;

struct ClosedLoopOptions {
  size_t connections = 1;  // the first `connections` channels of the runner
  int outstanding_per_connection = 1;
  absl::Duration warmup = absl::Seconds(2);
  absl::Duration duration = absl::Seconds(10);
  int server_pid = 0;  // for the server's CPU use; 0: not measured
  // When set, the measured window also ends as soon as it is true.
  const std::atomic<bool>* stop = nullptr;
};

// Runs the load and returns what it measured (name and rpc left to the caller).
ScenarioResult RunClosedLoop(const ClosedLoopOptions& options, const SlotCallFactory& factory);

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_LOAD_CLOSED_LOOP_H_
