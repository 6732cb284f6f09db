// Structured logging: one line per event, `key=value` pairs, on stderr.
//
//   Log(LogLevel::kInfo, "sync_succeeded", {{"models", count}, {"took", absl::FormatDuration(d)}});
//   ts=2026-11-25T02:10:00.123Z level=info event=sync_succeeded models=12 took=3ms
//
// Values containing spaces, quotes or '=' are quoted. Lines are written with one
// write() each, so concurrent events never interleave.
#ifndef MODEL_CATALOG_SERVICES_COMMON_LOG_H_
#define MODEL_CATALOG_SERVICES_COMMON_LOG_H_

#include <initializer_list>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace modelcatalog {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

enum class LogFormat { kKeyValue, kJson };

// One `key=value` pair of a log line. Accepts anything absl::StrCat accepts.
struct LogField {
  LogField(absl::string_view k, const absl::AlphaNum& v) : key(k), value(v.Piece()) {}
  // Only a real bool lands here: a template keeps string literals and integers
  // from converting to bool.
  template <typename T, std::enable_if_t<std::is_same_v<T, bool>, int> = 0>
  LogField(absl::string_view k, T v) : key(k), value(v ? "true" : "false") {}
  absl::string_view key;
  std::string value;
};

// Lines below this level are dropped. Default: kInfo.
void SetMinLogLevel(LogLevel level);
// Output format. Default: kKeyValue.
void SetLogFormat(LogFormat format);
// Parses "debug", "info", "warning", "error".
bool ParseLogLevel(absl::string_view text, LogLevel* level);

void Log(LogLevel level, absl::string_view event, std::initializer_list<LogField> fields = {});

// "CODE: message", as people read an error: absl::Status::ToString without the
// machine-readable payloads (a Retry-After, an HTTP status) it would append.
std::string ErrorText(const absl::Status& status);

// Formats one line without writing it (no trailing newline). Exposed for tests.
std::string FormatLogLine(LogLevel level, absl::string_view event,
                          std::initializer_list<LogField> fields, LogFormat format);

}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_COMMON_LOG_H_
