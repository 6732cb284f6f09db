// A small Prometheus metrics library: counters, gauges and histograms with
// labels, rendered in the text exposition format (version 0.0.4).
//
// Updating a metric is a few relaxed atomic operations and never takes a lock,
// so metrics can sit on every hot path; series are created up front (or under
// a lock, once) and rendering walks them under the registry's lock.
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

class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
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

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, ascending; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);

  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket counts (not cumulative), +Inf last; the count and sum.
  std::vector<uint64_t> bucket_counts() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_bits_{0};
};

// Bounds for latencies in seconds, from 25 microseconds to 10 seconds.
std::vector<double> LatencyBounds();

class Registry {
 public:
  // Each returns a series that lives as long as the registry. Asking twice for
  // the same name and labels returns the same series. Series with the same
  // name form one family and must be of one type.
  Counter* GetCounter(absl::string_view name, absl::string_view help, const Labels& labels = {})
      ABSL_LOCKS_EXCLUDED(mu_);
  Gauge* GetGauge(absl::string_view name, absl::string_view help, const Labels& labels = {})
      ABSL_LOCKS_EXCLUDED(mu_);
  Histogram* GetHistogram(absl::string_view name, absl::string_view help, const Labels& labels,
                          const std::vector<double>& bounds) ABSL_LOCKS_EXCLUDED(mu_);
  // A gauge whose value is computed when the metrics are rendered.
  void AddComputedGauge(absl::string_view name, absl::string_view help, std::function<double()> value)
      ABSL_LOCKS_EXCLUDED(mu_);
  // A counter kept elsewhere (an atomic of another component), read when rendered.
  void AddComputedCounter(absl::string_view name, absl::string_view help,
                          std::function<double()> value) ABSL_LOCKS_EXCLUDED(mu_);

  // Counters that are still zero are left out, so label combinations that
  // never happened (a method that never failed with a code) do not clutter
  // the output.
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
    std::vector<std::unique_ptr<Series>> series;
  };
  Series* FindOrAdd(absl::string_view name, absl::string_view help, Type type, const Labels& labels)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, Family, std::less<>> families_ ABSL_GUARDED_BY(mu_);
};

}  // namespace modelcatalog::metrics

#endif  // MODEL_CATALOG_SERVICES_COMMON_METRICS_H_
