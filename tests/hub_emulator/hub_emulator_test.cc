// The emulator's request handling without sockets: HubEmulator::Handle driven
// with parsed requests, and a fake clock for the activation lifecycle.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "services/hub_emulator/catalog.h"
#include "services/hub_emulator/emulator.h"
#include "services/hub_emulator/generator.h"
#include "services/hub_emulator/http/http_message.h"
#include "services/hub_emulator/sample_catalog.h"
#include "services/hub_emulator/text.h"

namespace modelcatalog {
namespace hub_emulator {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr char kAllFields[][16] = {
    "id",          "object",     "created",      "owned_by",     "display_name", "description",
    "summary",     "model_type", "endpoint",     "capabilities", "pricing",      "fine_tuning",
    "deployments", "developer",  "source_model", "image_url",    "released_at",  "request_schema"};

rapidjson::Document ParseOrDie(absl::string_view text) {
  absl::StatusOr<rapidjson::Document> doc = ParseJson(text);
  EXPECT_TRUE(doc.ok()) << doc.status() << " in " << text;
  if (!doc.ok()) return rapidjson::Document();
  return *std::move(doc);
}

std::string Str(const rapidjson::Value& value) {
  return value.IsString() ? std::string(value.GetString(), value.GetStringLength())
                          : "<not a string>";
}

class HubEmulatorTest : public ::testing::Test {
 protected:
  HubEmulatorTest() { Make(); }

  void Make(std::string api_key = "", absl::Duration deploy_delay = absl::Seconds(3)) {
    absl::StatusOr<std::vector<CatalogModel>> catalog = ParseCatalog(SampleCatalogJson());
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    HubEmulatorOptions options;
    options.api_key = std::move(api_key);
    options.deploy_delay = deploy_delay;
    options.clock = [this] { return now_; };
    emulator_ = std::make_unique<HubEmulator>(*std::move(catalog), std::move(options));
  }

  HttpResponse Do(absl::string_view method, absl::string_view target, absl::string_view body = "",
                  std::vector<std::string> headers = {}) {
    std::string head = absl::StrCat(method, " ", target, " HTTP/1.1");
    for (const std::string& h : headers) absl::StrAppend(&head, "\r\n", h);
    HttpRequest request;
    uint64_t length = 0;
    const absl::Status parsed = http::ParseRequestHead(head, &request, &length);
    EXPECT_TRUE(parsed.ok()) << parsed;
    request.body = std::string(body);
    return emulator_->Handle(request);
  }
  HttpResponse Get(absl::string_view target) { return Do("GET", target); }

  // The ids of a list response, in order.
  std::vector<std::string> Ids(const HttpResponse& response) {
    EXPECT_EQ(response.status, 200) << response.body;
    std::vector<std::string> ids;
    rapidjson::Document doc = ParseOrDie(response.body);
    if (!doc.IsObject() || !doc.HasMember("data") || !doc["data"].IsArray()) {
      ADD_FAILURE() << "not a list: " << response.body;
      return ids;
    }
    EXPECT_EQ(Str(doc["object"]), "list");
    for (const auto& model : doc["data"].GetArray()) ids.push_back(Str(model["id"]));
    return ids;
  }

  // The statuses of a model's deployments, via the API.
  std::vector<std::string> Statuses(absl::string_view id) {
    const HttpResponse response = Get(absl::StrCat("/api/ai/models/", http::PercentEncode(id)));
    EXPECT_EQ(response.status, 200) << response.body;
    std::vector<std::string> statuses;
    rapidjson::Document doc = ParseOrDie(response.body);
    for (const auto& d : doc["deployments"].GetArray()) statuses.push_back(Str(d["status"]));
    return statuses;
  }

  std::string ErrorMessage(const HttpResponse& response) {
    rapidjson::Document doc = ParseOrDie(response.body);
    EXPECT_EQ(Str(doc["status"]), "error") << response.body;
    return Str(doc["status_message"]);
  }

  std::vector<std::string> SampleIds() {
    std::vector<std::string> ids;
    rapidjson::Document doc = ParseOrDie(SampleCatalogJson());
    for (const auto& model : doc["data"].GetArray()) ids.push_back(Str(model["id"]));
    return ids;
  }

  absl::Time now_ = absl::FromUnixSeconds(1800000000);
  std::unique_ptr<HubEmulator> emulator_;
};

// ---------------------------------------------------------------------------
// The sample catalog

TEST(SampleCatalogTest, CoversEveryFieldAndEdgeTheTestsRelyOn) {
  rapidjson::Document doc = ParseOrDie(SampleCatalogJson());
  ASSERT_TRUE(doc["data"].IsArray());
  const auto& models = doc["data"];
  EXPECT_GE(models.Size(), 12u);
  std::set<std::string> methods, statuses, endpoints, developers, null_fields, actions;
  bool extra_top = false, extra_pricing = false, extra_deployment = false;
  bool non_ascii_latin = false, greek_or_cjk = false, schema = false, null_schema = false;
  bool null_cost = false, high_res = false, with_audio = false, empty_custom = false;
  for (const auto& m : models.GetArray()) {
    for (const char* field : kAllFields) {
      EXPECT_TRUE(m.HasMember(field)) << Str(m["id"]) << " lacks " << field;
    }
    for (const auto& member : m.GetObject()) {
      if (member.value.IsNull()) null_fields.insert(Str(member.name));
      bool known = false;
      for (const char* field : kAllFields) known = known || Str(member.name) == field;
      extra_top = extra_top || !known;
    }
    EXPECT_EQ(Str(m["object"]), "model");
    const auto& pricing = m["pricing"];
    methods.insert(Str(pricing["method"]));
    for (const auto& p : pricing.GetObject()) {
      const std::string key = Str(p.name);
      null_cost = null_cost || (key != "method" && p.value.IsNull());
      high_res = high_res || (key == "cost_per_second_high_res" && p.value.IsNumber());
      with_audio = with_audio || (key == "cost_per_second_with_audio" && p.value.IsNumber());
      extra_pricing =
          extra_pricing ||
          !(key == "method" || key == "input_cost_per_token" || key == "output_cost_per_token" ||
            key == "cost_per_second" || key == "cost_per_image" ||
            key == "cost_per_second_high_res" || key == "cost_per_second_with_audio");
    }
    endpoints.insert(Str(m["endpoint"]));
    if (m["developer"].IsObject()) developers.insert(Str(m["developer"]["name"]));
    if (m["fine_tuning"].IsObject()) {
      EXPECT_TRUE(m["fine_tuning"]["cost_per_second"].IsNumber());
      for (const auto& a : m["fine_tuning"]["actions"].GetArray()) actions.insert(Str(a));
    }
    schema = schema || m["request_schema"].IsObject();
    null_schema = null_schema || m["request_schema"].IsNull();
    const std::string name = Str(m["display_name"]);
    non_ascii_latin = non_ascii_latin || name.find("\xC3") != std::string::npos;  // Latin-1 range
    greek_or_cjk = greek_or_cjk || name.find("\xCE") != std::string::npos ||
                   name.find("\xE4") != std::string::npos || name.find("\xE9") != std::string::npos;
    if (Str(m["model_type"]) == "custom") {
      EXPECT_NE(Str(m["owned_by"]), "oxen") << Str(m["id"]);
      EXPECT_TRUE(m["source_model"].IsString()) << Str(m["id"]);
      empty_custom = empty_custom || m["deployments"].Empty();
      for (const auto& d : m["deployments"].GetArray()) {
        statuses.insert(Str(d["status"]));
        for (const auto& f : d.GetObject()) {
          const std::string key = Str(f.name);
          extra_deployment =
              extra_deployment || !(key == "id" || key == "status" || key == "provider");
        }
      }
    } else {
      EXPECT_TRUE(m["deployments"].Empty()) << Str(m["id"]);
    }
  }
  EXPECT_THAT(methods,
              UnorderedElementsAre("token", "time", "per_image", "per_video_output_second"));
  EXPECT_THAT(statuses, UnorderedElementsAre("active", "inactive", "deploying", "deactivating",
                                             "error", "unknown"));
  EXPECT_THAT(endpoints,
              UnorderedElementsAre("/chat/completions", "/images/generate", "/videos/generate"));
  EXPECT_GE(developers.size(), 5u);
  for (const char* developer : {"Anthropic", "OpenAI", "Google", "Black Forest Labs", "Kuaishou"}) {
    EXPECT_EQ(developers.count(developer), 1u) << developer;
  }
  for (const char* field : {"description", "summary", "developer", "source_model", "image_url",
                            "released_at", "request_schema", "fine_tuning"}) {
    EXPECT_EQ(null_fields.count(field), 1u) << "no model has a null " << field;
  }
  EXPECT_TRUE(actions.count("text_generation") && actions.count("image_generation"));
  EXPECT_TRUE(extra_top && extra_pricing && extra_deployment);
  EXPECT_TRUE(non_ascii_latin && greek_or_cjk);
  EXPECT_TRUE(schema && null_schema && null_cost && high_res && with_audio && empty_custom);
}

// ---------------------------------------------------------------------------
// Catalog loading and helpers

TEST(CatalogTest, RejectsInvalidCatalogsWithAClearMessage) {
  const std::pair<const char*, const char*> cases[] = {
      {"{not json", "not valid JSON"},
      {"[1,2]", "must be an object"},
      {R"({"object":"model","data":[]})", "\"object\" must be \"list\""},
      {R"({"object":"list"})", "no \"data\" array"},
      {R"({"object":"list","data":{"id":"a"}})", "no \"data\" array"},
      {R"({"object":"list","data":[{"id":"a"},7]})", "data[1]"},
      {R"({"object":"list","data":[{"name":"a"}]})", "string \"id\""},
      {R"({"object":"list","data":[{"id":5}]})", "string \"id\""},
      {R"({"object":"list","data":[{"id":"a"},{"id":"b"},{"id":"a"}]})",
       "duplicate model id \"a\" (data[0] and data[2])"},
      {"{\"data\":[{\"id\":\"\xff\"}]}", "not valid JSON"},  // invalid UTF-8
  };
  for (const auto& [text, message] : cases) {
    const absl::StatusOr<std::vector<CatalogModel>> catalog = ParseCatalog(text);
    ASSERT_FALSE(catalog.ok()) << text;
    EXPECT_TRUE(absl::IsInvalidArgument(catalog.status()));
    EXPECT_THAT(std::string(catalog.status().message()), HasSubstr(message)) << text;
  }
  const absl::StatusOr<std::vector<CatalogModel>> minimal =
      ParseCatalog(R"({"data":[{"id":"x"}]})");
  ASSERT_TRUE(minimal.ok()) << minimal.status();
  EXPECT_EQ((*minimal)[0].id, "x");
}

TEST(CatalogTest, NumbersKeepFullPrecision) {
  const absl::StatusOr<std::vector<CatalogModel>> catalog = ParseCatalog(
      R"({"data":[{"id":"x","created":1750000000123,"pricing":{"c":3e-6,"d":0.1,"e":1.5e-5}}]})");
  ASSERT_TRUE(catalog.ok());
  rapidjson::Document doc = ParseOrDie(*(*catalog)[0].json);
  EXPECT_EQ(doc["created"].GetInt64(), 1750000000123);
  EXPECT_EQ(doc["pricing"]["c"].GetDouble(), 3e-6);
  EXPECT_EQ(doc["pricing"]["d"].GetDouble(), 0.1);
  EXPECT_EQ(doc["pricing"]["e"].GetDouble(), 1.5e-5);
}

TEST(CatalogTest, MergePatchFollowsRfc7386) {
  // The examples of RFC 7386 appendix A (those with object patches and targets).
  const std::tuple<const char*, const char*, const char*> cases[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"({"a":"foo"})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
      {R"({"x":1,"y":2,"z":3})", R"({"y":null})", R"({"x":1,"z":3})"},  // order kept
  };
  for (const auto& [target, patch, expected] : cases) {
    rapidjson::Document doc = ParseOrDie(target);
    rapidjson::Document p = ParseOrDie(patch);
    ApplyMergePatch(p, &doc, doc.GetAllocator());
    EXPECT_EQ(SerializeJson(doc), expected) << target << " + " << patch;
  }
}

TEST(TextTest, FoldCaseCoversLatinGreekCyrillic) {
  EXPECT_EQ(FoldCase("Élan VISION"), "élan vision");
  EXPECT_EQ(FoldCase("ÜBER Ÿ Ł Ž"), "über ÿ ł ž");
  EXPECT_EQ(FoldCase("ΕΡΜΉΣ Ερμής"), "ερμήσ ερμήσ");  // final sigma folds to sigma
  EXPECT_EQ(FoldCase("МОСКВА Ёж"), "москва ёж");
  EXPECT_EQ(FoldCase("通义万相 Max"), "通义万相 max");
  EXPECT_EQ(FoldCase("ＡＢＣ"), "ａｂｃ");
  EXPECT_EQ(FoldCase("bad \xff\xfe bytes"), "bad \xff\xfe bytes");
}

TEST(GeneratorTest, GeneratesVariedConsistentModels) {
  const std::vector<CatalogModel> models = GenerateCatalog(1000);
  ASSERT_EQ(models.size(), 1000u);
  std::set<std::string> ids, methods, statuses;
  int custom = 0, schemas = 0, tunable = 0;
  for (const CatalogModel& model : models) {
    EXPECT_TRUE(ids.insert(model.id).second) << "duplicate " << model.id;
    rapidjson::Document doc = ParseOrDie(*model.json);
    for (const char* field : kAllFields) EXPECT_TRUE(doc.HasMember(field)) << field;
    // The lookup fields built alongside the JSON agree with those derived from it.
    const absl::StatusOr<CatalogModel> derived = MakeCatalogModel(doc);
    ASSERT_TRUE(derived.ok());
    EXPECT_EQ(derived->id, model.id);
    EXPECT_EQ(derived->folded_display_name, model.folded_display_name);
    EXPECT_EQ(derived->folded_developer_name, model.folded_developer_name);
    EXPECT_EQ(derived->actions, model.actions);
    EXPECT_EQ(derived->is_custom, model.is_custom);
    methods.insert(Str(doc["pricing"]["method"]));
    for (const auto& d : doc["deployments"].GetArray()) statuses.insert(Str(d["status"]));
    custom += model.is_custom;
    schemas += doc["request_schema"].IsObject();
    tunable += doc["fine_tuning"].IsObject();
  }
  EXPECT_EQ(methods.size(), 4u);
  EXPECT_EQ(statuses.size(), 6u);
  EXPECT_EQ(custom, 500);
  EXPECT_GT(schemas, 100);
  EXPECT_GT(tunable, 100);
  // Deterministic.
  EXPECT_EQ(*GenerateCatalog(1000)[777].json, *models[777].json);
}

// The whole list of a large generated catalog is one well-formed document
// with every model once. (How fast it is served is measured by
// `make bench`, not here.)
TEST(GeneratorTest, HundredThousandModelsListWhole) {
  HubEmulator emulator(GenerateCatalog(100000), HubEmulatorOptions());
  HttpRequest request;
  uint64_t length;
  ASSERT_TRUE(http::ParseRequestHead("GET /api/ai/models HTTP/1.1", &request, &length).ok());
  const HttpResponse response = emulator.Handle(request);
  ASSERT_EQ(response.status, 200);
  rapidjson::Document doc;
  doc.Parse(response.body.data(), response.body.size());
  ASSERT_FALSE(doc.HasParseError());
  const auto& data = doc["data"];
  ASSERT_EQ(data.Size(), 100000u);
  std::set<std::string> ids;
  for (const auto& model : data.GetArray()) ids.insert(model["id"].GetString());
  EXPECT_EQ(ids.size(), 100000u);
}

// ---------------------------------------------------------------------------
// /api/ai

TEST_F(HubEmulatorTest, ListsTheCatalogInOrder) {
  const HttpResponse response = Get("/api/ai/models");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(*response.FindHeader("Content-Type"), "application/json");
  EXPECT_EQ(Ids(response), SampleIds());
  // Every model is served exactly as in the catalog, unknown fields included.
  rapidjson::Document served = ParseOrDie(response.body);
  rapidjson::Document sample = ParseOrDie(SampleCatalogJson());
  EXPECT_TRUE(served["data"] == sample["data"]);
}

TEST_F(HubEmulatorTest, ListFiltersByDeveloperAndAction) {
  EXPECT_THAT(Ids(Get("/api/ai/models?developer_name=google")),
              ElementsAre("gemini-2-5-flash", "hermes-omega-video"));
  EXPECT_THAT(Ids(Get("/api/ai/models?developer_name=BLACK%20FOREST%20LABS")),
              ElementsAre("flux-2-dev"));
  EXPECT_THAT(Ids(Get("/api/ai/models?developer_name=black+forest")), IsEmpty());  // equality
  EXPECT_THAT(Ids(Get("/api/ai/models?action=image_generation")),
              ElementsAre("flux-2-dev", "qwen-image-max"));
  EXPECT_THAT(Ids(Get("/api/ai/models?action=image_generation&developer_name=alibaba")),
              ElementsAre("qwen-image-max"));
  EXPECT_THAT(Ids(Get("/api/ai/models?action=Image_Generation")), IsEmpty());  // exact
  EXPECT_EQ(Ids(Get("/api/ai/models?developer_name=&action=")), SampleIds());
}

TEST_F(HubEmulatorTest, SearchMatchesIdOrDisplayNameIgnoringCase) {
  EXPECT_THAT(Ids(Get("/api/ai/models/search?search=KLING")),
              ElementsAre("kling-video-o3-pro-reference-to-video"));
  EXPECT_THAT(Ids(Get("/api/ai/models/search?search=sonnet%204.6")),
              ElementsAre("claude-sonnet-4-6"));                   // display name
  EXPECT_THAT(Ids(Get("/api/ai/models/search?search=%C3%A9LAN")),  // "éLAN"
              ElementsAre("elan-vision-1"));
  EXPECT_THAT(Ids(Get("/api/ai/models/search?search=%C3%BCber")),  // "über"
              ElementsAre("uber-coder-2"));
  EXPECT_THAT(Ids(Get(absl::StrCat("/api/ai/models/search?search=", http::PercentEncode("ΕΡΜΉΣ")))),
              ElementsAre("hermes-omega-video"));
  EXPECT_THAT(Ids(Get(absl::StrCat("/api/ai/models/search?search=", http::PercentEncode("万相")))),
              ElementsAre("qwen-image-max"));
  EXPECT_THAT(Ids(Get("/api/ai/models/search?search=no-such-thing")), IsEmpty());
}

TEST_F(HubEmulatorTest, SearchWithoutQueryIs400) {
  for (const char* target : {"/api/ai/models/search", "/api/ai/models/search?search="}) {
    const HttpResponse response = Get(target);
    EXPECT_EQ(response.status, 400) << target;
    EXPECT_THAT(ErrorMessage(response), HasSubstr("search"));
  }
}

TEST_F(HubEmulatorTest, RetrievesAModelIncludingLive) {
  const HttpResponse response = Get("/api/ai/models/flux-2-dev");
  EXPECT_EQ(response.status, 200);
  rapidjson::Document doc = ParseOrDie(response.body);
  EXPECT_EQ(Str(doc["id"]), "flux-2-dev");
  EXPECT_TRUE(doc["request_schema"].IsObject());
  EXPECT_EQ(Get("/api/ai/models/flux-2-dev?deployment_status=live").body, response.body);
}

TEST_F(HubEmulatorTest, RetrieveDecodesPercentEncodedIds) {
  ASSERT_EQ(Do("PUT", "/_control/models/org%2Fmodel%20v2%C3%A9", R"({"object":"model"})").status,
            201);
  const HttpResponse response = Get("/api/ai/models/org%2Fmodel%20v2%C3%A9");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(Str(ParseOrDie(response.body)["id"]), "org/model v2é");
  EXPECT_EQ(Get("/api/ai/models/org/model%20v2%C3%A9").status, 404);  // an unencoded "/" splits
}

TEST_F(HubEmulatorTest, UnknownModelIs404WithTheHubsMessage) {
  const HttpResponse response = Get("/api/ai/models/nope%20x");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, R"({"status":"error","status_message":"Model not found: nope x"})");
  EXPECT_EQ(ErrorMessage(Do("POST", "/api/ai/models/nope/activate")), "Model not found: nope");
}

TEST_F(HubEmulatorTest, UnknownRoutesAre404AndWrongMethods405) {
  for (const char* target : {"/api/ai", "/api/ai/", "/api/ai/models/", "/api/ai/other",
                             "/api/ai/models/x/y/z", "/elsewhere", "/api/aimodels"}) {
    const HttpResponse response = Get(target);
    EXPECT_EQ(response.status, 404) << target;
    EXPECT_THAT(ErrorMessage(response), HasSubstr("Not found")) << target;
  }
  const HttpResponse post_list = Do("POST", "/api/ai/models");
  EXPECT_EQ(post_list.status, 405);
  EXPECT_EQ(*post_list.FindHeader("Allow"), "GET");
  const HttpResponse get_activate = Get("/api/ai/models/acme-illustrator/activate");
  EXPECT_EQ(get_activate.status, 405);
  EXPECT_EQ(*get_activate.FindHeader("Allow"), "POST");
  EXPECT_EQ(Do("DELETE", "/api/ai/models/flux-2-dev").status, 405);
}

TEST_F(HubEmulatorTest, ApiKeyIsRequiredWhenConfigured) {
  Make("s3cret");
  const HttpResponse none = Get("/api/ai/models");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(ErrorMessage(none), "unauthenticated");
  EXPECT_EQ(Do("GET", "/api/ai/models", "", {"Authorization: Bearer wrong"}).status, 401);
  EXPECT_EQ(Do("GET", "/api/ai/models", "", {"Authorization: s3cret"}).status, 401);
  EXPECT_EQ(Do("GET", "/api/ai/models", "", {"Authorization: Bearer s3cret2"}).status, 401);
  EXPECT_EQ(Do("GET", "/api/ai/models", "", {"Authorization: Bearer s3cret"}).status, 200);
  EXPECT_EQ(Do("GET", "/api/ai/models", "", {"authorization: bearer s3cret"}).status, 200);
  // Routes are not revealed to unauthenticated clients.
  EXPECT_EQ(Get("/api/ai/unknown").status, 401);
  // The control API is never authenticated.
  EXPECT_EQ(Get("/_control/stats").status, 200);
}

TEST_F(HubEmulatorTest, BaseModelsRefuseActivationAndDeactivation) {
  const HttpResponse activate = Do("POST", "/api/ai/models/flux-2-dev/activate");
  EXPECT_EQ(activate.status, 400);
  EXPECT_EQ(ErrorMessage(activate), "Base models are always active and do not need activation");
  const HttpResponse deactivate = Do("POST", "/api/ai/models/flux-2-dev/deactivate");
  EXPECT_EQ(deactivate.status, 400);
  EXPECT_EQ(ErrorMessage(deactivate), "Base models are always active and cannot be deactivated");
}

TEST_F(HubEmulatorTest, ActivationDeploysThenActivatesAfterTheDelay) {
  Make("", absl::Seconds(3));
  const HttpResponse response = Do("POST", "/api/ai/models/acme-illustrator/activate");
  ASSERT_EQ(response.status, 200);
  rapidjson::Document doc = ParseOrDie(response.body);
  EXPECT_EQ(Str(doc["deployments"][0]["status"]), "deploying");
  EXPECT_EQ(Str(doc["deployments"][0]["provider"]), "oxen-gpu");  // other fields kept
  now_ += absl::Seconds(3) - absl::Nanoseconds(1);
  EXPECT_THAT(Statuses("acme-illustrator"), ElementsAre("deploying"));
  now_ += absl::Nanoseconds(1);
  EXPECT_THAT(Statuses("acme-illustrator"), ElementsAre("active"));
  // The flip shows in lists too, and the rest of the model is unchanged.
  rapidjson::Document list = ParseOrDie(Get("/api/ai/models?developer_name=acme").body);
  rapidjson::Document original = ParseOrDie(SampleCatalogJson());
  for (auto& m : original["data"].GetArray()) {
    if (Str(m["id"]) == "acme-illustrator") {
      m["deployments"][0]["status"].SetString("active");
      bool found = false;
      for (const auto& served : list["data"].GetArray()) {
        if (Str(served["id"]) == "acme-illustrator") found = served == m;
      }
      EXPECT_TRUE(found);
    }
  }
}

TEST_F(HubEmulatorTest, ActivatingAModelWithoutDeploymentsCreatesOne) {
  const HttpResponse response = Do("POST", "/api/ai/models/acme-draft-chat/activate");
  ASSERT_EQ(response.status, 200);
  rapidjson::Document doc = ParseOrDie(response.body);
  ASSERT_EQ(doc["deployments"].Size(), 1u);
  EXPECT_EQ(Str(doc["deployments"][0]["id"]), "acme-draft-chat-1");
  EXPECT_EQ(Str(doc["deployments"][0]["status"]), "deploying");
  now_ += absl::Seconds(3);
  EXPECT_THAT(Statuses("acme-draft-chat"), ElementsAre("active"));
}

TEST_F(HubEmulatorTest, RepeatedActivationIsANoOp) {
  // Active: nothing changes, no transition starts.
  const HttpResponse active = Do("POST", "/api/ai/models/acme-support-bot/activate");
  EXPECT_EQ(active.status, 200);
  EXPECT_EQ(active.body, Get("/api/ai/models/acme-support-bot").body);
  EXPECT_THAT(Statuses("acme-support-bot"), ElementsAre("active"));
  // Deploying (from the file, without a timer): stays deploying.
  EXPECT_EQ(Do("POST", "/api/ai/models/pixel-studio-sketch/activate").status, 200);
  now_ += absl::Hours(1);
  EXPECT_THAT(Statuses("pixel-studio-sketch"), ElementsAre("deploying"));
  // A second activation does not push the deadline back.
  Do("POST", "/api/ai/models/acme-illustrator/activate");
  now_ += absl::Seconds(2);
  Do("POST", "/api/ai/models/acme-illustrator/activate");
  now_ += absl::Seconds(1);
  EXPECT_THAT(Statuses("acme-illustrator"), ElementsAre("active"));
}

TEST_F(HubEmulatorTest, DeactivationLifecycle) {
  const HttpResponse response = Do("POST", "/api/ai/models/acme-support-bot/deactivate");
  ASSERT_EQ(response.status, 200);
  rapidjson::Document doc = ParseOrDie(response.body);
  EXPECT_EQ(Str(doc["deployments"][0]["status"]), "deactivating");
  EXPECT_EQ(Str(doc["deployments"][0]["region"]), "us-east-1");
  now_ += absl::Seconds(3);
  EXPECT_THAT(Statuses("acme-support-bot"), ElementsAre("inactive"));
  // Inactive and deactivating models: no-op.
  EXPECT_EQ(Do("POST", "/api/ai/models/acme-illustrator/deactivate").body,
            Get("/api/ai/models/acme-illustrator").body);
  Do("POST", "/api/ai/models/pixel-studio-promo-video/deactivate");
  now_ += absl::Hours(1);
  EXPECT_THAT(Statuses("pixel-studio-promo-video"), ElementsAre("deactivating"));
  // Error and unknown deployments can be deactivated (and activated).
  Do("POST", "/api/ai/models/lab42-broken-tune/deactivate");
  Do("POST", "/api/ai/models/lab42-mystery/activate");
  EXPECT_THAT(Statuses("lab42-broken-tune"), ElementsAre("deactivating"));
  EXPECT_THAT(Statuses("lab42-mystery"), ElementsAre("deploying"));
}

TEST_F(HubEmulatorTest, ActivationDuringDeactivationTakesOver) {
  Do("POST", "/api/ai/models/acme-support-bot/deactivate");
  now_ += absl::Seconds(2);
  Do("POST", "/api/ai/models/acme-support-bot/activate");
  EXPECT_THAT(Statuses("acme-support-bot"), ElementsAre("deploying"));
  now_ += absl::Seconds(2);  // the old deadline passed: no flip to inactive
  EXPECT_THAT(Statuses("acme-support-bot"), ElementsAre("deploying"));
  now_ += absl::Seconds(1);
  EXPECT_THAT(Statuses("acme-support-bot"), ElementsAre("active"));
}

// ---------------------------------------------------------------------------
// /_control

TEST_F(HubEmulatorTest, ControlListsTheCurrentCatalog) {
  Do("DELETE", "/_control/models/flux-2-dev");
  std::vector<std::string> expected = SampleIds();
  expected.erase(std::find(expected.begin(), expected.end(), "flux-2-dev"));
  EXPECT_EQ(Ids(Get("/_control/models")), expected);
  EXPECT_EQ(Ids(Get("/_control/catalog")), expected);
}

TEST_F(HubEmulatorTest, PutModelAddsOrReplacesAndThePathIdWins) {
  const HttpResponse added =
      Do("PUT", "/_control/models/new-model", R"({"id":"ignored","display_name":"New","x":1})");
  EXPECT_EQ(added.status, 201);
  EXPECT_EQ(added.body, R"({"id":"new-model","display_name":"New","x":1})");
  EXPECT_EQ(Ids(Get("/api/ai/models")).back(), "new-model");
  EXPECT_EQ(Ids(Get("/api/ai/models/search?search=new")).size(), 1u);

  const HttpResponse replaced = Do("PUT", "/_control/models/flux-2-dev",
                                   R"({"display_name":"Replaced","model_type":"custom"})");
  EXPECT_EQ(replaced.status, 200);
  EXPECT_EQ(Get("/api/ai/models/flux-2-dev").body,
            R"({"id":"flux-2-dev","display_name":"Replaced","model_type":"custom"})");
  EXPECT_EQ(Ids(Get("/api/ai/models"))[4], "flux-2-dev");  // keeps its place

  EXPECT_EQ(Do("PUT", "/_control/models/x", "not json").status, 400);
  EXPECT_EQ(Do("PUT", "/_control/models/x", "[1]").status, 400);
}

TEST_F(HubEmulatorTest, PatchModelAppliesAMergePatch) {
  const HttpResponse patched = Do("PATCH", "/_control/models/claude-sonnet-4-6",
                                  R"({"summary":null,"pricing":{"input_cost_per_token":5e-6},
                                      "developer":{"logo":null},"id":"renamed","new":true})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  rapidjson::Document doc = ParseOrDie(Get("/api/ai/models/claude-sonnet-4-6").body);
  EXPECT_FALSE(doc.HasMember("summary"));
  EXPECT_EQ(doc["pricing"]["input_cost_per_token"].GetDouble(), 5e-6);
  EXPECT_EQ(doc["pricing"]["output_cost_per_token"].GetDouble(), 1.5e-5);
  EXPECT_EQ(Str(doc["developer"]["name"]), "Anthropic");
  EXPECT_FALSE(doc["developer"].HasMember("logo"));
  EXPECT_EQ(Str(doc["id"]), "claude-sonnet-4-6");  // cannot rename
  EXPECT_TRUE(doc["new"].GetBool());
  // Filters see the change.
  Do("PATCH", "/_control/models/claude-sonnet-4-6", R"({"developer":{"name":"Someone Else"}})");
  EXPECT_THAT(Ids(Get("/api/ai/models?developer_name=anthropic")), IsEmpty());

  EXPECT_EQ(Do("PATCH", "/_control/models/nope", "{}").status, 404);
  EXPECT_EQ(Do("PATCH", "/_control/models/flux-2-dev", "[]").status, 400);
  EXPECT_EQ(Do("PATCH", "/_control/models/flux-2-dev", "{").status, 400);
}

TEST_F(HubEmulatorTest, DeleteModelRemovesIt) {
  EXPECT_EQ(Do("DELETE", "/_control/models/gpt-5-mini").status, 200);
  EXPECT_EQ(Get("/api/ai/models/gpt-5-mini").status, 404);
  EXPECT_EQ(Ids(Get("/api/ai/models")).size(), SampleIds().size() - 1);
  EXPECT_EQ(Get("/api/ai/models/uber-coder-2").status, 200);  // the index was rebuilt
  const HttpResponse again = Do("DELETE", "/_control/models/gpt-5-mini");
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(ErrorMessage(again), "Model not found: gpt-5-mini");
}

TEST_F(HubEmulatorTest, SetStatusChangesDeploymentsAndCancelsTransitions) {
  Do("POST", "/api/ai/models/acme-illustrator/activate");
  const HttpResponse set =
      Do("PUT", "/_control/models/acme-illustrator/status", R"({"status":"error"})");
  ASSERT_EQ(set.status, 200) << set.body;
  now_ += absl::Hours(1);
  EXPECT_THAT(Statuses("acme-illustrator"), ElementsAre("error"));  // no flip to active

  // Any string, including values the hub does not document.
  Do("PUT", "/_control/models/acme-illustrator/status", R"({"status":"melting"})");
  EXPECT_THAT(Statuses("acme-illustrator"), ElementsAre("melting"));

  // One deployment by index; a model without deployments gets one.
  Do("PUT", "/_control/models/acme-draft-chat/status", R"({"status":"active"})");
  EXPECT_THAT(Statuses("acme-draft-chat"), ElementsAre("active"));
  Do("PATCH", "/_control/models/acme-draft-chat",
     R"({"deployments":[{"status":"active"},{"status":"active"}]})");
  EXPECT_EQ(
      Do("PUT", "/_control/models/acme-draft-chat/status", R"({"status":"error","deployment":1})")
          .status,
      200);
  EXPECT_THAT(Statuses("acme-draft-chat"), ElementsAre("active", "error"));

  EXPECT_EQ(
      Do("PUT", "/_control/models/acme-draft-chat/status", R"({"status":"error","deployment":2})")
          .status,
      400);
  EXPECT_EQ(
      Do("PUT", "/_control/models/acme-draft-chat/status", R"({"status":"error","deployment":-1})")
          .status,
      400);
  EXPECT_EQ(Do("PUT", "/_control/models/acme-draft-chat/status", R"({"state":"x"})").status, 400);
  EXPECT_EQ(Do("PUT", "/_control/models/acme-draft-chat/status", R"({"status":3})").status, 400);
  EXPECT_EQ(Do("PUT", "/_control/models/nope/status", R"({"status":"x"})").status, 404);
}

TEST_F(HubEmulatorTest, ReplaceCatalogAndReset) {
  const HttpResponse replaced = Do("PUT", "/_control/catalog",
                                   R"({"object":"list","data":[{"id":"only","model_type":"custom",
                                       "deployments":[]}]})");
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.body, R"({"status":"ok","models":1})");
  EXPECT_THAT(Ids(Get("/api/ai/models")), ElementsAre("only"));

  const HttpResponse bad = Do("PUT", "/_control/catalog", R"({"data":[{"id":"a"},{"id":"a"}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(ErrorMessage(bad), HasSubstr("duplicate model id"));
  EXPECT_THAT(Ids(Get("/api/ai/models")), ElementsAre("only"));  // unchanged

  Do("POST", "/api/ai/models/only/activate");
  Do("POST", "/_control/faults", R"({"fault":"http_error"})");
  ASSERT_EQ(Do("POST", "/_control/reset").status, 200);
  EXPECT_EQ(
      Get("/_control/stats").body,
      R"({"requests":{"list":0,"search":0,"retrieve":0,"retrieve_live":0,"activate":0,"deactivate":0},"hangs_abandoned":0})");
  EXPECT_EQ(Ids(Get("/api/ai/models")), SampleIds());  // and no fault fired
}

TEST_F(HubEmulatorTest, StatsCountReceivedRequestsPerEndpoint) {
  Get("/api/ai/models");
  Get("/api/ai/models?developer_name=x");
  Get("/api/ai/models/search?search=a");
  Get("/api/ai/models/search");  // a 400 is still a received request
  Get("/api/ai/models/flux-2-dev");
  Get("/api/ai/models/missing");
  Get("/api/ai/models/flux-2-dev?deployment_status=live");
  Get("/api/ai/models/flux-2-dev?deployment_status=live");
  Do("POST", "/api/ai/models/acme-illustrator/activate");
  Do("POST", "/api/ai/models/acme-illustrator/deactivate");
  Do("POST", "/api/ai/models/flux-2-dev/deactivate");
  Get("/api/ai/unknown");       // not an endpoint
  Do("PUT", "/api/ai/models");  // wrong method
  Get("/_control/models");      // control requests are not counted
  EXPECT_EQ(
      Get("/_control/stats").body,
      R"({"requests":{"list":2,"search":2,"retrieve":2,"retrieve_live":2,"activate":1,"deactivate":2},"hangs_abandoned":0})");
  EXPECT_EQ(Do("POST", "/_control/stats").status, 405);
  EXPECT_EQ(Get("/_control/nothing").status, 404);
}

// ---------------------------------------------------------------------------
// Faults

TEST_F(HubEmulatorTest, HttpErrorFault) {
  ASSERT_EQ(Do("POST", "/_control/faults", R"({"fault":"http_error"})").status, 200);
  const HttpResponse first = Get("/api/ai/models");
  EXPECT_EQ(first.status, 500);
  EXPECT_EQ(ErrorMessage(first), "Internal Server Error");
  EXPECT_EQ(Get("/api/ai/models").status, 200);  // count defaults to 1

  Do("POST", "/_control/faults",
     R"({"fault":"http_error","status":503,"message":"down","count":2})");
  for (int i = 0; i < 2; ++i) {
    const HttpResponse response = Get("/api/ai/models/flux-2-dev");
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(ErrorMessage(response), "down");
  }
  EXPECT_EQ(Get("/api/ai/models/flux-2-dev").status, 200);
}

TEST_F(HubEmulatorTest, FaultsReplaceProcessing) {
  Do("POST", "/_control/faults", R"({"fault":"http_error","endpoint":"activate"})");
  EXPECT_EQ(Do("POST", "/api/ai/models/acme-illustrator/activate").status, 500);
  EXPECT_THAT(Statuses("acme-illustrator"), ElementsAre("inactive"));  // never reached the hub
}

TEST_F(HubEmulatorTest, RateLimitFault) {
  Do("POST", "/_control/faults", R"({"fault":"rate_limit","retry_after_seconds":7})");
  const HttpResponse response = Get("/api/ai/models");
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(*response.FindHeader("Retry-After"), "7");
  EXPECT_EQ(ErrorMessage(response), "Rate limit exceeded");
  Do("POST", "/_control/faults", R"({"fault":"rate_limit"})");
  EXPECT_EQ(*Get("/api/ai/models").FindHeader("Retry-After"), "1");
}

TEST_F(HubEmulatorTest, BodyFaults) {
  Do("POST", "/_control/faults", R"({"fault":"malformed_json"})");
  const HttpResponse malformed = Get("/api/ai/models");
  EXPECT_EQ(malformed.status, 200);
  EXPECT_FALSE(ParseJson(malformed.body).ok());

  Do("POST", "/_control/faults", R"({"fault":"wrong_shape","count":2})");
  const HttpResponse list = Get("/api/ai/models");
  EXPECT_EQ(list.status, 200);
  rapidjson::Document list_doc = ParseOrDie(list.body);
  EXPECT_TRUE(list_doc["data"].IsObject());  // not the array clients expect
  const HttpResponse model = Get("/api/ai/models/flux-2-dev");
  rapidjson::Document model_doc = ParseOrDie(model.body);
  EXPECT_TRUE(model_doc["id"].IsNumber());

  Do("POST", "/_control/faults", R"({"fault":"empty_body"})");
  const HttpResponse empty = Get("/api/ai/models/search?search=a");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "");
}

TEST_F(HubEmulatorTest, TransportFaultsWrapTheRealResponse) {
  Do("POST", "/_control/faults", R"({"fault":"truncated"})");
  const HttpResponse truncated = Get("/api/ai/models");
  EXPECT_EQ(truncated.status, 200);
  EXPECT_EQ(truncated.body, Get("/api/ai/models").body);  // the real body...
  ASSERT_TRUE(truncated.truncate_at.has_value());
  EXPECT_EQ(*truncated.truncate_at, truncated.body.size() / 2);  // ...cut in the middle

  Do("POST", "/_control/faults", R"({"fault":"slow","delay_ms":250})");
  const HttpResponse slow = Get("/api/ai/models/flux-2-dev");
  EXPECT_EQ(slow.delay, absl::Milliseconds(250));
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(Get("/api/ai/models/flux-2-dev").delay, absl::ZeroDuration());

  Do("POST", "/_control/faults", R"({"fault":"hang"})");
  EXPECT_TRUE(Get("/api/ai/models").hang);
  EXPECT_FALSE(Get("/api/ai/models").hang);
}

TEST_F(HubEmulatorTest, FaultsMatchTheirEndpointInOrder) {
  Do("POST", "/_control/faults", R"({"fault":"http_error","status":502,"endpoint":"search"})");
  Do("POST", "/_control/faults", R"({"fault":"http_error","status":503,"endpoint":"retrieve"})");
  Do("POST", "/_control/faults", R"({"fault":"http_error","status":504})");
  EXPECT_EQ(Get("/api/ai/models/flux-2-dev?deployment_status=live").status, 503);
  EXPECT_EQ(Get("/api/ai/models").status, 504);  // the "any" fault
  EXPECT_EQ(Get("/api/ai/models").status, 200);
  EXPECT_EQ(Get("/_control/faults").body,
            R"({"faults":[{"fault":"http_error","endpoint":"search","remaining":1}]})");
  EXPECT_EQ(Get("/api/ai/models/search?search=x").status, 502);
  ASSERT_EQ(Do("POST", "/_control/faults", R"({"fault":"hang","count":5})").status, 200);
  ASSERT_EQ(Do("DELETE", "/_control/faults").status, 200);
  EXPECT_FALSE(Get("/api/ai/models").hang);
}

TEST_F(HubEmulatorTest, FaultsApplyBeforeAuthentication) {
  Make("key");
  Do("POST", "/_control/faults", R"({"fault":"http_error","status":502})");
  EXPECT_EQ(Get("/api/ai/models").status, 502);
  EXPECT_EQ(Get("/api/ai/models").status, 401);
}

TEST_F(HubEmulatorTest, InvalidFaultsAreRefused) {
  const std::pair<const char*, const char*> cases[] = {
      {"nope", "not valid JSON"},
      {"[]", "JSON object"},
      {"{}", "\"fault\" must be one of"},
      {R"({"fault":"explode"})", "unknown fault \"explode\""},
      {R"({"fault":"slow","delay":5})", "unknown field \"delay\""},
      {R"({"fault":"hang","status":500})", "unknown field \"status\""},
      {R"({"fault":"hang","count":0})", "\"count\""},
      {R"({"fault":"hang","count":"2"})", "\"count\""},
      {R"({"fault":"http_error","status":200})", "\"status\""},
      {R"({"fault":"slow","delay_ms":-1})", "\"delay_ms\""},
      {R"({"fault":"hang","endpoint":"everything"})", "\"endpoint\""},
      {R"({"fault":"http_error","message":5})", "\"message\""},
  };
  for (const auto& [body, message] : cases) {
    const HttpResponse response = Do("POST", "/_control/faults", body);
    EXPECT_EQ(response.status, 400) << body;
    EXPECT_THAT(ErrorMessage(response), HasSubstr(message)) << body;
  }
  EXPECT_EQ(Get("/_control/faults").body, R"({"faults":[]})");
}

}  // namespace
}  // namespace hub_emulator
}  // namespace modelcatalog
