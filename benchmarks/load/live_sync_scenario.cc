// live_during_sync: how long an activation takes while a sync is applied on a
// saturated core, against the same between syncs.
//
// A sync runs at idle CPU priority (--sync_priority=idle): on a busy core it
// gets little CPU. Whatever it does while holding a lock that a live call
// needs (the catalog updater's, the feed's) then delays that call by as long
// as the sync waits for the CPU: a priority inversion. This scenario shows it:
// a spinning thread at nice 19 pinned to the server's core keeps that core
// busy (the serving threads, at nice 0, still take it at once; the sync, at
// idle priority, gets a small share), an activation (alternately
// ActivateModel and DeactivateModel of one custom model, one at a time, every
// probe interval) measures what a live call costs, and a SyncMonitor marks
// when each sync fetched and applied. Activations that overlapped an apply are
// "during", the others, clear of every sync by `settle`, "idle". The load core
// stays free for the hub emulator, so the hub answers at once.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmarks/load/closed_loop.h"
#include "benchmarks/load/proc_stats.h"
#include "benchmarks/load/scenarios.h"
#include "benchmarks/load/sync_monitor.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"

namespace modelcatalog::bench {
namespace {

using ::modelcatalog::v1::ModelCatalogService;

struct Probe {
  int64_t start = 0;
  int64_t end = 0;
  int code = 0;
};

}  // namespace

std::vector<ScenarioResult> RunLiveDuringSyncScenario(BenchContext& context,
                                                      const LiveDuringSyncOptions& options) {
  ScenarioResult idle, during;
  idle.name = "live_idle";
  during.name = "live_during";
  idle.rpc = during.rpc = "ModelCatalogService/ActivateModel+DeactivateModel";
  std::fprintf(stderr,
               "catalog-bench: live_during_sync (an activation every %s, CPU %d kept busy, until "
               "%d syncs are seen)...\n",
               absl::FormatDuration(options.probe_interval).c_str(), options.spin_cpu,
               options.syncs);
  if (context.hub == nullptr || context.catalog.custom_ids.empty()) {
    std::fprintf(stderr, "catalog-bench: live_during_sync needs --hub_url and a custom model\n");
    return {idle, during};
  }
  const std::string id = context.catalog.custom_ids.front();
  const int64_t start = NowNanos();
  const int64_t measure_begin = start + absl::ToInt64Nanoseconds(options.warmup);
  const int64_t max_ns = absl::ToInt64Nanoseconds(options.warmup + options.max_duration);
  std::atomic<bool> stop{false};
  SyncMonitor monitor(context, absl::Milliseconds(20), start, measure_begin, options.syncs, max_ns,
                      &stop);
  if (!monitor.Start()) return {idle, during};

  // The spinner that keeps the server's core busy, until the monitor has seen its syncs.
  std::thread spinner([&] {
    if (options.spin_cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(options.spin_cpu, &set);
      pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    }
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
    volatile uint64_t spins = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      for (int i = 0; i < 100000; ++i) spins = spins + 1;
    }
  });

  // The probe: one activation or deactivation at a time, on its own connection.
  auto stub = ModelCatalogService::NewStub(MakeConnection(context.server, 9000));
  std::vector<Probe> probes;
  bool activate = true;
  while (!stop.load()) {
    Probe probe;
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    probe.start = NowNanos();
    grpc::Status status;
    if (activate) {
      modelcatalog::v1::ActivateModelRequest request;
      request.set_id(id);
      modelcatalog::v1::ActivateModelResponse response;
      status = stub->ActivateModel(&call, request, &response);
    } else {
      modelcatalog::v1::DeactivateModelRequest request;
      request.set_id(id);
      modelcatalog::v1::DeactivateModelResponse response;
      status = stub->DeactivateModel(&call, request, &response);
    }
    probe.end = NowNanos();
    probe.code = static_cast<int>(status.error_code());
    probes.push_back(probe);
    activate = !activate;
    absl::SleepFor(options.probe_interval);
  }
  monitor.Join();
  spinner.join();

  const std::vector<SyncWindow>& windows = monitor.windows();
  const int64_t load_end = monitor.stopped_at();
  const int64_t settle = absl::ToInt64Nanoseconds(options.settle);
  for (const Probe& p : probes) {
    if (p.start < measure_begin || p.start > load_end) continue;
    bool in_apply = false, near_sync = false;
    for (const SyncWindow& w : windows) {
      if (p.start <= w.end && p.end >= w.fetch_end) in_apply = true;
      if (p.start <= w.end + settle && p.end >= w.start - settle) near_sync = true;
    }
    ScenarioResult* target = in_apply ? &during : (near_sync ? nullptr : &idle);
    if (target == nullptr) continue;
    const int code = p.code >= 0 && p.code < kStatusCodes ? p.code : 2;
    ++target->codes[code];
    if (code == 0) target->latencies.Add(p.end - p.start);
  }
  int64_t applied = 0;
  std::string window_text;
  const int64_t observed = monitor.Measured(&applied, &window_text);
  const double wall = (load_end - measure_begin) / 1e9;
  idle.seconds = during.seconds = wall;
  idle.connections = during.connections = 1;
  during.AddExtra("syncs_observed", observed);
  during.AddExtra("syncs_applied", applied);
  during.AddExtraString("sync_windows", window_text);
  const double idle_p99 = idle.latencies.PercentileMicros(0.99);
  const double during_p99 = during.latencies.PercentileMicros(0.99);
  during.AddExtra("idle_p50_us", idle.latencies.PercentileMicros(0.5));
  during.AddExtra("idle_p99_us", idle_p99);
  during.AddExtra("during_p50_us", during.latencies.PercentileMicros(0.5));
  during.AddExtra("during_p99_us", during_p99);
  during.AddExtra("during_max_us", during.latencies.MaxMicros());
  if (idle_p99 > 0) during.AddExtra("p99_during_over_idle", during_p99 / idle_p99);
  if (observed < options.syncs) {
    std::fprintf(stderr, "catalog-bench: live_during_sync: saw %lld of %d syncs within %s\n",
                 static_cast<long long>(observed), options.syncs,
                 absl::FormatDuration(options.max_duration).c_str());
  }
  return {idle, during};
}

}  // namespace modelcatalog::bench
