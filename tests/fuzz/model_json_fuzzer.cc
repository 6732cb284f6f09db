// Fuzzes ParseModel, the hub's single model object (retrieve, activate, deactivate), with the
// properties the parser promises:
// - any input: OK or INVALID_ARGUMENT, nothing else, and no crash or sanitizer report;
// - a parsed model m round-trips: ParseModel(ModelToJson(m)) == m, bit for bit, and writing it
//   again gives the same text (ModelToJson is a fixpoint of the round trip);
// - m survives the protobuf wire format (its strings are valid UTF-8, its nesting is within
//   protobuf's recursion limit), as the catalog's gRPC clients will read it;
// - ParseModelList reads the same object as a one-record list to the same model;
// - the numbers are read as written: every number of the document, as RapidJSON reads it with the
//   parser's settings, equals the correctly rounded value of its text (strtod).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "clients/hub/model_json.h"
#include "rapidjson/document.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace hub = ::modelcatalog::hub;
namespace v1 = ::modelcatalog::v1;

// The flags model_json.cc parses with, less in-place parsing.
constexpr unsigned kParserFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseFullPrecisionFlag;
constexpr unsigned kTextFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;

// Walks the same document read twice: `value` with the parser's flags, `text` with numbers kept
// as their text. Every number must equal strtod() of its text (which glibc rounds correctly).
void CheckNumbers(const rapidjson::Value& value, const rapidjson::Value& text) {
  if (value.IsNumber()) {
    FUZZ_CHECK(text.IsString(), "the two reads of the document differ in shape");
    const double expected = std::strtod(text.GetString(), nullptr);
    const double read = value.GetDouble();
    FUZZ_CHECK(read == expected || (std::isnan(read) && std::isnan(expected)),
               absl::StrCat("the number ", text.GetString(), " is read as ", read, ", not ",
                            expected));
  } else if (value.IsArray()) {
    for (rapidjson::SizeType i = 0; i < value.Size() && i < text.Size(); ++i) {
      CheckNumbers(value[i], text[i]);
    }
  } else if (value.IsObject()) {
    auto t = text.MemberBegin();
    for (auto v = value.MemberBegin(); v != value.MemberEnd() && t != text.MemberEnd(); ++v, ++t) {
      CheckNumbers(v->value, t->value);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<v1::Model> parsed = hub::ParseModel(input);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument,
               parsed.status().ToString());
    FUZZ_CHECK(!parsed.status().message().empty(), "an error without a message");
    return 0;
  }
  const v1::Model& model = *parsed;
  FUZZ_CHECK(!model.id().empty(), "a model without an id");

  // Numbers read as written (the document is valid JSON: ParseModel accepted it).
  {
    const std::string copy(input);
    rapidjson::Document values, texts;
    values.Parse<kParserFlags>(copy.c_str(), copy.size());
    texts.Parse<kTextFlags>(copy.c_str(), copy.size());
    FUZZ_CHECK(!values.HasParseError() && !texts.HasParseError(), "RapidJSON refuses it now");
    CheckNumbers(values, texts);
  }

  // Round trip through the hub's JSON.
  const std::string json = hub::ModelToJson(model);
  absl::StatusOr<v1::Model> again = hub::ParseModel(json);
  FUZZ_CHECK(again.ok(), absl::StrCat("ModelToJson wrote what ParseModel refuses: ",
                                      again.status().ToString(), "\njson: ", json));
  std::string diff;
  FUZZ_CHECK(modelcatalog::fuzz::SameMessage(model, *again, &diff),
             absl::StrCat("ParseModel(ModelToJson(m)) != m: ", diff, "\njson: ", json));
  FUZZ_CHECK(hub::ModelToJson(*again) == json, absl::StrCat("ModelToJson is not stable: ", json));

  // Round trip through the protobuf wire format.
  v1::Model wire;
  FUZZ_CHECK(wire.ParseFromString(model.SerializeAsString()),
             absl::StrCat("a parsed model does not survive the wire format: ",
                          model.ShortDebugString()));
  FUZZ_CHECK(modelcatalog::fuzz::SameMessage(model, wire, &diff),
             absl::StrCat("the wire format changed the model: ", diff));

  // The same object as the only record of a bare-array list.
  absl::StatusOr<hub::ParsedModelList> list = hub::ParseModelList(absl::StrCat("[", input, "]"));
  FUZZ_CHECK(list.ok(), absl::StrCat("[model] refused: ", list.status().ToString()));
  FUZZ_CHECK(list->models.size() == 1 && list->rejected.empty(),
             absl::StrCat("[model] read as ", list->models.size(), " models and ",
                          list->rejected.size(), " rejected records"));
  FUZZ_CHECK(modelcatalog::fuzz::SameMessage(model, list->models[0], &diff),
             absl::StrCat("ParseModelList and ParseModel disagree: ", diff));
  return 0;
}
