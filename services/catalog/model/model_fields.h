// What the catalog's queries read of a model (filters, orderings, views),
// kept beside its serialization in the snapshot's entry and made once per
// model per sync: strings folded for case-insensitive comparison, prices and
// times as numbers, and where the BASIC view's bytes lie in the serialization.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_FIELDS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_FIELDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "modelcatalog/v1/model.pb.h"

namespace modelcatalog::catalog {

struct ModelFields {
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

  // The BASIC view: the first `basic_size` bytes of the entry's stored
  // serialization (StoredWire).
  uint32_t basic_size = 0;

  // Folded (FoldCase): what case-insensitive comparisons compare.
  std::string owned_by;
  std::string endpoint;
  std::string developer;       // developer.name; empty without a developer
  std::string model_type;      // the hub's string
  std::string pricing_method;  // the hub's string
  std::string source_model;
  bool has_source_model = false;
  modelcatalog::v1::ModelType model_type_enum = modelcatalog::v1::MODEL_TYPE_UNSPECIFIED;
  modelcatalog::v1::PricingMethod pricing_method_enum =
      modelcatalog::v1::PRICING_METHOD_UNSPECIFIED;
  std::vector<std::string> input;    // capabilities.input
  std::vector<std::string> output;   // capabilities.output
  std::vector<std::string> actions;  // fine_tuning.actions
  // Of the deployments, in their order: the hub's strings and the enums.
  std::vector<std::string> statuses;
  std::vector<modelcatalog::v1::DeploymentStatus> status_enums;

  double prices[kPriceCount] = {};
  uint32_t prices_present = 0;  // bit p: prices[p] is set
  bool HasPrice(Price p) const { return (prices_present >> p) & 1u; }

  absl::Time created = absl::InfinitePast();      // InfinitePast: none
  absl::Time released_at = absl::InfinitePast();  // InfinitePast: none
};

// The bytes a snapshot keeps of `model`: its deterministic serialization
// with description and request_schema moved to the end, so that the BASIC
// view, which leaves them out, is the first `*basic_size` bytes and costs one
// copy like the FULL one. Protobuf readers take fields in any order, and the
// bytes are as deterministic as the serialization.
std::string StoredWire(const modelcatalog::v1::Model& model, uint32_t* basic_size);

// The fields of `model`, whose StoredWire has `basic_size` bytes of BASIC view.
ModelFields FieldsOf(const modelcatalog::v1::Model& model, uint32_t basic_size);

// Sets the deployment fields (a live status replaces only those).
void SetDeploymentFields(
    const google::protobuf::RepeatedPtrField<modelcatalog::v1::Deployment>& deployments,
    ModelFields* fields);

// Appends the model's BASIC view: the first fields.basic_size bytes of its
// StoredWire `wire`.
void AppendBasic(absl::string_view wire, const ModelFields& fields, std::string* out);
// Its size.
size_t BasicSize(absl::string_view wire, const ModelFields& fields);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_MODEL_MODEL_FIELDS_H_
