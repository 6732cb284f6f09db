// What counting a call costs on the hot path: the project's own registry
// (CatalogMetrics::RecordCall: a counter and a latency histogram, lock-free
// atomics) against the same two series in prometheus-cpp, the maintained
// library it could use instead (built only where prometheus-cpp-dev is
// installed: scripts/install-deps.sh --bench). One and two threads, as the
// server has a call thread per CPU.
#include "benchmark/benchmark.h"
#include "benchmarks/micro/registry.h"
#include "services/catalog/api/catalog_metrics.h"
#include "services/common/metrics.h"

#ifdef MODEL_CATALOG_BENCH_PROMETHEUS_CPP
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#endif

namespace modelcatalog::bench {
namespace {

void BM_RecordCall_OwnRegistry(benchmark::State& state) {
  static catalog::CatalogMetrics* metrics = new catalog::CatalogMetrics();
  const absl::Duration latency = absl::Microseconds(40);
  for (auto _ : state) {
    metrics->RecordCall(catalog::Rpc::kGetModel, /*code=*/0, latency);
  }
  state.SetItemsProcessed(state.iterations());
}

#ifdef MODEL_CATALOG_BENCH_PROMETHEUS_CPP
// The same series, looked up once as CatalogMetrics does: only the update is timed.
struct PrometheusCppSeries {
  PrometheusCppSeries()
      : registry(std::make_shared<prometheus::Registry>()),
        calls(prometheus::BuildCounter()
                  .Name("modelcatalog_rpc_calls_total")
                  .Help("Calls handled, by method and status code.")
                  .Register(*registry)
                  .Add({{"method", "GetModel"}, {"code", "OK"}})),
        latency(prometheus::BuildHistogram()
                    .Name("modelcatalog_rpc_latency_seconds")
                    .Help("Time from a call's arrival to its answer, by method.")
                    .Register(*registry)
                    .Add({{"method", "GetModel"}}, metrics::LatencyBounds())) {}
  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Counter& calls;
  prometheus::Histogram& latency;
};

void BM_RecordCall_PrometheusCpp(benchmark::State& state) {
  static PrometheusCppSeries* series = new PrometheusCppSeries();
  const double latency = absl::ToDoubleSeconds(absl::Microseconds(40));
  for (auto _ : state) {
    series->calls.Increment();
    series->latency.Observe(latency);
  }
  state.SetItemsProcessed(state.iterations());
}
#endif

}  // namespace

void RegisterMetricsBenchmarks() {
  benchmark::RegisterBenchmark("BM_RecordCall_OwnRegistry", BM_RecordCall_OwnRegistry)
      ->Threads(1)
      ->Threads(2)
      ->UseRealTime();
#ifdef MODEL_CATALOG_BENCH_PROMETHEUS_CPP
  benchmark::RegisterBenchmark("BM_RecordCall_PrometheusCpp", BM_RecordCall_PrometheusCpp)
      ->Threads(1)
      ->Threads(2)
      ->UseRealTime();
#endif
}

}  // namespace modelcatalog::bench
