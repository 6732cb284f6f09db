// Ranked search over a snapshot (services/catalog/model/model_search.h), by query length.
#include "benchmark/benchmark.h"
#include "benchmarks/micro/fixtures.h"
#include "benchmarks/micro/registry.h"
#include "services/catalog/model/model_search.h"

namespace modelcatalog::bench {
namespace {

// Every match ranked, as the first page of a query not asked before does
// (the service keeps the result for the next pages and repeats).
void BM_RankedMatches(benchmark::State& state, int models, int length) {
  const std::shared_ptr<const catalog::CatalogSnapshot> snapshot = CatalogSnapshotOf(models);
  std::vector<catalog::SearchQuery> queries;
  for (const std::string& text :
       WordStartQueries(CatalogModels(models), 1000, length, 42 + length)) {
    queries.push_back(*catalog::ParseSearchQuery(text));
  }
  size_t next = 0, hits = 0;
  for (auto _ : state) {
    std::vector<uint32_t> found =
        catalog::RankedMatches(*snapshot, queries[next++ % queries.size()]);
    hits += found.size();
    benchmark::DoNotOptimize(found.data());
  }
  state.counters["hits_per_query"] =
      state.iterations() > 0 ? static_cast<double>(hits) / state.iterations() : 0;
}

// The search index of a snapshot, built again from its models' words.
void BM_SearchIndexBuild(benchmark::State& state, int models) {
  const std::shared_ptr<const catalog::CatalogSnapshot> snapshot = CatalogSnapshotOf(models);
  const auto text_of = [&snapshot](uint32_t position) {
    return snapshot->entry(position).fields.text(catalog::ModelFields::kSearchWords);
  };
  size_t bytes = 0;
  for (auto _ : state) {
    std::shared_ptr<const catalog::SearchIndex> index =
        catalog::SearchIndex::Build(snapshot->size(), text_of);
    bytes = index->MemoryBytes();
    state.PauseTiming();
    index.reset();  // freeing it is not part of building it
    state.ResumeTiming();
  }
  state.counters["index_bytes_per_model"] = static_cast<double>(bytes) / models;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * models);
}

}  // namespace

void RegisterSearchBenchmarks() {
  for (int models : SelectedSizes()) {
    benchmark::RegisterBenchmark(("SearchIndex::Build/" + std::to_string(models)).c_str(),
                                 BM_SearchIndexBuild, models)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  const int models = LargestSize();
  for (int length : {2, 4, 6}) {
    benchmark::RegisterBenchmark(
        ("RankedMatches/" + std::to_string(models) + "/chars:" + std::to_string(length)).c_str(),
        BM_RankedMatches, models, length)
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace modelcatalog::bench
