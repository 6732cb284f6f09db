#include "services/hub_emulator/generator.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "services/hub_emulator/text.h"

namespace modelcatalog {
namespace hub_emulator {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

struct Developer {
  absl::string_view name;
  absl::string_view logo;
};
constexpr Developer kDevelopers[] = {
    {"Anthropic", "https://hub.example/logos/anthropic.png"},
    {"OpenAI", "https://hub.example/logos/openai.png"},
    {"Google", "https://hub.example/logos/google.png"},
    {"Black Forest Labs", "https://hub.example/logos/bfl.png"},
    {"Kuaishou", "https://hub.example/logos/kuaishou.png"},
    {"Mistral", "https://hub.example/logos/mistral.png"},
};
constexpr absl::string_view kStatuses[] = {"active",       "inactive", "deploying",
                                           "deactivating", "error",    "unknown"};

// The base kinds, in the order they appear in each block of ten.
enum class Kind { kChat, kChatNullCosts, kImage, kTimed, kVideo };
constexpr Kind kBaseKinds[] = {Kind::kChat, Kind::kChatNullCosts, Kind::kImage, Kind::kTimed,
                               Kind::kVideo};

absl::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kChat: return "chat";
    case Kind::kChatNullCosts: return "chat-lite";
    case Kind::kImage: return "image";
    case Kind::kTimed: return "timed";
    case Kind::kVideo: return "video";
  }
  return "chat";
}

absl::string_view EndpointOf(Kind kind) {
  switch (kind) {
    case Kind::kChat:
    case Kind::kChatNullCosts: return "/chat/completions";
    case Kind::kImage:
    case Kind::kTimed: return "/images/generate";
    case Kind::kVideo: return "/videos/generate";
  }
  return "/chat/completions";
}

std::string BaseId(Kind kind, int index) {
  return absl::StrFormat("gen-%s-%06d", KindName(kind), index);
}

void Str(Writer& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void StringArray(Writer& w, std::initializer_list<absl::string_view> items) {
  w.StartArray();
  for (absl::string_view item : items) Str(w, item);
  w.EndArray();
}

void Capabilities(Writer& w, Kind kind) {
  w.Key("capabilities");
  w.StartObject();
  w.Key("input");
  if (kind == Kind::kVideo) {
    StringArray(w, {"text", "image"});
  } else if (kind == Kind::kChat) {
    StringArray(w, {"text", "image"});
  } else {
    StringArray(w, {"text"});
  }
  w.Key("output");
  switch (kind) {
    case Kind::kChat:
    case Kind::kChatNullCosts: StringArray(w, {"text"}); break;
    case Kind::kImage:
    case Kind::kTimed: StringArray(w, {"image"}); break;
    case Kind::kVideo: StringArray(w, {"video"}); break;
  }
  w.EndObject();
}

void Pricing(Writer& w, Kind kind, int index) {
  const double scale = 1.0 + (index % 7) * 0.25;
  w.Key("pricing");
  w.StartObject();
  w.Key("method");
  switch (kind) {
    case Kind::kChat:
      Str(w, "token");
      w.Key("input_cost_per_token");
      w.Double(3e-6 * scale);
      w.Key("output_cost_per_token");
      w.Double(1.5e-5 * scale);
      break;
    case Kind::kChatNullCosts:
      Str(w, "token");
      w.Key("input_cost_per_token");
      w.Null();
      w.Key("output_cost_per_token");
      w.Null();
      break;
    case Kind::kImage:
      Str(w, "per_image");
      w.Key("cost_per_image");
      w.Double(0.025 * scale);
      break;
    case Kind::kTimed:
      Str(w, "time");
      w.Key("cost_per_second");
      w.Double(0.0014 * scale);
      break;
    case Kind::kVideo:
      Str(w, "per_video_output_second");
      w.Key("cost_per_second");
      w.Double(0.1 * scale);
      w.Key("cost_per_second_high_res");
      w.Double(0.2 * scale);
      w.Key("cost_per_second_with_audio");
      if (index % 20 < 10) {
        w.Double(0.3 * scale);
      } else {
        w.Null();
      }
      break;
  }
  w.EndObject();
}

void FineTuning(Writer& w, Kind kind, bool tunable) {
  w.Key("fine_tuning");
  if (!tunable) {
    w.Null();
    return;
  }
  w.StartObject();
  w.Key("actions");
  switch (kind) {
    case Kind::kChat:
    case Kind::kChatNullCosts: StringArray(w, {"text_generation"}); break;
    case Kind::kImage:
    case Kind::kTimed: StringArray(w, {"image_generation", "image_editing"}); break;
    case Kind::kVideo: StringArray(w, {"video_generation"}); break;
  }
  w.Key("cost_per_second");
  w.Double(kind == Kind::kVideo ? 0.004 : 0.0012);
  w.EndObject();
}

// A number (or integer) property between `minimum` and `maximum`.
void BoundedNumber(Writer& w, absl::string_view name, absl::string_view type, double minimum,
                   double maximum) {
  w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  w.StartObject();
  w.Key("type");
  Str(w, type);
  w.Key("minimum");
  w.Double(minimum);
  w.Key("maximum");
  w.Double(maximum);
  w.EndObject();
}

// The rest of a chat model's parameters, as chat APIs take them: with the
// prompt and the temperature, the ten of a typical chat request.
void ChatParameters(Writer& w) {
  BoundedNumber(w, "top_p", "number", 0, 1);
  BoundedNumber(w, "max_tokens", "integer", 1, 64000);
  BoundedNumber(w, "presence_penalty", "number", -2, 2);
  BoundedNumber(w, "frequency_penalty", "number", -2, 2);
  BoundedNumber(w, "n", "integer", 1, 8);
  w.Key("stop");
  w.StartObject();
  w.Key("type");
  Str(w, "array");
  w.Key("maxItems");
  w.Int(4);
  w.Key("items");
  w.StartObject();
  w.Key("type");
  Str(w, "string");
  w.EndObject();
  w.EndObject();
  w.Key("seed");
  w.StartObject();
  w.Key("type");
  StringArray(w, {"integer", "null"});
  w.EndObject();
  w.Key("stream");
  w.StartObject();
  w.Key("type");
  Str(w, "boolean");
  w.EndObject();
}

void RequestSchema(Writer& w, Kind kind, int index) {
  w.Key("request_schema");
  if (index % 3 != 0) {
    w.Null();
    return;
  }
  w.StartObject();
  w.Key("type");
  Str(w, "object");
  w.Key("required");
  StringArray(w, {"prompt"});
  w.Key("properties");
  w.StartObject();
  w.Key("prompt");
  w.StartObject();
  w.Key("type");
  Str(w, "string");
  w.Key("minLength");
  w.Int(1);
  w.EndObject();
  if (kind == Kind::kVideo) {
    w.Key("duration");
    w.StartObject();
    w.Key("type");
    Str(w, "integer");
    w.Key("enum");
    w.StartArray();
    w.Int(5);
    w.Int(10);
    w.EndArray();
    w.Key("default");
    w.Int(5);
    w.EndObject();
  } else if (kind == Kind::kImage || kind == Kind::kTimed) {
    w.Key("aspect_ratio");
    w.StartObject();
    w.Key("type");
    Str(w, "string");
    w.Key("enum");
    StringArray(w, {"1:1", "16:9", "9:16"});
    w.EndObject();
  } else {
    w.Key("temperature");
    w.StartObject();
    w.Key("type");
    Str(w, "number");
    w.Key("minimum");
    w.Int(0);
    w.Key("maximum");
    w.Int(2);
    w.EndObject();
    if (kind == Kind::kChat) ChatParameters(w);
  }
  w.EndObject();
  w.Key("additionalProperties");
  w.Bool(false);
  w.EndObject();
}

// Writes one model and returns it with its lookup fields.
CatalogModel Generate(int index) {
  const int block_position = index % 10;
  const bool custom = block_position >= 5;
  const Kind kind = kBaseKinds[block_position % 5];
  const Developer& developer = kDevelopers[(index / 10 + block_position) % 6];
  // A custom model is fine-tuned from the base model of the same kind in its block.
  const int base_index = index - (custom ? 5 : 0);
  const std::string id =
      custom ? absl::StrFormat("gen-custom-%s-%06d", KindName(kind), index) : BaseId(kind, index);
  const std::string display_name =
      custom ? absl::StrFormat("Custom %s %d", KindName(kind), index)
             : absl::StrFormat("Generated %s %d", KindName(kind), index);
  const bool tunable = !custom && kind != Kind::kChatNullCosts;
  const bool has_developer = index % 11 != 0;

  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("id");
  Str(w, id);
  w.Key("object");
  Str(w, "model");
  w.Key("created");
  w.Int64(1700000000 + static_cast<int64_t>(index) * 60);
  w.Key("owned_by");
  Str(w, custom ? absl::StrCat("team-", index % 17) : "oxen");
  w.Key("display_name");
  Str(w, display_name);
  w.Key("description");
  if (index % 4 == 3) {
    w.Null();
  } else {
    Str(w, absl::StrCat("Synthetic ", KindName(kind), " model number ", index,
                        " for scale tests."));
  }
  w.Key("summary");
  if (index % 5 == 4) {
    w.Null();
  } else {
    Str(w, absl::StrCat("Synthetic ", KindName(kind), " model"));
  }
  w.Key("model_type");
  Str(w, custom ? "custom" : "base");
  w.Key("endpoint");
  Str(w, EndpointOf(kind));
  Capabilities(w, kind);
  Pricing(w, kind, index);
  FineTuning(w, kind, tunable);

  w.Key("deployments");
  w.StartArray();
  if (custom) {
    // Cycle statuses across blocks; every seventh custom model has none, every
    // fifth has two.
    const int status = (index / 10 + block_position) % 6;
    const int deployments = (index / 10) % 7 == 6 ? 0 : ((index / 10) % 5 == 4 ? 2 : 1);
    for (int d = 0; d < deployments; ++d) {
      w.StartObject();
      w.Key("id");
      Str(w, absl::StrCat(id, "-", d + 1));
      w.Key("status");
      Str(w, kStatuses[(status + d) % 6]);
      w.Key("provider");
      Str(w, d == 0 ? "primary" : "secondary");
      w.EndObject();
    }
  }
  w.EndArray();

  w.Key("developer");
  if (has_developer) {
    w.StartObject();
    w.Key("name");
    Str(w, developer.name);
    w.Key("logo");
    Str(w, developer.logo);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("source_model");
  if (custom) {
    Str(w, BaseId(kind, base_index));
  } else {
    w.Null();
  }
  w.Key("image_url");
  if (index % 2 == 0) {
    Str(w, absl::StrCat("https://hub.example/images/", id, ".png"));
  } else {
    w.Null();
  }
  w.Key("released_at");
  if (index % 6 == 5) {
    w.Null();
  } else {
    Str(w, absl::StrFormat("2025-%02d-%02dT00:00:00Z", 1 + index % 12, 1 + index % 28));
  }
  RequestSchema(w, kind, index);
  w.EndObject();

  CatalogModel model;
  model.id = id;
  model.json = std::make_shared<const std::string>(buffer.GetString(), buffer.GetSize());
  model.folded_id = FoldCase(id);
  model.folded_display_name = FoldCase(display_name);
  if (has_developer) model.folded_developer_name = FoldCase(developer.name);
  if (tunable) {
    switch (kind) {
      case Kind::kChat:
      case Kind::kChatNullCosts: model.actions = {"text_generation"}; break;
      case Kind::kImage:
      case Kind::kTimed: model.actions = {"image_generation", "image_editing"}; break;
      case Kind::kVideo: model.actions = {"video_generation"}; break;
    }
  }
  model.is_custom = custom;
  return model;
}

}  // namespace

std::vector<CatalogModel> GenerateCatalog(int count) {
  std::vector<CatalogModel> models;
  if (count <= 0) return models;
  models.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) models.push_back(Generate(i));
  return models;
}

}  // namespace hub_emulator
}  // namespace modelcatalog
