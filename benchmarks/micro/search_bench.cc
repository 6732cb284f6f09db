// Ranked search over a snapshot (services/catalog/model_search.h), by query length.
#include "benchmark/benchmark.h"
#include "benchmarks/micro/fixtures.h"
#include "benchmarks/micro/registry.h"
#include "services/catalog/model_search.h"

namespace modelcatalog::bench {
namespace {

void BM_SearchSnapshot(benchmark::State& state, int models, int length) {
  const std::shared_ptr<const catalog::CatalogSnapshot> snapshot = CatalogSnapshotOf(models);
  const std::vector<std::string> queries = FoldedQueries(CatalogModels(models), 1000, length, 42 + length);
  size_t next = 0, hits = 0;
  for (auto _ : state) {
    std::vector<catalog::SearchHit> found =
        catalog::SearchSnapshot(*snapshot, queries[next++ % queries.size()], absl::nullopt, 50);
    hits += found.size();
    benchmark::DoNotOptimize(found.data());
  }
  state.counters["hits_per_query"] =
      state.iterations() > 0 ? static_cast<double>(hits) / state.iterations() : 0;
}

}  // namespace

void RegisterSearchBenchmarks() {
  const int models = LargestSize();
  for (int length : {2, 4, 6}) {
    benchmark::RegisterBenchmark(
        ("SearchSnapshot/" + std::to_string(models) + "/chars:" + std::to_string(length)).c_str(),
        BM_SearchSnapshot, models, length)
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace modelcatalog::bench
