// memory: the server's resident memory against the size of the catalog JSON.
#include <cstdio>

#include "benchmarks/load/proc_stats.h"
#include "benchmarks/load/scenarios.h"

namespace modelcatalog::bench {

ScenarioResult RunMemoryScenario(BenchContext& context) {
  ScenarioResult result;
  result.name = "memory";
  const int64_t rss_kib = ReadStatusKib(context.server_pid, "VmRSS");
  const int64_t hwm_kib = ReadStatusKib(context.server_pid, "VmHWM");
  result.AddExtra("models", static_cast<int64_t>(context.catalog.ids.size()));
  result.AddExtra("server_rss_kib", rss_kib);
  result.AddExtra("server_peak_rss_kib", hwm_kib);
  if (context.hub == nullptr) {
    std::fprintf(stderr, "catalog-bench: memory: no --hub_url, catalog size not measured\n");
    return result;
  }
  const HttpResult list = context.hub->ListCatalog();
  if (list.status != 200) {
    std::fprintf(stderr, "catalog-bench: memory: GET /api/ai/models answered %ld: %s\n",
                 list.status, list.body.substr(0, 200).c_str());
    return result;
  }
  const int64_t json_bytes = static_cast<int64_t>(list.body.size());
  result.AddExtra("catalog_json_bytes", json_bytes);
  if (rss_kib > 0 && json_bytes > 0) {
    result.AddExtra("rss_over_json", static_cast<double>(rss_kib) * 1024.0 / json_bytes);
    result.AddExtra("peak_rss_over_json", static_cast<double>(hwm_kib) * 1024.0 / json_bytes);
  }
  return result;
}

}  // namespace modelcatalog::bench
