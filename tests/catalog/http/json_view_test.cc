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
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::testing::ElementsAre;

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
    store_.Publish(CatalogSnapshot::Build(
        {MakeModel("a", "A", "Acme", {"text_generation"}), MakeModel("b", "B", "acme"),
         MakeModel("c", "C", "Other", {"text_generation"})},
        1, absl::UnixEpoch()));
  }
  CatalogStore store_;
};

TEST_F(JsonViewTest, BeforeTheFirstCatalogItAnswers503) {
  JsonView view(&store_, nullptr);
  const HttpReply reply = view.Handle(Get("/v1/models"));
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(
      *reply.body,
      R"({"status":"error","status_message":"the catalog has not been loaded from the hub yet: retry shortly"})");
}

TEST_F(JsonViewTest, ListsAndFiltersLikeTheHub) {
  Load();
  JsonView view(&store_, nullptr);
  EXPECT_THAT(ListedIds(view.Handle(Get("/v1/models"))), ElementsAre("a", "b", "c"));
  EXPECT_THAT(ListedIds(view.Handle(Get("/v1/models", {{"developer_name", "ACME"}}))),
              ElementsAre("a", "b"));
  EXPECT_THAT(ListedIds(view.Handle(Get("/v1/models", {{"action", "text_generation"}}))),
              ElementsAre("a", "c"));
  EXPECT_THAT(ListedIds(view.Handle(
                  Get("/v1/models", {{"developer_name", "acme"}, {"action", "text_generation"}}))),
              ElementsAre("a"));
}

TEST_F(JsonViewTest, TheUnfilteredListIsRenderedOncePerCatalog) {
  Load();
  JsonView view(&store_, nullptr);
  const HttpReply first = view.Handle(Get("/v1/models"));
  const HttpReply second = view.Handle(Get("/v1/models"));
  EXPECT_EQ(first.body, second.body);  // the same bytes, shared
  Load();                              // a new catalog
  EXPECT_NE(view.Handle(Get("/v1/models")).body, first.body);
}

TEST_F(JsonViewTest, OneModelOrTheHubsNotFound) {
  Load();
  JsonView view(&store_, nullptr);
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
  JsonView view(&store_, auth->get());
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
