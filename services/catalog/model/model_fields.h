// What the catalog's queries read of a model (filters, orderings, views),
// kept beside its serialization in the snapshot's entry and made once per
// model per sync: strings folded for case-insensitive comparison, prices and
// times as numbers, and the size of the BASIC view.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_FIELDS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_FIELDS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "modelcatalog/v1/model.pb.h"

namespace modelcatalog::catalog {

// Kept for every model of every snapshot, so it is compact: numbers inline,
// and every folded string in one heap block (a model's dozen strings cost one
// allocation and a few bytes of offsets each, not a std::string or
// std::vector apiece).
class ModelFields {
 public:
  // The prices a model may have, in the order of model.proto (fine-tuning last).
  enum Price {
    kInputCostPerToken,
    kOutputCostPerToken,
    kCostPerSecond,
    kCostPerImage,
    kCostPerSecondHighRes,
    kCostPerSecondWithAudio,
    kFineTuningCostPerSecond,
    kPriceCount,
  };
  // The single strings, folded (FoldCase): what case-insensitive comparisons
  // compare.
  enum Text {
    kOwnedBy,
    kEndpoint,
    kDeveloper,      // developer.name; empty without a developer
    kModelType,      // the hub's string
    kPricingMethod,  // the hub's string
    kSourceModel,
    // Not folded: what search reads of the id, display name and developer
    // name, encoded (ModelSearchWords in search_text.h).
    kSearchWords,
    kTextCount,
  };
  // The repeated strings, folded.
  enum List {
    kInput,     // capabilities.input
    kOutput,    // capabilities.output
    kActions,   // fine_tuning.actions
    kStatuses,  // the deployments' statuses (the hub's strings), in their order
    kListCount,
  };

  // The values of one list.
  class TextList {
   public:
    TextList() = default;  // empty
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    absl::string_view operator[](size_t i) const { return fields_->Piece(first_ + i); }

   private:
    friend class ModelFields;
    TextList(const ModelFields* fields, size_t first, size_t size)
        : fields_(fields), first_(first), size_(size) {}
    const ModelFields* fields_ = nullptr;
    size_t first_ = 0;
    size_t size_ = 0;
  };

  ModelFields() = default;
  ModelFields(const ModelFields& other);
  ModelFields& operator=(const ModelFields& other);
  ModelFields(ModelFields&&) = default;
  ModelFields& operator=(ModelFields&&) = default;

  absl::string_view text(Text t) const { return Piece(t); }
  TextList list(List l) const;
  // The enum of deployment i's status, in the order of list(kStatuses).
  modelcatalog::v1::DeploymentStatus status_enum(size_t i) const;

  bool HasPrice(Price p) const { return (prices_present >> p) & 1u; }

  // The BASIC view: the first `basic_size` bytes of the entry's stored
  // serialization (StoredWire).
  uint32_t basic_size = 0;
  bool has_source_model = false;
  modelcatalog::v1::ModelType model_type_enum = modelcatalog::v1::MODEL_TYPE_UNSPECIFIED;
  modelcatalog::v1::PricingMethod pricing_method_enum =
      modelcatalog::v1::PRICING_METHOD_UNSPECIFIED;
  uint32_t prices_present = 0;  // bit p: prices[p] is set
  double prices[kPriceCount] = {};
  absl::Time created = absl::InfinitePast();      // InfinitePast: none
  absl::Time released_at = absl::InfinitePast();  // InfinitePast: none

 private:
  friend ModelFields FieldsOf(const modelcatalog::v1::Model& model, uint32_t basic_size);

  // The block: uint32 size of the block; uint32 list sizes [kListCount];
  // uint32 end offset of each piece (the texts, then every list's values, in
  // list order) in the characters; uint8 status enums; the characters.
  uint32_t Header(size_t i) const;
  size_t PieceCount() const;
  absl::string_view Piece(size_t i) const;
  const char* Characters() const;

  std::unique_ptr<char[]> block_;  // null: every string empty, every list empty
};

// The bytes a snapshot keeps of `model`: its deterministic serialization
// with description and request_schema moved to the end, so that the BASIC
// view, which leaves them out, is the first `*basic_size` bytes and costs one
// copy like the FULL one. Protobuf readers take fields in any order, and the
// bytes are as deterministic as the serialization.
std::string StoredWire(const modelcatalog::v1::Model& model, uint32_t* basic_size);

// The fields of `model`, whose StoredWire has `basic_size` bytes of BASIC view.
ModelFields FieldsOf(const modelcatalog::v1::Model& model, uint32_t basic_size);

// Appends the model's BASIC view: the first fields.basic_size bytes of its
// StoredWire `wire`.
void AppendBasic(absl::string_view wire, const ModelFields& fields, std::string* out);
// Its size.
size_t BasicSize(absl::string_view wire, const ModelFields& fields);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_FIELDS_H_
