#include "benchmarks/load/closed_loop.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "benchmarks/load/proc_stats.h"

namespace modelcatalog::bench {

namespace {

void SleepUntilNanos(int64_t when) {
  const int64_t now = NowNanos();
  if (when > now) std::this_thread::sleep_for(std::chrono::nanoseconds(when - now));
}

struct Window {
  std::atomic<bool> stopping{false};
  // Calls that end in [begin, end) are counted: throughput is completions per
  // second of the window, in the steady state the warm-up led to.
  int64_t begin = 0;
  std::atomic<int64_t> end{0};  // moved earlier when the caller stops the load
  absl::Mutex mu;
  size_t running_slots ABSL_GUARDED_BY(mu) = 0;
};

class Slot {
 public:
  Slot(Window* window, std::unique_ptr<SlotCall> call) : window_(window), call_(std::move(call)) {
    latencies_.Reserve(1 << 14);
  }

  void Launch() {
    grpc::ClientContext* context;
    {
      // Two contexts alternate: the one replaced here belongs to the call
      // before the previous one, long finished; the previous call's context
      // is never destroyed from inside its own callback.
      absl::MutexLock lock(&mu_);
      current_ ^= 1;
      contexts_[current_] = std::make_unique<grpc::ClientContext>();
      context = contexts_[current_].get();
    }
    start_ = NowNanos();
    call_->Start(context, [this](grpc::Status status) { OnDone(status); });
  }

  void TryCancel() {
    absl::MutexLock lock(&mu_);
    if (contexts_[current_]) contexts_[current_]->TryCancel();
  }

  const StatusCounts& codes() const { return codes_; }
  uint64_t response_bytes() const { return response_bytes_; }
  const LatencySamples& latencies() const { return latencies_; }

 private:
  void OnDone(const grpc::Status& status) {
    const int64_t end = NowNanos();
    const bool valid = call_->Finished(status);
    if (end >= window_->begin && end < window_->end.load(std::memory_order_relaxed)) {
      int code = static_cast<int>(status.error_code());
      if (code < 0 || code >= kStatusCodes || !valid) code = 2;  // UNKNOWN
      ++codes_[code];
      if (code == 0) {
        latencies_.Add(end - start_);
        response_bytes_ += call_->ResponseBytes();
      }
    }
    if (window_->stopping.load(std::memory_order_acquire)) {
      absl::MutexLock lock(&window_->mu);
      --window_->running_slots;
      return;
    }
    Launch();
  }

  Window* const window_;
  const std::unique_ptr<SlotCall> call_;
  absl::Mutex mu_;
  std::unique_ptr<grpc::ClientContext> contexts_[2];
  int current_ = 0;
  int64_t start_ = 0;
  StatusCounts codes_{};
  uint64_t response_bytes_ = 0;  // of the OK calls counted
  LatencySamples latencies_;
};

}  // namespace

ScenarioResult RunClosedLoop(const ClosedLoopOptions& options, const SlotCallFactory& factory) {
  Window window;
  std::vector<std::unique_ptr<Slot>> slots;
  uint64_t seed = 0x5eed;
  for (size_t c = 0; c < options.connections; ++c) {
    for (int i = 0; i < options.outstanding_per_connection; ++i) {
      slots.push_back(std::make_unique<Slot>(&window, factory(c, ++seed)));
    }
  }
  const int64_t start = NowNanos();
  window.begin = start + absl::ToInt64Nanoseconds(options.warmup);
  window.end.store(window.begin + absl::ToInt64Nanoseconds(options.duration));
  {
    absl::MutexLock lock(&window.mu);
    window.running_slots = slots.size();
  }
  for (auto& slot : slots) slot->Launch();

  SleepUntilNanos(window.begin);
  const double server_cpu0 = ReadCpuSeconds(options.server_pid);
  const double client_cpu0 = ReadSelfCpuSeconds();
  if (options.stop == nullptr) {
    SleepUntilNanos(window.end.load());
  } else {
    while (NowNanos() < window.end.load() && !options.stop->load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    window.end.store(std::min(window.end.load(), NowNanos()));
  }
  const double server_cpu1 = ReadCpuSeconds(options.server_pid);
  const double client_cpu1 = ReadSelfCpuSeconds();
  window.stopping.store(true, std::memory_order_release);

  // Every slot stops after its call in flight; a call that does not finish
  // within 30 s is cancelled (and, ending after the window, not counted).
  const auto all_stopped = [&window]() ABSL_SHARED_LOCKS_REQUIRED(window.mu) {
    return window.running_slots == 0;
  };
  window.mu.Lock();
  if (!window.mu.AwaitWithTimeout(absl::Condition(&all_stopped), absl::Seconds(30))) {
    window.mu.Unlock();
    std::fprintf(stderr, "catalog-bench: calls still running 30s after the window; cancelling\n");
    for (auto& slot : slots) slot->TryCancel();
    window.mu.Lock();
    window.mu.Await(absl::Condition(&all_stopped));
  }
  window.mu.Unlock();
  // The last callbacks may still be unwinding inside gRPC; let them return
  // before the slots and their contexts go away.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  ScenarioResult result;
  result.connections = static_cast<int>(options.connections);
  result.outstanding = options.outstanding_per_connection;
  result.seconds = (window.end.load() - window.begin) / 1e9;
  uint64_t response_bytes = 0;
  for (auto& slot : slots) {
    for (int c = 0; c < kStatusCodes; ++c) result.codes[c] += slot->codes()[c];
    result.latencies.Append(slot->latencies());
    response_bytes += slot->response_bytes();
  }
  if (result.ok() > 0) {
    result.AddExtra("response_bytes_per_call",
                    static_cast<double>(response_bytes) / static_cast<double>(result.ok()));
  }
  const double wall = (window.end.load() - window.begin) / 1e9;
  result.server_cpu = CoresBusy(server_cpu0, server_cpu1, wall);
  result.client_cpu = CoresBusy(client_cpu0, client_cpu1, wall);
  return result;
}

}  // namespace modelcatalog::bench
