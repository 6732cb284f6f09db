// The hub's pricing rules: what a call with a given usage costs on a model,
// exactly (ExactDecimal), from the prices a snapshot keeps for each model
// (ModelFields). EstimateCost in catalog_service.proto documents the rules;
// this is their one implementation.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_API_COST_ESTIMATE_H_
#define MODEL_CATALOG_SERVICES_CATALOG_API_COST_ESTIMATE_H_

#include <array>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "modelcatalog/v1/catalog_service.pb.h"
#include "services/catalog/api/exact_decimal.h"
#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::catalog {

// The quantities of a Usage message, read exactly.
struct UsageQuantities {
  enum Field { kInputTokens, kOutputTokens, kSeconds, kImages, kVideoOutputSeconds, kFieldCount };
  std::array<ExactDecimal, kFieldCount> quantity;
  bool high_res = false;
  bool with_audio = false;

  // One text per distinct usage, for memo keys and page-token fingerprints.
  std::string Key() const;
};

// The Usage field's name, e.g. "input_tokens".
const char* UsageFieldName(UsageQuantities::Field field);
// The Pricing field's name of a price, e.g. "cost_per_image".
const char* PriceFieldName(ModelFields::Price price);

// INVALID_ARGUMENT naming the field (`usage.seconds`) for a negative or
// non-finite quantity, for a usage that is all zero, and for `high_res` with
// `with_audio`.
absl::StatusOr<UsageQuantities> ReadUsage(const modelcatalog::v1::Usage& usage);

// What one model costs for one usage, or why it cannot be priced. Cheap to
// make: no strings and no allocation, so a filter's thousands of matches can
// be priced and ordered.
struct ModelCost {
  enum class Problem {
    kNone,
    kMissingPrice,   // `price` is null at the hub
    kBadPrice,       // `price` is negative or not a number
    kUnknownMethod,  // no pricing method, or one this version does not know
    kNothingBilled,  // the usage has none of the quantities the method bills
    kOutOfRange,     // an amount does not fit the exact arithmetic
  };
  struct Line {
    ModelFields::Price price;
    UsageQuantities::Field usage;
    ExactDecimal unit_price;
    ExactDecimal amount;
  };

  bool ok() const { return problem == Problem::kNone; }

  Problem problem = Problem::kNone;
  // The price and the quantity of a problem.
  ModelFields::Price price = ModelFields::kPriceCount;
  UsageQuantities::Field usage = UsageQuantities::kFieldCount;
  std::array<Line, 2> lines;  // the first line_count
  int line_count = 0;
  ExactDecimal total;
};

ModelCost PriceModel(const ModelFields& fields, const UsageQuantities& usage);

// FAILED_PRECONDITION (OUT_OF_RANGE for kOutOfRange) naming the model and
// what it lacks, for a cost that is not ok().
absl::Status CostProblem(const CatalogEntry& entry, const ModelCost& cost,
                         const UsageQuantities& usage);

// The estimate of `entry` for a cost that is ok().
void WriteEstimate(const CatalogEntry& entry, const ModelCost& cost, const UsageQuantities& usage,
                   modelcatalog::v1::CostEstimate* estimate);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_API_COST_ESTIMATE_H_
