// The emulator's catalog: models kept as the JSON objects the hub serves, plus
// the few fields requests look up. The emulator deliberately knows nothing of
// the project's proto types: it is an independent implementation of the hub.
#ifndef MODEL_CATALOG_SERVICES_HUB_EMULATOR_CATALOG_H_
#define MODEL_CATALOG_SERVICES_HUB_EMULATOR_CATALOG_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rapidjson/document.h"

namespace modelcatalog {
namespace hub_emulator {

// One model. The JSON text is immutable and shared: snapshots (a list being
// written, the initial catalog kept for reset) cost a pointer copy, and a list
// response is the concatenation of these texts without re-serialising.
struct CatalogModel {
  std::string id;
  std::shared_ptr<const std::string> json;  // compact serialisation of the object
  // Derived from `json` for filtering and search.
  std::string folded_id;              // FoldCase(id)
  std::string folded_display_name;    // FoldCase(display_name), "" if not a string
  std::string folded_developer_name;  // FoldCase(developer.name), "" if absent
  std::vector<std::string> actions;   // fine_tuning.actions that are strings
  bool is_custom = false;             // model_type == "custom"
};

// Parses JSON text (numbers at full precision, UTF-8 validated). Returns
// INVALID_ARGUMENT naming the error and its offset.
absl::StatusOr<rapidjson::Document> ParseJson(absl::string_view text);

// Compact JSON text of `value`.
std::string SerializeJson(const rapidjson::Value& value);

// Builds a CatalogModel from a model object. Returns INVALID_ARGUMENT if it is
// not an object or has no string "id". Nothing else is checked: tests must be
// able to serve models a real hub would not, to exercise clients.
absl::StatusOr<CatalogModel> MakeCatalogModel(const rapidjson::Value& model);

// Parses a catalog in the hub's list shape, {"object":"list","data":[...]}
// ("object" may be omitted; if present it must be "list"). Returns
// INVALID_ARGUMENT if the text is not JSON, not that shape, holds a model that
// is not an object or lacks a string "id", or repeats an id.
absl::StatusOr<std::vector<CatalogModel>> ParseCatalog(absl::string_view json);

// {"object":"list","data":[<json>,...]}.
std::string ListJson(const std::vector<std::shared_ptr<const std::string>>& models);

// Applies a JSON merge patch (RFC 7386) to `target`, keeping member order.
void ApplyMergePatch(const rapidjson::Value& patch, rapidjson::Value* target,
                     rapidjson::Document::AllocatorType& allocator);

// The hub's error envelope: {"status":"error","status_message":<message>}.
std::string ErrorJson(absl::string_view message);

}  // namespace hub_emulator
}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_HUB_EMULATOR_CATALOG_H_
