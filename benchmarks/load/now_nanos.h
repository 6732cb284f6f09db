// The one clock of catalog-bench's measurements.
#ifndef MODEL_CATALOG_BENCHMARKS_LOAD_NOW_NANOS_H_
#define MODEL_CATALOG_BENCHMARKS_LOAD_NOW_NANOS_H_

#include <chrono>
#include <cstdint>

namespace modelcatalog::bench {

// Nanoseconds of a monotonic clock shared by every measurement of the run.
inline int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_LOAD_NOW_NANOS_H_
