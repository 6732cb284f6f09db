// A small Prometheus metrics library: counters, gauges and histograms with
// labels, rendered in the text exposition format (version 0.0.4).
//
// Updating a series (Increment, Set, Observe) is a few relaxed atomic
// operations and never takes a lock, so series can sit on every hot path.
// Looking a series up (Get*) takes the registry's lock: a hot path looks its
// series up once, up front (CatalogMetrics does for every RPC), and keeps the
// pointer. Rendering walks every series under the same lock.
//
// The project keeps this registry rather than prometheus-cpp: counting a call
// costs 24 ns here against 36 ns there, on one thread (BENCHMARKS.md,
// BM_RecordCall_*), and nothing here takes a lock where prometheus-cpp's
// histograms take a mutex per observation.
#ifndef MODEL_CATALOG_SERVICES_COMMON_METRICS_H_
#define MODEL_CATALOG_SERVICES_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace modelcatalog::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Series are split into cells, each on a cache line of its own, and a thread
// updates the cell of its shard: call threads counting the same method never
// write to the same cache line, so an update costs the same on a busy server
// as on an idle one. Reading adds the cells up.
inline constexpr size_t kMetricShards = 8;
inline constexpr size_t kCacheLine = 64;
// The shard of the calling thread: threads take shards in turn as they first count.
size_t ThisThreadsShard();

class Counter {
 public:
  void Increment(uint64_t n = 1) {
    cells_[ThisThreadsShard()].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const;

 private:
  struct alignas(kCacheLine) Cell {
    std::atomic<uint64_t> value{0};
  };
  Cell cells_[kMetricShards];
};

class Gauge {
 public:
  void Set(double value) { bits_.store(ToBits(value), std::memory_order_relaxed); }
  double value() const { return FromBits(bits_.load(std::memory_order_relaxed)); }

 private:
  static uint64_t ToBits(double v);
  static double FromBits(uint64_t b);
  std::atomic<uint64_t> bits_{0};
};

// A histogram of durations in seconds, in cells per shard like Counter. The
// sum is kept in whole nanoseconds, so that adding to it is one atomic
// addition rather than a compare-and-swap loop.
class Histogram {
 public:
  // `bounds`: the buckets' upper bounds in seconds, ascending; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  ~Histogram();
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double seconds);

  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket counts (not cumulative), +Inf last; their total; the sum.
  std::vector<uint64_t> bucket_counts() const;
  uint64_t count() const;
  double sum() const;  // seconds

 private:
  // A shard's cell: the bucket counts, +Inf last, then the sum in nanoseconds.
  std::atomic<uint64_t>* Cell(size_t shard) const { return words_ + shard * stride_; }

  const std::vector<double> bounds_;
  const size_t stride_;  // words per cell, a whole number of cache lines
  std::atomic<uint64_t>* const words_;
};

// Bounds for latencies in seconds, from 25 microseconds to 10 seconds.
std::vector<double> LatencyBounds();

class Registry {
 public:
  // Each returns a series that lives as long as the registry. Asking twice for
  // the same name and labels returns the same series. Series with the same
  // name form one family: of one type, and with the same label names; a name
  // or label name the text format does not allow, a second type or other label
  // names for a family, or labels named `le` on a histogram are programming
  // errors, and abort with a message saying which.
  Counter* GetCounter(absl::string_view name, absl::string_view help, const Labels& labels = {})
      ABSL_LOCKS_EXCLUDED(mu_);
  Gauge* GetGauge(absl::string_view name, absl::string_view help, const Labels& labels = {})
      ABSL_LOCKS_EXCLUDED(mu_);
  Histogram* GetHistogram(absl::string_view name, absl::string_view help, const Labels& labels,
                          const std::vector<double>& bounds) ABSL_LOCKS_EXCLUDED(mu_);
  // A gauge whose value is computed when the metrics are rendered.
  void AddComputedGauge(absl::string_view name, absl::string_view help,
                        std::function<double()> value) ABSL_LOCKS_EXCLUDED(mu_);
  // A counter kept elsewhere (an atomic of another component), read when rendered.
  void AddComputedCounter(absl::string_view name, absl::string_view help,
                          std::function<double()> value) ABSL_LOCKS_EXCLUDED(mu_);

  // Every series, zeros included: a series that appears only at its first
  // increment would hide that increment from rate() and increase(). Families
  // in name order, each with its HELP (escaped as the format requires) and
  // TYPE lines first, then its series in the order they were made.
  std::string Render() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> computed;
  };
  struct Family {
    std::string help;
    Type type;
    std::vector<std::string> label_names;
    std::vector<std::unique_ptr<Series>> series;
  };
  Series* FindOrAdd(absl::string_view name, absl::string_view help, Type type, const Labels& labels)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, Family, std::less<>> families_ ABSL_GUARDED_BY(mu_);
};

}  // namespace modelcatalog::metrics

#endif  // MODEL_CATALOG_SERVICES_COMMON_METRICS_H_
