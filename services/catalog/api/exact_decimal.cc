#include "services/catalog/api/exact_decimal.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace modelcatalog::catalog {
namespace {

using Unscaled = unsigned __int128;

constexpr Unscaled kMaxUnscaled = ~Unscaled{0};

// value × 10^power, or nullopt when it does not fit.
absl::optional<Unscaled> ScaleUp(Unscaled value, int32_t power) {
  for (int32_t i = 0; i < power; ++i) {
    if (value > kMaxUnscaled / 10) return absl::nullopt;
    value *= 10;
  }
  return value;
}

}  // namespace

ExactDecimal::ExactDecimal(Unscaled unscaled, int32_t scale) : unscaled_(unscaled), scale_(scale) {
  if (unscaled_ == 0) {
    scale_ = 0;
    return;
  }
  while (scale_ > 0 && unscaled_ % 10 == 0) {
    unscaled_ /= 10;
    --scale_;
  }
}

ExactDecimal ExactDecimal::FromInteger(uint64_t value) { return ExactDecimal(value, 0); }

absl::StatusOr<ExactDecimal> ExactDecimal::FromDouble(double value) {
  if (!std::isfinite(value) || value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a finite number of 0 or more, got ", value));
  }
  // to_chars without a precision writes the shortest text that reads back as
  // the same double: the decimal the number was written as.
  char text[64];
  const std::to_chars_result written = std::to_chars(text, text + sizeof(text), std::fabs(value));
  if (written.ec != std::errc()) return absl::InternalError("a number could not be written out");
  return Parse(absl::string_view(text, static_cast<size_t>(written.ptr - text)));
}

absl::StatusOr<ExactDecimal> ExactDecimal::Parse(absl::string_view text) {
  const auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a decimal number"));
  };
  Unscaled digits = 0;
  int64_t fraction_digits = 0;
  bool any_digit = false;
  bool after_point = false;
  size_t i = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && !after_point) {
      after_point = true;
      continue;
    }
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) break;
    any_digit = true;
    if (digits == 0 && c == '0') {
      // A leading zero adds nothing but, after the point, a place.
    } else if (digits > (kMaxUnscaled - 9) / 10) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\" has more digits than can be kept exactly"));
    } else {
      digits = digits * 10 + static_cast<unsigned>(c - '0');
    }
    if (after_point) ++fraction_digits;
  }
  if (!any_digit) return invalid();
  int64_t exponent = 0;
  if (i < text.size()) {
    if (text[i] != 'e' && text[i] != 'E') return invalid();
    ++i;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    if (i == text.size()) return invalid();
    for (; i < text.size(); ++i) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return invalid();
      exponent = exponent * 10 + (text[i] - '0');
      if (exponent > 100000) return invalid();
    }
    if (negative) exponent = -exponent;
  }
  const int64_t scale = fraction_digits - exponent;
  if (scale >= 0) {
    if (scale > 100000) return invalid();
    return ExactDecimal(digits, static_cast<int32_t>(scale));
  }
  const absl::optional<Unscaled> whole = ScaleUp(digits, static_cast<int32_t>(-scale));
  if (!whole) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is too large to keep exactly"));
  }
  return ExactDecimal(*whole, 0);
}

absl::optional<ExactDecimal> ExactDecimal::Times(const ExactDecimal& other) const {
  Unscaled product;
  if (__builtin_mul_overflow(unscaled_, other.unscaled_, &product)) return absl::nullopt;
  return ExactDecimal(product, scale_ + other.scale_);
}

absl::optional<ExactDecimal> ExactDecimal::Plus(const ExactDecimal& other) const {
  const int32_t scale = std::max(scale_, other.scale_);
  const absl::optional<Unscaled> a = ScaleUp(unscaled_, scale - scale_);
  const absl::optional<Unscaled> b = ScaleUp(other.unscaled_, scale - other.scale_);
  Unscaled sum;
  if (!a || !b || __builtin_add_overflow(*a, *b, &sum)) return absl::nullopt;
  return ExactDecimal(sum, scale);
}

int ExactDecimal::Compare(const ExactDecimal& other) const {
  const int32_t scale = std::max(scale_, other.scale_);
  const absl::optional<Unscaled> a = ScaleUp(unscaled_, scale - scale_);
  const absl::optional<Unscaled> b = ScaleUp(other.unscaled_, scale - other.scale_);
  // Only the one with fewer places is scaled up; if it overflows, it is the
  // larger (the other fits in 128 bits).
  if (!a) return 1;
  if (!b) return -1;
  return *a < *b ? -1 : (*a > *b ? 1 : 0);
}

std::string ExactDecimal::ToString() const {
  char digits[64];  // 2^128 has 39 digits
  char* end = digits + sizeof(digits);
  char* p = end;
  Unscaled rest = unscaled_;
  do {
    *--p = static_cast<char>('0' + static_cast<int>(rest % 10));
    rest /= 10;
  } while (rest != 0);
  const absl::string_view all(p, static_cast<size_t>(end - p));
  if (scale_ == 0) return std::string(all);
  const size_t scale = static_cast<size_t>(scale_);
  if (all.size() > scale) {
    return absl::StrCat(all.substr(0, all.size() - scale), ".", all.substr(all.size() - scale));
  }
  return absl::StrCat("0.", std::string(scale - all.size(), '0'), all);
}

}  // namespace modelcatalog::catalog
