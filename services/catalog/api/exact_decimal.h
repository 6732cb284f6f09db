// Exact, non-negative decimal numbers for prices and what they add up to.
//
// Binary floating point cannot hold most decimal prices: 3e-6 is stored as
// 2.99999999999999992e-06, and a million tokens at it come to
// 2.9999999999999996. A price the hub writes as 3e-6 means exactly 0.000003,
// so a double is read back as the shortest decimal that names it (the digits
// the hub sent, whenever it sent 17 significant digits or fewer) and every
// product and sum is then done in 128-bit integers: unscaled × 10^-scale.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_API_EXACT_DECIMAL_H_
#define MODEL_CATALOG_SERVICES_CATALOG_API_EXACT_DECIMAL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace modelcatalog::catalog {

class ExactDecimal {
 public:
  ExactDecimal() = default;  // zero

  static ExactDecimal FromInteger(uint64_t value);
  // The shortest decimal that reads back as `value` (3e-6 → 0.000003).
  // INVALID_ARGUMENT for a negative, infinite or NaN value, or one whose
  // digits do not fit (beyond about 10^38).
  static absl::StatusOr<ExactDecimal> FromDouble(double value);
  // Plain decimal text as ToString writes it, optionally with an exponent
  // ("0.000003", "3e-6"); INVALID_ARGUMENT for anything else.
  static absl::StatusOr<ExactDecimal> Parse(absl::string_view text);

  // The exact product and sum; nullopt when the result does not fit 128 bits.
  absl::optional<ExactDecimal> Times(const ExactDecimal& other) const;
  absl::optional<ExactDecimal> Plus(const ExactDecimal& other) const;

  // -1, 0 or 1 as this is less than, equal to or greater than `other`; exact
  // whatever the scales.
  int Compare(const ExactDecimal& other) const;
  bool IsZero() const { return unscaled_ == 0; }

  // Digits, and a point with more digits only when there is a fraction: no
  // exponent, no trailing zeros after the point ("3", "0.000003", "6.75").
  std::string ToString() const;

 private:
  using Unscaled = unsigned __int128;
  ExactDecimal(Unscaled unscaled, int32_t scale);  // normalizes

  Unscaled unscaled_ = 0;
  int32_t scale_ = 0;  // digits after the point; 0 or more, none of them trailing zeros
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_API_EXACT_DECIMAL_H_
