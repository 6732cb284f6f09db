// The JSON view and the operators' endpoints as plain classes: what each
// request gets, without sockets (http_listener_test and the end-to-end tests
// serve them for real).
#include "services/catalog/http/json_view.h"

#include <cstdio>
#include <fstream>

#include "clients/hub/model_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/http/ops_endpoints.h"
#include "services/catalog/sync/sync_status.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

HttpRequest Get(std::string path, std::vector<std::pair<std::string, std::string>> query = {},
                std::string authorization = "") {
  HttpRequest request;
  request.method = "GET";
  request.path = std::move(path);
  request.query = std::move(query);
  request.authorization = std::move(authorization);
  return request;
}

std::string Header(const HttpReply& reply, const std::string& name) {
  for (const auto& [key, value] : reply.headers) {
    if (key == name) return value;
  }
  return "";
}

std::vector<std::string> ListedIds(const HttpReply& reply) {
  absl::StatusOr<hub::ParsedModelList> list = hub::ParseModelList(*reply.body);
  EXPECT_TRUE(list.ok()) << list.status();
  std::vector<std::string> ids;
  if (list.ok()) {
    for (const auto& model : list->models) ids.push_back(model.id());
  }
  return ids;
}

class JsonViewTest : public ::testing::Test {
 protected:
  void Load() {
    modelcatalog::v1::Model a = MakeModel("a", "A", "Acme", {"text_generation"});
    a.mutable_pricing()->set_input_cost_per_token(0.3);
    a.set_description("the description of a");
    modelcatalog::v1::Model b = MakeModel("b", "B", "acme");
    b.mutable_pricing()->set_input_cost_per_token(0.1);
    modelcatalog::v1::Model c = MakeModel("c", "C", "Other", {"text_generation"});
    c.mutable_pricing()->set_input_cost_per_token(0.2);
    store_.Publish(CatalogSnapshot::Build({a, b, c}, ++revision_, absl::UnixEpoch()));
  }
  CatalogStore store_;
  SyncStatusRecorder sync_status_{"http://hub.test/api/ai"};
  CatalogServiceImpl catalog_{&store_, &sync_status_};
  int64_t revision_ = 0;
};

TEST_F(JsonViewTest, BeforeTheFirstCatalogItAnswers503) {
  JsonView view(&catalog_, nullptr);
  const HttpReply reply = view.Handle(Get("/v1/models"));
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(
      *reply.body,
      R"({"status":"error","status_message":"the catalog has not been loaded from the hub yet: retry shortly"})");
}

TEST_F(JsonViewTest, ListsAndFiltersLikeTheHub) {
  Load();
  JsonView view(&catalog_, nullptr);
  EXPECT_THAT(ListedIds(view.Handle(Get("/v1/models"))), ElementsAre("a", "b", "c"));
  EXPECT_THAT(ListedIds(view.Handle(Get("/v1/models", {{"developer_name", "ACME"}}))),
              ElementsAre("a", "b"));
  EXPECT_THAT(ListedIds(view.Handle(Get("/v1/models", {{"action", "text_generation"}}))),
              ElementsAre("a", "c"));
  EXPECT_THAT(ListedIds(view.Handle(
                  Get("/v1/models", {{"developer_name", "acme"}, {"action", "text_generation"}}))),
              ElementsAre("a"));
}

TEST_F(JsonViewTest, FiltersAndOrdersAsListModelsDoes) {
  Load();
  JsonView view(&catalog_, nullptr);
  EXPECT_THAT(
      ListedIds(view.Handle(Get("/v1/models", {{"order_by", "pricing.input_cost_per_token"}}))),
      ElementsAre("b", "c", "a"));
  EXPECT_THAT(ListedIds(view.Handle(
                  Get("/v1/models", {{"filter", "pricing.input_cost_per_token > 0.15"},
                                     {"order_by", "pricing.input_cost_per_token desc"}}))),
              ElementsAre("a", "c"));
  // The hub's filters and the query language together.
  EXPECT_THAT(
      ListedIds(view.Handle(Get("/v1/models", {{"developer_name", "acme"},
                                               {"filter", "pricing.input_cost_per_token < 0.2"}}))),
      ElementsAre("b"));
}

TEST_F(JsonViewTest, SearchesAsSearchModelsDoesAndPages) {
  modelcatalog::v1::Model sonnet = MakeModel("claude-sonnet-4-5", "Claude Sonnet 4.5", "Anthropic");
  modelcatalog::v1::Model opus = MakeModel("claude-opus-4-1", "Claude Opus 4.1", "Anthropic");
  modelcatalog::v1::Model flux = MakeModel("flux-2-dev", "FLUX.2 [dev]", "Black Forest Labs");
  store_.Publish(CatalogSnapshot::Build({sonnet, opus, flux}, ++revision_, absl::UnixEpoch()));
  JsonView view(&catalog_, nullptr);
  EXPECT_THAT(ListedIds(view.Handle(Get("/v1/models:search", {{"query", "claude sonet"}}))),
              ElementsAre("claude-sonnet-4-5"));
  // The hub's name for the parameter.
  EXPECT_THAT(ListedIds(view.Handle(Get("/v1/models:search", {{"search", "flux dev"}}))),
              ElementsAre("flux-2-dev"));
  const HttpReply first =
      view.Handle(Get("/v1/models:search", {{"query", "claude"}, {"page_size", "1"}}));
  ASSERT_EQ(first.status, 200);
  EXPECT_THAT(ListedIds(first), ElementsAre("claude-opus-4-1"));
  EXPECT_THAT(*first.body, HasSubstr(R"("total_size":2,"next_page_token":")"));
  const std::string token = first.body->substr(first.body->find("next_page_token") + 18);
  EXPECT_THAT(ListedIds(view.Handle(
                  Get("/v1/models:search", {{"query", "claude"},
                                            {"page_size", "1"},
                                            {"page_token", token.substr(0, token.find('"'))}}))),
              ElementsAre("claude-sonnet-4-5"));

  const HttpReply no_query = view.Handle(Get("/v1/models:search"));
  EXPECT_EQ(no_query.status, 400);
  EXPECT_EQ(*no_query.body, R"({"status":"error","status_message":"query must not be empty"})");
  const HttpReply bad_size =
      view.Handle(Get("/v1/models:search", {{"query", "claude"}, {"page_size", "ten"}}));
  EXPECT_EQ(bad_size.status, 400);
  EXPECT_EQ(
      *bad_size.body,
      R"({"status":"error","status_message":"page_size must be a whole number, not \"ten\""})");
}

TEST_F(JsonViewTest, AQueryThatDoesNotParseIs400WithTheParsersMessage) {
  Load();
  JsonView view(&catalog_, nullptr);
  const HttpReply bad_filter = view.Handle(Get("/v1/models", {{"filter", "pricing.nope > 1"}}));
  EXPECT_EQ(bad_filter.status, 400);
  EXPECT_THAT(*bad_filter.body,
              ::testing::StartsWith(R"({"status":"error","status_message":"filter: )"));
  EXPECT_THAT(*bad_filter.body, ::testing::HasSubstr("pricing.nope"));
  const HttpReply bad_order = view.Handle(Get("/v1/models", {{"order_by", "name sideways"}}));
  EXPECT_EQ(bad_order.status, 400);
  EXPECT_THAT(*bad_order.body, ::testing::HasSubstr("order_by"));
  const HttpReply bad_view = view.Handle(Get("/v1/models/a", {{"view", "tiny"}}));
  EXPECT_EQ(bad_view.status, 400);
  EXPECT_EQ(*bad_view.body,
            R"({"status":"error","status_message":"view must be basic or full, not \"tiny\""})");
}

TEST_F(JsonViewTest, ModelsAreFullUnlessBasicIsAskedFor) {
  Load();
  JsonView view(&catalog_, nullptr);
  absl::StatusOr<modelcatalog::v1::Model> full =
      hub::ParseModel(*view.Handle(Get("/v1/models/a")).body);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->description(), "the description of a");
  for (const char* basic : {"basic", "BASIC", "MODEL_VIEW_BASIC"}) {
    const HttpReply reply = view.Handle(Get("/v1/models/a", {{"view", basic}}));
    absl::StatusOr<modelcatalog::v1::Model> model = hub::ParseModel(*reply.body);
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_EQ(model->id(), "a");
    EXPECT_EQ(model->description(), "") << basic;
  }
  const HttpReply list = view.Handle(Get("/v1/models", {{"view", "basic"}}));
  EXPECT_THAT(*list.body, ::testing::Not(::testing::HasSubstr("the description of a")));
  EXPECT_THAT(*view.Handle(Get("/v1/models")).body, ::testing::HasSubstr("the description of a"));
}

TEST_F(JsonViewTest, TheUnfilteredListIsRenderedOncePerCatalog) {
  Load();
  JsonView view(&catalog_, nullptr);
  const HttpReply first = view.Handle(Get("/v1/models"));
  const HttpReply second = view.Handle(Get("/v1/models"));
  EXPECT_EQ(first.body, second.body);  // the same bytes, shared
  Load();                              // a new catalog
  EXPECT_NE(view.Handle(Get("/v1/models")).body, first.body);
}

TEST_F(JsonViewTest, OneModelOrTheHubsNotFound) {
  Load();
  JsonView view(&catalog_, nullptr);
  const HttpReply found = view.Handle(Get("/v1/models/b"));
  EXPECT_EQ(found.status, 200);
  absl::StatusOr<modelcatalog::v1::Model> model = hub::ParseModel(*found.body);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->id(), "b");
  const HttpReply missing = view.Handle(Get("/v1/models/zzz"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(*missing.body, R"({"status":"error","status_message":"Model not found: zzz"})");
  HttpRequest post = Get("/v1/models");
  post.method = "POST";
  const HttpReply refused = view.Handle(post);
  EXPECT_EQ(refused.status, 405);
  EXPECT_EQ(Header(refused, "Allow"), "GET, HEAD");
}

TEST_F(JsonViewTest, WithCallerTokensARequestNeedsOne) {
  Load();
  const std::string path = ::testing::TempDir() + "/json_view_tokens";
  std::ofstream(path) << "reader read\n";
  absl::StatusOr<std::unique_ptr<CallerAuth>> auth = CallerAuth::FromFile(path, absl::Hours(1));
  ASSERT_TRUE(auth.ok()) << auth.status();
  JsonView view(&catalog_, auth->get());
  const HttpReply none = view.Handle(Get("/v1/models/a"));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(Header(none, "WWW-Authenticate"), R"(Bearer realm="model-catalog")");
  const HttpReply wrong = view.Handle(Get("/v1/models/a", {}, "Bearer nope"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(Header(wrong, "WWW-Authenticate"),
            R"(Bearer realm="model-catalog", error="invalid_token")");
  EXPECT_EQ(*wrong.body, R"({"status":"error","status_message":"invalid bearer token"})");
  EXPECT_EQ(view.Handle(Get("/v1/models/a", {}, "Bearer reader")).status, 200);
  // Even a path that finds nothing says 401 first: no probing without a token.
  EXPECT_EQ(view.Handle(Get("/v1/models/zzz")).status, 401);
  std::remove(path.c_str());
}

TEST(OpsEndpointsTest, MetricsAndTheProbeAndNothingElse) {
  CatalogStore store;
  metrics::Registry registry;
  registry.GetCounter("x_total", "X.")->Increment();
  OpsEndpoints ops(&store, &registry);
  EXPECT_EQ(ops.Handle(Get("/healthz")).status, 503);
  EXPECT_EQ(*ops.Handle(Get("/healthz")).body, "NOT_SERVING\n");
  store.Publish(CatalogSnapshot::Build({MakeModel("a")}, 1, absl::UnixEpoch()));
  EXPECT_EQ(*ops.Handle(Get("/healthz")).body, "SERVING\n");
  const HttpReply metrics = ops.Handle(Get("/metrics"));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(*metrics.body, ::testing::HasSubstr("x_total 1\n"));
  EXPECT_EQ(ops.Handle(Get("/v1/models")).status, 404);
}

}  // namespace
}  // namespace modelcatalog::catalog
