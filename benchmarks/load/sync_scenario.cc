// sync: GetModel latency while full syncs of the catalog are applied, against
// the latency of the same load between syncs.
//
// The server runs with a short --sync_interval. GetModel calls go out open
// loop, on a fixed schedule whatever the answers, and each call's latency is
// counted from its scheduled send time, so a stall of the server shows in
// every call it delays. A late sender would show the same way, so the sender
// is made punctual: its thread sleeps with a timer slack of 1 ns (Linux's
// default, 50 us, was most of a median lateness of 74 us), calls run on a
// completion queue whose one thread runs at a lower priority than the sender,
// and how late each call went out is reported (send_lag_*).
//
// A monitor polls GetSyncStatus: a new last_attempt_time marks a sync that has
// finished, and it is the time that sync started; with how long its fetch and
// its apply took (last_sync_fetch_duration, last_sync_apply_duration), each
// sync splits into a fetch window and an apply window (parse, diff, index,
// swap). Before every sync the monitor edits one model on the hub, so every
// sync changes the catalog and is applied (a new revision is published, not
// only a fetch that finds nothing new). The load stops when the monitor sees
// the last sync end, so every sync that ran during the load is known.
//
// A call is "during" when its [scheduled send, end] interval meets an apply
// window, as the target reads ("while a sync is applied", like the sync time
// target, fetch excluded); "fetch" when it meets only a fetch window, reported
// apart because on one machine the emulator's sending of the catalog (76 MB at
// 100,000 models) runs on the load generator's core, so those calls measure
// the load side as much as the server; "idle" when it is clear of every
// window by `settle`.
#include <sys/prctl.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "benchmarks/load/client_queue.h"
#include "benchmarks/load/closed_loop.h"
#include "benchmarks/load/proc_stats.h"
#include "benchmarks/load/scenarios.h"
#include "benchmarks/load/sync_monitor.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/support/async_unary_call.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"

namespace modelcatalog::bench {
namespace {

using ::modelcatalog::v1::GetModelRequest;
using ::modelcatalog::v1::GetModelResponse;
using ::modelcatalog::v1::ModelCatalogService;

struct Sample {
  int64_t scheduled = 0;
  int64_t sent = 0;
  std::atomic<int64_t> end{0};  // 0 until the call finishes
  int code = -1;
};

// One GetModel call in flight, the tag of its completion: records the call's
// end in its sample and frees itself.
struct OpenCall final : ClientQueue::Tag {
  void Proceed(bool) override {
    sample->code = static_cast<int>(status.error_code());
    sample->end.store(NowNanos(), std::memory_order_release);
    finished->fetch_add(1, std::memory_order_release);
    delete this;
  }

  grpc::ClientContext context;
  GetModelRequest request;
  GetModelResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<GetModelResponse>> reader;
  Sample* sample = nullptr;
  std::atomic<size_t>* finished = nullptr;
};

}  // namespace

std::vector<ScenarioResult> RunSyncScenario(BenchContext& context, const SyncOptions& options) {
  ScenarioResult idle, during, fetching;
  idle.name = "sync_idle";
  during.name = "sync_during";
  fetching.name = "sync_fetch";
  idle.rpc = during.rpc = fetching.rpc = "ModelCatalogService/GetModel";
  const size_t connections = std::min(options.connections, context.channels.size());
  idle.connections = during.connections = fetching.connections = static_cast<int>(connections);
  std::fprintf(stderr,
               "catalog-bench: sync (GetModel open loop at %.0f/s over %zu connections, until %d "
               "syncs are seen)...\n",
               options.rate, connections, options.syncs);
  if (context.hub == nullptr || connections == 0 || options.rate <= 0) {
    std::fprintf(stderr, "catalog-bench: sync needs --hub_url, a connection and a rate\n");
    return {idle, during, fetching};
  }
  std::vector<std::unique_ptr<ModelCatalogService::Stub>> stubs;
  for (size_t i = 0; i < connections; ++i) {
    stubs.push_back(ModelCatalogService::NewStub(context.channels[i]));
  }
  const int64_t period = static_cast<int64_t>(1e9 / options.rate);
  const int64_t max_ns = absl::ToInt64Nanoseconds(options.warmup + options.max_duration);
  const size_t capacity = static_cast<size_t>(max_ns / period) + 16;
  std::unique_ptr<Sample[]> samples(new Sample[capacity]);
  std::atomic<size_t> finished{0};
  // Completions are taken at nice 5, below the sender: woken for its next
  // call, the sender does not wait for a batch of them to be handled.
  auto completions = std::make_unique<ClientQueue>(/*nice=*/5);

  const int64_t start = NowNanos();
  const int64_t measure_begin = start + absl::ToInt64Nanoseconds(options.warmup);
  std::atomic<bool> stop{false};

  // The monitor: sync windows, and a hub edit after each so the next applies.
  SyncMonitor monitor(context, options.poll_interval, start, measure_begin, options.syncs, max_ns,
                      &stop);
  if (!monitor.Start()) return {idle, during, fetching};

  // The server's peak memory from here on is that of its syncs (and of the calls, which
  // hold little): the start-up's first load is forgotten.
  const bool peak_reset = ResetPeakRss(context.server_pid);

  // The pacer: one call every `period`, whatever happened to the others.
  const double server_cpu0 = ReadCpuSeconds(context.server_pid);
  const double client_cpu0 = ReadSelfCpuSeconds();
  std::mt19937_64 random(7);
  size_t issued = 0;
  const int previous_slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);  // wake when asked, not up to 50 us later
  while (!stop.load(std::memory_order_relaxed) && issued < capacity) {
    const int64_t scheduled = start + static_cast<int64_t>(issued) * period;
    const int64_t wait = scheduled - NowNanos();
    if (wait > 0) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
      continue;
    }
    auto* call = new OpenCall;
    call->request.set_id(context.catalog.ids[random() % context.catalog.ids.size()]);
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    call->sample = &samples[issued];
    call->sample->scheduled = scheduled;
    call->finished = &finished;
    call->reader = stubs[issued % stubs.size()]->PrepareAsyncGetModel(&call->context, call->request,
                                                                      completions->queue());
    call->sample->sent = NowNanos();
    call->reader->StartCall();
    call->reader->Finish(&call->response, &call->status, call);
    ++issued;
  }
  prctl(PR_SET_TIMERSLACK, previous_slack, 0, 0, 0);
  stop.store(true);
  monitor.Join();
  // Peak resident memory during the syncs, against the memory at rest after the last of them.
  const int64_t sync_peak_kib = peak_reset ? ReadStatusKib(context.server_pid, "VmHWM") : -1;
  const int64_t rest_kib = ReadStatusKib(context.server_pid, "VmRSS");
  const std::vector<SyncWindow>& windows = monitor.windows();
  const int64_t load_end = monitor.stopped_at() != 0 ? monitor.stopped_at() : NowNanos();
  const double wall = (load_end - measure_begin) / 1e9;
  const double server_cpu =
      CoresBusy(server_cpu0, ReadCpuSeconds(context.server_pid), (NowNanos() - start) / 1e9);
  const double client_cpu =
      CoresBusy(client_cpu0, ReadSelfCpuSeconds(), (NowNanos() - start) / 1e9);
  const absl::Time drain_deadline = absl::Now() + absl::Seconds(15);
  while (finished.load(std::memory_order_acquire) < issued && absl::Now() < drain_deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (finished.load(std::memory_order_acquire) < issued) {
    // A call that never ends keeps the queue from draining: leave it running
    // rather than hang (the process exits soon after).
    completions.release();
  }
  completions.reset();

  // The sender's lateness and the latency counted from the actual send, per
  // class: what of each class's tail is the load side's.
  LatencySamples lag_idle, lag_during, sent_idle, sent_during;
  // Classify every call scheduled inside the measured window.
  const int64_t settle = absl::ToInt64Nanoseconds(options.settle);
  int64_t applied = 0;
  std::string window_text;
  const int64_t during_windows = monitor.Measured(&applied, &window_text);
  int64_t unclassified = 0;
  for (size_t i = 0; i < issued; ++i) {
    const Sample& s = samples[i];
    if (s.scheduled < measure_begin || s.scheduled > load_end) continue;
    const int64_t end = s.end.load(std::memory_order_acquire);
    if (end == 0) {  // never finished: counted as what it is, a call that did not succeed
      ++during.codes[4];
      continue;
    }
    bool in_apply = false, in_fetch = false, near_sync = false;
    for (const SyncWindow& w : windows) {
      if (s.scheduled <= w.end && end >= w.fetch_end) in_apply = true;
      if (s.scheduled <= w.fetch_end && end >= w.start) in_fetch = true;
      if (s.scheduled <= w.end + settle && end >= w.start - settle) near_sync = true;
    }
    ScenarioResult* target =
        in_apply ? &during : (in_fetch ? &fetching : (near_sync ? nullptr : &idle));
    if (target == nullptr) {
      ++unclassified;
      continue;
    }
    const int code = s.code >= 0 && s.code < kStatusCodes ? s.code : 2;
    ++target->codes[code];
    if (code == 0) target->latencies.Add(end - s.scheduled);
    if (code == 0 && (target == &idle || target == &during)) {
      (target == &idle ? lag_idle : lag_during).Add(s.sent - s.scheduled);
      (target == &idle ? sent_idle : sent_during).Add(end - s.sent);
    }
  }
  // Seconds of measured time spent applying, fetching and neither, for calls per second.
  const auto overlap = [&](int64_t a, int64_t b) {
    a = std::max(a, measure_begin);
    b = std::min(b, load_end);
    return b > a ? b - a : 0;
  };
  int64_t apply_ns = 0, fetch_ns = 0;
  for (const SyncWindow& w : windows) {
    apply_ns += overlap(w.fetch_end, w.end);
    fetch_ns += overlap(w.start, w.fetch_end);
  }
  during.seconds = apply_ns / 1e9;
  fetching.seconds = fetch_ns / 1e9;
  idle.seconds = std::max(0.0, wall - during.seconds - fetching.seconds);
  idle.server_cpu = during.server_cpu = fetching.server_cpu = server_cpu;
  idle.client_cpu = during.client_cpu = fetching.client_cpu = client_cpu;

  during.AddExtra("rate_per_second", options.rate);
  during.AddExtra("syncs_observed", during_windows);
  during.AddExtra("syncs_applied", applied);
  during.AddExtra("sync_peak_rss_kib", sync_peak_kib);
  during.AddExtra("rss_at_rest_after_syncs_kib", rest_kib);
  if (sync_peak_kib > 0 && rest_kib > 0) {
    during.AddExtra("sync_peak_over_rest", static_cast<double>(sync_peak_kib) / rest_kib);
  }
  during.AddExtraString("sync_windows", window_text);
  during.AddExtra("calls_between_windows_unclassified", unclassified);
  const double idle_p99 = idle.latencies.PercentileMicros(0.99);
  const double during_p99 = during.latencies.PercentileMicros(0.99);
  during.AddExtra("idle_p99_us", idle_p99);
  during.AddExtra("during_p99_us", during_p99);
  if (idle_p99 > 0) during.AddExtra("p99_during_over_idle", during_p99 / idle_p99);
  during.AddExtra("during_max_us", during.latencies.MaxMicros());
  during.AddExtra("fetch_p99_us", fetching.latencies.PercentileMicros(0.99));
  // How late the calls went out: the sender's own share of every latency above.
  LatencySamples lag;
  for (size_t i = 0; i < issued; ++i) {
    if (samples[i].scheduled >= measure_begin) lag.Add(samples[i].sent - samples[i].scheduled);
  }
  during.AddExtra("send_lag_p50_us", lag.PercentileMicros(0.5));
  during.AddExtra("send_lag_p99_us", lag.PercentileMicros(0.99));
  during.AddExtra("send_lag_idle_p99_us", lag_idle.PercentileMicros(0.99));
  during.AddExtra("send_lag_during_p99_us", lag_during.PercentileMicros(0.99));
  during.AddExtra("idle_p99_from_send_us", sent_idle.PercentileMicros(0.99));
  during.AddExtra("during_p99_from_send_us", sent_during.PercentileMicros(0.99));
  if (during_windows < options.syncs) {
    std::fprintf(stderr, "catalog-bench: sync: saw %lld of %d syncs within %s\n",
                 static_cast<long long>(during_windows), options.syncs,
                 absl::FormatDuration(options.max_duration).c_str());
  }
  return {idle, during, fetching};
}

}  // namespace modelcatalog::bench
