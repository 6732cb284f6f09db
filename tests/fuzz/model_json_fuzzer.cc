// Fuzzes ParseModel, the hub's single model object (retrieve, activate, deactivate), with the
// properties the parser promises:
// - any input: OK or INVALID_ARGUMENT, nothing else, and no crash or sanitizer report;
// - a parsed model m round-trips: ParseModel(ModelToJson(m)) == m, bit for bit, and writing it
//   again gives the same text (ModelToJson is a fixpoint of the round trip);
// - m survives the protobuf wire format (its strings are valid UTF-8, its nesting is within
//   protobuf's recursion limit), as the catalog's gRPC clients will read it;
// - ParseModelList reads the same object as a one-record list to the same model;
// - the numbers are read as written: every number of the input is in the model, at its place,
//   with the correctly rounded value of its text (strtod).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "clients/hub/model_json.h"
#include "rapidjson/document.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace hub = ::modelcatalog::hub;
namespace v1 = ::modelcatalog::v1;

// The numbers of a JSON document by path, each the correctly rounded value of its text
// (strtod). A key that appears again replaces what its first occurrence held, as in the parser.
// Path components are length-prefixed keys ("{2:id") and indexes ("[3]"): unambiguous.
using NumbersByPath = std::map<std::string, double>;

NumbersByPath Numbers(const std::string& json) {
  struct Collector : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Collector> {
    struct Frame {
      std::string path;
      bool array;
      int next_index;
    };
    std::vector<Frame> frames;
    std::string key;
    NumbersByPath numbers;

    // The path of the value that comes next.
    std::string Next() {
      if (frames.empty()) return "$";
      Frame& top = frames.back();
      if (top.array) return absl::StrCat(top.path, "[", top.next_index++, "]");
      return absl::StrCat(top.path, "{", key.size(), ":", key);
    }
    bool Default() {
      Next();
      return true;
    }
    bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
      numbers[Next()] = std::strtod(std::string(s, n).c_str(), nullptr);
      return true;
    }
    bool Key(const char* s, rapidjson::SizeType n, bool) {
      key.assign(s, n);
      const std::string child = absl::StrCat(frames.back().path, "{", key.size(), ":", key);
      for (auto it = numbers.lower_bound(child);
           it != numbers.end() && it->first.compare(0, child.size(), child) == 0;) {
        it = numbers.erase(it);
      }
      return true;
    }
    bool Start(bool array) {
      std::string path = Next();
      frames.push_back({std::move(path), array, 0});
      return true;
    }
    bool End() {
      frames.pop_back();
      return true;
    }
    bool StartObject() { return Start(false); }
    bool EndObject(rapidjson::SizeType) { return End(); }
    bool StartArray() { return Start(true); }
    bool EndArray(rapidjson::SizeType) { return End(); }
  } collector;
  rapidjson::StringStream stream(json.c_str());
  rapidjson::Reader().Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag>(
      stream, collector);
  return std::move(collector.numbers);
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

  // Round trip through the hub's JSON.
  const std::string json = hub::ModelToJson(model);
  absl::StatusOr<v1::Model> again = hub::ParseModel(json);
  FUZZ_CHECK(again.ok(), absl::StrCat("ModelToJson wrote what ParseModel refuses: ",
                                      again.status().ToString(), "\njson: ", json));
  std::string diff;
  FUZZ_CHECK(modelcatalog::fuzz::SameMessage(model, *again, &diff),
             absl::StrCat("ParseModel(ModelToJson(m)) != m: ", diff, "\njson: ", json));
  FUZZ_CHECK(hub::ModelToJson(*again) == json, absl::StrCat("ModelToJson is not stable: ", json));

  // Numbers read as written: each number of the input is in the model, at the same place (as
  // ModelToJson writes it back: its shortest text that reads back exactly), with the value of
  // its text, correctly rounded.
  const NumbersByPath written = Numbers(std::string(input));
  const NumbersByPath kept = Numbers(json);
  for (const auto& [path, value] : written) {
    auto it = kept.find(path);
    FUZZ_CHECK(
        it != kept.end() && (it->second == value || (std::isnan(value) && std::isnan(it->second))),
        absl::StrCat("a number of the input, ", value, ", is ",
                     it == kept.end() ? std::string("missing from the model")
                                      : absl::StrCat("read as ", it->second),
                     "\njson: ", json));
  }

  // Round trip through the protobuf wire format.
  v1::Model wire;
  FUZZ_CHECK(
      wire.ParseFromString(model.SerializeAsString()),
      absl::StrCat("a parsed model does not survive the wire format: ", model.ShortDebugString()));
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
