// Translation between the hub's JSON model objects and modelcatalog.v1.Model.
//
// The hub's reference describes each field; the proto mirrors it field for field.
// The rules this translation keeps:
// - A key that is missing reads like null. null leaves `optional` scalars, message
//   fields and `request_schema` unset; "" and 0 are kept as values, distinct from null.
//   Plain (non-optional) strings read null as "".
// - `created` is integer Unix seconds (a number with an integral value is accepted);
//   `released_at` is an RFC 3339 timestamp (fractional seconds, `Z` or an offset) or a
//   `YYYY-MM-DD` date read as midnight UTC.
// - Enumerations keep the hub's exact string in `*_raw`; a string this version does not
//   know maps to `*_OTHER`, null to `*_UNSPECIFIED` with an empty raw string.
// - Keys this version does not know land, converted faithfully, in the `extra_fields` of
//   the object they appeared in. Every key of a deployment but `status` lands there.
// - When a key appears twice in one object, the last occurrence wins.
// - A value of the wrong type fails the model with INVALID_ARGUMENT naming the path,
//   what was expected and what was found, e.g.
//   `data[3].pricing.input_cost_per_token: expected a number or null, found a string`.
// - Objects and arrays inside `request_schema` and `extra_fields` may nest at most
//   kMaxStructDepth levels: deeper structures could not be decoded by protobuf readers,
//   whose default recursion limit is 100 messages (each JSON level costs three).
// - Text must be valid UTF-8, as JSON requires and proto3 strings need.
#ifndef MODEL_CATALOG_CLIENTS_HUB_MODEL_JSON_H_
#define MODEL_CATALOG_CLIENTS_HUB_MODEL_JSON_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "modelcatalog/v1/model.pb.h"
#include "rapidjson/document.h"

namespace modelcatalog::hub {

// How deeply objects and arrays may nest inside `request_schema` or `extra_fields`.
inline constexpr int kMaxStructDepth = 30;

// A record of a model list that could not be read on its own.
struct RejectedRecord {
  // Position of the record in the list's `data` array.
  size_t index = 0;
  // The record's `id` when it has a string one; empty otherwise.
  std::string id;
  // Why the record was rejected (INVALID_ARGUMENT, with the record's path).
  absl::Status status;
};

// The readable models of a list, in the hub's order, and the records that were not.
struct ParsedModelList {
  std::vector<modelcatalog::v1::Model> models;
  std::vector<RejectedRecord> rejected;
};

// The most memory one record of a list may take while it is read (its JSON DOM). A larger
// record is rejected on its own, with INVALID_ARGUMENT `data[i]: the record takes more than
// 16 MiB to read ...`. A single string or number longer than this, or arrays and objects
// nested so deep that the parser's own stack would pass it, fail the whole list instead
// (`invalid JSON at offset N: ...`). A model of the hub takes a few KiB.
inline constexpr size_t kMaxRecordBytes = size_t{16} << 20;

// The text of a document as it arrives, piece by piece: each call returns the next piece,
// which stays valid until the next call; an empty piece means the text has ended. Pieces may
// be cut anywhere, inside a string or a UTF-8 sequence too.
using TextSource = absl::FunctionRef<absl::string_view()>;

// Receives each readable model of a list, in the hub's order. The model lives only for the
// call: the parser reuses its storage for the next record.
using ModelSink = absl::FunctionRef<void(const modelcatalog::v1::Model&)>;

// Parses the hub's model list, `{"object":"list","data":[...]}`, as its text arrives from
// `source`, handing each readable model to `on_model` as soon as its record has been read; a
// bare top-level array of models is accepted too. Records are named `data[i]` in messages
// (`[i]` for a bare array). Returns the records that could not be read on their own (the
// others are kept), or INVALID_ARGUMENT when the document is not JSON
// (`invalid JSON at offset N: <reason>`) or not of that shape (e.g.
// `data: expected an array, found null`).
//
// Memory does not grow with the list: one piece and one record are held at a time (each
// record on an arena and a DOM reset after it, so that its many small objects are not
// allocated and freed one by one), which is how a sync reads a catalog of any size in the
// memory of a few records. As models are handed over before the end of the text is seen,
// `on_model` may have received models when the list then fails: a caller keeps what it
// received only once the call has returned OK.
absl::StatusOr<std::vector<RejectedRecord>> ParseModelList(TextSource source, ModelSink on_model);

// The same for a document already held whole.
absl::StatusOr<std::vector<RejectedRecord>> ParseModelList(absl::string_view json,
                                                           ModelSink on_model);

// The same, keeping every readable model: the readable models of a list, in the hub's order,
// and the records that were not. For short lists (a search's answer) and tests: a
// 100,000-model list as messages takes twice the JSON's bytes, for the Structs' trees.
absl::StatusOr<ParsedModelList> ParseModelList(absl::string_view json);

// Parses one model object, as the hub's retrieve, activate and deactivate return it.
// Returns INVALID_ARGUMENT when the document is not JSON, not an object, or a field is bad.
absl::StatusOr<modelcatalog::v1::Model> ParseModel(absl::string_view json);

// Reads one model object from an already parsed document into `out` (cleared first).
// `path` names the value in messages, e.g. "data[3]"; empty for a document's root.
// Returns INVALID_ARGUMENT as described above; `out` is then left partly filled.
absl::Status ParseModelValue(const rapidjson::Value& v, absl::string_view path,
                             modelcatalog::v1::Model* out);

// Writes `model` in the hub's own JSON shape: every field present, null where unset, the raw
// enumeration strings (the canonical one when only the enum is set), `extra_fields` merged
// back into their objects (a key that collides with a known field is skipped). Timestamps are
// written as the hub does: `created` in whole seconds, `released_at` as RFC 3339 in UTC.
// Numbers JSON cannot carry (NaN, infinities) are written as null.
// For every model the parser produced, ParseModel(ModelToJson(m)) equals m.
std::string ModelToJson(const modelcatalog::v1::Model& model);

}  // namespace modelcatalog::hub

#endif  // MODEL_CATALOG_CLIENTS_HUB_MODEL_JSON_H_
