#include "services/catalog/model/model_fields.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <vector>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "services/catalog/model/catalog_snapshot.h"
#include "services/catalog/model/search_text.h"
#include "services/catalog/model/text_fold.h"

namespace modelcatalog::catalog {
namespace {

using google::protobuf::internal::WireFormatLite;

constexpr int kDescriptionField = 6;     // Model.description
constexpr int kRequestSchemaField = 19;  // Model.request_schema

absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
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

ModelFields::ModelFields(const ModelFields& other) { *this = other; }

ModelFields& ModelFields::operator=(const ModelFields& other) {
  if (this == &other) return *this;
  basic_size = other.basic_size;
  has_source_model = other.has_source_model;
  model_type_enum = other.model_type_enum;
  pricing_method_enum = other.pricing_method_enum;
  prices_present = other.prices_present;
  std::copy(std::begin(other.prices), std::end(other.prices), std::begin(prices));
  created = other.created;
  released_at = other.released_at;
  block_.reset();
  if (other.block_ != nullptr) {
    const uint32_t size = other.Header(0);
    block_.reset(new char[size]);
    std::memcpy(block_.get(), other.block_.get(), size);
  }
  return *this;
}

uint32_t ModelFields::Header(size_t i) const {
  uint32_t value;
  std::memcpy(&value, block_.get() + i * sizeof(uint32_t), sizeof(value));
  return value;
}

size_t ModelFields::PieceCount() const {
  size_t count = kTextCount;
  for (size_t l = 0; l < kListCount; ++l) count += Header(1 + l);
  return count;
}

const char* ModelFields::Characters() const {
  const size_t pieces = PieceCount();
  return block_.get() + (1 + kListCount + pieces) * sizeof(uint32_t) + Header(1 + kStatuses);
}

absl::string_view ModelFields::Piece(size_t i) const {
  if (block_ == nullptr) return {};
  const size_t ends = 1 + kListCount;
  const uint32_t begin = i == 0 ? 0 : Header(ends + i - 1);
  return absl::string_view(Characters() + begin, Header(ends + i) - begin);
}

ModelFields::TextList ModelFields::list(List l) const {
  if (block_ == nullptr) return TextList(this, 0, 0);
  size_t first = kTextCount;
  for (size_t i = 0; i < static_cast<size_t>(l); ++i) first += Header(1 + i);
  return TextList(this, first, Header(1 + l));
}

modelcatalog::v1::DeploymentStatus ModelFields::status_enum(size_t i) const {
  const size_t statuses_at = (1 + kListCount + PieceCount()) * sizeof(uint32_t);
  return static_cast<modelcatalog::v1::DeploymentStatus>(
      static_cast<uint8_t>(block_[statuses_at + i]));
}

ModelFields FieldsOf(const modelcatalog::v1::Model& model, uint32_t basic_size) {
  ModelFields fields;
  fields.basic_size = basic_size;
  fields.model_type_enum = model.model_type();
  fields.has_source_model = model.has_source_model();
  if (model.has_pricing()) {
    const modelcatalog::v1::Pricing& p = model.pricing();
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
    SetPrice(&fields, ModelFields::kFineTuningCostPerSecond,
             model.fine_tuning().has_cost_per_second(), model.fine_tuning().cost_per_second());
  }
  if (model.has_created()) fields.created = TimeOf(model.created());
  if (model.has_released_at()) fields.released_at = TimeOf(model.released_at());

  // The strings, folded into one buffer, each piece's end noted; then the
  // block is made at its final size.
  thread_local std::string characters;
  thread_local std::vector<uint32_t> ends;
  characters.clear();
  ends.clear();
  const auto add = [](absl::string_view text) {
    AppendFoldCase(text, &characters);
    ends.push_back(static_cast<uint32_t>(characters.size()));
  };
  add(model.owned_by());
  add(model.endpoint());
  add(model.has_developer() ? absl::string_view(model.developer().name()) : absl::string_view());
  add(model.model_type_raw());
  add(model.has_pricing() ? absl::string_view(model.pricing().method_raw()) : absl::string_view());
  add(model.source_model());
  characters += ModelSearchWords(
      model.id(), model.display_name(),
      model.has_developer() ? absl::string_view(model.developer().name()) : absl::string_view());
  ends.push_back(static_cast<uint32_t>(characters.size()));
  const google::protobuf::RepeatedPtrField<std::string> none;
  const auto& input = model.has_capabilities() ? model.capabilities().input() : none;
  const auto& output = model.has_capabilities() ? model.capabilities().output() : none;
  const auto& actions = model.has_fine_tuning() ? model.fine_tuning().actions() : none;
  for (const auto* list : {&input, &output, &actions}) {
    for (const std::string& value : *list) add(value);
  }
  for (const modelcatalog::v1::Deployment& deployment : model.deployments()) {
    add(deployment.status_raw());
  }
  if (characters.empty() && input.empty() && output.empty() && actions.empty() &&
      model.deployments().empty()) {
    return fields;  // nothing to keep: no block
  }
  const uint32_t list_sizes[ModelFields::kListCount] = {
      static_cast<uint32_t>(input.size()), static_cast<uint32_t>(output.size()),
      static_cast<uint32_t>(actions.size()), static_cast<uint32_t>(model.deployments_size())};
  const size_t header_bytes = (1 + ModelFields::kListCount + ends.size()) * sizeof(uint32_t);
  const size_t size = header_bytes + model.deployments_size() + characters.size();
  fields.block_.reset(new char[size]);
  char* at = fields.block_.get();
  const auto put = [&at](uint32_t value) {
    std::memcpy(at, &value, sizeof(value));
    at += sizeof(value);
  };
  put(static_cast<uint32_t>(size));
  for (uint32_t list_size : list_sizes) put(list_size);
  for (uint32_t end : ends) put(end);
  for (const modelcatalog::v1::Deployment& deployment : model.deployments()) {
    // Enum numbers are small; one the proto does not know reads back as it came.
    *at++ = static_cast<char>(static_cast<uint8_t>(deployment.status()));
  }
  std::memcpy(at, characters.data(), characters.size());
  return fields;
}

void AppendBasic(absl::string_view wire, const ModelFields& fields, std::string* out) {
  out->append(wire.data(), fields.basic_size);
}

size_t BasicSize(absl::string_view, const ModelFields& fields) { return fields.basic_size; }

}  // namespace modelcatalog::catalog
