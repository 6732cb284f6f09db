// The hub-emulator binary end to end: started through HubEmulatorProcess,
// spoken to with libcurl over real sockets.
#include "tests/support/hub_emulator_process.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "services/hub_emulator/http/http_message.h"
#include "tests/support/child_process.h"
#include "tests/support/curl_fetch.h"

namespace modelcatalog {
namespace testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  return doc;
}

std::vector<std::string> Ids(const FetchResult& result) {
  std::vector<std::string> ids;
  rapidjson::Document doc = ParseJson(result.body);
  if (doc.HasParseError() || !doc.IsObject() || !doc["data"].IsArray()) {
    ADD_FAILURE() << "not a list: " << result.body;
    return ids;
  }
  for (const auto& model : doc["data"].GetArray()) ids.emplace_back(model["id"].GetString());
  return ids;
}

std::string FirstStatus(const FetchResult& result) {
  rapidjson::Document doc = ParseJson(result.body);
  if (doc.HasParseError() || !doc.IsObject() || !doc["deployments"].IsArray() ||
      doc["deployments"].Empty()) {
    return "<no deployment in " + result.body + ">";
  }
  return doc["deployments"][0]["status"].GetString();
}

std::string WriteTempFile(absl::string_view name, absl::string_view contents) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/", name);
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

FetchOptions Post() {
  FetchOptions options;
  options.method = "POST";
  return options;
}

// One emulator for the tests that only read, or restore what they change.
class HubEmulatorProcessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub =
        HubEmulatorProcess::Start({"--deploy_delay=200ms"});
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = hub->release();
  }
  static void TearDownTestSuite() {
    delete hub_;
    hub_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(hub_, nullptr);
    ASSERT_TRUE(hub_->Reset().ok());
  }
  std::string Api(absl::string_view path) { return hub_->api_url() + std::string(path); }

  static HubEmulatorProcess* hub_;
};

HubEmulatorProcess* HubEmulatorProcessTest::hub_ = nullptr;

TEST_F(HubEmulatorProcessTest, ServesTheEmbeddedSampleCatalog) {
  EXPECT_EQ(hub_->base_url(), absl::StrCat("http://127.0.0.1:", hub_->port()));
  EXPECT_EQ(hub_->api_url(), hub_->base_url() + "/api/ai");
  const FetchResult result = Fetch(Api("/models"));
  ASSERT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.Header("Content-Type"), "application/json");
  const std::vector<std::string> ids = Ids(result);
  EXPECT_GE(ids.size(), 12u);
  EXPECT_EQ(ids.front(), "claude-sonnet-4-6");
}

TEST_F(HubEmulatorProcessTest, EveryApiEndpointOverHttp) {
  EXPECT_THAT(Ids(Fetch(Api("/models?developer_name=KUAISHOU"))),
              ElementsAre("kling-video-o3-pro-reference-to-video"));
  EXPECT_THAT(Ids(Fetch(Api("/models?action=text_generation"))),
              ElementsAre("gpt-5-mini", "uber-coder-2"));
  EXPECT_THAT(Ids(Fetch(Api("/models/search?search=Flux"))), ElementsAre("flux-2-dev"));
  EXPECT_EQ(Fetch(Api("/models/search")).status, 400);

  const FetchResult model = Fetch(Api("/models/kling-video-o3-pro-reference-to-video"));
  EXPECT_EQ(model.status, 200);
  rapidjson::Document doc = ParseJson(model.body);
  EXPECT_STREQ(doc["pricing"]["method"].GetString(), "per_video_output_second");
  EXPECT_EQ(Fetch(Api("/models/kling-video-o3-pro-reference-to-video?deployment_status=live")).body,
            model.body);

  const FetchResult missing = Fetch(Api("/models/no-such-model"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body,
            R"({"status":"error","status_message":"Model not found: no-such-model"})");
  EXPECT_EQ(Fetch(Api("/models/flux-2-dev/activate")).status, 405);
  const FetchResult base = Fetch(Api("/models/flux-2-dev/activate"), Post());
  EXPECT_EQ(base.status, 400);
  EXPECT_THAT(base.body, HasSubstr("Base models are always active"));

  absl::StatusOr<HubRequestCounts> counts = hub_->Stats();
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->list, 2);
  EXPECT_EQ(counts->search, 2);
  EXPECT_EQ(counts->retrieve, 2);
  EXPECT_EQ(counts->retrieve_live, 1);
  EXPECT_EQ(counts->activate, 1);
  EXPECT_EQ(counts->deactivate, 0);
  absl::StatusOr<std::string> json = hub_->StatsJson();
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, StartsWith(R"({"requests":{"list":2,)"));
}

TEST_F(HubEmulatorProcessTest, ActivationLifecycleWithAShortDelay) {
  const absl::Time start = absl::Now();
  const FetchResult activated = Fetch(Api("/models/acme-illustrator/activate"), Post());
  ASSERT_EQ(activated.status, 200);
  EXPECT_EQ(FirstStatus(activated), "deploying");
  // Poll (bounded) until the 200ms deploy delay has passed.
  std::string status;
  while (absl::Now() - start < absl::Seconds(5)) {
    status = FirstStatus(Fetch(Api("/models/acme-illustrator")));
    if (status != "deploying") break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(status, "active");
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));

  const FetchResult deactivated = Fetch(Api("/models/acme-illustrator/deactivate"), Post());
  EXPECT_EQ(FirstStatus(deactivated), "deactivating");
  const absl::Time deactivation = absl::Now();
  while (absl::Now() - deactivation < absl::Seconds(5)) {
    status = FirstStatus(Fetch(Api("/models/acme-illustrator")));
    if (status != "deactivating") break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(status, "inactive");
}

TEST_F(HubEmulatorProcessTest, ControlHelpers) {
  // Ids with characters that need encoding go through the helpers intact.
  ASSERT_TRUE(hub_->PutModel("team/model one", R"({"model_type":"custom","deployments":[]})").ok());
  EXPECT_EQ(Fetch(Api("/models/team%2Fmodel%20one")).status, 200);
  ASSERT_TRUE(hub_->SetDeploymentStatus("team/model one", "error").ok());
  EXPECT_EQ(FirstStatus(Fetch(Api("/models/team%2Fmodel%20one"))), "error");
  ASSERT_TRUE(
      hub_->PatchModel("team/model one", R"({"deployments":[{"status":"a"},{"status":"b"}]})")
          .ok());
  ASSERT_TRUE(hub_->SetDeploymentStatus("team/model one", "unknown", 1).ok());
  rapidjson::Document doc = ParseJson(Fetch(Api("/models/team%2Fmodel%20one")).body);
  EXPECT_STREQ(doc["deployments"][1]["status"].GetString(), "unknown");
  ASSERT_TRUE(hub_->DeleteModel("team/model one").ok());
  EXPECT_EQ(Fetch(Api("/models/team%2Fmodel%20one")).status, 404);

  const absl::Status missing = hub_->DeleteModel("team/model one");
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  const absl::Status bad = hub_->PutModel("x", "[1]");
  EXPECT_TRUE(absl::IsInvalidArgument(bad)) << bad;
  EXPECT_THAT(std::string(bad.message()), HasSubstr("JSON object"));

  ASSERT_TRUE(hub_->ReplaceCatalog(R"({"object":"list","data":[{"id":"solo"}]})").ok());
  EXPECT_THAT(Ids(Fetch(Api("/models"))), ElementsAre("solo"));
  EXPECT_TRUE(absl::IsInvalidArgument(hub_->ReplaceCatalog("{}")));
  ASSERT_TRUE(hub_->Reset().ok());
  EXPECT_GE(Ids(Fetch(Api("/models"))).size(), 12u);

  absl::StatusOr<ControlResponse> list = hub_->Control("GET", "/_control/models");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->status, 200);
  EXPECT_THAT(list->body, StartsWith(R"({"object":"list","data":[{"id":"claude-sonnet-4-6")"));
}

TEST_F(HubEmulatorProcessTest, HttpErrorAndRateLimitFaults) {
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"http_error","status":503,"count":2})").ok());
  EXPECT_EQ(Fetch(Api("/models")).status, 503);
  EXPECT_EQ(Fetch(Api("/models/flux-2-dev")).status, 503);
  EXPECT_EQ(Fetch(Api("/models")).status, 200);  // consumed after 2

  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"rate_limit","retry_after_seconds":3})").ok());
  const FetchResult limited = Fetch(Api("/models"));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Header("Retry-After"), "3");
  EXPECT_THAT(limited.body, HasSubstr(R"("status":"error")"));

  const absl::Status bad = hub_->InjectFault(R"({"fault":"meteor"})");
  EXPECT_TRUE(absl::IsInvalidArgument(bad)) << bad;
}

TEST_F(HubEmulatorProcessTest, BodyFaults) {
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"malformed_json","endpoint":"list"})").ok());
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"wrong_shape","endpoint":"list"})").ok());
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"empty_body","endpoint":"list"})").ok());
  EXPECT_EQ(Fetch(Api("/models/flux-2-dev")).status, 200);  // other endpoints unaffected

  const FetchResult malformed = Fetch(Api("/models"));
  EXPECT_EQ(malformed.status, 200);
  EXPECT_TRUE(ParseJson(malformed.body).HasParseError()) << malformed.body;
  const FetchResult wrong = Fetch(Api("/models"));
  EXPECT_EQ(wrong.status, 200);
  rapidjson::Document doc = ParseJson(wrong.body);
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_FALSE(doc["data"].IsArray());
  const FetchResult empty = Fetch(Api("/models"));
  EXPECT_EQ(empty.code, CURLE_OK);
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "");
  EXPECT_EQ(empty.Header("Content-Length"), "0");
  EXPECT_GE(Ids(Fetch(Api("/models"))).size(), 12u);
}

TEST_F(HubEmulatorProcessTest, TruncatedFault) {
  const std::string full = Fetch(Api("/models")).body;
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"truncated"})").ok());
  const FetchResult truncated = Fetch(Api("/models"));
  EXPECT_EQ(truncated.code, CURLE_PARTIAL_FILE);
  EXPECT_EQ(truncated.status, 200);
  EXPECT_EQ(truncated.Header("Content-Length"), absl::StrCat(full.size()));
  EXPECT_EQ(truncated.body, full.substr(0, full.size() / 2));
  EXPECT_EQ(Fetch(Api("/models")).body, full);
}

TEST_F(HubEmulatorProcessTest, SlowFault) {
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"slow","delay_ms":1000,"endpoint":"retrieve"})").ok());
  const FetchResult slow = Fetch(Api("/models/flux-2-dev"));
  EXPECT_EQ(slow.status, 200);
  EXPECT_GE(slow.elapsed, absl::Milliseconds(1000));
  // The fault applies once: a second call with a deadline shorter than the
  // delay is answered.
  FetchOptions impatient;
  impatient.timeout_ms = 800;
  const FetchResult second = Fetch(Api("/models/flux-2-dev"), impatient);
  EXPECT_EQ(second.code, CURLE_OK);
  EXPECT_EQ(second.status, 200);
}

TEST_F(HubEmulatorProcessTest, HangFault) {
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"hang"})").ok());
  FetchOptions impatient;
  impatient.timeout_ms = 300;
  const FetchResult hung = Fetch(Api("/models"), impatient);
  EXPECT_EQ(hung.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(hung.status, 0);
  EXPECT_EQ(Fetch(Api("/models")).status, 200);  // consumed; the server is fine
  // The control API keeps answering while requests hang.
  ASSERT_TRUE(hub_->InjectFault(R"({"fault":"hang"})").ok());
  const FetchResult again = Fetch(Api("/models"), impatient);
  EXPECT_EQ(again.code, CURLE_OPERATION_TIMEDOUT);
  ASSERT_TRUE(hub_->ClearFaults().ok());
  absl::StatusOr<HubRequestCounts> counts = hub_->Stats();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->list, 3);
}

// ---------------------------------------------------------------------------
// Processes of their own

TEST(HubEmulatorProcessStartTest, ApiKeyFromFlagAndFromEnvironment) {
  HubEmulatorProcess::Options options;
  options.api_key = "k3y";
  absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub =
      HubEmulatorProcess::StartWithOptions(options);
  ASSERT_TRUE(hub.ok()) << hub.status();
  const std::string url = (*hub)->api_url() + "/models";
  const FetchResult none = Fetch(url);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body, R"({"status":"error","status_message":"unauthenticated"})");
  FetchOptions wrong;
  wrong.headers = {"Authorization: Bearer nope"};
  EXPECT_EQ(Fetch(url, wrong).status, 401);
  FetchOptions right;
  right.headers = {"Authorization: Bearer k3y"};
  EXPECT_EQ(Fetch(url, right).status, 200);
  EXPECT_TRUE((*hub)->Stats().ok());  // control needs no key

  // The key file's content is trimmed; the flag can come from the environment.
  HubEmulatorProcess::Options env_options;
  env_options.env = {{"HUB_EMULATOR_API_KEY_FILE", WriteTempFile("key.txt", "  from-env\n")}};
  absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> env_hub =
      HubEmulatorProcess::StartWithOptions(env_options);
  ASSERT_TRUE(env_hub.ok()) << env_hub.status();
  right.headers = {"Authorization: Bearer from-env"};
  EXPECT_EQ(Fetch((*env_hub)->api_url() + "/models", right).status, 200);
  EXPECT_EQ(Fetch((*env_hub)->api_url() + "/models").status, 401);
}

TEST(HubEmulatorProcessStartTest, CatalogFileAndGeneratedCatalog) {
  const std::string path = WriteTempFile(
      "catalog.json", R"({"object":"list","data":[{"id":"from-file","model_type":"base"}]})");
  absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub =
      HubEmulatorProcess::Start({absl::StrCat("--catalog=", path)});
  ASSERT_TRUE(hub.ok()) << hub.status();
  EXPECT_THAT(Ids(Fetch((*hub)->api_url() + "/models")), ElementsAre("from-file"));

  absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> generated =
      HubEmulatorProcess::Start({"--generate_models=1000"});
  ASSERT_TRUE(generated.ok()) << generated.status();
  const FetchResult list = Fetch((*generated)->api_url() + "/models");
  rapidjson::Document doc = ParseJson(list.body);
  ASSERT_TRUE(doc.IsObject());
  ASSERT_EQ(doc["data"].Size(), 1000u);
  for (const auto& model : doc["data"].GetArray()) {
    EXPECT_EQ(model.MemberCount(), 18u);
    EXPECT_TRUE(model["id"].IsString());
    EXPECT_TRUE(model["pricing"]["method"].IsString());
  }
}

// The control API reads request bodies whole: one announced larger than --max_request_bytes
// is refused with 413 before any of it is read; one within it is taken.
TEST(HubEmulatorProcessStartTest, RequestBodiesAreBoundedByMaxRequestBytes) {
  absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub =
      HubEmulatorProcess::Start({"--max_request_bytes=100"});
  ASSERT_TRUE(hub.ok()) << hub.status();
  const std::string small = R"({"id":"small"})";
  const std::string large =
      absl::StrCat(R"({"id":"large","description":")", std::string(100, 'x'), R"("})");
  absl::StatusOr<testing::ControlResponse> refused =
      (*hub)->Control("PUT", "/_control/models/large", large);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->status, 413);
  EXPECT_THAT(refused->body, HasSubstr("request body larger than 100 bytes"));
  absl::StatusOr<testing::ControlResponse> taken =
      (*hub)->Control("PUT", "/_control/models/small", small);
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->status, 201);  // created
}

TEST(HubEmulatorProcessStartTest, BadCatalogFilesExitWithStatus2) {
  const std::pair<std::string, std::string> cases[] = {
      {"not json at all", "not valid JSON"},
      {R"({"object":"list","data":{}})", "no \"data\" array"},
      {R"([{"id":"a"}])", "must be an object"},
      {R"({"object":"list","data":[{"display_name":"no id"}]})", "string \"id\""},
      {R"({"object":"list","data":[{"id":"twice"},{"id":"twice"}]})",
       "duplicate model id \"twice\""},
  };
  int n = 0;
  for (const auto& [contents, message] : cases) {
    const std::string path = WriteTempFile(absl::StrCat("bad", ++n, ".json"), contents);
    ChildProcessOptions options;
    options.argv = {HubEmulatorProcess::DefaultBinaryPath(), "--listen=127.0.0.1:0",
                    absl::StrCat("--catalog=", path)};
    absl::StatusOr<ChildProcess::Result> result =
        ChildProcess::Run(std::move(options), absl::Seconds(10));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->exit_code, 2) << contents;
    EXPECT_THAT(result->stderr_text, HasSubstr(message)) << contents;
    EXPECT_THAT(result->stderr_text, HasSubstr(path)) << contents;
    EXPECT_EQ(result->stdout_text, "");  // never claimed to listen
  }
  ChildProcessOptions missing;
  missing.argv = {HubEmulatorProcess::DefaultBinaryPath(), "--catalog=/no/such/file.json"};
  absl::StatusOr<ChildProcess::Result> result = ChildProcess::Run(missing, absl::Seconds(10));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 2);
  EXPECT_THAT(result->stderr_text, HasSubstr("/no/such/file.json"));
}

TEST(HubEmulatorProcessStartTest, BadFlagsAreReportedByStart) {
  absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub =
      HubEmulatorProcess::Start({"--generate_models=-3"});
  ASSERT_FALSE(hub.ok());
  EXPECT_THAT(std::string(hub.status().message()), HasSubstr("exit code 2"));
  EXPECT_TRUE(absl::IsNotFound(HubEmulatorProcess::Start("/no/such/binary", {}).status()));
}

TEST(HubEmulatorProcessStartTest, SigtermStopsCleanly) {
  absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub = HubEmulatorProcess::Start();
  ASSERT_TRUE(hub.ok()) << hub.status();
  // Also with a request hanging: the stop must not wait for it.
  ASSERT_TRUE((*hub)->InjectFault(R"({"fault":"hang"})").ok());
  FetchOptions impatient;
  impatient.timeout_ms = 100;
  Fetch((*hub)->api_url() + "/models", impatient);
  // Exit code 0: it exited on SIGTERM. Had it waited for the hanging request,
  // Stop would have killed it after 5 s (exit code 137).
  absl::StatusOr<int> code = (*hub)->Stop();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

TEST(ChildProcessTest, WaitForLineAndExitCodes) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(
      {"/bin/sh", "-c", "echo starting; echo \"ready on $PORT\"; exec sleep 30"},
      {{"PORT", "1234"}});
  ASSERT_TRUE(child.ok()) << child.status();
  absl::StatusOr<std::string> line = (*child)->WaitForLine("ready on", absl::Seconds(5));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, "ready on 1234");
  EXPECT_TRUE(
      absl::IsDeadlineExceeded((*child)->WaitForLine("never", absl::Milliseconds(50)).status()));
  absl::StatusOr<int> code = (*child)->Terminate();
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 128 + SIGTERM);
  EXPECT_EQ(*(*child)->Terminate(), 128 + SIGTERM);  // idempotent

  absl::StatusOr<std::unique_ptr<ChildProcess>> quitter =
      ChildProcess::Spawn({"/bin/sh", "-c", "echo bye; exit 3"});
  ASSERT_TRUE(quitter.ok());
  EXPECT_TRUE(
      absl::IsFailedPrecondition((*quitter)->WaitForLine("listening", absl::Seconds(5)).status()));
  EXPECT_EQ(*(*quitter)->Wait(absl::Seconds(5)), 3);

  ChildProcessOptions stubborn;
  stubborn.argv = {"/bin/sh", "-c", "trap '' TERM; echo up; while :; do sleep 0.05; done"};
  absl::StatusOr<std::unique_ptr<ChildProcess>> ignoring = ChildProcess::Spawn(stubborn);
  ASSERT_TRUE(ignoring.ok());
  ASSERT_TRUE((*ignoring)->WaitForLine("up", absl::Seconds(5)).ok());
  EXPECT_EQ(*(*ignoring)->Terminate(absl::Milliseconds(100)), 128 + SIGKILL);
}

}  // namespace
}  // namespace testing
}  // namespace modelcatalog
