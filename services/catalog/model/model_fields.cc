#include "services/catalog/model/model_fields.h"

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "services/catalog/model/catalog_snapshot.h"
#include "services/catalog/model/text_fold.h"

namespace modelcatalog::catalog {
namespace {

using google::protobuf::internal::WireFormatLite;

constexpr int kDescriptionField = 6;     // Model.description
constexpr int kRequestSchemaField = 19;  // Model.request_schema

absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

std::vector<std::string> Folded(const google::protobuf::RepeatedPtrField<std::string>& values) {
  std::vector<std::string> folded;
  folded.reserve(values.size());
  for (const std::string& value : values) folded.push_back(FoldCase(value));
  return folded;
}

void SetPrice(ModelFields* fields, ModelFields::Price price, bool has, double value) {
  if (!has) return;
  fields->prices[price] = value;
  fields->prices_present |= 1u << price;
}

// Where top-level field `number` lies in `wire`: [begin, end), both 0 if absent.
// Deterministic serialization writes fields in number order, each once.
void FindField(absl::string_view wire, int number, size_t* begin, size_t* end) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(wire.data()),
                                            static_cast<int>(wire.size()));
  while (true) {
    const int start = in.CurrentPosition();
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return;
    if (!WireFormatLite::SkipField(&in, tag)) return;
    if (WireFormatLite::GetTagFieldNumber(tag) == number) {
      *begin = static_cast<size_t>(start);
      *end = static_cast<size_t>(in.CurrentPosition());
      return;
    }
  }
}

}  // namespace

std::string StoredWire(const modelcatalog::v1::Model& model, uint32_t* basic_size) {
  const std::string wire = DeterministicWire(model);
  size_t description_begin = 0, description_end = 0, schema_begin = 0, schema_end = 0;
  FindField(wire, kDescriptionField, &description_begin, &description_end);
  FindField(wire, kRequestSchemaField, &schema_begin, &schema_end);
  const absl::string_view bytes(wire);
  const absl::string_view description =
      bytes.substr(description_begin, description_end - description_begin);
  const absl::string_view schema = bytes.substr(schema_begin, schema_end - schema_begin);
  std::string stored;
  stored.reserve(wire.size());
  const auto append = [&stored](absl::string_view piece) {
    stored.append(piece.data(), piece.size());
  };
  // Field 6 comes before field 19: three pieces around them, then the two.
  if (schema.empty()) schema_begin = schema_end = wire.size();
  if (description.empty()) description_begin = description_end = schema_begin;
  append(bytes.substr(0, description_begin));
  append(bytes.substr(description_end, schema_begin - description_end));
  append(bytes.substr(schema_end));
  *basic_size = static_cast<uint32_t>(stored.size());
  append(description);
  append(schema);
  return stored;
}

ModelFields FieldsOf(const modelcatalog::v1::Model& model, uint32_t basic_size) {
  ModelFields fields;
  fields.basic_size = basic_size;
  fields.owned_by = FoldCase(model.owned_by());
  fields.endpoint = FoldCase(model.endpoint());
  if (model.has_developer()) fields.developer = FoldCase(model.developer().name());
  fields.model_type = FoldCase(model.model_type_raw());
  fields.model_type_enum = model.model_type();
  fields.has_source_model = model.has_source_model();
  fields.source_model = FoldCase(model.source_model());
  if (model.has_capabilities()) {
    fields.input = Folded(model.capabilities().input());
    fields.output = Folded(model.capabilities().output());
  }
  if (model.has_pricing()) {
    const modelcatalog::v1::Pricing& p = model.pricing();
    fields.pricing_method = FoldCase(p.method_raw());
    fields.pricing_method_enum = p.method();
    SetPrice(&fields, ModelFields::kInputCostPerToken, p.has_input_cost_per_token(),
             p.input_cost_per_token());
    SetPrice(&fields, ModelFields::kOutputCostPerToken, p.has_output_cost_per_token(),
             p.output_cost_per_token());
    SetPrice(&fields, ModelFields::kCostPerSecond, p.has_cost_per_second(), p.cost_per_second());
    SetPrice(&fields, ModelFields::kCostPerImage, p.has_cost_per_image(), p.cost_per_image());
    SetPrice(&fields, ModelFields::kCostPerSecondHighRes, p.has_cost_per_second_high_res(),
             p.cost_per_second_high_res());
    SetPrice(&fields, ModelFields::kCostPerSecondWithAudio, p.has_cost_per_second_with_audio(),
             p.cost_per_second_with_audio());
  }
  if (model.has_fine_tuning()) {
    fields.actions = Folded(model.fine_tuning().actions());
    SetPrice(&fields, ModelFields::kFineTuningCostPerSecond,
             model.fine_tuning().has_cost_per_second(), model.fine_tuning().cost_per_second());
  }
  if (model.has_created()) fields.created = TimeOf(model.created());
  if (model.has_released_at()) fields.released_at = TimeOf(model.released_at());
  SetDeploymentFields(model.deployments(), &fields);
  return fields;
}

void SetDeploymentFields(
    const google::protobuf::RepeatedPtrField<modelcatalog::v1::Deployment>& deployments,
    ModelFields* fields) {
  fields->statuses.clear();
  fields->status_enums.clear();
  for (const modelcatalog::v1::Deployment& deployment : deployments) {
    fields->statuses.push_back(FoldCase(deployment.status_raw()));
    fields->status_enums.push_back(deployment.status());
  }
}

void AppendBasic(absl::string_view wire, const ModelFields& fields, std::string* out) {
  out->append(wire.data(), fields.basic_size);
}

size_t BasicSize(absl::string_view, const ModelFields& fields) { return fields.basic_size; }

}  // namespace modelcatalog::catalog
