// ValidateRequest on CatalogServiceImpl: violations with their pointer,
// keyword and message; models without a schema; schemas that do not compile;
// schemas compiled once per revision; bad requests.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/catalog/api/catalog_service_impl.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::modelcatalog::v1::Model;
using ::modelcatalog::v1::ValidateRequestRequest;
using ::modelcatalog::v1::ValidateRequestResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

google::protobuf::Struct StructOf(const std::string& json) {
  google::protobuf::Struct out;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

Model WithSchema(const std::string& id, const std::string& schema_json) {
  Model model = MakeModel(id);
  *model.mutable_request_schema() = StructOf(schema_json);
  return model;
}

constexpr char kImageSchema[] = R"({
  "type": "object",
  "required": ["prompt"],
  "properties": {
    "prompt": {"type": "string", "minLength": 1, "maxLength": 40},
    "num_inference_steps": {"type": "integer", "minimum": 1, "maximum": 50},
    "guidance": {"type": "number", "exclusiveMaximum": 20},
    "aspect_ratio": {"type": "string", "enum": ["1:1", "16:9"]},
    "seed": {"type": ["integer", "null"]},
    "images": {"type": "array", "maxItems": 2, "items": {"type": "string", "pattern": "^https://"}},
    "a/b~c": {"type": "boolean"}
  },
  "additionalProperties": false
})";

class ValidateRequestTest : public ::testing::Test {
 protected:
  ValidateRequestTest() : impl_(&store_, &status_) {
    Publish(
        {WithSchema("flux", kImageSchema), MakeModel("plain"),
         WithSchema(
             "broken",
             R"({"type": "object", "properties": {"x": {"$ref": "http://elsewhere.test/s.json"}}})"),
         WithSchema("new-draft", R"({"$schema": "https://json-schema.org/draft/2020-12/schema",
                                         "type": "object", "properties": {"n": {"type": "integer"}}})")});
  }

  void Publish(std::vector<Model> models) {
    store_.Publish(CatalogSnapshot::Build(std::move(models), ++revision_, absl::Now()));
  }

  ValidateRequestResponse ValidJson(const std::string& model, const std::string& json) {
    ValidateRequestRequest request;
    request.set_model_id(model);
    request.set_parameters_json(json);
    ValidateRequestResponse response;
    absl::Status status = impl_.ValidateRequest(request, &response);
    EXPECT_TRUE(status.ok()) << status;
    return response;
  }

  static std::vector<std::string> Described(const ValidateRequestResponse& response) {
    std::vector<std::string> out;
    for (const v1::Violation& v : response.violations()) {
      out.push_back(absl::StrCat(v.pointer(), " ", v.keyword(), ": ", v.message()));
    }
    return out;
  }

  int64_t revision_ = 0;
  CatalogStore store_;
  SyncStatusRecorder status_{"http://hub.test/api/ai"};
  CatalogServiceImpl impl_;
};

TEST_F(ValidateRequestTest, AValidRequestHasNoViolations) {
  const ValidateRequestResponse response = ValidJson(
      "flux", R"({"prompt": "a cat", "num_inference_steps": 30, "seed": null, "images": []})");
  EXPECT_TRUE(response.valid());
  EXPECT_THAT(response.violations(), IsEmpty());
  EXPECT_THAT(response.notes(), IsEmpty());
  EXPECT_EQ(response.revision(), 1);
}

TEST_F(ValidateRequestTest, EachViolationNamesItsPointerKeywordAndWhatIsWrong) {
  EXPECT_THAT(Described(ValidJson("flux", R"({"prompt": "a cat", "num_inference_steps": 51})")),
              ElementsAre("/num_inference_steps maximum: must be at most 50, got 51"));
  EXPECT_THAT(Described(ValidJson("flux", R"({"num_inference_steps": 0})")),
              ElementsAre("/num_inference_steps minimum: must be at least 1, got 0",
                          "/prompt required: \"prompt\" is required"));
  EXPECT_THAT(Described(ValidJson("flux", R"({"prompt": "", "guidance": 20})")),
              ElementsAre("/guidance exclusiveMaximum: must be less than 20, got 20",
                          "/prompt minLength: must be at least 1 characters long"));
  EXPECT_THAT(Described(ValidJson("flux", R"({"prompt": "x", "aspect_ratio": "2:1"})")),
              ElementsAre("/aspect_ratio enum: must be one of [\"1:1\",\"16:9\"], got \"2:1\""));
  EXPECT_THAT(Described(ValidJson("flux", R"({"prompt": 7, "seed": 1.5})")),
              ElementsAre("/prompt type: must be of type \"string\", got integer",
                          "/seed type: must be of type [\"integer\",\"null\"], got number"));
  EXPECT_THAT(
      Described(ValidJson("flux", R"({"prompt": "x", "images": ["https://a", "http://b"]})")),
      ElementsAre("/images/1 pattern: must match the pattern \"^https://\", got \"http://b\""));
  EXPECT_THAT(Described(ValidJson("flux", R"({"prompt": "x", "steps": 3})")),
              ElementsAre("/steps additionalProperties: \"steps\" is not a parameter this model "
                          "takes"));
  // RFC 6901 escapes "~" and "/" in a name.
  EXPECT_THAT(Described(ValidJson("flux", R"({"prompt": "x", "a/b~c": 1})")),
              ElementsAre("/a~1b~0c type: must be of type \"boolean\", got integer"));
}

TEST_F(ValidateRequestTest, WholeNumbersInAStructAreIntegers) {
  ValidateRequestRequest request;
  request.set_model_id("flux");
  *request.mutable_parameters() = StructOf(R"({"prompt": "a cat", "num_inference_steps": 30})");
  ValidateRequestResponse response;
  ASSERT_TRUE(impl_.ValidateRequest(request, &response).ok());
  EXPECT_TRUE(response.valid()) << Described(response)[0];
  *request.mutable_parameters() = StructOf(R"({"prompt": "a cat", "num_inference_steps": 30.5})");
  response.Clear();
  ASSERT_TRUE(impl_.ValidateRequest(request, &response).ok());
  EXPECT_FALSE(response.valid());
}

TEST_F(ValidateRequestTest, AModelWithoutASchemaIsValidWithANote) {
  const ValidateRequestResponse response = ValidJson("plain", R"({"anything": 1})");
  EXPECT_TRUE(response.valid());
  EXPECT_THAT(response.notes(),
              ElementsAre("model plain has no request_schema: nothing was checked"));
}

TEST_F(ValidateRequestTest, ASchemaThatDoesNotCompileIsReportedInTheAnswer) {
  const ValidateRequestResponse response = ValidJson("broken", R"({"x": 1})");
  EXPECT_FALSE(response.valid());
  EXPECT_THAT(response.schema_error(), HasSubstr("the schema could not be compiled"));
  EXPECT_THAT(response.violations(), IsEmpty());
}

TEST_F(ValidateRequestTest, ALaterDraftIsCheckedAsDraft7WithANote) {
  const ValidateRequestResponse response = ValidJson("new-draft", R"({"n": "one"})");
  EXPECT_FALSE(response.valid());
  ASSERT_EQ(response.notes_size(), 1);
  EXPECT_THAT(response.notes(0), HasSubstr("checked by draft 7's rules"));
  EXPECT_THAT(Described(response), ElementsAre("/n type: must be of type \"integer\", got string"));
}

TEST(RequestSchemaCacheTest, CompilesOncePerRevisionAndKeepsUnchangedModelsAcrossRevisions) {
  std::vector<Model> models = {WithSchema("flux", kImageSchema), WithSchema("other", "{}")};
  std::shared_ptr<const CatalogSnapshot> first = CatalogSnapshot::Build(models, 1, absl::Now());
  RequestSchemaCache cache;
  const std::shared_ptr<const CompiledRequestSchema> compiled = cache.SchemaOf(*first, 0);
  ASSERT_NE(compiled, nullptr);
  EXPECT_EQ(cache.SchemaOf(*first, 0), compiled);
  EXPECT_EQ(cache.SchemaOf(*first, 0), compiled);
  EXPECT_EQ(cache.compilations(), 1);

  // The next sync brings flux unchanged and another schema for "other": its
  // entry is shared, and only the changed model is compiled.
  CatalogSnapshot::Builder builder(first);
  builder.Add(models[0]);
  builder.Add(WithSchema("other", R"({"type": "object"})"));
  std::shared_ptr<const CatalogSnapshot> second = std::move(builder).Build(2, absl::Now());
  EXPECT_EQ(cache.SchemaOf(*second, 0), compiled);
  EXPECT_EQ(cache.compilations(), 1);
  EXPECT_NE(cache.SchemaOf(*second, 1), nullptr);
  EXPECT_EQ(cache.compilations(), 2);
  EXPECT_EQ(cache.SchemaOf(*second, 1), cache.SchemaOf(*second, 1));
  EXPECT_EQ(cache.compilations(), 2);
}

TEST_F(ValidateRequestTest, BadRequestsAreInvalidArguments) {
  const auto status_of = [&](const ValidateRequestRequest& request) {
    ValidateRequestResponse response;
    return impl_.ValidateRequest(request, &response);
  };
  ValidateRequestRequest request;
  EXPECT_EQ(status_of(request).message(), "model_id must not be empty");
  request.set_model_id("flux");
  request.set_parameters_json("{\"prompt\": ");
  EXPECT_EQ(status_of(request).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status_of(request).message(), HasSubstr("parameters_json is not JSON: "));
  EXPECT_THAT(status_of(request).message(), HasSubstr("at offset 11"));
  request.set_parameters_json(std::string(100, '[') + std::string(100, ']'));
  EXPECT_EQ(status_of(request).message(), "parameters_json nest deeper than 64 levels");
  request.set_parameters_json("{}");
  (*request.mutable_parameters()->mutable_fields())["prompt"].set_string_value("x");
  EXPECT_EQ(status_of(request).message(), "give parameters or parameters_json, not both");
  request.clear_parameters();
  request.set_model_id("nope");
  EXPECT_EQ(status_of(request).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status_of(request).message(), "Model not found: nope");
}

}  // namespace
}  // namespace modelcatalog::catalog
