// What one catalog-bench scenario measured, and how it is printed: a row of
// the human-readable table and one JSON object per line in the results file.
#ifndef MODEL_CATALOG_BENCHMARKS_LOAD_RESULTS_H_
#define MODEL_CATALOG_BENCHMARKS_LOAD_RESULTS_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace modelcatalog::bench {

// gRPC status codes 0 (OK) to 16 (UNAUTHENTICATED).
inline constexpr int kStatusCodes = 17;
using StatusCounts = std::array<uint64_t, kStatusCodes>;

// The canonical name of a gRPC status code ("OK", "UNAVAILABLE", ...).
const char* StatusCodeName(int code);

// Latencies in nanoseconds; Percentile sorts them on first use.
class LatencySamples {
 public:
  void Add(int64_t nanos) {
    samples_.push_back(nanos);
    sorted_ = false;
  }
  void Append(const LatencySamples& other);
  size_t size() const { return samples_.size(); }
  // The q-quantile (0 <= q <= 1) by the nearest-rank method, in microseconds; 0 when empty.
  double PercentileMicros(double q);
  double MaxMicros();
  void Reserve(size_t n) { samples_.reserve(n); }

 private:
  std::vector<int64_t> samples_;
  bool sorted_ = true;
};

struct ScenarioResult {
  std::string name;          // e.g. "get_model"
  std::string rpc;           // e.g. "ModelCatalogService/GetModel"; empty when not one RPC
  int connections = 0;
  int outstanding = 0;       // per connection; 0 for open loop
  double seconds = 0;        // the measured window
  StatusCounts codes{};      // every call that started and ended inside the window
  LatencySamples latencies;  // of the OK calls among them
  double server_cpu = -1;    // cores of the server process busy in the window; -1: unknown
  double client_cpu = -1;    // cores of this process busy in the window
  // Set when the run also measured Health.Check: this scenario's OK calls/s over its.
  double ratio_to_health = -1;
  // Scenario-specific figures: key and an already JSON-encoded value.
  std::vector<std::pair<std::string, std::string>> extra;

  uint64_t ok() const { return codes[0]; }
  uint64_t failed() const;
  double ok_per_second() const { return seconds > 0 ? static_cast<double>(ok()) / seconds : 0; }

  void AddExtra(const std::string& key, double value);
  void AddExtra(const std::string& key, int64_t value);
  void AddExtraString(const std::string& key, const std::string& value);
};

// Prints one table row per result, with the header first.
void PrintTable(const std::string& run_label, std::vector<ScenarioResult>& results);
// Prints a result's extra figures under the table, one "  key: value" line each.
void PrintExtras(std::vector<ScenarioResult>& results);
// One JSON object per result, appended to `path` (one line each).
bool AppendJsonLines(const std::string& path, const std::string& run_label,
                     std::vector<ScenarioResult>& results);

// JSON text of a string.
std::string JsonString(const std::string& text);

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_LOAD_RESULTS_H_
