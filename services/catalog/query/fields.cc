#include "services/catalog/query/fields.h"

#include "absl/strings/ascii.h"
#include "modelcatalog/v1/model.pb.h"

namespace modelcatalog::catalog {
namespace {

ModelFields::Price PriceOf(FieldId field) {
  switch (field) {
    case FieldId::kInputCostPerToken:
      return ModelFields::kInputCostPerToken;
    case FieldId::kOutputCostPerToken:
      return ModelFields::kOutputCostPerToken;
    case FieldId::kCostPerSecond:
      return ModelFields::kCostPerSecond;
    case FieldId::kCostPerImage:
      return ModelFields::kCostPerImage;
    case FieldId::kCostPerSecondHighRes:
      return ModelFields::kCostPerSecondHighRes;
    case FieldId::kCostPerSecondWithAudio:
      return ModelFields::kCostPerSecondWithAudio;
    default:
      return ModelFields::kFineTuningCostPerSecond;
  }
}

}  // namespace

const std::vector<FieldSpec>& AllFields() {
  static const auto* fields = new std::vector<FieldSpec>{
      {"id", FieldId::kId, FieldType::kText, true},
      {"display_name", FieldId::kDisplayName, FieldType::kText, true},
      {"owned_by", FieldId::kOwnedBy, FieldType::kText, true},
      {"model_type", FieldId::kModelType, FieldType::kEnum, false},
      {"endpoint", FieldId::kEndpoint, FieldType::kText, false},
      {"developer.name", FieldId::kDeveloperName, FieldType::kText, true},
      {"capabilities.input", FieldId::kCapabilitiesInput, FieldType::kTextList, false},
      {"capabilities.output", FieldId::kCapabilitiesOutput, FieldType::kTextList, false},
      {"pricing.method", FieldId::kPricingMethod, FieldType::kEnum, false},
      {"pricing.input_cost_per_token", FieldId::kInputCostPerToken, FieldType::kNumber, true},
      {"pricing.output_cost_per_token", FieldId::kOutputCostPerToken, FieldType::kNumber, true},
      {"pricing.cost_per_second", FieldId::kCostPerSecond, FieldType::kNumber, true},
      {"pricing.cost_per_image", FieldId::kCostPerImage, FieldType::kNumber, true},
      {"pricing.cost_per_second_high_res", FieldId::kCostPerSecondHighRes, FieldType::kNumber,
       true},
      {"pricing.cost_per_second_with_audio", FieldId::kCostPerSecondWithAudio, FieldType::kNumber,
       true},
      {"fine_tuning.actions", FieldId::kFineTuningActions, FieldType::kTextList, false},
      {"fine_tuning.cost_per_second", FieldId::kFineTuningCostPerSecond, FieldType::kNumber, true},
      {"deployments.status", FieldId::kDeploymentsStatus, FieldType::kEnumList, false},
      {"source_model", FieldId::kSourceModel, FieldType::kText, false},
      {"created", FieldId::kCreated, FieldType::kTime, true},
      {"released_at", FieldId::kReleasedAt, FieldType::kTime, true},
  };
  return *fields;
}

const FieldSpec* FindField(absl::string_view name) {
  for (const FieldSpec& spec : AllFields()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

absl::string_view TextOf(const CatalogEntry& entry, FieldId field) {
  const ModelFields& f = entry.fields;
  switch (field) {
    case FieldId::kId:
      return entry.folded_id;
    case FieldId::kDisplayName:
      return entry.folded_display_name;
    case FieldId::kOwnedBy:
      return f.text(ModelFields::kOwnedBy);
    case FieldId::kModelType:
      return f.text(ModelFields::kModelType);
    case FieldId::kEndpoint:
      return f.text(ModelFields::kEndpoint);
    case FieldId::kDeveloperName:
      return f.text(ModelFields::kDeveloper);
    case FieldId::kPricingMethod:
      return f.text(ModelFields::kPricingMethod);
    case FieldId::kSourceModel:
      return f.text(ModelFields::kSourceModel);
    default:
      return {};
  }
}

bool HasText(const CatalogEntry& entry, FieldId field) {
  if (field == FieldId::kSourceModel) return entry.fields.has_source_model;
  return !TextOf(entry, field).empty();
}

ModelFields::TextList TextListOf(const CatalogEntry& entry, FieldId field) {
  switch (field) {
    case FieldId::kCapabilitiesInput:
      return entry.fields.list(ModelFields::kInput);
    case FieldId::kCapabilitiesOutput:
      return entry.fields.list(ModelFields::kOutput);
    case FieldId::kFineTuningActions:
      return entry.fields.list(ModelFields::kActions);
    case FieldId::kDeploymentsStatus:
      return entry.fields.list(ModelFields::kStatuses);
    default:
      return {};
  }
}

int EnumOf(const CatalogEntry& entry, FieldId field) {
  if (field == FieldId::kModelType) return entry.fields.model_type_enum;
  if (field == FieldId::kPricingMethod) return entry.fields.pricing_method_enum;
  return -1;
}

bool NumberOf(const CatalogEntry& entry, FieldId field, double* value) {
  const ModelFields::Price price = PriceOf(field);
  if (!entry.fields.HasPrice(price)) return false;
  *value = entry.fields.prices[price];
  return true;
}

bool TimeOf(const CatalogEntry& entry, FieldId field, absl::Time* value) {
  const absl::Time t = field == FieldId::kCreated ? entry.fields.created : entry.fields.released_at;
  if (t == absl::InfinitePast()) return false;
  *value = t;
  return true;
}

int EnumNumberOf(FieldId field, absl::string_view name) {
  const google::protobuf::EnumDescriptor* descriptor =
      field == FieldId::kModelType           ? modelcatalog::v1::ModelType_descriptor()
      : field == FieldId::kPricingMethod     ? modelcatalog::v1::PricingMethod_descriptor()
      : field == FieldId::kDeploymentsStatus ? modelcatalog::v1::DeploymentStatus_descriptor()
                                             : nullptr;
  if (descriptor == nullptr) return -1;
  const std::string upper = absl::AsciiStrToUpper(name);
  const google::protobuf::EnumValueDescriptor* value = descriptor->FindValueByName(upper);
  return value == nullptr ? -1 : value->number();
}

}  // namespace modelcatalog::catalog
