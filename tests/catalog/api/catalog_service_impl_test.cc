#include "services/catalog/api/catalog_service_impl.h"

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
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("page_token is not a valid page token"));
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
  EXPECT_THAT(ids, ElementsAre("flux", "flux-2-dev", "dev-flux-pro", "reflux"));
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

}  // namespace
}  // namespace modelcatalog::catalog
