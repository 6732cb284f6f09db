// Every RPC refuses bad input with the right code and a message naming the
// field, over the real gRPC stack; and the server's limits hold.
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"
#include "services/catalog/server/catalog_server.h"
#include "tests/support/catalog_server_for_test.h"
#include "tests/support/hub_emulator_process.h"

namespace modelcatalog {
namespace {

using ::modelcatalog::testing::HubEmulatorProcess;
using ::modelcatalog::v1::ModelCatalogService;

class BadRequestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub = HubEmulatorProcess::Start();
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = *std::move(hub);
    absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> server =
        testing::StartCatalogServer(hub_->api_url(), [](catalog::CatalogServerOptions* o) {
          o->max_watchers = 3;
          // No polls of deployments in transition: the hub requests counted
          // here are the tests' own.
          o->deployment_poll_interval = absl::Hours(1);
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = ModelCatalogService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return context;
  }

  // The status a WatchDeployments stream ends with before sending anything.
  grpc::Status WatchStatus(const v1::WatchDeploymentsRequest& request) {
    auto context = Context();
    auto reader = stub_->WatchDeployments(context.get(), request);
    v1::WatchDeploymentsResponse event;
    while (reader->Read(&event)) {
    }
    return reader->Finish();
  }

  std::unique_ptr<HubEmulatorProcess> hub_;
  std::unique_ptr<catalog::CatalogServer> server_;
  std::unique_ptr<ModelCatalogService::Stub> stub_;
};

TEST_F(BadRequestsTest, EveryRpcRefusesBadInputNamingTheField) {
  const std::string long_text(300, 'x');
  const std::string long_token(5000, 'A');
  struct Case {
    std::string name;
    std::function<grpc::Status()> call;
    grpc::StatusCode code;
    std::string message;
  };
  const auto list = [this](std::function<void(v1::ListModelsRequest*)> fill) {
    return [this, fill] {
      v1::ListModelsRequest request;
      fill(&request);
      v1::ListModelsResponse response;
      return stub_->ListModels(Context().get(), request, &response);
    };
  };
  const auto search = [this](std::function<void(v1::SearchModelsRequest*)> fill) {
    return [this, fill] {
      v1::SearchModelsRequest request;
      request.set_query("claude");
      fill(&request);
      v1::SearchModelsResponse response;
      return stub_->SearchModels(Context().get(), request, &response);
    };
  };
  const auto batch = [this](std::vector<std::string> ids) {
    return [this, ids] {
      v1::BatchGetModelsRequest request;
      for (const std::string& id : ids) request.add_ids(id);
      v1::BatchGetModelsResponse response;
      return stub_->BatchGetModels(Context().get(), request, &response);
    };
  };
  const auto get = [this](std::string id, bool live) {
    return [this, id, live] {
      v1::GetModelRequest request;
      request.set_id(id);
      request.set_live(live);
      v1::GetModelResponse response;
      return stub_->GetModel(Context().get(), request, &response);
    };
  };
  const auto activate = [this](std::string id) {
    return [this, id] {
      v1::ActivateModelRequest request;
      request.set_id(id);
      v1::ActivateModelResponse response;
      return stub_->ActivateModel(Context().get(), request, &response);
    };
  };
  const auto deactivate = [this](std::string id) {
    return [this, id] {
      v1::DeactivateModelRequest request;
      request.set_id(id);
      v1::DeactivateModelResponse response;
      return stub_->DeactivateModel(Context().get(), request, &response);
    };
  };
  const auto watch = [this](std::function<void(v1::WatchDeploymentsRequest*)> fill) {
    return [this, fill] {
      v1::WatchDeploymentsRequest request;
      fill(&request);
      return WatchStatus(request);
    };
  };
  // A token of ListModels, to misuse elsewhere.
  v1::ListModelsRequest first_page;
  first_page.set_page_size(1);
  v1::ListModelsResponse first;
  ASSERT_TRUE(stub_->ListModels(Context().get(), first_page, &first).ok());
  const std::string list_token = first.next_page_token();
  std::string edited_token = list_token;
  edited_token[edited_token.size() / 2] = edited_token[edited_token.size() / 2] == 'A' ? 'B' : 'A';

  const grpc::StatusCode kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
  const std::string kBadToken =
      "page_token is not a valid page token: pass the next_page_token of the previous response "
      "unchanged";
  const std::vector<Case> cases = {
      {"list: negative page_size", list([](auto* r) { r->set_page_size(-1); }), kInvalid,
       "page_size must not be negative, got -1"},
      {"list: edited token", list([&](auto* r) {
         r->set_page_size(1);
         r->set_page_token(edited_token);
       }),
       kInvalid, kBadToken},
      {"list: token of another query", list([&](auto* r) {
         r->set_page_size(1);
         r->set_action("x");
         r->set_page_token(list_token);
       }),
       kInvalid,
       "page_token belongs to a different query: keep every other request field as it was for "
       "the first page"},
      {"list: oversized token", list([&](auto* r) { r->set_page_token(long_token); }), kInvalid,
       "page_token is 5000 bytes long; at most 4096 are allowed"},
      {"list: unknown filter field", list([](auto* r) { r->set_filter("pricing.cost < 1"); }),
       kInvalid, "filter: unknown field \"pricing.cost\" at offset 0"},
      {"list: not a number", list([](auto* r) {
         r->set_filter("endpoint = \"/images/generate\" AND pricing.cost_per_image < cheap");
       }),
       kInvalid, "filter: expected a number after \"<\" at offset 59"},
      {"list: unbalanced filter", list([](auto* r) { r->set_filter("(model_type = custom"); }),
       kInvalid, "filter: unbalanced \"(\" at offset 0"},
      {"list: long filter", list([](auto* r) { r->set_filter(std::string(2001, ' ')); }), kInvalid,
       "filter is 2001 bytes long; at most 2000 are allowed"},
      {"list: too many comparisons", list([](auto* r) {
         std::string filter = "id = a";
         for (int i = 0; i < 100; ++i) filter += " OR id = a";
         r->set_filter(filter);
       }),
       kInvalid, "filter: more than 100 comparisons; at most 100 are allowed"},
      {"list: unsortable field", list([](auto* r) { r->set_order_by("capabilities.input"); }),
       kInvalid, "order_by: cannot sort by \"capabilities.input\""},
      {"list: unknown order field", list([](auto* r) { r->set_order_by("price desc"); }), kInvalid,
       "order_by: unknown field \"price\""},
      {"search: unknown filter field", search([](auto* r) { r->set_filter("kind = chat"); }),
       kInvalid, "filter: unknown field \"kind\" at offset 0"},
      {"batch: no ids", batch({}), kInvalid, "ids must not be empty"},
      {"batch: too many ids", batch(std::vector<std::string>(1001, "claude-sonnet-4-6")), kInvalid,
       "ids lists 1001 models; at most 1000 may be asked for at once"},
      {"batch: an empty id", batch({"claude-sonnet-4-6", ""}), kInvalid, "ids[1] is empty"},
      {"batch: an unknown id", batch({"claude-sonnet-4-6", "nope", "gone"}),
       grpc::StatusCode::NOT_FOUND, "Model not found: nope"},
      {"list: long developer_name", list([&](auto* r) { r->set_developer_name(long_text); }),
       kInvalid, "developer_name is 300 bytes long; at most 256 are allowed"},
      {"list: long action", list([&](auto* r) { r->set_action(long_text); }), kInvalid,
       "action is 300 bytes long; at most 256 are allowed"},
      {"search: empty query", search([](auto* r) { r->clear_query(); }), kInvalid,
       "query must not be empty"},
      {"search: long query", search([&](auto* r) { r->set_query(long_text); }), kInvalid,
       "query is 300 bytes long; at most 256 are allowed"},
      {"search: negative page_size", search([](auto* r) { r->set_page_size(-7); }), kInvalid,
       "page_size must not be negative, got -7"},
      {"search: a list token", search([&](auto* r) { r->set_page_token(list_token); }), kInvalid,
       "page_token belongs to a different query: keep every other request field as it was for "
       "the first page"},
      {"get: empty id", get("", false), kInvalid, "id must not be empty"},
      {"get: long id", get(long_text, false), kInvalid,
       "id is 300 bytes long; at most 256 are allowed"},
      {"get: unknown id", get("nope", false), grpc::StatusCode::NOT_FOUND, "Model not found: nope"},
      {"get live: empty id", get("", true), kInvalid, "id must not be empty"},
      {"get live: long id", get(long_text, true), kInvalid,
       "id is 300 bytes long; at most 256 are allowed"},
      {"get live: unknown id", get("nope", true), grpc::StatusCode::NOT_FOUND,
       "Model not found: nope"},
      {"activate: empty id", activate(""), kInvalid, "id must not be empty"},
      {"activate: long id", activate(long_text), kInvalid,
       "id is 300 bytes long; at most 256 are allowed"},
      {"activate: unknown id", activate("nope"), grpc::StatusCode::NOT_FOUND,
       "Model not found: nope"},
      {"activate: base model", activate("flux-2-dev"), grpc::StatusCode::FAILED_PRECONDITION,
       "flux-2-dev is a base model: base models are always active and cannot be activated"},
      {"deactivate: empty id", deactivate(""), kInvalid, "id must not be empty"},
      {"deactivate: unknown id", deactivate("nope"), grpc::StatusCode::NOT_FOUND,
       "Model not found: nope"},
      {"deactivate: base model", deactivate("flux-2-dev"), grpc::StatusCode::FAILED_PRECONDITION,
       "flux-2-dev is a base model: base models are always active and cannot be deactivated"},
      {"watch: bad resume_token", watch([](auto* r) { r->set_resume_token("AAAA"); }), kInvalid,
       "resume_token is not a valid resume token: pass the resume_token of an event unchanged"},
      {"watch: long resume_token", watch([&](auto* r) { r->set_resume_token(long_text); }),
       kInvalid, "resume_token is 300 bytes long; at most 128 are allowed"},
      {"watch: empty model id", watch([](auto* r) {
         r->add_model_ids("a");
         r->add_model_ids("");
       }),
       kInvalid, "model_ids[1] is empty"},
      {"watch: long model id", watch([&](auto* r) { r->add_model_ids(long_text); }), kInvalid,
       "model_ids[0] is 300 bytes long; at most 256 are allowed"},
      {"watch: too many ids", watch([](auto* r) {
         for (int i = 0; i < 1001; ++i) r->add_model_ids(absl::StrCat("m", i));
       }),
       kInvalid, "model_ids lists 1001 models; at most 1000 may be watched by one stream"},
  };
  for (const Case& c : cases) {
    grpc::Status status = c.call();
    EXPECT_EQ(status.error_code(), c.code) << c.name << ": " << status.error_message();
    EXPECT_EQ(status.error_message(), c.message) << c.name;
  }
}

TEST_F(BadRequestsTest, RequestBytesThatAreNotTheMessageAreRefused) {
  grpc::GenericStub stub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                             grpc::InsecureChannelCredentials()));
  for (const char* method : {"GetModel", "ListModels", "SearchModels"}) {
    const std::string garbage = "\xff\xff\xff\xff";  // a field tag that cannot be
    grpc::Slice slice(garbage);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    absl::Notification done;
    grpc::Status status;
    stub.UnaryCall(&context, absl::StrCat("/modelcatalog.v1.ModelCatalogService/", method),
                   grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method;
    EXPECT_EQ(status.error_message(),
              absl::StrCat("the request is not a valid modelcatalog.v1.", method, "Request"));
  }
}

// The services answer on completion queues that only know their own methods;
// anything else still gets a prompt UNIMPLEMENTED, never a call left hanging.
TEST_F(BadRequestsTest, AnUnknownMethodOrServiceIsUnimplemented) {
  grpc::GenericStub stub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                             grpc::InsecureChannelCredentials()));
  for (const char* method :
       {"/modelcatalog.v1.ModelCatalogService/DeleteModel",
        "/modelcatalog.v2.ModelCatalogService/GetModel", "/grpc.health.v1.Health/Reset"}) {
    grpc::Slice empty("");  // an empty message
    grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    absl::Notification done;
    grpc::Status status;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
      status = std::move(s);
      done.Notify();
    });
    done.WaitForNotification();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << method;
  }
}

TEST_F(BadRequestsTest, AnOversizedRequestIsRefusedByTheTransport) {
  v1::SearchModelsRequest request;
  request.set_query(std::string(9 << 20, 'x'));  // over the 8 MiB receive limit
  v1::SearchModelsResponse response;
  grpc::Status status = stub_->SearchModels(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(BadRequestsTest, WatchersBeyondTheCapAreRefused) {
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::WatchDeploymentsResponse>>> readers;
  for (int i = 0; i < 3; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    readers.push_back(stub_->WatchDeployments(contexts.back().get(), {}));
    v1::WatchDeploymentsResponse event;
    ASSERT_TRUE(readers.back()->Read(&event));  // subscribed
  }
  grpc::Status refused = WatchStatus({});
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(),
            "too many watchers: this server streams to at most 3 at once; retry later or on "
            "another replica");
  // A freed place is taken by the next caller.
  contexts[0]->TryCancel();
  readers[0]->Finish();
  bool admitted = false;
  for (int attempt = 0; attempt < 100 && !admitted; ++attempt) {
    grpc::ClientContext context;
    auto reader = stub_->WatchDeployments(&context, {});
    v1::WatchDeploymentsResponse event;
    admitted = reader->Read(&event);
    context.TryCancel();
    reader->Finish();
    if (!admitted) absl::SleepFor(absl::Milliseconds(20));  // the old stream's OnDone runs async
  }
  EXPECT_TRUE(admitted);
  for (size_t i = 1; i < contexts.size(); ++i) contexts[i]->TryCancel();
}

// How many hung hub requests the server has given up on (the emulator sees
// their connections close), once `expected` is reached or `within` passes.
int64_t AbandonedHangs(HubEmulatorProcess* hub, int64_t expected, absl::Duration within) {
  const absl::Time until = absl::Now() + within;
  int64_t seen = 0;
  while (true) {
    absl::StatusOr<testing::HubRequestCounts> counts = hub->Stats();
    EXPECT_TRUE(counts.ok()) << counts.status();
    seen = counts.ok() ? counts->hangs_abandoned : -1;
    if (seen >= expected || absl::Now() >= until) return seen;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

// The caller's deadline ends the hub call made for it: the server closes its
// connection to the hub then, not at --hub_timeout (30 s here). The client's
// own deadline would give it DEADLINE_EXCEEDED either way; what is checked is
// what the server did.
TEST_F(BadRequestsTest, TheCallersDeadlineEndsAHubCallThatHangs) {
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"hang","endpoint":"activate"})").ok());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(300)));
  v1::ActivateModelRequest request;
  request.set_id("acme-illustrator");
  v1::ActivateModelResponse response;
  grpc::Status status = stub_->ActivateModel(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(AbandonedHangs(hub_.get(), 1, absl::Seconds(5)), 1)
      << "the hub request outlived the caller's deadline";
  // The server stays healthy: the next call goes through.
  ASSERT_TRUE(hub_->ClearFaults().ok());
  v1::DeactivateModelRequest next;
  next.set_id("acme-support-bot");
  v1::DeactivateModelResponse next_response;
  EXPECT_TRUE(stub_->DeactivateModel(Context().get(), next, &next_response).ok());
}

TEST_F(BadRequestsTest, TheCallersDeadlineEndsALiveLookUpThatHangs) {
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"hang","endpoint":"retrieve"})").ok());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(300)));
  v1::GetModelRequest request;
  request.set_id("acme-illustrator");
  request.set_live(true);
  v1::GetModelResponse response;
  EXPECT_EQ(stub_->GetModel(&context, request, &response).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(AbandonedHangs(hub_.get(), 1, absl::Seconds(5)), 1)
      << "the hub request outlived the caller's deadline";
  ASSERT_TRUE(hub_->ClearFaults().ok());
  grpc::ClientContext next;
  next.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  EXPECT_TRUE(stub_->GetModel(&next, request, &response).ok());
}

// Concurrent live look-ups of one model share one hub call, which lives as
// long as the latest deadline among them: a caller that joins with a later
// deadline keeps it going after the first caller's deadline has ended that
// caller's wait.
TEST_F(BadRequestsTest, ASharedLiveLookUpLivesAsLongAsItsLastCaller) {
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"hang","endpoint":"retrieve"})").ok());
  const auto look_up = [this](absl::Duration deadline, grpc::Status* status) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    v1::GetModelRequest request;
    request.set_id("acme-illustrator");
    request.set_live(true);
    v1::GetModelResponse response;
    *status = stub_->GetModel(&context, request, &response);
  };
  grpc::Status early_status;
  std::thread early([&] { look_up(absl::Milliseconds(400), &early_status); });
  // The early caller's hub call is on its way (the emulator has counted it).
  for (int i = 0; i < 250; ++i) {
    absl::StatusOr<testing::HubRequestCounts> counts = hub_->Stats();
    if (counts.ok() && counts->retrieve_live == 1) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  grpc::Status late_status;
  std::thread late([&] { look_up(absl::Seconds(2), &late_status); });
  early.join();
  EXPECT_EQ(early_status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The early caller has given up; the hub call goes on for the late one.
  EXPECT_EQ(AbandonedHangs(hub_.get(), 1, absl::Milliseconds(500)), 0)
      << "the shared hub call ended at the first caller's deadline";
  late.join();
  EXPECT_EQ(late_status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(AbandonedHangs(hub_.get(), 1, absl::Seconds(5)), 1);
  absl::StatusOr<testing::HubRequestCounts> counts = hub_->Stats();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->retrieve_live, 1) << "the two callers did not share one hub call";
}

}  // namespace
}  // namespace modelcatalog
