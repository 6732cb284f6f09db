#include "benchmarks/load/results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace modelcatalog::bench {

const char* StatusCodeName(int code) {
  static constexpr const char* kNames[kStatusCodes] = {
      "OK",           "CANCELLED",         "UNKNOWN",           "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",    "ALREADY_EXISTS",    "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",   "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",       "DATA_LOSS",
      "UNAUTHENTICATED"};
  return code >= 0 && code < kStatusCodes ? kNames[code] : "INVALID_CODE";
}

void LatencySamples::Append(const LatencySamples& other) {
  if (other.samples_.empty()) return;
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  sorted_ = false;
}

double LatencySamples::PercentileMicros(double q) {
  if (samples_.empty()) return 0;
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  // Nearest rank: the smallest sample with at least q of the samples at or below it.
  const double rank = std::ceil(q * static_cast<double>(samples_.size()));
  size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  index = std::min(index, samples_.size() - 1);
  return static_cast<double>(samples_[index]) / 1000.0;
}

double LatencySamples::MaxMicros() { return PercentileMicros(1.0); }

uint64_t ScenarioResult::failed() const {
  uint64_t n = 0;
  for (int c = 1; c < kStatusCodes; ++c) n += codes[c];
  return n;
}

void ScenarioResult::AddExtra(const std::string& key, double value) {
  extra.emplace_back(key, std::isfinite(value) ? absl::StrFormat("%.6g", value) : "null");
}
void ScenarioResult::AddExtra(const std::string& key, int64_t value) {
  extra.emplace_back(key, absl::StrCat(value));
}
void ScenarioResult::AddExtraString(const std::string& key, const std::string& value) {
  extra.emplace_back(key, JsonString(value));
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

namespace {

std::string CodesText(const ScenarioResult& r) {
  std::string text;
  for (int c = 0; c < kStatusCodes; ++c) {
    if (r.codes[c] == 0) continue;
    absl::StrAppend(&text, text.empty() ? "" : " ", StatusCodeName(c), "=", r.codes[c]);
  }
  return text.empty() ? "-" : text;
}

std::string Cpu(double cores) { return cores < 0 ? "-" : absl::StrFormat("%.0f%%", cores * 100); }

}  // namespace

void PrintTable(const std::string& run_label, std::vector<ScenarioResult>& results) {
  std::printf("\n== catalog-bench results: %s ==\n", run_label.c_str());
  std::printf("%-18s %5s %11s %9s %9s %9s %7s %7s %7s  %s\n", "scenario", "conn", "ok calls/s",
              "p50 us", "p99 us", "p99.9 us", "/health", "srv cpu", "cli cpu", "status codes");
  for (ScenarioResult& r : results) {
    const std::string conn =
        r.connections == 0 ? "-"
                           : (r.outstanding > 0 ? absl::StrCat(r.connections, "x", r.outstanding)
                                                : absl::StrCat(r.connections));
    const std::string rate = r.seconds > 0 ? absl::StrFormat("%.0f", r.ok_per_second()) : "-";
    const auto micros = [&r](double q) {
      return r.latencies.size() == 0 ? std::string("-")
                                     : absl::StrFormat("%.1f", r.latencies.PercentileMicros(q));
    };
    std::printf("%-18s %5s %11s %9s %9s %9s %7s %7s %7s  %s\n", r.name.c_str(), conn.c_str(),
                rate.c_str(), micros(0.50).c_str(), micros(0.99).c_str(), micros(0.999).c_str(),
                r.ratio_to_health < 0 ? "-" : absl::StrFormat("%.3f", r.ratio_to_health).c_str(),
                Cpu(r.server_cpu).c_str(), Cpu(r.client_cpu).c_str(), CodesText(r).c_str());
  }
  std::fflush(stdout);
}

void PrintExtras(std::vector<ScenarioResult>& results) {
  for (ScenarioResult& r : results) {
    if (r.extra.empty()) continue;
    std::printf("%s:\n", r.name.c_str());
    for (const auto& [key, value] : r.extra) std::printf("  %-34s %s\n", key.c_str(), value.c_str());
  }
  std::fflush(stdout);
}

bool AppendJsonLines(const std::string& path, const std::string& run_label,
                     std::vector<ScenarioResult>& results) {
  std::ofstream out(path, std::ios::app);
  if (!out) return false;
  for (ScenarioResult& r : results) {
    std::string line = absl::StrCat(
        "{\"run\":", JsonString(run_label), ",\"scenario\":", JsonString(r.name),
        ",\"rpc\":", JsonString(r.rpc), ",\"connections\":", r.connections,
        ",\"outstanding_per_connection\":", r.outstanding,
        absl::StrFormat(",\"seconds\":%.3f", r.seconds), ",\"ok\":", r.ok(),
        ",\"failed\":", r.failed(),
        r.seconds > 0 ? absl::StrFormat(",\"ok_per_second\":%.1f", r.ok_per_second()) : "",
        absl::StrFormat(",\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f",
                        r.latencies.PercentileMicros(0.50), r.latencies.PercentileMicros(0.99),
                        r.latencies.PercentileMicros(0.999), r.latencies.MaxMicros()));
    line += ",\"codes\":{";
    bool first = true;
    for (int c = 0; c < kStatusCodes; ++c) {
      if (r.codes[c] == 0) continue;
      absl::StrAppend(&line, first ? "" : ",", "\"", StatusCodeName(c), "\":", r.codes[c]);
      first = false;
    }
    line += "}";
    if (r.ratio_to_health >= 0) absl::StrAppend(&line, absl::StrFormat(",\"ratio_to_health\":%.4f", r.ratio_to_health));
    if (r.server_cpu >= 0) absl::StrAppend(&line, absl::StrFormat(",\"server_cpu\":%.3f", r.server_cpu));
    if (r.client_cpu >= 0) absl::StrAppend(&line, absl::StrFormat(",\"client_cpu\":%.3f", r.client_cpu));
    for (const auto& [key, value] : r.extra) absl::StrAppend(&line, ",", JsonString(key), ":", value);
    line += "}\n";
    out << line;
  }
  return static_cast<bool>(out);
}

}  // namespace modelcatalog::bench
