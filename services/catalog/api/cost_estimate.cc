#include "services/catalog/api/cost_estimate.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace modelcatalog::catalog {
namespace {

using Field = UsageQuantities::Field;
using Problem = ModelCost::Problem;

// The quantities each pricing method bills, and the price of each.
struct Billing {
  Field usage;
  ModelFields::Price price;
};

// The price of a video second: plain, high resolution or with audio, as asked.
ModelFields::Price VideoPrice(const UsageQuantities& usage) {
  if (usage.with_audio) return ModelFields::kCostPerSecondWithAudio;
  if (usage.high_res) return ModelFields::kCostPerSecondHighRes;
  return ModelFields::kCostPerSecond;
}

// What `method` bills: at most two quantities; the count, 0 for a method
// this version does not know.
int BillingOf(modelcatalog::v1::PricingMethod method, const UsageQuantities& usage,
              std::array<Billing, 2>* billed) {
  switch (method) {
    case modelcatalog::v1::PRICING_METHOD_TOKEN:
      (*billed)[0] = {UsageQuantities::kInputTokens, ModelFields::kInputCostPerToken};
      (*billed)[1] = {UsageQuantities::kOutputTokens, ModelFields::kOutputCostPerToken};
      return 2;
    case modelcatalog::v1::PRICING_METHOD_TIME:
      (*billed)[0] = {UsageQuantities::kSeconds, ModelFields::kCostPerSecond};
      return 1;
    case modelcatalog::v1::PRICING_METHOD_PER_IMAGE:
      (*billed)[0] = {UsageQuantities::kImages, ModelFields::kCostPerImage};
      return 1;
    case modelcatalog::v1::PRICING_METHOD_PER_VIDEO_OUTPUT_SECOND:
      (*billed)[0] = {UsageQuantities::kVideoOutputSeconds, VideoPrice(usage)};
      return 1;
    default:
      return 0;
  }
}

absl::StatusOr<ExactDecimal> ReadCount(const char* name, int64_t value) {
  if (value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("usage.", name, " must not be negative, got ", value));
  }
  return ExactDecimal::FromInteger(static_cast<uint64_t>(value));
}

absl::StatusOr<ExactDecimal> ReadAmount(const char* name, double value) {
  if (!std::isfinite(value) || value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("usage.", name, " must be a finite number of 0 or more, got ", value));
  }
  absl::StatusOr<ExactDecimal> exact = ExactDecimal::FromDouble(value);
  if (!exact.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("usage.", name, ": ", exact.status().message()));
  }
  return exact;
}

}  // namespace

const char* UsageFieldName(Field field) {
  static constexpr const char* kNames[] = {"input_tokens", "output_tokens", "seconds", "images",
                                           "video_output_seconds"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == UsageQuantities::kFieldCount);
  return kNames[field];
}

const char* PriceFieldName(ModelFields::Price price) {
  static constexpr const char* kNames[] = {"input_cost_per_token",
                                           "output_cost_per_token",
                                           "cost_per_second",
                                           "cost_per_image",
                                           "cost_per_second_high_res",
                                           "cost_per_second_with_audio",
                                           "fine_tuning.cost_per_second"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == ModelFields::kPriceCount);
  return kNames[price];
}

std::string UsageQuantities::Key() const {
  std::string key;
  for (const ExactDecimal& q : quantity) absl::StrAppend(&key, q.ToString(), ",");
  absl::StrAppend(&key, high_res ? "h" : "-", with_audio ? "a" : "-");
  return key;
}

absl::StatusOr<UsageQuantities> ReadUsage(const modelcatalog::v1::Usage& usage) {
  UsageQuantities read;
  absl::StatusOr<ExactDecimal> q[] = {
      ReadCount("input_tokens", usage.input_tokens()),
      ReadCount("output_tokens", usage.output_tokens()),
      ReadAmount("seconds", usage.seconds()),
      ReadCount("images", usage.images()),
      ReadAmount("video_output_seconds", usage.video_output_seconds()),
  };
  bool all_zero = true;
  for (int f = 0; f < UsageQuantities::kFieldCount; ++f) {
    if (!q[f].ok()) return q[f].status();
    read.quantity[f] = *q[f];
    all_zero = all_zero && q[f]->IsZero();
  }
  if (all_zero) {
    return absl::InvalidArgumentError(
        "usage is empty: give at least one of input_tokens, output_tokens, seconds, images and "
        "video_output_seconds");
  }
  if (usage.high_res() && usage.with_audio()) {
    return absl::InvalidArgumentError(
        "usage.high_res and usage.with_audio are both set: the hub publishes a price per video "
        "second for each, not for both together");
  }
  read.high_res = usage.high_res();
  read.with_audio = usage.with_audio();
  return read;
}

ModelCost PriceModel(const ModelFields& fields, const UsageQuantities& usage) {
  ModelCost cost;
  std::array<Billing, 2> billed;
  const int count = BillingOf(fields.pricing_method_enum, usage, &billed);
  if (count == 0) {
    cost.problem = Problem::kUnknownMethod;
    return cost;
  }
  for (int i = 0; i < count; ++i) {
    const ExactDecimal& quantity = usage.quantity[billed[i].usage];
    // A quantity of 0 costs nothing whatever the price, or its absence.
    if (quantity.IsZero()) continue;
    cost.price = billed[i].price;
    cost.usage = billed[i].usage;
    if (!fields.HasPrice(billed[i].price)) {
      cost.problem = Problem::kMissingPrice;
      return cost;
    }
    absl::StatusOr<ExactDecimal> unit_price = ExactDecimal::FromDouble(fields.prices[cost.price]);
    if (!unit_price.ok()) {
      cost.problem = Problem::kBadPrice;
      return cost;
    }
    const absl::optional<ExactDecimal> amount = unit_price->Times(quantity);
    const absl::optional<ExactDecimal> total = amount ? cost.total.Plus(*amount) : absl::nullopt;
    if (!total) {
      cost.problem = Problem::kOutOfRange;
      return cost;
    }
    cost.lines[cost.line_count++] = {billed[i].price, billed[i].usage, *unit_price, *amount};
    cost.total = *total;
  }
  if (cost.line_count == 0) cost.problem = Problem::kNothingBilled;
  cost.price = ModelFields::kPriceCount;
  cost.usage = UsageQuantities::kFieldCount;
  return cost;
}

absl::Status CostProblem(const CatalogEntry& entry, const ModelCost& cost,
                         const UsageQuantities& usage) {
  const absl::string_view method = entry.fields.text(ModelFields::kPricingMethod);
  switch (cost.problem) {
    case Problem::kNone:
      return absl::OkStatus();
    case Problem::kMissingPrice:
      return absl::FailedPreconditionError(
          absl::StrCat("model ", entry.id, " has no pricing.", PriceFieldName(cost.price),
                       " (the hub sent none), which its \"", method, "\" pricing needs for ",
                       UsageFieldName(cost.usage)));
    case Problem::kBadPrice:
      return absl::FailedPreconditionError(
          absl::StrCat("model ", entry.id, " has pricing.", PriceFieldName(cost.price), " = ",
                       entry.fields.prices[cost.price], ", which is not a price"));
    case Problem::kUnknownMethod:
      if (method.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("model ", entry.id, " has no pricing method: it cannot be priced"));
      }
      return absl::FailedPreconditionError(
          absl::StrCat("model ", entry.id, " has pricing method \"", method,
                       "\", which this version does not know how to price"));
    case Problem::kNothingBilled: {
      std::array<Billing, 2> billed;
      const int count = BillingOf(entry.fields.pricing_method_enum, usage, &billed);
      std::vector<std::string> names;
      for (int i = 0; i < count; ++i) names.push_back(UsageFieldName(billed[i].usage));
      return absl::FailedPreconditionError(absl::StrCat("model ", entry.id, " is priced by \"",
                                                        method, "\": the usage must give ",
                                                        absl::StrJoin(names, " or ")));
    }
    case Problem::kOutOfRange:
      return absl::OutOfRangeError(
          absl::StrCat("the cost of model ", entry.id,
                       " for this usage does not fit the exact arithmetic (pricing.",
                       PriceFieldName(cost.price), ")"));
  }
  return absl::InternalError("unknown pricing problem");
}

void WriteEstimate(const CatalogEntry& entry, const ModelCost& cost, const UsageQuantities& usage,
                   modelcatalog::v1::CostEstimate* estimate) {
  estimate->set_model_id(entry.id);
  estimate->set_pricing_method(entry.fields.pricing_method_enum);
  estimate->set_pricing_method_raw(std::string(entry.fields.text(ModelFields::kPricingMethod)));
  estimate->set_total(cost.total.ToString());
  estimate->set_currency_code("USD");
  for (int i = 0; i < cost.line_count; ++i) {
    const ModelCost::Line& line = cost.lines[i];
    modelcatalog::v1::CostLine* out = estimate->add_lines();
    out->set_price_field(PriceFieldName(line.price));
    out->set_unit_price(line.unit_price.ToString());
    out->set_usage_field(UsageFieldName(line.usage));
    out->set_quantity(usage.quantity[line.usage].ToString());
    out->set_amount(line.amount.ToString());
  }
}

}  // namespace modelcatalog::catalog
