// watch: many WatchDeployments streams on one model; memory per stream and
// the time one deployment status change takes to reach all of them.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "benchmarks/load/client_queue.h"
#include "benchmarks/load/closed_loop.h"
#include "benchmarks/load/proc_stats.h"
#include "benchmarks/load/scenarios.h"
#include "grpcpp/support/async_stream.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"

namespace modelcatalog::bench {
namespace {

using ::modelcatalog::v1::ModelCatalogService;
using ::modelcatalog::v1::WatchDeploymentsRequest;
using ::modelcatalog::v1::WatchDeploymentsResponse;
using ::modelcatalog::v1::WatchEventType;

struct WatchShared {
  std::string model_id;
  std::atomic<int> markers{0};
  std::atomic<int64_t> deliveries{0};  // CHANGED events of model_id received, all streams
  absl::Mutex mu;
  int finished ABSL_GUARDED_BY(mu) = 0;  // streams that ended
};

// The watchers read on completion queues of catalog-bench (ClientQueue), one
// per connection. With callback reactors, as a first version had, the
// client's own callback threads napped 100 ms before the first round: traced,
// the server had written all 10,000 events before the client read the first.
// One stream. Records when the marker came and when each CHANGED event of the
// watched model arrived, and how the stream ended.
class Watcher {
 public:
  Watcher(WatchShared* shared, int rounds)
      : shared_(shared), rounds_(rounds), arrivals_(new std::atomic<int64_t>[rounds]) {
    for (int i = 0; i < rounds; ++i) arrivals_[i].store(0, std::memory_order_relaxed);
  }

  void Begin(ModelCatalogService::Stub* stub, grpc::CompletionQueue* queue) {
    request_.add_model_ids(shared_->model_id);
    reader_ = stub->PrepareAsyncWatchDeployments(&context_, request_, queue);
    reader_->StartCall(&started_);
  }

  void Cancel() {
    cancelled_by_us_.store(true, std::memory_order_release);
    context_.TryCancel();
  }

  // When this stream received the change of round `round`; 0 if it did not.
  int64_t Arrival(int round) const { return arrivals_[round].load(std::memory_order_acquire); }
  // Read once the stream ended (shared->finished counts it).
  bool ended_by_us() const { return ended_by_us_; }
  int code() const { return code_; }

 private:
  // A tag that calls one of the watcher's steps.
  class Step final : public ClientQueue::Tag {
   public:
    Step(Watcher* watcher, void (Watcher::*step)(bool)) : watcher_(watcher), step_(step) {}
    void Proceed(bool ok) override { (watcher_->*step_)(ok); }

   private:
    Watcher* const watcher_;
    void (Watcher::*const step_)(bool);
  };

  void Started(bool ok) {
    if (!ok) {
      reader_->Finish(&status_, &finished_);
      return;
    }
    reader_->Read(&event_, &read_);
  }

  void Read(bool ok) {
    if (!ok) {  // the stream ended: its status follows
      reader_->Finish(&status_, &finished_);
      return;
    }
    const int64_t now = NowNanos();
    if (event_.type() == WatchEventType::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE && !marker_) {
      marker_ = true;
      shared_->markers.fetch_add(1, std::memory_order_release);
    } else if (event_.type() == WatchEventType::WATCH_EVENT_TYPE_CHANGED &&
               event_.model_id() == shared_->model_id) {
      if (changes_ < rounds_) arrivals_[changes_].store(now, std::memory_order_release);
      ++changes_;
      shared_->deliveries.fetch_add(1, std::memory_order_release);
    }
    reader_->Read(&event_, &read_);
  }

  void Finished(bool) {
    code_ = static_cast<int>(status_.error_code());
    ended_by_us_ = cancelled_by_us_.load(std::memory_order_acquire);
    absl::MutexLock lock(&shared_->mu);  // publishes code_ and ended_by_us_ with the count
    ++shared_->finished;
  }

  WatchShared* const shared_;
  const int rounds_;
  grpc::ClientContext context_;
  WatchDeploymentsRequest request_;
  WatchDeploymentsResponse event_;
  grpc::Status status_;
  std::unique_ptr<grpc::ClientAsyncReader<WatchDeploymentsResponse>> reader_;
  Step started_{this, &Watcher::Started};
  Step read_{this, &Watcher::Read};
  Step finished_{this, &Watcher::Finished};
  bool marker_ = false;
  int changes_ = 0;
  std::unique_ptr<std::atomic<int64_t>[]> arrivals_;
  std::atomic<bool> cancelled_by_us_{false};
  bool ended_by_us_ = false;
  int code_ = -1;
};

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

}  // namespace

ScenarioResult RunWatchScenario(BenchContext& context, const WatchOptions& options) {
  ScenarioResult result;
  result.name = "watch";
  result.rpc = "ModelCatalogService/WatchDeployments";
  result.connections = options.connections;
  std::fprintf(stderr, "catalog-bench: watch (%d streams over %d connections, %d changes)...\n",
               options.watchers, options.connections, options.rounds);
  if (context.hub == nullptr || context.catalog.custom_ids.empty()) {
    std::fprintf(stderr,
                 "catalog-bench: watch needs --hub_url and a custom model with a "
                 "settled deployment in the catalog\n");
    return result;
  }
  WatchShared shared;
  // A custom model from the middle of the catalog.
  const size_t pick = context.catalog.custom_ids.size() / 2;
  shared.model_id = context.catalog.custom_ids[pick];
  std::string status = context.catalog.custom_statuses[pick];
  result.AddExtraString("model_id", shared.model_id);

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<ModelCatalogService::Stub>> stubs;
  // Declared before the watchers: the queues outlive them (destroyed after).
  std::vector<std::unique_ptr<ClientQueue>> queues;
  for (int i = 0; i < options.connections; ++i) {
    channels.push_back(MakeConnection(context.server, 1000 + i));
    if (!Connect(channels.back(), absl::Seconds(30))) {
      std::fprintf(stderr, "catalog-bench: watch connection %d did not connect\n", i);
      return result;
    }
    stubs.push_back(ModelCatalogService::NewStub(channels.back()));
    queues.push_back(std::make_unique<ClientQueue>());
  }
  auto control = ModelCatalogService::NewStub(context.control);

  absl::SleepFor(absl::Milliseconds(500));
  const int64_t rss_before = ReadStatusKib(context.server_pid, "VmRSS");

  // Open every stream and wait for every INITIAL_STATE_COMPLETE marker.
  std::vector<std::unique_ptr<Watcher>> watchers;
  watchers.reserve(options.watchers);
  const int64_t open_start = NowNanos();
  for (int i = 0; i < options.watchers; ++i) {
    watchers.push_back(std::make_unique<Watcher>(&shared, options.rounds));
    watchers.back()->Begin(stubs[i % stubs.size()].get(), queues[i % queues.size()]->queue());
  }
  const bool all_open = WaitFor(
      [&] {
        if (shared.markers.load(std::memory_order_acquire) == options.watchers) return true;
        absl::MutexLock lock(&shared.mu);
        return shared.finished + shared.markers.load() >= options.watchers;
      },
      options.open_timeout);
  const int64_t open_ns = NowNanos() - open_start;
  const int markers = shared.markers.load(std::memory_order_acquire);
  absl::SleepFor(absl::Seconds(1));
  const int64_t rss_after = ReadStatusKib(context.server_pid, "VmRSS");
  result.AddExtra("watchers", static_cast<int64_t>(options.watchers));
  result.AddExtra("watchers_with_marker", static_cast<int64_t>(markers));
  result.AddExtra("open_all_seconds", open_ns / 1e9);
  result.AddExtra("server_rss_before_kib", rss_before);
  result.AddExtra("server_rss_after_kib", rss_after);
  if (rss_before > 0 && rss_after > 0 && markers > 0) {
    result.AddExtra("kib_per_watcher", static_cast<double>(rss_after - rss_before) / markers);
  }
  if (!all_open) {
    std::fprintf(stderr, "catalog-bench: watch: only %d of %d streams got their marker\n", markers,
                 options.watchers);
  }

  // Each round: change the status on the hub, make the server look at once,
  // and wait until every open stream has the change.
  const double cpu0 = ReadCpuSeconds(context.server_pid);
  const int64_t measure_start = NowNanos();
  int64_t expected = 0;
  int64_t missing = 0;
  LatencySamples live_calls;
  for (int round = 0; round < options.rounds; ++round) {
    const std::string next = status == "error" ? "active" : "error";
    const HttpResult set = context.hub->SetStatus(shared.model_id, next);
    if (set.status != 200) {
      std::fprintf(stderr, "catalog-bench: watch: PUT status answered %ld: %s\n", set.status,
                   set.body.substr(0, 200).c_str());
      break;
    }
    status = next;
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    modelcatalog::v1::GetModelRequest request;
    request.set_id(shared.model_id);
    request.set_live(true);
    modelcatalog::v1::GetModelResponse response;
    const int64_t sent = NowNanos();
    const grpc::Status live = control->GetModel(&call, request, &response);
    const int64_t live_done = NowNanos();
    live_calls.Add(live_done - sent);
    if (!live.ok()) {
      std::fprintf(stderr, "catalog-bench: watch: live GetModel failed: %s %s\n",
                   StatusCodeName(live.error_code()), live.error_message().c_str());
      break;
    }
    expected += markers;
    WaitFor([&] { return shared.deliveries.load(std::memory_order_acquire) >= expected; },
            options.delivery_timeout);
    LatencySamples round_latencies;
    int64_t first = 0, last = 0;
    for (const auto& watcher : watchers) {
      const int64_t arrived = watcher->Arrival(round);
      if (arrived == 0) continue;
      round_latencies.Add(arrived - sent);
      result.latencies.Add(arrived - sent);
      if (first == 0 || arrived < first) first = arrived;
      last = std::max(last, arrived);
    }
    const int64_t round_missing = markers - static_cast<int64_t>(round_latencies.size());
    missing += round_missing;
    const std::string prefix = absl::StrCat("round", round + 1, "_");
    result.AddExtra(prefix + "p50_ms", round_latencies.PercentileMicros(0.5) / 1000);
    result.AddExtra(prefix + "p99_ms", round_latencies.PercentileMicros(0.99) / 1000);
    result.AddExtra(prefix + "max_ms", round_latencies.MaxMicros() / 1000);
    result.AddExtra(prefix + "live_call_ms", (live_done - sent) / 1e6);
    // From the first stream's event to the last's: the fan-out alone, without
    // the server's hub call.
    result.AddExtra(prefix + "first_to_last_ms", (last - first) / 1e6);
    result.AddExtra(prefix + "missing", round_missing);
    absl::SleepFor(absl::Milliseconds(500));
  }
  const double measure_seconds = (NowNanos() - measure_start) / 1e9;
  result.server_cpu = CoresBusy(cpu0, ReadCpuSeconds(context.server_pid), measure_seconds);
  result.AddExtra("deliveries_missing", missing);
  result.AddExtra("delivery_p50_ms", result.latencies.PercentileMicros(0.5) / 1000);
  result.AddExtra("delivery_p99_ms", result.latencies.PercentileMicros(0.99) / 1000);
  result.AddExtra("delivery_max_ms", result.latencies.MaxMicros() / 1000);
  result.AddExtra("live_get_model_p50_ms", live_calls.PercentileMicros(0.5) / 1000);

  // Close every stream; a stream the server ended on its own is counted with
  // its code, a stream that got everything it should have as OK.
  for (const auto& watcher : watchers) watcher->Cancel();
  const bool all_done = WaitFor(
      [&] {
        absl::MutexLock lock(&shared.mu);
        return shared.finished == options.watchers;
      },
      absl::Seconds(60));
  if (!all_done) {
    std::fprintf(stderr, "catalog-bench: watch: streams still open 60s after cancelling\n");
    // The watchers must outlive their streams, and a queue with operations
    // pending never drains: leak both rather than crash or hang.
    for (auto& watcher : watchers) watcher.release();
    for (auto& queue : queues) queue.release();
    return result;
  }
  int64_t incomplete = 0;
  for (const auto& watcher : watchers) {
    bool complete = true;
    for (int round = 0; round < options.rounds; ++round) complete &= watcher->Arrival(round) != 0;
    if (!watcher->ended_by_us()) {
      const int code = watcher->code();
      ++result.codes[code >= 0 && code < kStatusCodes ? code : 2];
    } else if (complete) {
      ++result.codes[0];
    } else {
      ++incomplete;
    }
  }
  result.AddExtra("incomplete_streams", incomplete);
  result.AddExtra("rounds_seconds", measure_seconds);
  absl::SleepFor(absl::Milliseconds(100));
  return result;
}

}  // namespace modelcatalog::bench
