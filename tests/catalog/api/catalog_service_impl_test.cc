#include "services/catalog/api/catalog_service_impl.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::Ids;
using ::modelcatalog::testing::MakeModel;
using ::modelcatalog::v1::GetModelRequest;
using ::modelcatalog::v1::GetModelResponse;
using ::modelcatalog::v1::GetSyncStatusResponse;
using ::modelcatalog::v1::ListModelsRequest;
using ::modelcatalog::v1::ListModelsResponse;
using ::modelcatalog::v1::SearchModelsRequest;
using ::modelcatalog::v1::SearchModelsResponse;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class CatalogServiceImplTest : public ::testing::Test {
 protected:
  CatalogServiceImplTest() {
    CatalogServiceOptions options;
    options.clock = [this] { return now_; };
    impl_ = std::make_unique<CatalogServiceImpl>(&store_, &status_, options);
  }

  void Publish(std::vector<modelcatalog::v1::Model> models) {
    store_.Publish(CatalogSnapshot::Build(std::move(models), ++revision_, now_));
  }

  // Walks every page of a List and returns the ids in order.
  std::vector<std::string> ListAll(ListModelsRequest request) {
    std::vector<std::string> ids;
    for (int pages = 0; pages < 1000; ++pages) {
      ListModelsResponse response;
      absl::Status status = impl_->ListModels(request, &response);
      EXPECT_TRUE(status.ok()) << status;
      for (const auto& m : response.models()) ids.push_back(m.id());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return ids;
  }

  absl::Time now_ = absl::FromUnixSeconds(1764000000);
  int64_t revision_ = 0;
  CatalogStore store_;
  SyncStatusRecorder status_{"http://hub.test/api/ai"};
  std::unique_ptr<CatalogServiceImpl> impl_;
};

TEST_F(CatalogServiceImplTest, EveryReadIsUnavailableBeforeTheFirstCatalog) {
  ListModelsResponse list;
  SearchModelsResponse search;
  GetModelResponse get;
  SearchModelsRequest search_request;
  search_request.set_query("x");
  GetModelRequest get_request;
  get_request.set_id("x");
  for (const absl::Status& status :
       {impl_->ListModels({}, &list), impl_->SearchModels(search_request, &search),
        impl_->GetModel(get_request, &get)}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(status.message(), "the catalog has not been loaded from the hub yet: retry shortly");
  }
}

TEST_F(CatalogServiceImplTest, ListsInIdOrderAcrossPages) {
  std::vector<modelcatalog::v1::Model> models;
  for (int i = 0; i < 7; ++i) models.push_back(MakeModel(absl::StrCat("m", 6 - i)));
  Publish(models);
  ListModelsRequest request;
  request.set_page_size(3);
  ListModelsResponse first;
  ASSERT_TRUE(impl_->ListModels(request, &first).ok());
  EXPECT_THAT(Ids(first.models()), ElementsAre("m0", "m1", "m2"));
  EXPECT_FALSE(first.next_page_token().empty());
  EXPECT_THAT(ListAll(request), ElementsAre("m0", "m1", "m2", "m3", "m4", "m5", "m6"));
}

TEST_F(CatalogServiceImplTest, LastPageHasNoToken) {
  Publish({MakeModel("a"), MakeModel("b")});
  ListModelsRequest request;
  request.set_page_size(2);
  ListModelsResponse response;
  ASSERT_TRUE(impl_->ListModels(request, &response).ok());
  EXPECT_EQ(response.models_size(), 2);
  EXPECT_THAT(response.next_page_token(), IsEmpty());
}

TEST_F(CatalogServiceImplTest, PageSizeDefaultsClampsAndRejectsNegative) {
  std::vector<modelcatalog::v1::Model> models;
  for (int i = 0; i < 1200; ++i) models.push_back(MakeModel(absl::StrCat("m", 10000 + i)));
  Publish(models);
  ListModelsResponse by_default;
  ASSERT_TRUE(impl_->ListModels({}, &by_default).ok());
  EXPECT_EQ(by_default.models_size(), 50);
  ListModelsRequest huge;
  huge.set_page_size(5000);
  ListModelsResponse clamped;
  ASSERT_TRUE(impl_->ListModels(huge, &clamped).ok());
  EXPECT_EQ(clamped.models_size(), 1000);
  ListModelsRequest negative;
  negative.set_page_size(-1);
  ListModelsResponse none;
  absl::Status status = impl_->ListModels(negative, &none);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "page_size must not be negative, got -1");
}

TEST_F(CatalogServiceImplTest, FiltersByDeveloperCaseInsensitivelyAndByAction) {
  Publish({MakeModel("a", "", "Anthropic", {"text_generation"}), MakeModel("b", "", "OpenAI"),
           MakeModel("c", "", "ANTHROPIC"), MakeModel("d", "", "Google", {"text_generation"}),
           MakeModel("e", "", "anthropic", {"image_editing"})});
  ListModelsRequest by_developer;
  by_developer.set_developer_name("anthropic");
  by_developer.set_page_size(1);
  EXPECT_THAT(ListAll(by_developer), ElementsAre("a", "c", "e"));
  ListModelsRequest by_action;
  by_action.set_action("text_generation");
  by_action.set_page_size(1);
  EXPECT_THAT(ListAll(by_action), ElementsAre("a", "d"));
  ListModelsRequest both = by_developer;
  both.set_action("text_generation");
  EXPECT_THAT(ListAll(both), ElementsAre("a"));
  ListModelsRequest nobody;
  nobody.set_developer_name("nobody");
  EXPECT_THAT(ListAll(nobody), IsEmpty());
}

TEST_F(CatalogServiceImplTest, ASyncBetweenPagesNeitherRepeatsNorSkips) {
  Publish({MakeModel("a"), MakeModel("b"), MakeModel("c"), MakeModel("d"), MakeModel("e")});
  ListModelsRequest request;
  request.set_page_size(2);
  ListModelsResponse first;
  ASSERT_TRUE(impl_->ListModels(request, &first).ok());
  EXPECT_THAT(Ids(first.models()), ElementsAre("a", "b"));
  // The catalog changes: "b" (already seen) and "c" go, "aa" (before the cursor)
  // and "bb" (after it) arrive.
  Publish({MakeModel("a"), MakeModel("aa"), MakeModel("bb"), MakeModel("d"), MakeModel("e")});
  request.set_page_token(first.next_page_token());
  std::vector<std::string> rest = ListAll(request);
  EXPECT_THAT(rest, ElementsAre("bb", "d", "e"));
}

TEST_F(CatalogServiceImplTest, RefusesATokenOfAnotherQuery) {
  Publish({MakeModel("a", "", "X"), MakeModel("b", "", "X"), MakeModel("c", "", "Y")});
  ListModelsRequest request;
  request.set_page_size(1);
  ListModelsResponse first;
  ASSERT_TRUE(impl_->ListModels(request, &first).ok());
  request.set_developer_name("x");
  request.set_page_token(first.next_page_token());
  ListModelsResponse second;
  absl::Status status = impl_->ListModels(request, &second);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "page_token belongs to a different query: keep every other request field as it was "
            "for the first page");
  // A List token is not a Search token either.
  SearchModelsRequest search;
  search.set_query("a");
  search.set_page_token(first.next_page_token());
  SearchModelsResponse found;
  EXPECT_EQ(impl_->SearchModels(search, &found).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogServiceImplTest, RefusesAnExpiredToken) {
  Publish({MakeModel("a"), MakeModel("b")});
  ListModelsRequest request;
  request.set_page_size(1);
  ListModelsResponse first;
  ASSERT_TRUE(impl_->ListModels(request, &first).ok());
  now_ += absl::Hours(1) + absl::Seconds(1);
  request.set_page_token(first.next_page_token());
  ListModelsResponse second;
  absl::Status status = impl_->ListModels(request, &second);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "page_token has expired: request the first page again");
}

TEST_F(CatalogServiceImplTest, RefusesAGarbageToken) {
  Publish({MakeModel("a")});
  ListModelsRequest request;
  request.set_page_token("garbage");
  ListModelsResponse response;
  absl::Status status = impl_->ListModels(request, &response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              ::testing::HasSubstr("page_token is not a valid page token"));
}

TEST_F(CatalogServiceImplTest, SearchRanksAndPages) {
  Publish({MakeModel("flux-2-dev", "FLUX.2 [dev]"), MakeModel("flux", "Flux"),
           MakeModel("dev-flux-pro", "Pro"), MakeModel("reflux", "Reflux"),
           MakeModel("claude", "Claude")});
  SearchModelsRequest request;
  request.set_query("FLUX");
  request.set_page_size(2);
  std::vector<std::string> ids;
  for (int pages = 0; pages < 10; ++pages) {
    SearchModelsResponse response;
    ASSERT_TRUE(impl_->SearchModels(request, &response).ok());
    for (const auto& m : response.models()) ids.push_back(m.id());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  // The exact id, the family, a mention; "reflux" is another word.
  EXPECT_THAT(ids, ElementsAre("flux", "flux-2-dev", "dev-flux-pro"));
}

TEST_F(CatalogServiceImplTest, SearchCountsEveryMatchAndSharesPagesAcrossSpellings) {
  Publish({MakeModel("gpt-5", "GPT-5"), MakeModel("gpt-5-mini", "GPT-5 mini"),
           MakeModel("gpt-5-nano", "GPT-5 nano"), MakeModel("gpt-4o", "GPT-4o")});
  SearchModelsRequest request;
  request.set_query("gpt 5");
  request.set_page_size(1);
  SearchModelsResponse first;
  ASSERT_TRUE(impl_->SearchModels(request, &first).ok());
  EXPECT_EQ(first.total_size(), 3);
  EXPECT_THAT(Ids(first.models()), ElementsAre("gpt-5"));
  // "GPT-5" is the same query as "gpt 5": its pages follow on.
  request.set_query("GPT-5");
  request.set_page_token(first.next_page_token());
  SearchModelsResponse second;
  ASSERT_TRUE(impl_->SearchModels(request, &second).ok());
  EXPECT_THAT(Ids(second.models()), ElementsAre("gpt-5-mini"));
}

TEST_F(CatalogServiceImplTest, SearchNeedsALetterOrDigit) {
  Publish({MakeModel("a")});
  SearchModelsRequest request;
  request.set_query(" -- ");
  SearchModelsResponse response;
  absl::Status status = impl_->SearchModels(request, &response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "query has no letter or digit: search matches words of model ids and names");
}

TEST_F(CatalogServiceImplTest, SearchNeedsAQuery) {
  Publish({MakeModel("a")});
  SearchModelsResponse response;
  absl::Status status = impl_->SearchModels({}, &response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "query must not be empty");
}

TEST_F(CatalogServiceImplTest, GetsAModelOrSaysItIsNotFoundLikeTheHub) {
  Publish({MakeModel("claude-sonnet-4-6", "Claude Sonnet 4.6")});
  GetModelRequest request;
  request.set_id("claude-sonnet-4-6");
  GetModelResponse response;
  ASSERT_TRUE(impl_->GetModel(request, &response).ok());
  EXPECT_EQ(response.model().display_name(), "Claude Sonnet 4.6");

  request.set_id("gpt-9");
  absl::Status status = impl_->GetModel(request, &response);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "Model not found: gpt-9");

  request.set_id("");
  status = impl_->GetModel(request, &response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "id must not be empty");
}

TEST_F(CatalogServiceImplTest, ReportsSyncStatus) {
  GetSyncStatusResponse before;
  ASSERT_TRUE(impl_->GetSyncStatus({}, &before).ok());
  EXPECT_EQ(before.source(), "http://hub.test/api/ai");
  EXPECT_FALSE(before.has_last_success_time());
  EXPECT_EQ(before.revision(), 0);

  Publish({MakeModel("a"), MakeModel("b")});
  status_.RecordSuccess(absl::FromUnixSeconds(1764000100));
  status_.RecordFailure(absl::FromUnixSeconds(1764000200), absl::UnavailableError("hub down"));
  GetSyncStatusResponse after;
  ASSERT_TRUE(impl_->GetSyncStatus({}, &after).ok());
  EXPECT_EQ(after.model_count(), 2);
  EXPECT_EQ(after.revision(), 1);
  EXPECT_EQ(after.last_success_time().seconds(), 1764000100);
  EXPECT_EQ(after.last_attempt_time().seconds(), 1764000200);
  EXPECT_EQ(after.last_error(), "UNAVAILABLE: hub down");
  EXPECT_EQ(after.consecutive_failures(), 1);
}

// --- filter, order_by, view, total_size, BatchGet ---

modelcatalog::v1::Model Priced(const std::string& id, double cost_per_image,
                               const std::string& endpoint = "/images/generate") {
  modelcatalog::v1::Model model = MakeModel(id);
  model.set_endpoint(endpoint);
  if (cost_per_image >= 0) model.mutable_pricing()->set_cost_per_image(cost_per_image);
  model.set_description(absl::StrCat("the long description of ", id));
  (*model.mutable_request_schema()->mutable_fields())["type"].set_string_value("object");
  return model;
}

TEST_F(CatalogServiceImplTest, AFilteredOrderedListPagesExactlyAndCountsEveryMatch) {
  std::vector<modelcatalog::v1::Model> models;
  for (int i = 0; i < 30; ++i) {
    models.push_back(Priced(absl::StrCat("m", 100 + i), (i % 7) * 0.01,
                            i % 3 == 0 ? "/chat/completions" : "/images/generate"));
  }
  Publish(models);
  ListModelsRequest request;
  request.set_filter("endpoint = \"/images/generate\" AND pricing.cost_per_image < 0.05");
  request.set_order_by("pricing.cost_per_image desc");
  request.set_page_size(4);
  ListModelsResponse first;
  ASSERT_TRUE(impl_->ListModels(request, &first).ok());
  // i % 3 != 0 and (i % 7) < 5.
  int expected = 0;
  for (int i = 0; i < 30; ++i) expected += (i % 3 != 0 && i % 7 < 5) ? 1 : 0;
  EXPECT_EQ(first.total_size(), expected);
  const std::vector<std::string> all = ListAll(request);
  ASSERT_EQ(all.size(), static_cast<size_t>(expected));
  // In order: price descending, ties by id.
  const std::shared_ptr<const CatalogSnapshot> catalog = store_.Current();
  for (size_t i = 1; i < all.size(); ++i) {
    const double before = catalog->Find(all[i - 1])->fields.prices[ModelFields::kCostPerImage];
    const double after = catalog->Find(all[i])->fields.prices[ModelFields::kCostPerImage];
    EXPECT_TRUE(before > after || (before == after && all[i - 1] < all[i])) << i;
  }
}

// A token carries the last model's key in the requested order: a sync between
// two pages neither repeats nor skips a model that was there before and after.
TEST_F(CatalogServiceImplTest, AnOrderedPageContinuesAfterItsKeyAcrossASync) {
  Publish({Priced("a", 0.05), Priced("b", 0.04), Priced("c", 0.03), Priced("d", 0.02),
           Priced("e", 0.01)});
  ListModelsRequest request;
  request.set_order_by("pricing.cost_per_image");
  request.set_page_size(2);
  ListModelsResponse first;
  ASSERT_TRUE(impl_->ListModels(request, &first).ok());
  EXPECT_THAT(Ids(first.models()), ElementsAre("e", "d"));
  // The sync: "d" (on the first page) gone, a cheaper "f" (before the cursor)
  // and a dearer "g" (after it) new, "c" cheaper but still after the cursor.
  Publish({Priced("a", 0.05), Priced("b", 0.04), Priced("c", 0.025), Priced("e", 0.01),
           Priced("f", 0.001), Priced("g", 0.06)});
  request.set_page_token(first.next_page_token());
  ListModelsResponse second;
  ASSERT_TRUE(impl_->ListModels(request, &second).ok());
  EXPECT_THAT(Ids(second.models()), ElementsAre("c", "b"));
  EXPECT_EQ(second.total_size(), 6);
  request.set_page_token(second.next_page_token());
  ListModelsResponse third;
  ASSERT_TRUE(impl_->ListModels(request, &third).ok());
  EXPECT_THAT(Ids(third.models()), ElementsAre("a", "g"));
  EXPECT_TRUE(third.next_page_token().empty());
}

TEST_F(CatalogServiceImplTest, ATokenIsValidOnlyWithItsFilterOrderAndView) {
  Publish({Priced("a", 0.05), Priced("b", 0.04), Priced("c", 0.03)});
  ListModelsRequest request;
  request.set_filter("pricing.cost_per_image:*");
  request.set_order_by("pricing.cost_per_image");
  request.set_page_size(1);
  ListModelsResponse first;
  ASSERT_TRUE(impl_->ListModels(request, &first).ok());
  for (const auto& change : std::vector<std::function<void(ListModelsRequest*)>>{
           [](auto* r) { r->set_filter("pricing.cost_per_image < 1"); },
           [](auto* r) { r->set_order_by("pricing.cost_per_image desc"); },
           [](auto* r) { r->set_view(modelcatalog::v1::MODEL_VIEW_FULL); }}) {
    ListModelsRequest other = request;
    other.set_page_token(first.next_page_token());
    change(&other);
    ListModelsResponse response;
    const absl::Status status = impl_->ListModels(other, &response);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()),
                ::testing::HasSubstr("belongs to a different query"));
  }
}

TEST_F(CatalogServiceImplTest, BasicLeavesOutTheDescriptionAndSchemaFullHasEverything) {
  Publish({Priced("a", 0.05)});
  ListModelsResponse basic;
  ASSERT_TRUE(impl_->ListModels(ListModelsRequest(), &basic).ok());  // BASIC by default
  ASSERT_EQ(basic.models_size(), 1);
  EXPECT_FALSE(basic.models(0).has_description());
  EXPECT_FALSE(basic.models(0).has_request_schema());
  EXPECT_EQ(basic.models(0).pricing().cost_per_image(), 0.05);
  ListModelsRequest full_request;
  full_request.set_view(modelcatalog::v1::MODEL_VIEW_FULL);
  ListModelsResponse full;
  ASSERT_TRUE(impl_->ListModels(full_request, &full).ok());
  EXPECT_EQ(full.models(0).description(), "the long description of a");
  EXPECT_TRUE(full.models(0).has_request_schema());
  GetModelRequest get;
  get.set_id("a");
  GetModelResponse got;  // FULL by default
  ASSERT_TRUE(impl_->GetModel(get, &got).ok());
  EXPECT_TRUE(got.model().has_request_schema());
  // The BASIC bytes written from the stored serialization are the BASIC message.
  const CatalogEntry& entry = *store_.Current()->Find("a");
  std::string bytes;
  AppendModel(entry, modelcatalog::v1::MODEL_VIEW_BASIC, &bytes);
  EXPECT_EQ(bytes.size(), ModelSize(entry, modelcatalog::v1::MODEL_VIEW_BASIC));
  modelcatalog::v1::Model parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  modelcatalog::v1::Model expected = entry.model();
  expected.clear_description();
  expected.clear_request_schema();
  EXPECT_EQ(parsed.SerializeAsString(), expected.SerializeAsString());
}

TEST_F(CatalogServiceImplTest, BatchGetAnswersInRequestOrderAllOrNothing) {
  Publish({Priced("a", 0.05), Priced("b", 0.04), Priced("c", 0.03)});
  modelcatalog::v1::BatchGetModelsRequest request;
  for (const char* id : {"c", "a", "c"}) request.add_ids(id);
  absl::StatusOr<ModelPage> page = impl_->BatchGet(request);
  ASSERT_TRUE(page.ok()) << page.status();
  std::vector<std::string> ids;
  for (uint32_t p : page->positions) ids.push_back(page->snapshot->entry(p).id);
  EXPECT_THAT(ids, ElementsAre("c", "a", "c"));
  EXPECT_EQ(page->view, modelcatalog::v1::MODEL_VIEW_FULL);
  request.add_ids("zz");
  request.add_ids("yy");
  absl::StatusOr<ModelPage> missing = impl_->BatchGet(request);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Model not found: zz");
}

TEST_F(CatalogServiceImplTest, SearchTakesTheFilterAndCountsEveryMatch) {
  Publish({Priced("flux-dev", 0.02), Priced("flux-pro", 0.05), Priced("flux-schnell", 0.003),
           Priced("other", 0.01)});
  SearchModelsRequest request;
  request.set_query("flux");
  request.set_filter("pricing.cost_per_image < 0.03");
  request.set_page_size(1);
  SearchModelsResponse first;
  ASSERT_TRUE(impl_->SearchModels(request, &first).ok());
  EXPECT_EQ(first.total_size(), 2);
  std::vector<std::string> ids = Ids(first.models());
  request.set_page_token(first.next_page_token());
  SearchModelsResponse second;
  ASSERT_TRUE(impl_->SearchModels(request, &second).ok());
  for (const std::string& id : Ids(second.models())) ids.push_back(id);
  EXPECT_THAT(ids, ElementsAre("flux-dev", "flux-schnell"));
  EXPECT_TRUE(second.next_page_token().empty());
}

// A live status change patches the catalog; a filter on deployments answers
// from the new status, and one on prices is unchanged (and not recomputed).
TEST_F(CatalogServiceImplTest, ADeploymentFilterSeesALiveStatusChange) {
  modelcatalog::v1::Model custom = Priced("custom", 0.02);
  custom.add_deployments()->set_status_raw("active");
  Publish({Priced("base", 0.01), custom});
  ListModelsRequest by_status;
  by_status.set_filter("deployments.status = active");
  ListModelsRequest by_price;
  by_price.set_filter("pricing.cost_per_image >= 0.01");
  EXPECT_THAT(ListAll(by_status), ElementsAre("custom"));
  EXPECT_THAT(ListAll(by_price), ElementsAre("base", "custom"));

  const std::shared_ptr<const CatalogSnapshot> current = store_.Current();
  google::protobuf::RepeatedPtrField<modelcatalog::v1::Deployment> deployments;
  deployments.Add()->set_status_raw("deactivating");
  store_.Publish(current->WithDeployments(*current->PositionOf("custom"), deployments,
                                          current->revision() + 1));
  EXPECT_THAT(ListAll(by_status), IsEmpty());
  by_status.set_filter("deployments.status = deactivating");
  EXPECT_THAT(ListAll(by_status), ElementsAre("custom"));
  EXPECT_THAT(ListAll(by_price), ElementsAre("base", "custom"));
  SearchModelsRequest search;
  search.set_query("custom");
  search.set_filter("deployments.status:active");
  SearchModelsResponse found;
  ASSERT_TRUE(impl_->SearchModels(search, &found).ok());
  EXPECT_EQ(found.total_size(), 0);
  EXPECT_THAT(found.models(), IsEmpty());
}

}  // namespace
}  // namespace modelcatalog::catalog
