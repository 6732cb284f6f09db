// CatalogServiceImpl::ValidateRequest: a model's request parameters checked
// against its request_schema, compiled once and kept (RequestSchemaCache).
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "services/catalog/api/catalog_service_impl.h"
#include "services/catalog/api/request_limits.h"
#include "services/catalog/api/request_schema.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::v1::ValidateRequestRequest;
using ::modelcatalog::v1::ValidateRequestResponse;

// Deeper parameters are refused: validation recurses along the nesting, and
// no model's parameters come near it.
constexpr int kMaxParameterDepth = 64;

bool DeeperThan(const rapidjson::Value& root, int limit) {
  std::vector<std::pair<const rapidjson::Value*, int>> pending = {{&root, 1}};
  while (!pending.empty()) {
    const auto [value, depth] = pending.back();
    pending.pop_back();
    if (depth > limit) return true;
    if (value->IsObject()) {
      for (const auto& member : value->GetObject()) pending.emplace_back(&member.value, depth + 1);
    } else if (value->IsArray()) {
      for (const auto& item : value->GetArray()) pending.emplace_back(&item, depth + 1);
    }
  }
  return false;
}

absl::Status ReadParameters(const ValidateRequestRequest& request, rapidjson::Document* out) {
  if (request.has_parameters() && !request.parameters_json().empty()) {
    return absl::InvalidArgumentError("give parameters or parameters_json, not both");
  }
  if (!request.parameters_json().empty()) {
    // Iterative: the parser's own stack is the heap, whatever the nesting.
    out->Parse<rapidjson::kParseIterativeFlag>(request.parameters_json().data(),
                                               request.parameters_json().size());
    if (out->HasParseError()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parameters_json is not JSON: ", rapidjson::GetParseError_En(out->GetParseError()),
          " at offset ", out->GetErrorOffset()));
    }
  } else {
    StructToJson(request.parameters(), out);
  }
  if (DeeperThan(*out, kMaxParameterDepth)) {
    return absl::InvalidArgumentError(
        absl::StrCat(request.parameters_json().empty() ? "parameters" : "parameters_json",
                     " nest deeper than ", kMaxParameterDepth, " levels"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CatalogServiceImpl::ValidateRequest(const ValidateRequestRequest& request,
                                                 ValidateRequestResponse* response) const {
  if (request.model_id().empty()) return absl::InvalidArgumentError("model_id must not be empty");
  if (absl::Status s = CheckLength("model_id", request.model_id(), kMaxIdBytes); !s.ok()) return s;
  // A typical request's parameters fit this buffer: without it, the
  // document's first allocation would take a 64 KiB chunk from the heap.
  char buffer[4096];
  rapidjson::MemoryPoolAllocator<> allocator(buffer, sizeof(buffer));
  rapidjson::Document parameters(&allocator);
  if (absl::Status s = ReadParameters(request, &parameters); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> snapshot = LoadedSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  const absl::optional<size_t> position = (*snapshot)->PositionOf(request.model_id());
  if (!position) return absl::NotFoundError(absl::StrCat("Model not found: ", request.model_id()));
  response->set_revision((*snapshot)->revision());
  const std::shared_ptr<const CompiledRequestSchema> schema =
      schemas_->SchemaOf(**snapshot, *position);
  if (schema == nullptr) {
    response->set_valid(true);
    response->add_notes(
        absl::StrCat("model ", request.model_id(), " has no request_schema: nothing was checked"));
    return absl::OkStatus();
  }
  for (const std::string& note : schema->notes()) response->add_notes(note);
  if (!schema->error().empty()) {
    response->set_valid(false);
    response->set_schema_error(schema->error());
    return absl::OkStatus();
  }
  response->set_valid(schema->Validate(&parameters, response->mutable_violations()));
  return absl::OkStatus();
}

}  // namespace modelcatalog::catalog
