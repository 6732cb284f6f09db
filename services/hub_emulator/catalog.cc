#include "services/hub_emulator/catalog.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "services/hub_emulator/text.h"

namespace modelcatalog {
namespace hub_emulator {
namespace {

constexpr unsigned kParseFlags =
    rapidjson::kParseFullPrecisionFlag | rapidjson::kParseValidateEncodingFlag;

absl::string_view StringOf(const rapidjson::Value& value) {
  return absl::string_view(value.GetString(), value.GetStringLength());
}

}  // namespace

absl::StatusOr<rapidjson::Document> ParseJson(absl::string_view text) {
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(text.data(), text.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(absl::StrCat("not valid JSON: ",
                                                   rapidjson::GetParseError_En(doc.GetParseError()),
                                                   " (at offset ", doc.GetErrorOffset(), ")"));
  }
  return doc;
}

std::string SerializeJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::StatusOr<CatalogModel> MakeCatalogModel(const rapidjson::Value& model) {
  if (!model.IsObject()) return absl::InvalidArgumentError("a model must be a JSON object");
  const auto id = model.FindMember("id");
  if (id == model.MemberEnd() || !id->value.IsString()) {
    return absl::InvalidArgumentError("a model must have a string \"id\"");
  }
  CatalogModel out;
  out.id = std::string(StringOf(id->value));
  out.json = std::make_shared<const std::string>(SerializeJson(model));
  out.folded_id = FoldCase(out.id);
  if (const auto name = model.FindMember("display_name");
      name != model.MemberEnd() && name->value.IsString()) {
    out.folded_display_name = FoldCase(StringOf(name->value));
  }
  if (const auto developer = model.FindMember("developer");
      developer != model.MemberEnd() && developer->value.IsObject()) {
    const auto name = developer->value.FindMember("name");
    if (name != developer->value.MemberEnd() && name->value.IsString()) {
      out.folded_developer_name = FoldCase(StringOf(name->value));
    }
  }
  if (const auto tuning = model.FindMember("fine_tuning");
      tuning != model.MemberEnd() && tuning->value.IsObject()) {
    const auto actions = tuning->value.FindMember("actions");
    if (actions != tuning->value.MemberEnd() && actions->value.IsArray()) {
      for (const auto& action : actions->value.GetArray()) {
        if (action.IsString()) out.actions.emplace_back(StringOf(action));
      }
    }
  }
  if (const auto type = model.FindMember("model_type");
      type != model.MemberEnd() && type->value.IsString()) {
    out.is_custom = StringOf(type->value) == "custom";
  }
  return out;
}

absl::StatusOr<std::vector<CatalogModel>> ParseCatalog(absl::string_view json) {
  absl::StatusOr<rapidjson::Document> doc = ParseJson(json);
  if (!doc.ok()) return doc.status();
  constexpr absl::string_view kShape = "must be an object {\"object\":\"list\",\"data\":[...]}";
  if (!doc->IsObject()) return absl::InvalidArgumentError(absl::StrCat("catalog ", kShape));
  if (const auto object = doc->FindMember("object"); object != doc->MemberEnd()) {
    if (!object->value.IsString() || StringOf(object->value) != "list") {
      return absl::InvalidArgumentError(
          absl::StrCat("catalog \"object\" must be \"list\"; the catalog ", kShape));
    }
  }
  const auto data = doc->FindMember("data");
  if (data == doc->MemberEnd() || !data->value.IsArray()) {
    return absl::InvalidArgumentError(
        absl::StrCat("catalog has no \"data\" array; the catalog ", kShape));
  }
  std::vector<CatalogModel> models;
  models.reserve(data->value.Size());
  absl::flat_hash_map<std::string, size_t> seen;
  seen.reserve(data->value.Size());
  for (rapidjson::SizeType i = 0; i < data->value.Size(); ++i) {
    absl::StatusOr<CatalogModel> model = MakeCatalogModel(data->value[i]);
    if (!model.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("catalog model #", i, " (data[", i, "]): ", model.status().message()));
    }
    const auto [it, inserted] = seen.emplace(model->id, i);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("catalog has duplicate model id \"",
                                                     model->id, "\" (data[", it->second,
                                                     "] and data[", i, "])"));
    }
    models.push_back(*std::move(model));
  }
  return models;
}

std::string ListJson(const std::vector<std::shared_ptr<const std::string>>& models) {
  constexpr absl::string_view kHead = "{\"object\":\"list\",\"data\":[";
  constexpr absl::string_view kTail = "]}";
  size_t size = kHead.size() + kTail.size() + models.size();
  for (const auto& m : models) size += m->size();
  std::string out;
  out.reserve(size);
  out.append(kHead.data(), kHead.size());
  for (size_t i = 0; i < models.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(*models[i]);
  }
  out.append(kTail.data(), kTail.size());
  return out;
}

void ApplyMergePatch(const rapidjson::Value& patch, rapidjson::Value* target,
                     rapidjson::Document::AllocatorType& allocator) {
  if (!patch.IsObject()) {
    target->CopyFrom(patch, allocator);
    return;
  }
  if (!target->IsObject()) target->SetObject();
  for (const auto& member : patch.GetObject()) {
    const auto existing = target->FindMember(member.name);
    if (member.value.IsNull()) {
      // EraseMember keeps the order of the remaining members (RemoveMember would not).
      if (existing != target->MemberEnd()) target->EraseMember(existing);
    } else if (existing != target->MemberEnd()) {
      ApplyMergePatch(member.value, &existing->value, allocator);
    } else {
      rapidjson::Value value;
      ApplyMergePatch(member.value, &value, allocator);
      target->AddMember(rapidjson::Value(member.name, allocator), value, allocator);
    }
  }
}

std::string ErrorJson(absl::string_view message) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("status");
  writer.String("error");
  writer.Key("status_message");
  writer.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace hub_emulator
}  // namespace modelcatalog
