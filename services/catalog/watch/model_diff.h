// What changed in one model between two states, as a catalog-wide change
// feed tells it: the paths of the fields that differ, in the form of a
// google.protobuf.FieldMask (proto field names, dotted into the model's own
// messages: "pricing.input_cost_per_token", "capabilities.input",
// "deployments", "display_name"), and the earlier state cut to those paths.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_WATCH_MODEL_DIFF_H_
#define MODEL_CATALOG_SERVICES_CATALOG_WATCH_MODEL_DIFF_H_

#include <string>
#include <vector>

#include "modelcatalog/v1/model.pb.h"

namespace modelcatalog::catalog {

// The paths of the fields that differ between `before` and `after`, in the
// order of model.proto. The model's own messages (pricing, capabilities, fine_tuning,
// developer) are compared field by field; anything else (a repeated field, a
// timestamp, a JSON Schema) is one path, changed as a whole. A field that is
// set in one and not in the other differs, even when the set value is the
// default.
std::vector<std::string> ChangedFields(const modelcatalog::v1::Model& before,
                                       const modelcatalog::v1::Model& after);

// `model` holding only the fields at `paths` (as ChangedFields gives them).
modelcatalog::v1::Model OnlyFields(const modelcatalog::v1::Model& model,
                                   const std::vector<std::string>& paths);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_WATCH_MODEL_DIFF_H_
