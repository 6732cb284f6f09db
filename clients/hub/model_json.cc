#include "clients/hub/model_json.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "services/common/utf8.h"

namespace modelcatalog::hub {
namespace {

namespace v1 = ::modelcatalog::v1;
using ::google::protobuf::ListValue;
using ::google::protobuf::Struct;
using ::google::protobuf::Timestamp;
using ::google::protobuf::util::TimeUtil;
using ::rapidjson::Value;

// Insitu parsing reads strings in place in a private copy of the text instead of copying
// each one again. The iterative parser keeps hostile nesting from exhausting the stack.
// Numbers are handed over as text and converted by NumberReader: RapidJSON 1.1.0's own
// conversion is inexact in its default mode and wrong for some numbers in its full-precision
// mode ("0e62" reads as 2.6e120, "1e-324" as NaN, "1e-325" as -2.2e307).
// Encoding is checked by CheckText() instead of RapidJSON, which would take as long as the
// parse itself.
constexpr unsigned kParseFlags = rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag |
                                 rapidjson::kParseNumbersAsStringsFlag;

// --- Paths ---------------------------------------------------------------------------------

// Where a value sits in the document. Paths live on the stack and are rendered only when an
// error names one: building strings for every field of 100,000 models would cost more than
// reading them.
class Path {
 public:
  explicit Path(absl::string_view root) : root_(root) {}
  Path(const Path* parent, absl::string_view key) : parent_(parent), key_(key), is_key_(true) {}
  Path(const Path* parent, size_t index) : parent_(parent), index_(index), is_index_(true) {}

  std::string ToString() const {
    std::string out;
    Append(&out);
    return out;
  }

 private:
  void Append(std::string* out) const {
    if (parent_ != nullptr) parent_->Append(out);
    if (is_key_) {
      if (!out->empty()) out->push_back('.');
      out->append(key_.data(), key_.size());
    } else if (is_index_) {
      absl::StrAppend(out, "[", index_, "]");
    } else {
      out->append(root_.data(), root_.size());
    }
  }

  const Path* parent_ = nullptr;
  absl::string_view root_;
  absl::string_view key_;
  size_t index_ = 0;
  bool is_key_ = false;
  bool is_index_ = false;
};

absl::string_view Describe(const Value* v) {
  if (v == nullptr) return "nothing";
  switch (v->GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "a boolean";
    case rapidjson::kNumberType:
      return "a number";
    case rapidjson::kStringType:
      return v->GetStringLength() == 0 ? "an empty string" : "a string";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kObjectType:
      return "an object";
  }
  return "an unknown value";
}

absl::Status ErrorAt(const Path& path, absl::string_view what) {
  std::string where = path.ToString();
  if (where.empty()) return absl::InvalidArgumentError(what);
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

// `found` is null for a key that is missing.
absl::Status TypeError(const Path& path, absl::string_view expected, const Value* found) {
  return ErrorAt(path, absl::StrCat("expected ", expected, ", found ", Describe(found)));
}

// --- Scalars ---------------------------------------------------------------------------------

absl::string_view Str(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

// Plain proto3 strings cannot tell null from "": null reads as "".
absl::Status ReadString(const Value& v, const Path& path, std::string* out) {
  if (v.IsString()) {
    out->assign(v.GetString(), v.GetStringLength());
  } else if (v.IsNull()) {
    out->clear();
  } else {
    return TypeError(path, "a string or null", &v);
  }
  return absl::OkStatus();
}

// For `optional string` fields: calls set(value) or clear().
template <typename Set, typename Clear>
absl::Status ReadOptionalString(const Value& v, const Path& path, Set set, Clear clear) {
  if (v.IsString()) {
    set(v.GetString(), v.GetStringLength());
  } else if (v.IsNull()) {
    clear();
  } else {
    return TypeError(path, "a string or null", &v);
  }
  return absl::OkStatus();
}

// For `optional double` fields: calls set(value) or clear().
template <typename Set, typename Clear>
absl::Status ReadOptionalNumber(const Value& v, const Path& path, Set set, Clear clear) {
  if (v.IsNumber()) {
    set(v.GetDouble());
  } else if (v.IsNull()) {
    clear();
  } else {
    return TypeError(path, "a number or null", &v);
  }
  return absl::OkStatus();
}

absl::Status ReadStringArray(const Value& v, const Path& path,
                             google::protobuf::RepeatedPtrField<std::string>* out) {
  out->Clear();
  if (v.IsNull()) return absl::OkStatus();
  if (!v.IsArray()) return TypeError(path, "an array of strings or null", &v);
  out->Reserve(static_cast<int>(v.Size()));
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    const Value& item = v[i];
    if (!item.IsString()) return TypeError(Path(&path, i), "a string", &item);
    out->Add()->assign(item.GetString(), item.GetStringLength());
  }
  return absl::OkStatus();
}

// Reads an enumeration: the raw string is always kept; `from_string` maps it, with the
// enum's OTHER value for strings this version does not know.
template <typename Enum>
absl::Status ReadEnum(const Value& v, const Path& path, Enum (*from_string)(absl::string_view),
                      Enum unspecified, Enum* value, std::string* raw) {
  if (v.IsString()) {
    raw->assign(v.GetString(), v.GetStringLength());
    *value = from_string(Str(v));
  } else if (v.IsNull()) {
    raw->clear();
    *value = unspecified;
  } else {
    return TypeError(path, "a string or null", &v);
  }
  return absl::OkStatus();
}

v1::ModelType ModelTypeFromString(absl::string_view s) {
  if (s == "base") return v1::MODEL_TYPE_BASE;
  if (s == "custom") return v1::MODEL_TYPE_CUSTOM;
  return v1::MODEL_TYPE_OTHER;
}

v1::PricingMethod PricingMethodFromString(absl::string_view s) {
  if (s == "token") return v1::PRICING_METHOD_TOKEN;
  if (s == "time") return v1::PRICING_METHOD_TIME;
  if (s == "per_image") return v1::PRICING_METHOD_PER_IMAGE;
  if (s == "per_video_output_second") return v1::PRICING_METHOD_PER_VIDEO_OUTPUT_SECOND;
  return v1::PRICING_METHOD_OTHER;
}

v1::DeploymentStatus DeploymentStatusFromString(absl::string_view s) {
  if (s == "active") return v1::DEPLOYMENT_STATUS_ACTIVE;
  if (s == "inactive") return v1::DEPLOYMENT_STATUS_INACTIVE;
  if (s == "deploying") return v1::DEPLOYMENT_STATUS_DEPLOYING;
  if (s == "deactivating") return v1::DEPLOYMENT_STATUS_DEACTIVATING;
  if (s == "error") return v1::DEPLOYMENT_STATUS_ERROR;
  if (s == "unknown") return v1::DEPLOYMENT_STATUS_UNKNOWN;
  return v1::DEPLOYMENT_STATUS_OTHER;
}

// --- Timestamps ------------------------------------------------------------------------------

bool InTimestampRange(int64_t seconds) {
  return seconds >= TimeUtil::kTimestampMinSeconds && seconds <= TimeUtil::kTimestampMaxSeconds;
}

absl::Status ReadCreated(const Value& v, const Path& path, v1::Model* out) {
  if (v.IsNull()) {
    out->clear_created();
    return absl::OkStatus();
  }
  if (!v.IsNumber()) return TypeError(path, "an integer (Unix seconds) or null", &v);
  int64_t seconds = 0;
  bool in_range = false;
  if (v.IsInt64()) {
    seconds = v.GetInt64();
    in_range = InTimestampRange(seconds);
  } else if (!v.IsUint64()) {  // a double; a uint64 here is beyond int64, hence out of range
    double d = v.GetDouble();
    if (std::trunc(d) != d) return TypeError(path, "an integer (Unix seconds) or null", &v);
    in_range = d >= static_cast<double>(TimeUtil::kTimestampMinSeconds) &&
               d <= static_cast<double>(TimeUtil::kTimestampMaxSeconds);
    if (in_range) seconds = static_cast<int64_t>(d);
  }
  if (!in_range) return ErrorAt(path, "Unix time is outside the years 1 to 9999");
  Timestamp* ts = out->mutable_created();
  ts->set_seconds(seconds);
  ts->set_nanos(0);
  return absl::OkStatus();
}

enum class TimeParse { kOk, kMalformed, kOutOfRange };

// Reads `n` decimal digits at `s[*pos]`, advancing `*pos`.
bool ReadDigits(absl::string_view s, size_t* pos, int n, int* value) {
  if (s.size() < *pos + n) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *value = v;
  return true;
}

bool Expect(absl::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

// RFC 3339 (`2025-06-19T10:20:30.5+02:00`, `...Z`) or a bare `YYYY-MM-DD` date (midnight UTC).
// Written out by hand: it runs for every model of every sync, and it is strict where general
// time parsers are lenient (whitespace, missing offsets).
TimeParse ParseRfc3339OrDate(absl::string_view s, Timestamp* out) {
  size_t pos = 0;
  int year, month, day;
  if (!ReadDigits(s, &pos, 4, &year) || !Expect(s, &pos, '-') || !ReadDigits(s, &pos, 2, &month) ||
      !Expect(s, &pos, '-') || !ReadDigits(s, &pos, 2, &day)) {
    return TimeParse::kMalformed;
  }
  if (month < 1 || month > 12 || day < 1) return TimeParse::kMalformed;
  // CivilDay normalizes out-of-range days (Feb 30 → Mar 2); a changed day means an invalid date.
  absl::CivilDay civil_day(year, month, day);
  if (civil_day.day() != day) return TimeParse::kMalformed;

  int hour = 0, minute = 0, second = 0, nanos = 0, offset_seconds = 0;
  if (pos < s.size()) {
    char sep = s[pos++];
    if (sep != 'T' && sep != 't' && sep != ' ') return TimeParse::kMalformed;
    if (!ReadDigits(s, &pos, 2, &hour) || !Expect(s, &pos, ':') ||
        !ReadDigits(s, &pos, 2, &minute) || !Expect(s, &pos, ':') ||
        !ReadDigits(s, &pos, 2, &second)) {
      return TimeParse::kMalformed;
    }
    // Second 60 is a leap second, which RFC 3339 allows; it is read as the next minute's :00.
    if (hour > 23 || minute > 59 || second > 60) return TimeParse::kMalformed;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      size_t first = pos;
      int scale = 100000000;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        // Digits past nanoseconds cannot be kept in a Timestamp; they are dropped.
        nanos += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == first) return TimeParse::kMalformed;
    }
    if (pos >= s.size()) return TimeParse::kMalformed;  // RFC 3339 requires an offset
    char zone = s[pos++];
    if (zone == '+' || zone == '-') {
      int offset_hours, offset_minutes;
      if (!ReadDigits(s, &pos, 2, &offset_hours) || !Expect(s, &pos, ':') ||
          !ReadDigits(s, &pos, 2, &offset_minutes) || offset_hours > 23 || offset_minutes > 59) {
        return TimeParse::kMalformed;
      }
      offset_seconds = (offset_hours * 60 + offset_minutes) * 60;
      if (zone == '-') offset_seconds = -offset_seconds;
    } else if (zone != 'Z' && zone != 'z') {
      return TimeParse::kMalformed;
    }
    if (pos != s.size()) return TimeParse::kMalformed;
  }
  int64_t seconds =
      (absl::CivilSecond(year, month, day, hour, minute, 0) - absl::CivilSecond(1970, 1, 1)) +
      second - offset_seconds;
  if (!InTimestampRange(seconds)) return TimeParse::kOutOfRange;
  out->set_seconds(seconds);
  out->set_nanos(nanos);
  return TimeParse::kOk;
}

absl::Status ReadReleasedAt(const Value& v, const Path& path, v1::Model* out) {
  if (v.IsNull()) {
    out->clear_released_at();
    return absl::OkStatus();
  }
  if (!v.IsString()) return TypeError(path, "an RFC 3339 timestamp string or null", &v);
  switch (ParseRfc3339OrDate(Str(v), out->mutable_released_at())) {
    case TimeParse::kOk:
      return absl::OkStatus();
    case TimeParse::kOutOfRange:
      return ErrorAt(path, "timestamp is outside the years 1 to 9999");
    case TimeParse::kMalformed:
      break;
  }
  // Quote a bounded, escaped prefix: the text is the hub's, not ours to trust.
  constexpr size_t kMaxQuoted = 64;
  absl::string_view text = Str(v);
  return ErrorAt(path, absl::StrCat("expected an RFC 3339 timestamp or a YYYY-MM-DD date, found \"",
                                    absl::CHexEscape(text.substr(0, kMaxQuoted)),
                                    text.size() > kMaxQuoted ? "...\"" : "\""));
}

// --- Structs ---------------------------------------------------------------------------------

absl::Status ToProtoValue(const Value& v, const Path& path, int depth,
                          google::protobuf::Value* out);

// `depth` counts the objects and arrays enclosing `v`, itself included.
absl::Status ToProtoStruct(const Value& v, const Path& path, int depth, Struct* out) {
  if (depth > kMaxStructDepth) {
    return ErrorAt(path, absl::StrCat("nested deeper than ", kMaxStructDepth, " levels"));
  }
  auto* fields = out->mutable_fields();
  for (const auto& member : v.GetObject()) {
    google::protobuf::Value& field =
        (*fields)[std::string(member.name.GetString(), member.name.GetStringLength())];
    absl::Status status = ToProtoValue(member.value, Path(&path, Str(member.name)), depth, &field);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ToProtoValue(const Value& v, const Path& path, int depth,
                          google::protobuf::Value* out) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      out->set_null_value(google::protobuf::NULL_VALUE);
      break;
    case rapidjson::kFalseType:
      out->set_bool_value(false);
      break;
    case rapidjson::kTrueType:
      out->set_bool_value(true);
      break;
    case rapidjson::kNumberType:
      out->set_number_value(v.GetDouble());
      break;
    case rapidjson::kStringType:
      out->set_string_value(v.GetString(), v.GetStringLength());
      break;
    case rapidjson::kObjectType: {
      // Clear what a duplicate key may have left: the last occurrence wins.
      Struct* s = out->mutable_struct_value();
      s->Clear();
      return ToProtoStruct(v, path, depth + 1, s);
    }
    case rapidjson::kArrayType: {
      if (depth + 1 > kMaxStructDepth) {
        return ErrorAt(path, absl::StrCat("nested deeper than ", kMaxStructDepth, " levels"));
      }
      ListValue* list = out->mutable_list_value();
      list->Clear();
      list->mutable_values()->Reserve(static_cast<int>(v.Size()));
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        absl::Status status = ToProtoValue(v[i], Path(&path, i), depth + 1, list->add_values());
        if (!status.ok()) return status;
      }
      break;
    }
  }
  return absl::OkStatus();
}

// Keeps a key this version does not know in `extra_fields`.
absl::Status AddExtraField(absl::string_view key, const Value& v, const Path& path,
                           Struct* extra_fields) {
  google::protobuf::Value& field = (*extra_fields->mutable_fields())[std::string(key)];
  return ToProtoValue(v, path, 0, &field);
}

absl::string_view Key(const Value::Member& m) { return Str(m.name); }

// --- Nested objects --------------------------------------------------------------------------

absl::Status ReadCapabilities(const Value& v, const Path& path, v1::Capabilities* out) {
  for (const auto& member : v.GetObject()) {
    absl::string_view key = Key(member);
    Path p(&path, key);
    absl::Status status;
    if (key == "input") {
      status = ReadStringArray(member.value, p, out->mutable_input());
    } else if (key == "output") {
      status = ReadStringArray(member.value, p, out->mutable_output());
    } else {
      status = AddExtraField(key, member.value, p, out->mutable_extra_fields());
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ReadPricing(const Value& v, const Path& path, v1::Pricing* out) {
  for (const auto& member : v.GetObject()) {
    absl::string_view key = Key(member);
    const Value& value = member.value;
    Path p(&path, key);
    absl::Status status;
    if (key == "method") {
      v1::PricingMethod method = v1::PRICING_METHOD_UNSPECIFIED;
      status = ReadEnum(value, p, &PricingMethodFromString, v1::PRICING_METHOD_UNSPECIFIED, &method,
                        out->mutable_method_raw());
      out->set_method(method);
    } else if (key == "input_cost_per_token") {
      status = ReadOptionalNumber(
          value, p, [out](double d) { out->set_input_cost_per_token(d); },
          [out] { out->clear_input_cost_per_token(); });
    } else if (key == "output_cost_per_token") {
      status = ReadOptionalNumber(
          value, p, [out](double d) { out->set_output_cost_per_token(d); },
          [out] { out->clear_output_cost_per_token(); });
    } else if (key == "cost_per_second") {
      status = ReadOptionalNumber(
          value, p, [out](double d) { out->set_cost_per_second(d); },
          [out] { out->clear_cost_per_second(); });
    } else if (key == "cost_per_image") {
      status = ReadOptionalNumber(
          value, p, [out](double d) { out->set_cost_per_image(d); },
          [out] { out->clear_cost_per_image(); });
    } else if (key == "cost_per_second_high_res") {
      status = ReadOptionalNumber(
          value, p, [out](double d) { out->set_cost_per_second_high_res(d); },
          [out] { out->clear_cost_per_second_high_res(); });
    } else if (key == "cost_per_second_with_audio") {
      status = ReadOptionalNumber(
          value, p, [out](double d) { out->set_cost_per_second_with_audio(d); },
          [out] { out->clear_cost_per_second_with_audio(); });
    } else {
      status = AddExtraField(key, value, p, out->mutable_extra_fields());
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ReadFineTuning(const Value& v, const Path& path, v1::FineTuning* out) {
  for (const auto& member : v.GetObject()) {
    absl::string_view key = Key(member);
    Path p(&path, key);
    absl::Status status;
    if (key == "actions") {
      status = ReadStringArray(member.value, p, out->mutable_actions());
    } else if (key == "cost_per_second") {
      status = ReadOptionalNumber(
          member.value, p, [out](double d) { out->set_cost_per_second(d); },
          [out] { out->clear_cost_per_second(); });
    } else {
      status = AddExtraField(key, member.value, p, out->mutable_extra_fields());
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ReadDeveloper(const Value& v, const Path& path, v1::Developer* out) {
  for (const auto& member : v.GetObject()) {
    absl::string_view key = Key(member);
    Path p(&path, key);
    absl::Status status;
    if (key == "name") {
      status = ReadString(member.value, p, out->mutable_name());
    } else if (key == "logo") {
      status = ReadOptionalString(
          member.value, p, [out](const char* s, size_t n) { out->set_logo(s, n); },
          [out] { out->clear_logo(); });
    } else {
      status = AddExtraField(key, member.value, p, out->mutable_extra_fields());
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ReadDeployment(const Value& v, const Path& path, v1::Deployment* out) {
  if (!v.IsObject()) return TypeError(path, "an object", &v);
  for (const auto& member : v.GetObject()) {
    absl::string_view key = Key(member);
    Path p(&path, key);
    absl::Status status;
    if (key == "status") {
      v1::DeploymentStatus deployment_status = v1::DEPLOYMENT_STATUS_UNSPECIFIED;
      status =
          ReadEnum(member.value, p, &DeploymentStatusFromString, v1::DEPLOYMENT_STATUS_UNSPECIFIED,
                   &deployment_status, out->mutable_status_raw());
      out->set_status(deployment_status);
    } else {
      status = AddExtraField(key, member.value, p, out->mutable_extra_fields());
    }
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ReadDeployments(const Value& v, const Path& path, v1::Model* out) {
  out->clear_deployments();
  if (v.IsNull()) return absl::OkStatus();
  if (!v.IsArray()) return TypeError(path, "an array or null", &v);
  out->mutable_deployments()->Reserve(static_cast<int>(v.Size()));
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    absl::Status status = ReadDeployment(v[i], Path(&path, i), out->add_deployments());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

// Reads an object-or-null field into a message field: `clear()` for null, else `read` into
// the freshly cleared message from `mutable_field()`.
template <typename Read, typename Mutable, typename Clear>
absl::Status ReadObjectField(const Value& v, const Path& path, Read read, Mutable mutable_field,
                             Clear clear) {
  clear();
  if (v.IsNull()) return absl::OkStatus();
  if (!v.IsObject()) return TypeError(path, "an object or null", &v);
  return read(v, path, mutable_field());
}

// --- Documents -------------------------------------------------------------------------------

// Reads the 4 hex digits of a \u escape at `p`; -1 if they are not hex digits.
int HexQuad(const unsigned char* p) {
  int value = 0;
  for (int i = 0; i < 4; ++i) {
    int c = p[i], digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return -1;
    }
    value = value * 16 + digit;
  }
  return value;
}

// Checks what RapidJSON leaves unchecked: the text is UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF), holds no NUL byte (it would end parsing early), and
// escapes no lone low surrogate (RapidJSON would turn it into invalid UTF-8). Strings of
// proto3 must be valid UTF-8, or readers of the catalog's responses would fail.
// Catalogs are almost all ASCII, which is checked eight bytes at a time.
//
// `text` may be a piece of a longer document whose `offset` (for messages) is its position
// there. Unless it is the `last` piece, a few bytes at its end may need the next piece to be
// judged (a UTF-8 sequence or an escape cut in two): `*checked` says how many bytes were
// judged, all of them for the last piece. On an error, `*checked` is where it lies: the
// bytes before it are valid.
absl::Status CheckTextPiece(absl::string_view text, bool last, size_t offset, size_t* checked) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  constexpr uint64_t kBackslashes = kOnes * '\\';
  // The most bytes one judgement reads: an escaped surrogate pair, less its first byte.
  constexpr size_t kLongestLookahead = 12;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  auto error = [offset, checked](size_t at, absl::string_view what) {
    *checked = at;
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON at offset ", offset + at, ": ", what));
  };
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      uint64_t escapes = word ^ kBackslashes;
      // Plain ASCII with neither NUL nor backslash: the classic has-zero-byte test, twice.
      if ((word & kHighBits) == 0 && ((word - kOnes) & ~word & kHighBits) == 0 &&
          ((escapes - kOnes) & ~escapes & kHighBits) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (c == 0) return error(i, "unexpected NUL byte");
    if (c == '\\' || c >= 0x80) {
      if (!last && n - i < kLongestLookahead) break;  // the next piece decides
    }
    if (c == '\\') {
      // Escapes are only valid inside strings; RapidJSON reports any other misuse.
      if (i + 6 <= n && p[i + 1] == 'u') {
        int unit = HexQuad(p + i + 2);
        if (unit >= 0xD800 && unit <= 0xDBFF) {
          i += 6;  // a high surrogate; RapidJSON checks the low one that must follow
          // Only an escape of four hex digits is skipped: any other bytes (a NUL among
          // them) are checked as they are.
          if (i + 6 <= n && p[i] == '\\' && p[i + 1] == 'u' && HexQuad(p + i + 2) >= 0) i += 6;
          continue;
        }
        if (unit >= 0xDC00 && unit <= 0xDFFF) {
          return error(i, "The surrogate pair in string is invalid.");
        }
      }
      i += 2;
      continue;
    }
    if (c < 0x80) {
      ++i;
      continue;
    }
    char32_t code_point = 0;
    const size_t length = DecodeUtf8(text, i, &code_point);
    if (length == 0) return error(i, "invalid UTF-8");
    i += length;
  }
  // An escape's second byte may lie past the end of the last piece: RapidJSON reports that.
  *checked = std::min(i, n);
  return absl::OkStatus();
}

absl::Status CheckText(absl::string_view json) {
  size_t checked = 0;
  return CheckTextPiece(json, /*last=*/true, 0, &checked);
}

// Hands the number written as `text` to `out`: an integer that fits 64 bits as an integer,
// anything else as the correctly rounded double (absl::SimpleAtod). False, and nothing handed
// over, for a number too big for a double.
template <typename Handler>
bool ForwardNumber(absl::string_view text, Handler& out) {
  if (text.find_first_of(".eE") == absl::string_view::npos) {
    int64_t i;
    if (absl::SimpleAtoi(text, &i)) return out.Int64(i);
    uint64_t u;
    if (absl::SimpleAtoi(text, &u)) return out.Uint64(u);
  }
  double d;
  if (!absl::SimpleAtod(text, &d) || std::isinf(d)) return false;
  return out.Double(d);
}

// Forwards a parse to a Document, converting numbers from their text: integers that fit
// 64 bits as integers, everything else as the correctly rounded double (absl::SimpleAtod).
template <typename Document>
class NumberReader {
 public:
  NumberReader(Document& doc, const char* text) : doc_(doc), text_(text) {}

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(int64_t i) { return doc_.Int64(i); }
  bool Uint64(uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return doc_.String(s, n, copy); }
  bool StartObject() { return doc_.StartObject(); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return doc_.Key(s, n, copy); }
  bool EndObject(rapidjson::SizeType n) { return doc_.EndObject(n); }
  bool StartArray() { return doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return doc_.EndArray(n); }

  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    if (!ForwardNumber(absl::string_view(s, n), doc_)) {
      too_big_offset_ = static_cast<size_t>(s - text_);
      return false;
    }
    return true;
  }

  // Where a number too big for a double starts; npos if none was.
  size_t too_big_offset() const { return too_big_offset_; }

 private:
  Document& doc_;
  const char* const text_;
  size_t too_big_offset_ = std::string::npos;
};

// Parses `text` in place into `doc`, whose strings then point into `text`.
absl::Status ParseDocumentInPlace(std::string* text, rapidjson::Document* doc) {
  if (absl::Status status = CheckText(*text); !status.ok()) return status;
  rapidjson::ParseResult result;
  size_t too_big_offset = std::string::npos;
  auto fill = [&](rapidjson::Document& d) {
    NumberReader<rapidjson::Document> reader(d, text->data());
    rapidjson::InsituStringStream stream(text->data());
    result = rapidjson::Reader().Parse<kParseFlags>(stream, reader);
    too_big_offset = reader.too_big_offset();
    return !result.IsError();
  };
  doc->Populate(fill);
  if (too_big_offset != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON at offset ", too_big_offset, ": ",
                     rapidjson::GetParseError_En(rapidjson::kParseErrorNumberTooBig)));
  }
  if (result.IsError()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON at offset ", result.Offset(), ": ",
                                                   rapidjson::GetParseError_En(result.Code())));
  }
  return absl::OkStatus();
}

// Parses `json` into `doc`, whose strings then point into `buffer`.
absl::Status ParseDocument(absl::string_view json, std::string* buffer, rapidjson::Document* doc) {
  buffer->assign(json.data(), json.size());
  return ParseDocumentInPlace(buffer, doc);
}

// --- Writing ---------------------------------------------------------------------------------

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteString(absl::string_view s, JsonWriter* w) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteKey(absl::string_view s, JsonWriter* w) {
  w->Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteNumber(double d, JsonWriter* w) {
  if (!std::isfinite(d)) {
    w->Null();  // JSON has no NaN or infinities
    return;
  }
  // Integral values are written without a fraction, as the hub writes them; -0 keeps its sign.
  constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53
  if (std::trunc(d) == d && std::fabs(d) <= kMaxExactInteger && !(d == 0 && std::signbit(d))) {
    w->Int64(static_cast<int64_t>(d));
  } else {
    w->Double(d);
  }
}

void WriteProtoValue(const google::protobuf::Value& v, JsonWriter* w);

// Writes the fields of `s` in key order, so the same model always gives the same text;
// keys in `skip` are left out.
void WriteStructFields(const Struct& s, std::initializer_list<absl::string_view> skip,
                       JsonWriter* w) {
  std::vector<std::pair<absl::string_view, const google::protobuf::Value*>> fields;
  fields.reserve(s.fields_size());
  for (const auto& [key, value] : s.fields()) {
    if (std::find(skip.begin(), skip.end(), absl::string_view(key)) != skip.end()) continue;
    fields.emplace_back(key, &value);
  }
  std::sort(fields.begin(), fields.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [key, value] : fields) {
    WriteKey(key, w);
    WriteProtoValue(*value, w);
  }
}

void WriteProtoValue(const google::protobuf::Value& v, JsonWriter* w) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      WriteNumber(v.number_value(), w);
      break;
    case google::protobuf::Value::kStringValue:
      WriteString(v.string_value(), w);
      break;
    case google::protobuf::Value::kBoolValue:
      w->Bool(v.bool_value());
      break;
    case google::protobuf::Value::kStructValue:
      w->StartObject();
      WriteStructFields(v.struct_value(), {}, w);
      w->EndObject();
      break;
    case google::protobuf::Value::kListValue:
      w->StartArray();
      for (const auto& item : v.list_value().values()) WriteProtoValue(item, w);
      w->EndArray();
      break;
    case google::protobuf::Value::kNullValue:
    case google::protobuf::Value::KIND_NOT_SET:
      w->Null();
      break;
  }
}

void WriteOptionalString(bool has, const std::string& s, JsonWriter* w) {
  if (has) {
    WriteString(s, w);
  } else {
    w->Null();
  }
}

void WriteOptionalNumber(bool has, double d, JsonWriter* w) {
  if (has) {
    WriteNumber(d, w);
  } else {
    w->Null();
  }
}

// The raw string when there is one; the canonical string for a known value set without it;
// null when unspecified.
void WriteEnum(bool unspecified, absl::string_view raw, absl::string_view canonical,
               JsonWriter* w) {
  if (!raw.empty()) {
    WriteString(raw, w);
  } else if (unspecified) {
    w->Null();
  } else {
    WriteString(canonical, w);
  }
}

absl::string_view CanonicalModelType(v1::ModelType t) {
  switch (t) {
    case v1::MODEL_TYPE_BASE:
      return "base";
    case v1::MODEL_TYPE_CUSTOM:
      return "custom";
    default:
      return "";
  }
}

absl::string_view CanonicalPricingMethod(v1::PricingMethod m) {
  switch (m) {
    case v1::PRICING_METHOD_TOKEN:
      return "token";
    case v1::PRICING_METHOD_TIME:
      return "time";
    case v1::PRICING_METHOD_PER_IMAGE:
      return "per_image";
    case v1::PRICING_METHOD_PER_VIDEO_OUTPUT_SECOND:
      return "per_video_output_second";
    default:
      return "";
  }
}

absl::string_view CanonicalDeploymentStatus(v1::DeploymentStatus s) {
  switch (s) {
    case v1::DEPLOYMENT_STATUS_ACTIVE:
      return "active";
    case v1::DEPLOYMENT_STATUS_INACTIVE:
      return "inactive";
    case v1::DEPLOYMENT_STATUS_DEPLOYING:
      return "deploying";
    case v1::DEPLOYMENT_STATUS_DEACTIVATING:
      return "deactivating";
    case v1::DEPLOYMENT_STATUS_ERROR:
      return "error";
    case v1::DEPLOYMENT_STATUS_UNKNOWN:
      return "unknown";
    default:
      return "";
  }
}

void WriteStringArray(const google::protobuf::RepeatedPtrField<std::string>& items, JsonWriter* w) {
  w->StartArray();
  for (const std::string& item : items) WriteString(item, w);
  w->EndArray();
}

void WriteTimestamp(const Timestamp& ts, JsonWriter* w) {
  if (!InTimestampRange(ts.seconds()) || ts.nanos() < 0 || ts.nanos() > 999999999) {
    w->Null();  // not a time the hub could have sent
    return;
  }
  WriteString(TimeUtil::ToString(ts), w);
}

}  // namespace

absl::Status ParseModelValue(const rapidjson::Value& v, absl::string_view path, v1::Model* out) {
  out->Clear();
  const Path root(path);
  if (!v.IsObject()) return TypeError(root, "a model object", &v);
  const Value* id = nullptr;
  for (const auto& member : v.GetObject()) {
    absl::string_view key = Key(member);
    const Value& value = member.value;
    Path p(&root, key);
    absl::Status status;
    // Known keys, in the order of the hub's reference.
    if (key == "id") {
      if (!value.IsString() || value.GetStringLength() == 0) {
        return TypeError(p, "a non-empty string", &value);
      }
      id = &value;
      out->set_id(value.GetString(), value.GetStringLength());
    } else if (key == "object") {
      status = ReadString(value, p, out->mutable_object());
    } else if (key == "created") {
      status = ReadCreated(value, p, out);
    } else if (key == "owned_by") {
      status = ReadString(value, p, out->mutable_owned_by());
    } else if (key == "display_name") {
      status = ReadString(value, p, out->mutable_display_name());
    } else if (key == "description") {
      status = ReadOptionalString(
          value, p, [out](const char* s, size_t n) { out->set_description(s, n); },
          [out] { out->clear_description(); });
    } else if (key == "summary") {
      status = ReadOptionalString(
          value, p, [out](const char* s, size_t n) { out->set_summary(s, n); },
          [out] { out->clear_summary(); });
    } else if (key == "model_type") {
      v1::ModelType model_type = v1::MODEL_TYPE_UNSPECIFIED;
      status = ReadEnum(value, p, &ModelTypeFromString, v1::MODEL_TYPE_UNSPECIFIED, &model_type,
                        out->mutable_model_type_raw());
      out->set_model_type(model_type);
    } else if (key == "endpoint") {
      status = ReadString(value, p, out->mutable_endpoint());
    } else if (key == "capabilities") {
      status = ReadObjectField(
          value, p, ReadCapabilities, [out] { return out->mutable_capabilities(); },
          [out] { out->clear_capabilities(); });
    } else if (key == "pricing") {
      status = ReadObjectField(
          value, p, ReadPricing, [out] { return out->mutable_pricing(); },
          [out] { out->clear_pricing(); });
    } else if (key == "fine_tuning") {
      status = ReadObjectField(
          value, p, ReadFineTuning, [out] { return out->mutable_fine_tuning(); },
          [out] { out->clear_fine_tuning(); });
    } else if (key == "deployments") {
      status = ReadDeployments(value, p, out);
    } else if (key == "developer") {
      status = ReadObjectField(
          value, p, ReadDeveloper, [out] { return out->mutable_developer(); },
          [out] { out->clear_developer(); });
    } else if (key == "source_model") {
      status = ReadOptionalString(
          value, p, [out](const char* s, size_t n) { out->set_source_model(s, n); },
          [out] { out->clear_source_model(); });
    } else if (key == "image_url") {
      status = ReadOptionalString(
          value, p, [out](const char* s, size_t n) { out->set_image_url(s, n); },
          [out] { out->clear_image_url(); });
    } else if (key == "released_at") {
      status = ReadReleasedAt(value, p, out);
    } else if (key == "request_schema") {
      out->clear_request_schema();
      if (value.IsObject()) {
        status = ToProtoStruct(value, p, 1, out->mutable_request_schema());
      } else if (!value.IsNull()) {
        status = TypeError(p, "an object or null", &value);
      }
    } else {
      status = AddExtraField(key, value, p, out->mutable_extra_fields());
    }
    if (!status.ok()) return status;
  }
  if (id == nullptr) return TypeError(Path(&root, "id"), "a non-empty string", nullptr);
  return absl::OkStatus();
}

absl::StatusOr<v1::Model> ParseModel(absl::string_view json) {
  std::string buffer;
  rapidjson::Document doc;
  if (absl::Status status = ParseDocument(json, &buffer, &doc); !status.ok()) return status;
  v1::Model model;
  if (absl::Status status = ParseModelValue(doc, "", &model); !status.ok()) return status;
  return model;
}

namespace {

// --- Lists, read as they arrive -------------------------------------------------------------
//
// A list is read by RapidJSON's SAX reader from a stream over the text's pieces, so that no
// more than one piece and one record are ever held: a sync's memory does not grow with the
// size of the hub's answer. The reader's events outside the records are checked against the
// list's shape and dropped; the events of one record are built into a small DOM, which the
// same per-record code as ParseModel converts (exact numbers, depth limits, rejection of the
// record alone), and the DOM's memory is then reused for the next record.

// The arena's own first block, reused after every reset: a generated model with its schema
// takes a few KiB, so one block holds a record and a reset frees nothing. The record's DOM has
// a first block of the same size for the same reason.
constexpr size_t kRecordArenaBytes = 64 * 1024;
// The most memory the rejected records of a list may take: over 100,000 rejections of a
// model's size, enough for a whole catalog the hub broke; beyond, the list fails.
constexpr size_t kMaxRejectedBytes = size_t{16} << 20;
// Pieces of a document given whole are handed to the reader this many bytes at a time.
constexpr size_t kPieceBytes = 64 * 1024;

// RapidJSON's default allocator for the reader's own stack, which holds the string or number
// being read and one entry per open object or array, remembering the largest stack it gave:
// hostile text (a string of gigabytes, arrays nested millions deep) shows there first.
class WatchedStackAllocator {
 public:
  static const bool kNeedFree = true;
  void* Malloc(size_t size) {
    largest_ = std::max(largest_, size);
    return size == 0 ? nullptr : std::malloc(size);
  }
  void* Realloc(void* block, size_t, size_t new_size) {
    if (new_size == 0) {
      std::free(block);
      return nullptr;
    }
    largest_ = std::max(largest_, new_size);
    return std::realloc(block, new_size);
  }
  static void Free(void* block) { std::free(block); }

  size_t largest() const { return largest_; }

 private:
  size_t largest_ = 0;
};

// A RapidJSON input stream (Peek, Take, Tell) over the pieces of a TextSource. Each piece is
// copied behind the few bytes the previous one left unjudged, checked by CheckTextPiece, and
// ended by a NUL, which text that passed the check never holds: Peek tests for NUL alone to
// know that the piece is used up. When the text ends, fails the check, or `Stop` is called,
// the stream reads as ended (NUL) from then on, which the reader reports as an error unless
// the document was complete.
class PieceStream {
 public:
  using Ch = char;

  // `on_piece` is called before each piece is read from the source: for checks of the
  // memory the parse holds, which may call Stop.
  PieceStream(TextSource source, absl::FunctionRef<void()> on_piece)
      : source_(source), on_piece_(on_piece) {
    buffer_.push_back('\0');
    pos_ = buffer_.data();
    end_ = pos_;
  }

  Ch Peek() {
    if (*pos_ == '\0' && pos_ == end_) Refill();
    return *pos_;
  }
  Ch Take() {
    const Ch c = Peek();
    if (c != '\0') ++pos_;
    return c;
  }
  size_t Tell() const { return buffer_offset_ + static_cast<size_t>(pos_ - buffer_.data()); }

  // Ends the stream at once, with `error` as the reason the parse must report.
  void Stop(absl::Status error) {
    if (error_.ok()) error_ = std::move(error);
    ended_ = true;
    buffer_offset_ = Tell();
    buffer_.assign(1, '\0');
    pos_ = buffer_.data();
    end_ = pos_;
  }
  // Why the stream ended early; OK when it ended with the text or has not ended.
  const absl::Status& error() const { return error_; }

  // Only for in-place parsing, which this stream does not support.
  Ch* PutBegin() { return nullptr; }
  void Put(Ch) {}
  void Flush() {}
  size_t PutEnd(Ch*) { return 0; }

 private:
  void Refill() {
    while (pos_ == end_) {
      if (ended_) {
        // The reader has come to the text's first invalid byte: only now does it fail, so
        // that an error the reader finds earlier in the text is the one reported, however
        // the text was cut into pieces.
        if (!pending_error_.ok()) Stop(std::exchange(pending_error_, absl::OkStatus()));
        return;
      }
      on_piece_();
      if (ended_) return;  // stopped
      const absl::string_view piece = source_();
      bool last = piece.empty();
      buffer_offset_ += buffer_.size() - 1;  // the judged bytes, all read: unjudged_ follows
      buffer_.assign(unjudged_);
      buffer_.append(piece.data(), piece.size());
      size_t checked = 0;
      absl::Status status = CheckTextPiece(buffer_, last, buffer_offset_, &checked);
      if (status.ok()) {
        unjudged_.assign(buffer_, checked, std::string::npos);
      } else {
        pending_error_ = std::move(status);  // the valid bytes before it are read first
        unjudged_.clear();
        last = true;
      }
      buffer_.resize(checked);
      buffer_.push_back('\0');
      pos_ = buffer_.data();
      end_ = pos_ + checked;
      ended_ = last;
    }
  }

  const TextSource source_;
  const absl::FunctionRef<void()> on_piece_;
  std::string buffer_;        // the judged bytes of the current piece, then a NUL
  std::string unjudged_;      // the piece's last bytes, judged with the next piece
  size_t buffer_offset_ = 0;  // the offset in the text of buffer_[0]
  const Ch* pos_ = nullptr;
  const Ch* end_ = nullptr;  // the NUL after the judged bytes
  bool ended_ = false;
  absl::Status pending_error_;  // the text's first invalid byte, not yet reached
  absl::Status error_;
};

// What a JSON value is, in the words of Describe, for a value known only by its reader event.
absl::string_view DescribeEvent(rapidjson::Type type, bool empty_string = false) {
  Value value(type);
  if (type == rapidjson::kStringType && !empty_string) value.SetString("x");
  return Describe(&value);
}

// The reader's handler for a whole list: checks its shape, builds each record's DOM from the
// events inside it, and converts each record as it ends.
class ListReader {
 public:
  explicit ListReader(ModelSink on_model)
      : on_model_(on_model),
        record_block_(new char[kRecordArenaBytes]),
        record_pool_(record_block_.get(), kRecordArenaBytes),
        record_(&record_pool_),
        arena_block_(new char[kRecordArenaBytes]),
        arena_(ArenaOptionsWithBlock(arena_block_.get())) {}

  absl::StatusOr<std::vector<RejectedRecord>> Read(TextSource source) {
    // Flags: those of ParseDocumentInPlace, but reading from a stream rather than in place.
    constexpr unsigned kFlags =
        rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
    WatchedStackAllocator stack_allocator;
    rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, WatchedStackAllocator> reader(
        &stack_allocator);
    PieceStream* stream_ptr = nullptr;
    auto check_memory = [&] { CheckMemory(stack_allocator, stream_ptr); };
    PieceStream stream(source, check_memory);  // keeps a reference to check_memory
    stream_ptr = &stream;
    stream_ = &stream;
    const rapidjson::ParseResult result = reader.Parse<kFlags>(stream, *this);
    stream_ = nullptr;
    if (!stream.error().ok()) return stream.error();
    if (!error_.ok()) return error_;
    if (result.IsError()) {
      return absl::InvalidArgumentError(absl::StrCat("invalid JSON at offset ", result.Offset(),
                                                     ": ",
                                                     rapidjson::GetParseError_En(result.Code())));
    }
    if (envelope_ && !data_seen_) {
      return absl::InvalidArgumentError(
          absl::StrCat("data: expected an array, found ", Describe(nullptr)));
    }
    return std::move(rejected_);
  }

  // The reader's events. Inside a record they build its DOM (unless it is being skipped);
  // outside, they are checked against the list's shape.
  bool Null() {
    return Scalar(rapidjson::kNullType, [](Document& d) { return d.Null(); });
  }
  bool Bool(bool b) {
    return Scalar(b ? rapidjson::kTrueType : rapidjson::kFalseType,
                  [b](Document& d) { return d.Bool(b); });
  }
  // With kParseNumbersAsStringsFlag every number comes as RawNumber; these are never called.
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(int64_t) { return false; }
  bool Uint64(uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    const absl::string_view text(s, n);
    // Checked wherever it is, as a whole-document parse does; its offset is where it began.
    NumberCheck check;
    if (!ForwardNumber(text, check)) {
      error_ = absl::InvalidArgumentError(
          absl::StrCat("invalid JSON at offset ", stream_->Tell() - n, ": ",
                       rapidjson::GetParseError_En(rapidjson::kParseErrorNumberTooBig)));
      return false;
    }
    return Scalar(rapidjson::kNumberType, [text](Document& d) { return ForwardNumber(text, d); });
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return Scalar(
        rapidjson::kStringType, [s, n](Document& d) { return d.String(s, n, true); }, n == 0);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (in_record_) return skipping_record_ || record_.Key(s, n, true);
    // The first "data" of the envelope is the list, as FindMember would find it.
    if (envelope_ && depth_ == 1) expect_data_ = !data_seen_ && absl::string_view(s, n) == "data";
    return true;
  }
  bool StartObject() {
    return Start(rapidjson::kObjectType, [](Document& d) { return d.StartObject(); });
  }
  bool StartArray() {
    return Start(rapidjson::kArrayType, [](Document& d) { return d.StartArray(); });
  }
  bool EndObject(rapidjson::SizeType members) {
    return End([members](Document& d) { return d.EndObject(members); });
  }
  bool EndArray(rapidjson::SizeType elements) {
    return End([elements](Document& d) { return d.EndArray(elements); });
  }

 private:
  using Document = rapidjson::Document;

  // Takes the numbers ForwardNumber hands over, to learn whether it can.
  struct NumberCheck {
    bool Int64(int64_t) { return true; }
    bool Uint64(uint64_t) { return true; }
    bool Double(double) { return true; }
  };

  static google::protobuf::ArenaOptions ArenaOptionsWithBlock(char* block) {
    google::protobuf::ArenaOptions options;
    options.initial_block = block;
    options.initial_block_size = kRecordArenaBytes;
    return options;
  }

  // A value outside any open record: a record of its own in the records array, else part of
  // the envelope, which must have the list's shape.
  template <typename Build>
  bool Scalar(rapidjson::Type type, Build build, bool empty_string = false) {
    if (in_record_) return skipping_record_ || build(record_);
    if (in_records_ && depth_ == records_depth_) {
      BeginRecord();
      if (!build(record_)) return false;
      return EndRecord();
    }
    return CheckShape(type, empty_string);
  }

  template <typename Build>
  bool Start(rapidjson::Type type, Build build) {
    if (in_record_) {
      ++depth_;
      return skipping_record_ || build(record_);
    }
    if (in_records_ && depth_ == records_depth_) {
      BeginRecord();
      record_start_ = stream_->Tell() - 1;  // the reader has taken the opening bracket
      ++depth_;
      record_depth_ = depth_;
      return build(record_);
    }
    if (!CheckShape(type)) return false;
    ++depth_;
    if (opens_records_) {
      opens_records_ = false;
      in_records_ = true;
      records_depth_ = depth_;
    }
    return true;
  }

  template <typename Build>
  bool End(Build build) {
    if (in_record_) {
      if (!skipping_record_ && !build(record_)) return false;
      if (--depth_ < record_depth_) return EndRecord();
      return true;
    }
    if (in_records_ && depth_ == records_depth_) in_records_ = false;
    --depth_;
    return true;
  }

  // Checks a value outside the records; false, with error_ set, when the document is not a list.
  bool CheckShape(rapidjson::Type type, bool empty_string = false) {
    if (depth_ == 0) {
      if (type == rapidjson::kArrayType) {
        opens_records_ = true;  // a bare array of records
        records_path_.clear();
        return true;
      }
      if (type == rapidjson::kObjectType) {
        envelope_ = true;
        return true;
      }
      error_ = absl::InvalidArgumentError(absl::StrCat(
          "expected an object with a \"data\" array, found ", DescribeEvent(type, empty_string)));
      return false;
    }
    if (envelope_ && depth_ == 1 && expect_data_) {
      expect_data_ = false;
      data_seen_ = true;
      if (type != rapidjson::kArrayType) {
        error_ = absl::InvalidArgumentError(
            absl::StrCat("data: expected an array, found ", DescribeEvent(type, empty_string)));
        return false;
      }
      opens_records_ = true;
      records_path_ = "data";
    }
    return true;
  }

  void BeginRecord() {
    in_record_ = true;
    skipping_record_ = false;
  }

  // Converts the record whose events have all been built, or rejects the one skipped.
  bool EndRecord() {
    in_record_ = false;
    const size_t index = records_read_++;
    std::string path = absl::StrCat(records_path_, "[", index, "]");
    if (skipping_record_) {
      RejectedRecord bad;
      bad.index = index;
      bad.status = absl::InvalidArgumentError(
          absl::StrCat(path, ": the record takes more than ", kMaxRecordBytes >> 20,
                       " MiB to read (it starts at offset ", record_start_, ")"));
      return Reject(std::move(bad));
    }
    // The events were given to the document already: Populate only moves the value they
    // built from the document's stack to its root.
    auto built = [](Document&) { return true; };
    record_.Populate(built);
    auto* model = google::protobuf::Arena::CreateMessage<v1::Model>(&arena_);
    absl::Status status = ParseModelValue(record_, path, model);
    bool go_on = true;
    if (status.ok()) {
      on_model_(*model);
    } else {
      RejectedRecord bad;
      bad.index = index;
      bad.status = std::move(status);
      if (record_.IsObject()) {
        auto it = record_.FindMember("id");
        if (it != record_.MemberEnd() && it->value.IsString()) {
          bad.id.assign(it->value.GetString(), it->value.GetStringLength());
        }
      }
      go_on = Reject(std::move(bad));
    }
    arena_.Reset();  // frees the model, and keeps the first block for the next one
    ForgetRecord();
    return go_on;
  }

  // Keeps a rejected record; false, with error_ set, once the rejections kept would pass
  // kMaxRejectedBytes. A rejection takes a hundred bytes or more where its record may take
  // two ("1,"): an endless list of bad records must not grow memory fifty times faster than
  // the text that comes.
  bool Reject(RejectedRecord bad) {
    rejected_bytes_ += sizeof(RejectedRecord) + bad.id.size() + bad.status.message().size();
    if (rejected_bytes_ > kMaxRejectedBytes) {
      error_ = absl::InvalidArgumentError(absl::StrCat(
          "more records rejected than the parser keeps (", kMaxRejectedBytes >> 20,
          " MiB of rejections, ", rejected_.size(), " records); the first: ",
          rejected_.empty() ? bad.status.message() : rejected_.front().status.message()));
      return false;
    }
    rejected_.push_back(std::move(bad));
    return true;
  }

  // Frees the record's DOM, but for the first block of its memory.
  void ForgetRecord() {
    auto nothing = [](Document&) { return false; };
    record_.Populate(nothing);  // empties the document's stack, should a record be half built
    record_.SetNull();
    record_pool_.Clear();
  }

  // Called between pieces: stops a record, or the whole parse, that holds too much memory.
  void CheckMemory(const WatchedStackAllocator& stack_allocator, PieceStream* stream) {
    if (in_record_ && !skipping_record_ &&
        record_pool_.Capacity() + record_.GetStackCapacity() > kMaxRecordBytes) {
      skipping_record_ = true;  // the record is rejected, the others are read
      ForgetRecord();
    }
    if (stack_allocator.largest() > kMaxRecordBytes) {
      stream->Stop(absl::InvalidArgumentError(absl::StrCat(
          "invalid JSON at offset ", stream->Tell(), ": a value nests deeper or a string or ",
          "number runs longer than the parser holds (", kMaxRecordBytes >> 20, " MiB)")));
    }
  }

  const ModelSink on_model_;
  PieceStream* stream_ = nullptr;
  absl::Status error_;  // why the document is not a list, when the handler found out
  std::vector<RejectedRecord> rejected_;
  size_t rejected_bytes_ = 0;  // about the memory rejected_ holds

  // Where the reader is: depth_ counts the open objects and arrays.
  int depth_ = 0;
  bool envelope_ = false;     // the root is an object
  bool expect_data_ = false;  // the envelope's next value is its first "data"
  bool data_seen_ = false;
  bool opens_records_ = false;  // the array about to open holds the records
  bool in_records_ = false;
  int records_depth_ = 0;     // depth_ inside the records array
  std::string records_path_;  // "data", or "" for a bare array
  size_t records_read_ = 0;

  // The record being read.
  bool in_record_ = false;
  bool skipping_record_ = false;  // too large: its events are dropped, and it is rejected
  int record_depth_ = 0;          // depth_ inside the record's own object or array
  size_t record_start_ = 0;       // the offset of its opening bracket
  std::unique_ptr<char[]> record_block_;
  rapidjson::MemoryPoolAllocator<> record_pool_;
  Document record_;
  std::unique_ptr<char[]> arena_block_;
  google::protobuf::Arena arena_;
};

}  // namespace

absl::StatusOr<std::vector<RejectedRecord>> ParseModelList(TextSource source, ModelSink on_model) {
  return ListReader(on_model).Read(source);
}

absl::StatusOr<std::vector<RejectedRecord>> ParseModelList(absl::string_view json,
                                                           ModelSink on_model) {
  size_t next = 0;
  auto pieces = [&json, &next]() {
    const absl::string_view piece = json.substr(std::min(next, json.size()), kPieceBytes);
    next += piece.size();
    return piece;
  };
  return ParseModelList(TextSource(pieces), on_model);
}

absl::StatusOr<ParsedModelList> ParseModelList(absl::string_view json) {
  ParsedModelList result;
  absl::StatusOr<std::vector<RejectedRecord>> rejected =
      ParseModelList(json, [&result](const v1::Model& model) { result.models.push_back(model); });
  if (!rejected.ok()) return rejected.status();
  result.rejected = *std::move(rejected);
  return result;
}

std::string ModelToJson(const v1::Model& model) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  WriteKey("id", &w);
  WriteString(model.id(), &w);
  WriteKey("object", &w);
  WriteString(model.object(), &w);
  WriteKey("created", &w);
  if (model.has_created()) {
    w.Int64(model.created().seconds());  // the hub's `created` is whole seconds
  } else {
    w.Null();
  }
  WriteKey("owned_by", &w);
  WriteString(model.owned_by(), &w);
  WriteKey("display_name", &w);
  WriteString(model.display_name(), &w);
  WriteKey("description", &w);
  WriteOptionalString(model.has_description(), model.description(), &w);
  WriteKey("summary", &w);
  WriteOptionalString(model.has_summary(), model.summary(), &w);
  WriteKey("model_type", &w);
  WriteEnum(model.model_type() == v1::MODEL_TYPE_UNSPECIFIED, model.model_type_raw(),
            CanonicalModelType(model.model_type()), &w);
  WriteKey("endpoint", &w);
  WriteString(model.endpoint(), &w);

  WriteKey("capabilities", &w);
  if (model.has_capabilities()) {
    const v1::Capabilities& c = model.capabilities();
    w.StartObject();
    WriteKey("input", &w);
    WriteStringArray(c.input(), &w);
    WriteKey("output", &w);
    WriteStringArray(c.output(), &w);
    WriteStructFields(c.extra_fields(), {"input", "output"}, &w);
    w.EndObject();
  } else {
    w.Null();
  }

  WriteKey("pricing", &w);
  if (model.has_pricing()) {
    const v1::Pricing& p = model.pricing();
    w.StartObject();
    WriteKey("method", &w);
    WriteEnum(p.method() == v1::PRICING_METHOD_UNSPECIFIED, p.method_raw(),
              CanonicalPricingMethod(p.method()), &w);
    WriteKey("input_cost_per_token", &w);
    WriteOptionalNumber(p.has_input_cost_per_token(), p.input_cost_per_token(), &w);
    WriteKey("output_cost_per_token", &w);
    WriteOptionalNumber(p.has_output_cost_per_token(), p.output_cost_per_token(), &w);
    WriteKey("cost_per_second", &w);
    WriteOptionalNumber(p.has_cost_per_second(), p.cost_per_second(), &w);
    WriteKey("cost_per_image", &w);
    WriteOptionalNumber(p.has_cost_per_image(), p.cost_per_image(), &w);
    WriteKey("cost_per_second_high_res", &w);
    WriteOptionalNumber(p.has_cost_per_second_high_res(), p.cost_per_second_high_res(), &w);
    WriteKey("cost_per_second_with_audio", &w);
    WriteOptionalNumber(p.has_cost_per_second_with_audio(), p.cost_per_second_with_audio(), &w);
    WriteStructFields(p.extra_fields(),
                      {"method", "input_cost_per_token", "output_cost_per_token", "cost_per_second",
                       "cost_per_image", "cost_per_second_high_res", "cost_per_second_with_audio"},
                      &w);
    w.EndObject();
  } else {
    w.Null();
  }

  WriteKey("fine_tuning", &w);
  if (model.has_fine_tuning()) {
    const v1::FineTuning& f = model.fine_tuning();
    w.StartObject();
    WriteKey("actions", &w);
    WriteStringArray(f.actions(), &w);
    WriteKey("cost_per_second", &w);
    WriteOptionalNumber(f.has_cost_per_second(), f.cost_per_second(), &w);
    WriteStructFields(f.extra_fields(), {"actions", "cost_per_second"}, &w);
    w.EndObject();
  } else {
    w.Null();
  }

  WriteKey("deployments", &w);
  w.StartArray();
  for (const v1::Deployment& d : model.deployments()) {
    w.StartObject();
    WriteKey("status", &w);
    WriteEnum(d.status() == v1::DEPLOYMENT_STATUS_UNSPECIFIED, d.status_raw(),
              CanonicalDeploymentStatus(d.status()), &w);
    WriteStructFields(d.extra_fields(), {"status"}, &w);
    w.EndObject();
  }
  w.EndArray();

  WriteKey("developer", &w);
  if (model.has_developer()) {
    const v1::Developer& d = model.developer();
    w.StartObject();
    WriteKey("name", &w);
    WriteString(d.name(), &w);
    WriteKey("logo", &w);
    WriteOptionalString(d.has_logo(), d.logo(), &w);
    WriteStructFields(d.extra_fields(), {"name", "logo"}, &w);
    w.EndObject();
  } else {
    w.Null();
  }

  WriteKey("source_model", &w);
  WriteOptionalString(model.has_source_model(), model.source_model(), &w);
  WriteKey("image_url", &w);
  WriteOptionalString(model.has_image_url(), model.image_url(), &w);
  WriteKey("released_at", &w);
  if (model.has_released_at()) {
    WriteTimestamp(model.released_at(), &w);
  } else {
    w.Null();
  }
  WriteKey("request_schema", &w);
  if (model.has_request_schema()) {
    w.StartObject();
    WriteStructFields(model.request_schema(), {}, &w);
    w.EndObject();
  } else {
    w.Null();
  }
  WriteStructFields(
      model.extra_fields(),
      {"id", "object", "created", "owned_by", "display_name", "description", "summary",
       "model_type", "endpoint", "capabilities", "pricing", "fine_tuning", "deployments",
       "developer", "source_model", "image_url", "released_at", "request_schema"},
      &w);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace modelcatalog::hub
