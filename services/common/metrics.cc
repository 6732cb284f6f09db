#include "services/common/metrics.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace modelcatalog::metrics {
namespace {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrCat(static_cast<int64_t>(v));
  return absl::StrFormat("%.9g", v);
}

void AppendEscapedLabelValue(std::string* out, absl::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '"': out->append("\\\""); break;
      case '\n': out->append("\\n"); break;
      default: out->push_back(c);
    }
  }
}

std::string LabelText(const Labels& labels, const Labels& extra = {}) {
  if (labels.empty() && extra.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const Labels* set : {&labels, &extra}) {
    for (const auto& [key, value] : *set) {
      if (!first) out.push_back(',');
      first = false;
      absl::StrAppend(&out, key, "=\"");
      AppendEscapedLabelValue(&out, value);
      out.push_back('"');
    }
  }
  out.push_back('}');
  return out;
}

void AddToDouble(std::atomic<uint64_t>* bits, double delta) {
  uint64_t old_bits = bits->load(std::memory_order_relaxed);
  while (true) {
    double old_value;
    std::memcpy(&old_value, &old_bits, sizeof(old_value));
    const double new_value = old_value + delta;
    uint64_t new_bits;
    std::memcpy(&new_bits, &new_value, sizeof(new_bits));
    if (bits->compare_exchange_weak(old_bits, new_bits, std::memory_order_relaxed)) return;
  }
}

}  // namespace

uint64_t Gauge::ToBits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof(b));
  return b;
}

double Gauge::FromBits(uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof(v));
  return v;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  AddToDouble(&sum_bits_, value);
}

std::vector<uint64_t> Histogram::bucket_counts() const {
  std::vector<uint64_t> counts(bounds_.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = buckets_[i].load(std::memory_order_relaxed);
  return counts;
}

double Histogram::sum() const {
  const uint64_t bits = sum_bits_.load(std::memory_order_relaxed);
  double v;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

std::vector<double> LatencyBounds() {
  return {0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,    0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
}

Registry::Series* Registry::FindOrAdd(absl::string_view name, absl::string_view help, Type type,
                                      const Labels& labels) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{std::string(help), type, {}}).first;
  }
  for (const auto& series : it->second.series) {
    if (series->labels == labels) return series.get();
  }
  it->second.series.push_back(std::make_unique<Series>());
  it->second.series.back()->labels = labels;
  return it->second.series.back().get();
}

Counter* Registry::GetCounter(absl::string_view name, absl::string_view help, const Labels& labels) {
  absl::MutexLock lock(&mu_);
  Series* series = FindOrAdd(name, help, Type::kCounter, labels);
  if (!series->counter) series->counter = std::make_unique<Counter>();
  return series->counter.get();
}

Gauge* Registry::GetGauge(absl::string_view name, absl::string_view help, const Labels& labels) {
  absl::MutexLock lock(&mu_);
  Series* series = FindOrAdd(name, help, Type::kGauge, labels);
  if (!series->gauge) series->gauge = std::make_unique<Gauge>();
  return series->gauge.get();
}

Histogram* Registry::GetHistogram(absl::string_view name, absl::string_view help,
                                  const Labels& labels, const std::vector<double>& bounds) {
  absl::MutexLock lock(&mu_);
  Series* series = FindOrAdd(name, help, Type::kHistogram, labels);
  if (!series->histogram) series->histogram = std::make_unique<Histogram>(bounds);
  return series->histogram.get();
}

void Registry::AddComputedGauge(absl::string_view name, absl::string_view help,
                                std::function<double()> value) {
  absl::MutexLock lock(&mu_);
  FindOrAdd(name, help, Type::kGauge, {})->computed = std::move(value);
}

void Registry::AddComputedCounter(absl::string_view name, absl::string_view help,
                                  std::function<double()> value) {
  absl::MutexLock lock(&mu_);
  FindOrAdd(name, help, Type::kCounter, {})->computed = std::move(value);
}

std::string Registry::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    std::string body;
    for (const auto& series : family.series) {
      if (series->counter) {
        if (series->counter->value() == 0) continue;
        absl::StrAppend(&body, name, LabelText(series->labels), " ", series->counter->value(), "\n");
      } else if (series->gauge || series->computed) {
        const double v = series->computed ? series->computed() : series->gauge->value();
        absl::StrAppend(&body, name, LabelText(series->labels), " ", FormatValue(v), "\n");
      } else if (series->histogram) {
        const Histogram& h = *series->histogram;
        const std::vector<uint64_t> counts = h.bucket_counts();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          const std::string le = i < h.bounds().size() ? FormatValue(h.bounds()[i]) : "+Inf";
          absl::StrAppend(&body, name, "_bucket", LabelText(series->labels, {{"le", le}}), " ",
                          cumulative, "\n");
        }
        absl::StrAppend(&body, name, "_sum", LabelText(series->labels), " ", FormatValue(h.sum()), "\n");
        absl::StrAppend(&body, name, "_count", LabelText(series->labels), " ", h.count(), "\n");
      }
    }
    if (body.empty()) continue;
    const char* type = family.type == Type::kCounter ? "counter"
                       : family.type == Type::kGauge ? "gauge"
                                                     : "histogram";
    absl::StrAppend(&out, "# HELP ", name, " ", family.help, "\n# TYPE ", name, " ", type, "\n", body);
  }
  return out;
}

}  // namespace modelcatalog::metrics
