#include "services/catalog/sync/deployment_poller.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/watch/change_feed.h"
#include "tests/catalog/sync/fake_catalog_source.h"
#include "tests/catalog/test_models.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::MakeModel;
using ::testing::ElementsAre;

modelcatalog::v1::Model WithStatus(const std::string& id, const std::string& raw,
                                   modelcatalog::v1::DeploymentStatus status) {
  modelcatalog::v1::Model model = MakeModel(id);
  auto* deployment = model.add_deployments();
  deployment->set_status_raw(raw);
  deployment->set_status(status);
  return model;
}

class DeploymentPollerTest : public ::testing::Test {
 protected:
  DeploymentPollerTest() {
    std::vector<modelcatalog::v1::Model> models;
    for (int i = 0; i < 5; ++i) {
      models.push_back(WithStatus(absl::StrCat("deploying-", i), "deploying",
                                  modelcatalog::v1::DEPLOYMENT_STATUS_DEPLOYING));
    }
    models.push_back(WithStatus("settled", "active", modelcatalog::v1::DEPLOYMENT_STATUS_ACTIVE));
    updater_.ApplySync(models, now_);
    DeploymentPollerOptions options;
    options.max_per_round = 2;
    options.clock = [this] { return now_; };
    source_.fetch_live = [this](const std::string& id) -> absl::StatusOr<modelcatalog::v1::Model> {
      asked_.push_back(id);
      return store_.Current()->Find(id)->model();
    };
    poller_ = std::make_unique<DeploymentPoller>(&source_, &store_, &updater_, options);
  }

  absl::Time now_ = absl::FromUnixSeconds(1764000000);
  CatalogStore store_;
  ChangeFeed feed_;
  CatalogUpdater updater_{&store_, {&feed_}};
  std::vector<std::string> asked_;
  FakeCatalogSource source_;
  std::unique_ptr<DeploymentPoller> poller_;
};

TEST_F(DeploymentPollerTest, BoundsEachRoundAndTakesTurns) {
  poller_->PollOnce();
  EXPECT_THAT(asked_, ElementsAre("deploying-0", "deploying-1"));
  asked_.clear();
  poller_->PollOnce();
  EXPECT_THAT(asked_, ElementsAre("deploying-2", "deploying-3"));
  asked_.clear();
  poller_->PollOnce();
  EXPECT_THAT(asked_, ElementsAre("deploying-4", "deploying-0"));  // wraps around
}

TEST_F(DeploymentPollerTest, ModelsSwitchedHereComeFirstEvenWhenSettled) {
  poller_->Track("settled");
  EXPECT_THAT(poller_->Due(), ElementsAre("settled", "deploying-0"));
  // Once its grace period is over and it is settled, it is dropped.
  now_ += absl::Minutes(1);
  EXPECT_THAT(poller_->Due(), ElementsAre("deploying-1", "deploying-2"));
}

}  // namespace
}  // namespace modelcatalog::catalog
