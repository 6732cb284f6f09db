// Fuzzes ParseModelList, the hub's model list (`{"object":"list","data":[...]}` or a bare array),
// with the properties the parser promises:
// - any input: OK or INVALID_ARGUMENT, nothing else, and no crash or sanitizer report;
// - every record is either a model or a rejected record, in the hub's order: rejected indices
//   grow, and each rejection is INVALID_ARGUMENT naming its record (`data[i]` or `[i]`);
// - every model round-trips: ParseModel(ModelToJson(m)) == m, bit for bit, and survives the
//   protobuf wire format;
// - the list written back from the models (ModelToJson of each) reads to the same models;
// - the text read as a sync reads it, in pieces as they arrive from the network (here cut at
//   places the input itself chooses, inside strings and UTF-8 sequences too), gives the same
//   models and rejections, and the same error for a list it refuses.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "clients/hub/model_json.h"
#include "rapidjson/document.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace hub = ::modelcatalog::hub;
namespace v1 = ::modelcatalog::v1;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<hub::ParsedModelList> parsed = hub::ParseModelList(input);

  std::vector<v1::Model> sunk;  // copies: the sink's model lives on an arena reset per record
  // Piece sizes from 1 to 16 bytes, in an order the input's last bytes choose.
  size_t next = 0;
  uint32_t cut = size == 0 ? 0 : data[size - 1];
  auto pieces = [&]() {
    cut = cut * 1103515245u + 12345u;
    const absl::string_view piece =
        input.substr(std::min(next, input.size()), 1 + (cut >> 16) % 16);
    next += piece.size();
    return piece;
  };
  absl::StatusOr<std::vector<hub::RejectedRecord>> sink_rejected = hub::ParseModelList(
      hub::TextSource(pieces), [&sunk](const v1::Model& model) { sunk.push_back(model); });
  FUZZ_CHECK(sink_rejected.status() == parsed.status(),
             absl::StrCat("the reading in pieces ends with ", sink_rejected.status().ToString(),
                          ", the reading of the whole with ", parsed.status().ToString()));
  if (parsed.ok()) {
    FUZZ_CHECK(sunk.size() == parsed->models.size(),
               "the reading in pieces got another number of models");
    std::string diff;
    for (size_t i = 0; i < sunk.size(); ++i) {
      FUZZ_CHECK(modelcatalog::fuzz::SameMessage(sunk[i], parsed->models[i], &diff),
                 absl::StrCat("the reading in pieces' model ", i, ": ", diff));
    }
    FUZZ_CHECK(sink_rejected->size() == parsed->rejected.size(),
               "the reading in pieces rejected another number of records");
    for (size_t i = 0; i < sink_rejected->size(); ++i) {
      FUZZ_CHECK((*sink_rejected)[i].index == parsed->rejected[i].index &&
                     (*sink_rejected)[i].status == parsed->rejected[i].status,
                 absl::StrCat("the reading in pieces' rejection ", i, " differs"));
    }
  }

  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument,
               parsed.status().ToString());
    FUZZ_CHECK(!parsed.status().message().empty(), "an error without a message");
    return 0;
  }

  // Every record is accounted for: the list's records, counted by a plain RapidJSON parse.
  const std::string text(input);
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.c_str(), text.size());
  FUZZ_CHECK(!doc.HasParseError(), "ParseModelList accepted what RapidJSON refuses");
  const rapidjson::Value* records = &doc;
  if (doc.IsObject()) records = &doc.FindMember("data")->value;
  FUZZ_CHECK(
      records->IsArray() && records->Size() == parsed->models.size() + parsed->rejected.size(),
      absl::StrCat(parsed->models.size(), " models and ", parsed->rejected.size(),
                   " rejected records from a list of ", records->IsArray() ? records->Size() : 0));

  // Rejected records: in order, each named by its index.
  bool first = true;
  size_t previous = 0;
  for (const hub::RejectedRecord& r : parsed->rejected) {
    FUZZ_CHECK(first || r.index > previous,
               absl::StrCat("rejected index ", r.index, " after ", previous));
    first = false;
    previous = r.index;
    FUZZ_CHECK(r.status.code() == absl::StatusCode::kInvalidArgument, r.status.ToString());
    const std::string name = absl::StrCat("[", r.index, "]");
    FUZZ_CHECK(
        absl::StartsWith(r.status.message(), name) ||
            absl::StartsWith(r.status.message(), absl::StrCat("data", name)),
        absl::StrCat("rejection of record ", r.index, " does not name it: ", r.status.ToString()));
  }

  // Models: each round-trips, and the list written back reads the same.
  std::string rewritten = "{\"object\":\"list\",\"data\":[";
  std::string diff;
  for (size_t i = 0; i < parsed->models.size(); ++i) {
    const v1::Model& model = parsed->models[i];
    FUZZ_CHECK(!model.id().empty(), "a model without an id");
    const std::string json = hub::ModelToJson(model);
    absl::StatusOr<v1::Model> again = hub::ParseModel(json);
    FUZZ_CHECK(again.ok(), absl::StrCat("ModelToJson wrote what ParseModel refuses: ",
                                        again.status().ToString(), "\njson: ", json));
    FUZZ_CHECK(modelcatalog::fuzz::SameMessage(model, *again, &diff),
               absl::StrCat("ParseModel(ModelToJson(m)) != m: ", diff, "\njson: ", json));
    v1::Model wire;
    FUZZ_CHECK(wire.ParseFromString(model.SerializeAsString()),
               absl::StrCat("a parsed model does not survive the wire format: ",
                            model.ShortDebugString()));
    if (i > 0) rewritten.push_back(',');
    rewritten += json;
  }
  rewritten += "]}";
  absl::StatusOr<hub::ParsedModelList> reread = hub::ParseModelList(rewritten);
  FUZZ_CHECK(
      reread.ok() && reread->rejected.empty() && reread->models.size() == parsed->models.size(),
      absl::StrCat("the rewritten list does not read back whole: ", rewritten));
  for (size_t i = 0; i < parsed->models.size(); ++i) {
    FUZZ_CHECK(modelcatalog::fuzz::SameMessage(parsed->models[i], reread->models[i], &diff),
               absl::StrCat("rewritten list, model ", i, ": ", diff));
  }
  return 0;
}
