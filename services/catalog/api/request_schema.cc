#include "services/catalog/api/request_schema.h"

#include <cmath>
#include <exception>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "services/common/log.h"
// With exceptions on, valijson's adapter would make RAPIDJSON_ASSERT throw,
// and warns when RapidJSON came first. It stays RapidJSON's own assert here:
// RapidJSON is inlined into every file that uses it, and one definition in
// one file and another elsewhere would break the one-definition rule. The
// adapter checks a value's type before it reads it. (GCC is told by the
// build: it cannot silence a #warning by pragma.)
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-W#warnings"
#endif
#include "valijson/adapters/rapidjson_adapter.hpp"
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
#include "valijson/schema.hpp"
#include "valijson/schema_parser.hpp"
#include "valijson/validation_results.hpp"
#include "valijson/validator.hpp"

namespace modelcatalog::catalog {

struct CompiledRequestSchema::Valijson {
  valijson::Schema schema;
};

namespace {

using ::modelcatalog::v1::Violation;
using Violations = google::protobuf::RepeatedPtrField<Violation>;

void ToJson(const google::protobuf::Value& value, rapidjson::Value* out,
            rapidjson::Document::AllocatorType& allocator);

void StructInto(const google::protobuf::Struct& value, rapidjson::Value* out,
                rapidjson::Document::AllocatorType& allocator) {
  out->SetObject();
  for (const auto& [name, field] : value.fields()) {
    rapidjson::Value converted;
    ToJson(field, &converted, allocator);
    out->AddMember(
        rapidjson::Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), allocator),
        converted, allocator);
  }
}

void ToJson(const google::protobuf::Value& value, rapidjson::Value* out,
            rapidjson::Document::AllocatorType& allocator) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      out->SetDouble(value.number_value());
      break;
    case google::protobuf::Value::kStringValue:
      out->SetString(value.string_value().data(),
                     static_cast<rapidjson::SizeType>(value.string_value().size()), allocator);
      break;
    case google::protobuf::Value::kBoolValue:
      out->SetBool(value.bool_value());
      break;
    case google::protobuf::Value::kStructValue:
      StructInto(value.struct_value(), out, allocator);
      break;
    case google::protobuf::Value::kListValue:
      out->SetArray();
      for (const google::protobuf::Value& item : value.list_value().values()) {
        rapidjson::Value converted;
        ToJson(item, &converted, allocator);
        out->PushBack(converted, allocator);
      }
      break;
    default:
      out->SetNull();
  }
}

// Whole numbers held as doubles become integers, within ±2^53 where a double
// holds every integer.
void MakeWholeNumbersIntegers(rapidjson::Value* value) {
  if (value->IsDouble()) {
    const double d = value->GetDouble();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= 9007199254740992.0) {
      value->SetInt64(static_cast<int64_t>(d));
    }
  } else if (value->IsObject()) {
    for (auto& member : value->GetObject()) MakeWholeNumbersIntegers(&member.value);
  } else if (value->IsArray()) {
    for (auto& item : value->GetArray()) MakeWholeNumbersIntegers(&item);
  }
}

std::string JsonText(const rapidjson::Value& value, size_t max_bytes = 80) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  std::string text(buffer.GetString(), buffer.GetSize());
  if (text.size() > max_bytes) {
    text.resize(max_bytes);
    text += "…";
  }
  return text;
}

// The draft valijson reads a schema by, from its `$schema`, and a note when
// that is not the draft the schema names.
valijson::SchemaParser::Version DraftOf(const rapidjson::Value& schema,
                                        std::vector<std::string>* notes) {
  if (!schema.IsObject()) return valijson::SchemaParser::kDraft7;
  const auto it = schema.FindMember("$schema");
  if (it == schema.MemberEnd() || !it->value.IsString()) return valijson::SchemaParser::kDraft7;
  const absl::string_view uri(it->value.GetString(), it->value.GetStringLength());
  if (absl::StrContains(uri, "draft-03")) return valijson::SchemaParser::kDraft3;
  if (absl::StrContains(uri, "draft-04")) return valijson::SchemaParser::kDraft4;
  if (absl::StrContains(uri, "draft-07")) return valijson::SchemaParser::kDraft7;
  if (absl::StrContains(uri, "draft-06")) {
    notes->push_back("the schema is draft 6: checked by draft 7's rules, which differ little");
  } else if (absl::StrContains(uri, "2019-09") || absl::StrContains(uri, "2020-12")) {
    notes->push_back(absl::StrCat(
        "the schema names ", uri,
        ": checked by draft 7's rules; keywords added since draft 7 (prefixItems, "
        "unevaluatedProperties, unevaluatedItems, dependentRequired, dependentSchemas, "
        "minContains, maxContains, $anchor) are not checked"));
  } else {
    notes->push_back(
        absl::StrCat("the schema names an unknown $schema, ", uri, ": checked as draft 7"));
  }
  return valijson::SchemaParser::kDraft7;
}

// What a valijson error is about. Its messages are fixed texts; the keyword
// is recognized by them. kWrapper errors only say that a child failed (the
// child's own error is reported): they are left out.
enum class Kind { kWrapper, kKeyword, kAdditionalProperty, kRequired };
struct ErrorPattern {
  absl::string_view prefix;
  absl::string_view keyword;
  Kind kind;
};
constexpr ErrorPattern kErrorPatterns[] = {
    {"Failed to validate against schema associated with property name", "", Kind::kWrapper},
    {"Failed to validate against schema associated with pattern", "", Kind::kWrapper},
    {"Failed to validate against additional properties schema", "", Kind::kWrapper},
    {"Failed to validate item #", "", Kind::kWrapper},
    {"Failed to validate against child schema #", "", Kind::kWrapper},
    {"Target value and comparison value are not equal", "", Kind::kWrapper},
    {"Failed to validate against any schemas allowed by anyOf", "anyOf", Kind::kKeyword},
    {"Failed to validate against any child schemas allowed by oneOf", "oneOf", Kind::kKeyword},
    {"Failed to validate against exactly one child schema", "oneOf", Kind::kKeyword},
    {"Failed to validate against a conditional schema", "if", Kind::kKeyword},
    {"Failed to match expected value set by 'const'", "const", Kind::kKeyword},
    {"Failed to any values against subschema in 'contains'", "contains", Kind::kKeyword},
    {"Failed to match against any enum values", "enum", Kind::kKeyword},
    {"String should be a valid", "format", Kind::kKeyword},
    {"Array contains more items than allowed", "additionalItems", Kind::kKeyword},
    {"Cannot validate item #", "additionalItems", Kind::kKeyword},
    {"Expected number less than or equal to", "maximum", Kind::kKeyword},
    {"Expected number less than", "exclusiveMaximum", Kind::kKeyword},
    {"Expected number greater than or equal to", "minimum", Kind::kKeyword},
    {"Expected number greater than", "exclusiveMinimum", Kind::kKeyword},
    {"Array should contain no more than", "maxItems", Kind::kKeyword},
    {"Array should contain no fewer than", "minItems", Kind::kKeyword},
    {"String should be no more than", "maxLength", Kind::kKeyword},
    {"String should be no fewer than", "minLength", Kind::kKeyword},
    {"Object should have no more than", "maxProperties", Kind::kKeyword},
    {"Object should have no fewer than", "minProperties", Kind::kKeyword},
    {"Value should be a multiple of", "multipleOf", Kind::kKeyword},
    {"Value could not be converted", "multipleOf", Kind::kKeyword},
    {"Target should not validate against schema specified in 'not'", "not", Kind::kKeyword},
    {"Failed to match regex specified by 'pattern'", "pattern", Kind::kKeyword},
    {"Object contains a property that could not be validated", "additionalProperties",
     Kind::kAdditionalProperty},
    {"Missing required property", "required", Kind::kRequired},
    {"Missing dependency", "dependencies", Kind::kKeyword},
    {"Failed to validate against dependent schema", "dependencies", Kind::kKeyword},
    {"Value type not permitted by 'type'", "type", Kind::kKeyword},
    {"Elements at indexes #", "uniqueItems", Kind::kKeyword},
};

// The text between the last pair of single quotes: a property's name.
std::string QuotedName(absl::string_view description) {
  const size_t end = description.rfind('\'');
  if (end == absl::string_view::npos || end == 0) return "";
  const size_t start = description.rfind('\'', end - 1);
  if (start == absl::string_view::npos) return "";
  return std::string(description.substr(start + 1, end - start - 1));
}

std::string PointerToken(absl::string_view name) {
  return absl::StrReplaceAll(name, {{"~", "~0"}, {"/", "~1"}});
}

// The member or item `token` of `value`, or null.
const rapidjson::Value* Child(const rapidjson::Value* value, absl::string_view token) {
  if (value == nullptr) return nullptr;
  if (value->IsObject()) {
    const auto it =
        value->FindMember(rapidjson::Value(rapidjson::StringRef(token.data(), token.size())));
    return it == value->MemberEnd() ? nullptr : &it->value;
  }
  size_t index;
  if (value->IsArray() && absl::SimpleAtoi(token, &index) && index < value->Size()) {
    return &(*value)[static_cast<rapidjson::SizeType>(index)];
  }
  return nullptr;
}

// The subschema that applies at `path` when `properties` and `items` alone
// lead there (most request schemas); null otherwise.
const rapidjson::Value* SubschemaAt(const rapidjson::Value& schema,
                                    const std::vector<std::string>& path) {
  const rapidjson::Value* at = &schema;
  for (const std::string& token : path) {
    if (!at->IsObject()) return nullptr;
    const auto properties = at->FindMember("properties");
    const rapidjson::Value* next = nullptr;
    if (properties != at->MemberEnd() && properties->value.IsObject()) {
      next = Child(&properties->value, token);
    }
    const auto items = at->FindMember("items");
    if (next == nullptr && items != at->MemberEnd()) {
      next = items->value.IsObject() ? &items->value : Child(&items->value, token);
    }
    if (next == nullptr) return nullptr;
    at = next;
  }
  return at;
}

const rapidjson::Value* KeywordValue(const rapidjson::Value* subschema, absl::string_view keyword) {
  if (subschema == nullptr || !subschema->IsObject()) return nullptr;
  const auto it =
      subschema->FindMember(rapidjson::Value(rapidjson::StringRef(keyword.data(), keyword.size())));
  return it == subschema->MemberEnd() ? nullptr : &it->value;
}

// The JSON type of a value as the schema names types.
const char* TypeName(const rapidjson::Value& value) {
  if (value.IsNull()) return "null";
  if (value.IsBool()) return "boolean";
  if (value.IsObject()) return "object";
  if (value.IsArray()) return "array";
  if (value.IsString()) return "string";
  if (value.IsInt64() || value.IsUint64()) return "integer";
  return "number";
}

// A message a person understands, from the keyword, the offending value and
// the schema's value of the keyword when found; else valijson's own text.
std::string Message(absl::string_view keyword, absl::string_view description,
                    const rapidjson::Value* value, const rapidjson::Value* limit) {
  const std::string got = value == nullptr ? "" : absl::StrCat(", got ", JsonText(*value));
  if (limit != nullptr) {
    const std::string schema_value = JsonText(*limit, 200);
    if (keyword == "maximum") return absl::StrCat("must be at most ", schema_value, got);
    if (keyword == "minimum") return absl::StrCat("must be at least ", schema_value, got);
    if (keyword == "exclusiveMaximum" && limit->IsNumber()) {
      return absl::StrCat("must be less than ", schema_value, got);
    }
    if (keyword == "exclusiveMinimum" && limit->IsNumber()) {
      return absl::StrCat("must be greater than ", schema_value, got);
    }
    if (keyword == "enum") return absl::StrCat("must be one of ", schema_value, got);
    if (keyword == "const") return absl::StrCat("must be ", schema_value, got);
    if (keyword == "type") {
      return absl::StrCat("must be of type ", schema_value, ", got ",
                          value == nullptr ? "another type" : TypeName(*value));
    }
    if (keyword == "maxLength") {
      return absl::StrCat("must be at most ", schema_value, " characters long");
    }
    if (keyword == "minLength") {
      return absl::StrCat("must be at least ", schema_value, " characters long");
    }
    if (keyword == "maxItems") return absl::StrCat("must have at most ", schema_value, " items");
    if (keyword == "minItems") return absl::StrCat("must have at least ", schema_value, " items");
    if (keyword == "pattern") return absl::StrCat("must match the pattern ", schema_value, got);
    if (keyword == "format") return absl::StrCat("must be a valid ", schema_value, got);
    if (keyword == "multipleOf") return absl::StrCat("must be a multiple of ", schema_value, got);
  }
  if (keyword == "type" && value != nullptr) {
    return absl::StrCat("a value of type ", TypeName(*value), " is not allowed here");
  }
  // valijson writes numbers with six decimals ("50.000000"); its text stays
  // understandable without them.
  std::string text(description);
  if (absl::EndsWith(text, ".000000")) text.resize(text.size() - 7);
  return absl::StrCat(text, got);
}

// The path of a valijson error context ("<root>", "[name]", "[0]"...) as tokens.
std::vector<std::string> PathOf(const std::vector<std::string>& context) {
  std::vector<std::string> path;
  for (size_t i = 1; i < context.size(); ++i) {
    const std::string& part = context[i];
    if (part.size() >= 2 && part.front() == '[' && part.back() == ']') {
      path.push_back(part.substr(1, part.size() - 2));
    } else {
      path.push_back(part);
    }
  }
  return path;
}

}  // namespace

CompiledRequestSchema::CompiledRequestSchema() = default;
CompiledRequestSchema::~CompiledRequestSchema() = default;

std::shared_ptr<const CompiledRequestSchema> CompiledRequestSchema::Compile(
    const rapidjson::Value& schema) {
  std::shared_ptr<CompiledRequestSchema> compiled(new CompiledRequestSchema());
  compiled->schema_.CopyFrom(schema, compiled->schema_.GetAllocator());
  const valijson::SchemaParser::Version draft = DraftOf(schema, &compiled->notes_);
  compiled->integral_doubles_are_integers_ = draft == valijson::SchemaParser::kDraft7;
  auto valijson = std::make_unique<Valijson>();
  try {
    valijson::SchemaParser parser(draft);
    valijson::adapters::RapidJsonAdapter adapter(compiled->schema_);
    parser.populateSchema(adapter, valijson->schema);
    compiled->valijson_ = std::move(valijson);
  } catch (const std::exception& e) {
    compiled->error_ = absl::StrCat("the schema could not be compiled: ", e.what());
  }
  return compiled;
}

std::shared_ptr<const CompiledRequestSchema> CompiledRequestSchema::Compile(
    const google::protobuf::Struct& schema) {
  rapidjson::Document document;
  StructToJson(schema, &document);
  // Whole numbers in a schema (maxLength: 4) arrive as doubles from a Struct.
  MakeWholeNumbersIntegers(&document);
  return Compile(document);
}

bool CompiledRequestSchema::Validate(rapidjson::Document* parameters,
                                     Violations* violations) const {
  if (valijson_ == nullptr) return false;
  if (integral_doubles_are_integers_) MakeWholeNumbersIntegers(parameters);
  // Made only for a request that fails: an empty one allocates already.
  absl::optional<valijson::ValidationResults> results;
  try {
    valijson::Validator validator(valijson::Validator::kStrongTypes);
    valijson::adapters::RapidJsonAdapter adapter(*parameters);
    // Most requests are valid: a first pass that keeps no errors stops at the
    // first failure; only a request that fails is checked again for every
    // violation.
    if (validator.validate(valijson_->schema, adapter, nullptr)) return true;
    validator.validate(valijson_->schema, adapter, &results.emplace());
  } catch (const std::exception& e) {
    Violation* violation = violations->Add();
    violation->set_message(absl::StrCat("the parameters could not be checked: ", e.what()));
    return false;
  }
  const int before = violations->size();
  valijson::ValidationResults::Error error;
  while (results->popError(error)) {
    const ErrorPattern* pattern = nullptr;
    for (const ErrorPattern& p : kErrorPatterns) {
      if (absl::StartsWith(error.description, p.prefix)) {
        pattern = &p;
        break;
      }
    }
    if (pattern != nullptr && pattern->kind == Kind::kWrapper) continue;
    std::vector<std::string> path = PathOf(error.context);
    const rapidjson::Value* subschema = SubschemaAt(schema_, path);
    const rapidjson::Value* value = parameters;
    for (const std::string& token : path) value = Child(value, token);
    Violation* violation = violations->Add();
    const absl::string_view keyword = pattern == nullptr ? "" : pattern->keyword;
    violation->set_keyword(std::string(keyword));
    if (pattern != nullptr && pattern->kind == Kind::kRequired) {
      const std::string name = QuotedName(error.description);
      path.push_back(name);
      violation->set_message(absl::StrCat("\"", name, "\" is required"));
    } else if (pattern != nullptr && pattern->kind == Kind::kAdditionalProperty) {
      const std::string name = QuotedName(error.description);
      path.push_back(name);
      violation->set_message(absl::StrCat("\"", name, "\" is not a parameter this model takes"));
    } else {
      violation->set_message(
          Message(keyword, error.description, value, KeywordValue(subschema, keyword)));
    }
    std::string pointer;
    for (const std::string& token : path) absl::StrAppend(&pointer, "/", PointerToken(token));
    violation->set_pointer(std::move(pointer));
  }
  if (violations->size() == before) {
    // valijson fails some keywords (propertyNames) without a word.
    Violation* violation = violations->Add();
    violation->set_message("the parameters do not satisfy the schema");
  }
  return false;
}

void StructToJson(const google::protobuf::Struct& value, rapidjson::Document* document) {
  StructInto(value, document, document->GetAllocator());
}

std::shared_ptr<const CompiledRequestSchema> RequestSchemaCache::SchemaOf(
    const CatalogSnapshot& snapshot, size_t position) {
  const std::shared_ptr<const CatalogEntry>& entry = snapshot.shared_entry(position);
  {
    absl::MutexLock lock(&mu_);
    if (snapshot.revision() > revision_) {
      // A new revision: what the last one used stays at hand for the models
      // it did not change.
      previous_ = std::move(current_);
      current_.clear();
      revision_ = snapshot.revision();
    }
    if (auto it = current_.find(entry.get()); it != current_.end()) return it->second.schema;
    if (auto it = previous_.find(entry.get()); it != previous_.end()) {
      Kept kept = it->second;
      if (snapshot.revision() == revision_ && current_.size() < kMaxCompiled) {
        current_.emplace(entry.get(), kept);
      }
      return kept.schema;
    }
  }
  // Compiled outside the lock: other calls go on meanwhile. Two calls that
  // miss at once both compile; the first kept wins.
  std::shared_ptr<const CompiledRequestSchema> compiled;
  const modelcatalog::v1::Model model = entry->model();
  if (model.has_request_schema()) {
    compiled = CompiledRequestSchema::Compile(model.request_schema());
    if (!compiled->error().empty()) {
      Log(LogLevel::kWarning, "request_schema_not_compiled",
          {{"model", entry->id}, {"revision", snapshot.revision()}, {"error", compiled->error()}});
    }
  }
  absl::MutexLock lock(&mu_);
  ++compilations_;
  if (snapshot.revision() != revision_) return compiled;
  if (current_.size() >= kMaxCompiled) current_.clear();
  return current_.emplace(entry.get(), Kept{entry, compiled}).first->second.schema;
}

int64_t RequestSchemaCache::compilations() const {
  absl::MutexLock lock(&mu_);
  return compilations_;
}

}  // namespace modelcatalog::catalog
