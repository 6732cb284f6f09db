// Building a snapshot: id order, id index, filter postings, folded text, fingerprints.
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "benchmarks/micro/fixtures.h"
#include "benchmarks/micro/registry.h"
#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::bench {
namespace {

void BM_SnapshotBuild(benchmark::State& state, int models) {
  const std::vector<modelcatalog::v1::Model>& parsed = CatalogModels(models);
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<modelcatalog::v1::Model> copy = parsed;  // Build consumes its input
    state.ResumeTiming();
    std::shared_ptr<const catalog::CatalogSnapshot> snapshot =
        catalog::CatalogSnapshot::Build(std::move(copy), 1, absl::Now());
    benchmark::DoNotOptimize(snapshot.get());
    state.PauseTiming();
    snapshot.reset();  // freeing it is not part of building it
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * models);
}

}  // namespace

void RegisterSnapshotBenchmarks() {
  for (int models : SelectedSizes()) {
    benchmark::RegisterBenchmark(("CatalogSnapshot::Build/" + std::to_string(models)).c_str(),
                                 BM_SnapshotBuild, models)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
}

}  // namespace modelcatalog::bench
