// Each file of benchmarks/micro registers its benchmarks for the catalog
// sizes chosen on the command line (--models=10000,100000).
#ifndef MODEL_CATALOG_BENCHMARKS_MICRO_REGISTRY_H_
#define MODEL_CATALOG_BENCHMARKS_MICRO_REGISTRY_H_

namespace modelcatalog::bench {

void RegisterParseBenchmarks();     // parse_bench.cc
void RegisterSnapshotBenchmarks();  // snapshot_bench.cc
void RegisterSearchBenchmarks();    // search_bench.cc
void RegisterServiceBenchmarks();   // service_bench.cc
void RegisterQueryBenchmarks();     // query_bench.cc
void RegisterFeedBenchmarks();      // feed_bench.cc
void RegisterSyncBenchmarks();      // sync_bench.cc
void RegisterMemoryBenchmarks();    // memory_bench.cc
void RegisterMetricsBenchmarks();   // metrics_bench.cc

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_MICRO_REGISTRY_H_
