#include "services/common/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "absl/strings/match.h"
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
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
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

// Prometheus' text format: HELP text escapes backslash and line feed.
void AppendEscapedHelp(std::string* out, absl::string_view help) {
  for (char c : help) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

bool IsValidName(absl::string_view name, bool colons_allowed) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                        (colons_allowed && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

[[noreturn]] void Misuse(absl::string_view name, absl::string_view what) {
  std::fprintf(stderr, "metrics: %.*s: %.*s\n", static_cast<int>(name.size()), name.data(),
               static_cast<int>(what.size()), what.data());
  std::abort();
}

const char* TypeName(int type) { return type == 0 ? "counter" : type == 1 ? "gauge" : "histogram"; }

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

size_t ThisThreadsShard() {
  static std::atomic<size_t> next{0};
  thread_local const size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kMetricShards;
  return shard;
}

uint64_t Counter::value() const {
  uint64_t total = 0;
  for (const Cell& cell : cells_) total += cell.value.load(std::memory_order_relaxed);
  return total;
}

namespace {

constexpr size_t kWordsPerLine = kCacheLine / sizeof(std::atomic<uint64_t>);

size_t CellStride(size_t bounds) {
  const size_t words = bounds + 2;  // the buckets with +Inf, and the sum
  return (words + kWordsPerLine - 1) / kWordsPerLine * kWordsPerLine;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      stride_(CellStride(bounds_.size())),
      words_(static_cast<std::atomic<uint64_t>*>(::operator new[](
          stride_* kMetricShards * sizeof(std::atomic<uint64_t>), std::align_val_t(kCacheLine)))) {
  for (size_t i = 0; i < stride_ * kMetricShards; ++i) new (&words_[i]) std::atomic<uint64_t>(0);
}

Histogram::~Histogram() { ::operator delete[](words_, std::align_val_t(kCacheLine)); }

void Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  std::atomic<uint64_t>* cell = Cell(ThisThreadsShard());
  cell[i].fetch_add(1, std::memory_order_relaxed);
  cell[bounds_.size() + 1].fetch_add(static_cast<uint64_t>(std::llround(seconds * 1e9)),
                                     std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::bucket_counts() const {
  std::vector<uint64_t> counts(bounds_.size() + 1, 0);
  for (size_t shard = 0; shard < kMetricShards; ++shard) {
    const std::atomic<uint64_t>* cell = Cell(shard);
    for (size_t i = 0; i < counts.size(); ++i) counts[i] += cell[i].load(std::memory_order_relaxed);
  }
  return counts;
}

uint64_t Histogram::count() const {
  uint64_t total = 0;
  for (uint64_t n : bucket_counts()) total += n;
  return total;
}

double Histogram::sum() const {
  uint64_t nanos = 0;  // wraps like the sum of the cells' two's-complement values
  for (size_t shard = 0; shard < kMetricShards; ++shard) {
    nanos += Cell(shard)[bounds_.size() + 1].load(std::memory_order_relaxed);
  }
  return static_cast<double>(static_cast<int64_t>(nanos)) / 1e9;
}

std::vector<double> LatencyBounds() {
  return {0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,    0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
}

Registry::Series* Registry::FindOrAdd(absl::string_view name, absl::string_view help, Type type,
                                      const Labels& labels) {
  std::vector<std::string> label_names;
  for (const auto& [key, value] : labels) {
    if (!IsValidName(key, /*colons_allowed=*/false) || absl::StartsWith(key, "__")) {
      Misuse(name, absl::StrCat("label name \"", key, "\" is not allowed"));
    }
    if (type == Type::kHistogram && key == "le") Misuse(name, "a histogram's label named le");
    label_names.push_back(key);
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    if (!IsValidName(name, /*colons_allowed=*/true)) Misuse(name, "not a metric name");
    it = families_.emplace(std::string(name), Family{std::string(help), type, label_names, {}})
             .first;
  }
  if (it->second.type != type) {
    Misuse(name, absl::StrCat("a ", TypeName(static_cast<int>(type)), " of a ",
                              TypeName(static_cast<int>(it->second.type)), " family"));
  }
  if (it->second.label_names != label_names) {
    Misuse(name, "series of one family with different label names");
  }
  for (const auto& series : it->second.series) {
    if (series->labels == labels) return series.get();
  }
  it->second.series.push_back(std::make_unique<Series>());
  it->second.series.back()->labels = labels;
  return it->second.series.back().get();
}

Counter* Registry::GetCounter(absl::string_view name, absl::string_view help,
                              const Labels& labels) {
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
    absl::StrAppend(&out, "# HELP ", name, " ");
    AppendEscapedHelp(&out, family.help);
    absl::StrAppend(&out, "\n# TYPE ", name, " ", TypeName(static_cast<int>(family.type)), "\n");
    for (const auto& series : family.series) {
      if (series->counter) {
        absl::StrAppend(&out, name, LabelText(series->labels), " ", series->counter->value(), "\n");
      } else if (series->gauge || series->computed) {
        const double v = series->computed ? series->computed() : series->gauge->value();
        absl::StrAppend(&out, name, LabelText(series->labels), " ", FormatValue(v), "\n");
      } else if (series->histogram) {
        const Histogram& h = *series->histogram;
        const std::vector<uint64_t> counts = h.bucket_counts();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          const std::string le = i < h.bounds().size() ? FormatValue(h.bounds()[i]) : "+Inf";
          absl::StrAppend(&out, name, "_bucket", LabelText(series->labels, {{"le", le}}), " ",
                          cumulative, "\n");
        }
        // The count is the +Inf bucket's, read once: an observation landing
        // while rendering cannot make the two disagree.
        absl::StrAppend(&out, name, "_sum", LabelText(series->labels), " ", FormatValue(h.sum()),
                        "\n");
        absl::StrAppend(&out, name, "_count", LabelText(series->labels), " ", cumulative, "\n");
      }
    }
  }
  return out;
}

}  // namespace modelcatalog::metrics
