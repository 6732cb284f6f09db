// TLS, mutual TLS with certificate reload, and bearer-token caller auth, over
// real sockets with certificates the test makes with openssl.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"
#include "services/catalog/server/catalog_server.h"
#include "tests/support/catalog_server_for_test.h"
#include "tests/support/curl_fetch.h"
#include "tests/support/hub_emulator_process.h"
#include "tests/support/pki.h"

namespace modelcatalog {
namespace {

using ::modelcatalog::testing::Fetch;
using ::modelcatalog::testing::FetchOptions;
using ::modelcatalog::testing::HubEmulatorProcess;
using ::modelcatalog::testing::Pki;
using ::modelcatalog::testing::ReadFile;
using ::modelcatalog::testing::WriteFile;
using ::modelcatalog::v1::ModelCatalogService;

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub = HubEmulatorProcess::Start();
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = *std::move(hub);
    ASSERT_TRUE(pki_.MakeCa("ca"));
    ASSERT_TRUE(pki_.MakeCert("ca", "server", false));
    ASSERT_TRUE(pki_.MakeCert("ca", "client", true));
  }

  absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> Start(
      std::function<void(catalog::CatalogServerOptions*)> configure) {
    return testing::StartCatalogServer(hub_->api_url(), configure);
  }

  grpc::SslCredentialsOptions Trusting(const std::string& ca, bool with_client_cert) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(pki_.Path(ca + ".pem"));
    if (with_client_cert) {
      ssl.pem_private_key = ReadFile(pki_.Path("client.key"));
      ssl.pem_cert_chain = ReadFile(pki_.Path("client.pem"));
    }
    return ssl;
  }

  // A ListModels over a fresh connection with these credentials.
  grpc::Status List(int port, std::shared_ptr<grpc::ChannelCredentials> credentials,
                    const std::string& token = "") {
    grpc::ChannelArguments args;
    args.SetInt("security_test.fresh_connection", ++connections_);
    auto stub = ModelCatalogService::NewStub(
        grpc::CreateCustomChannel(absl::StrCat("localhost:", port), credentials, args));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    v1::ListModelsResponse response;
    return stub->ListModels(&context, {}, &response);
  }

  std::unique_ptr<HubEmulatorProcess> hub_;
  Pki pki_;
  int connections_ = 0;
};

TEST_F(SecurityTest, TlsServesClientsThatTrustItsCaAndNoPlaintext) {
  auto server = Start([&](auto* o) {
    o->tls.cert = pki_.Path("server.pem");
    o->tls.key = pki_.Path("server.key");
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  EXPECT_TRUE(List(port, grpc::SslCredentials(Trusting("ca", false))).ok());
  EXPECT_EQ(List(port, grpc::InsecureChannelCredentials()).error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_TRUE(pki_.MakeCa("other"));
  EXPECT_EQ(List(port, grpc::SslCredentials(Trusting("other", false))).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, MutualTlsRefusesAClientWithoutACertificate) {
  auto server = Start([&](auto* o) {
    o->tls.cert = pki_.Path("server.pem");
    o->tls.key = pki_.Path("server.key");
    o->tls.client_ca = pki_.Path("ca.pem");
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  EXPECT_EQ(List(port, grpc::SslCredentials(Trusting("ca", false))).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(List(port, grpc::SslCredentials(Trusting("ca", true))).ok());
}

TEST_F(SecurityTest, CertificatesAreReloadedWhenTheFilesChange) {
  auto server = Start([&](auto* o) {
    o->tls.cert = pki_.Path("server.pem");
    o->tls.key = pki_.Path("server.key");
    o->tls.reload_interval = absl::Seconds(1);
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  ASSERT_TRUE(pki_.MakeCa("next"));
  EXPECT_FALSE(List(port, grpc::SslCredentials(Trusting("next", false))).ok());
  // Rotate: a certificate from the next CA replaces the served one.
  ASSERT_TRUE(pki_.MakeCert("next", "rotated", false));
  ASSERT_EQ(std::rename(pki_.Path("rotated.key").c_str(), pki_.Path("server.key").c_str()), 0);
  ASSERT_EQ(std::rename(pki_.Path("rotated.pem").c_str(), pki_.Path("server.pem").c_str()), 0);
  bool rotated = false;
  for (int attempt = 0; attempt < 100 && !rotated; ++attempt) {
    rotated = List(port, grpc::SslCredentials(Trusting("next", false))).ok();
    if (!rotated) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(rotated) << "the new certificate was never served";
}

TEST_F(SecurityTest, BearerTokensGuardTheCatalogAndWritesNeedAWriteToken) {
  const std::string tokens = pki_.Path("tokens");
  WriteFile(tokens, "# callers\nreader-token read\nwriter-token\n");
  auto server = Start([&](auto* o) { o->auth_tokens_file = tokens; });
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  auto insecure = grpc::InsecureChannelCredentials();

  grpc::Status none = List(port, insecure);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(none.error_message(), "missing bearer token: send 'authorization: Bearer <token>'");
  grpc::Status wrong = List(port, insecure, "guess");
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(wrong.error_message(), "invalid bearer token");
  EXPECT_TRUE(List(port, insecure, "reader-token").ok());

  auto stub = ModelCatalogService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), insecure));
  const auto activate = [&](const std::string& token) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    v1::ActivateModelRequest request;
    request.set_id("acme-illustrator");
    v1::ActivateModelResponse response;
    return stub->ActivateModel(&context, request, &response);
  };
  grpc::Status denied = activate("reader-token");
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(denied.error_message(), "this token may not activate or deactivate models");
  EXPECT_TRUE(activate("writer-token").ok());

  // Streams are guarded too.
  grpc::ClientContext watch_context;
  auto reader = stub->WatchDeployments(&watch_context, {});
  v1::WatchDeploymentsResponse event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // Health stays open for probes.
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), insecure));
  grpc::ClientContext health_context;
  grpc::health::v1::HealthCheckResponse health_response;
  EXPECT_TRUE(health->Check(&health_context, {}, &health_response).ok());
}

TEST_F(SecurityTest, TokensAreReloadedWhenTheFileChanges) {
  const std::string tokens = pki_.Path("tokens");
  WriteFile(tokens, "old-token\n");
  auto server = Start([&](auto* o) {
    o->auth_tokens_file = tokens;
    o->auth_reload_interval = absl::Milliseconds(50);
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  auto insecure = grpc::InsecureChannelCredentials();
  ASSERT_TRUE(List(port, insecure, "old-token").ok());
  WriteFile(pki_.Path("tokens.new"), "new-token\n");
  ASSERT_EQ(std::rename(pki_.Path("tokens.new").c_str(), tokens.c_str()), 0);
  bool reloaded = false;
  for (int attempt = 0; attempt < 200 && !reloaded; ++attempt) {
    reloaded = List(port, insecure, "new-token").ok();
    if (!reloaded) absl::SleepFor(absl::Milliseconds(25));
  }
  EXPECT_TRUE(reloaded);
  EXPECT_EQ(List(port, insecure, "old-token").error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

// --- The JSON view: the catalog over HTTP holds to the gRPC port's rules. ---

TEST_F(SecurityTest, TheJsonViewNeedsACallerTokenWhereGrpcDoes) {
  const std::string tokens = pki_.Path("tokens");
  WriteFile(tokens, "reader-token read\nwriter-token\n");
  auto server = Start([&](auto* o) {
    o->auth_tokens_file = tokens;
    o->http_listen = "127.0.0.1:0";
    o->metrics_listen = "127.0.0.1:0";
  });
  ASSERT_TRUE(server.ok()) << server.status();
  for (const std::string path : {"/v1/models", "/v1/models/claude-sonnet-4-6", "/v1/models/nope"}) {
    const std::string url = absl::StrCat("http://127.0.0.1:", (*server)->http_port(), path);
    SCOPED_TRACE(path);
    auto none = Fetch(url);
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.Header("WWW-Authenticate"), R"(Bearer realm="model-catalog")");
    EXPECT_EQ(none.body,
              R"({"status":"error","status_message":"missing bearer token: send 'authorization: Bearer <token>'"})");
    EXPECT_THAT(none.body, ::testing::Not(::testing::HasSubstr("claude")));

    FetchOptions wrong;
    wrong.headers = {"Authorization: Bearer guess"};
    auto refused = Fetch(url, wrong);
    EXPECT_EQ(refused.status, 401);
    EXPECT_EQ(refused.Header("WWW-Authenticate"),
              R"(Bearer realm="model-catalog", error="invalid_token")");
    EXPECT_EQ(refused.body, R"({"status":"error","status_message":"invalid bearer token"})");

    for (const std::string token : {"reader-token", "writer-token"}) {
      FetchOptions with_token;
      with_token.headers = {"Authorization: Bearer " + token};
      auto served = Fetch(url, with_token);
      EXPECT_EQ(served.status, path == "/v1/models/nope" ? 404 : 200) << token;
      EXPECT_TRUE(served.Header("WWW-Authenticate").empty());
    }
  }
  // Probes and scrapers need no token, and get no model data.
  auto healthz = Fetch(absl::StrCat("http://127.0.0.1:", (*server)->metrics_port(), "/healthz"));
  EXPECT_EQ(healthz.status, 200);
  auto metrics = Fetch(absl::StrCat("http://127.0.0.1:", (*server)->metrics_port(), "/metrics"));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, ::testing::Not(::testing::HasSubstr("claude")));
}

TEST_F(SecurityTest, TheJsonViewServesTlsWhenTheGrpcPortDoes) {
  auto server = Start([&](auto* o) {
    o->tls.cert = pki_.Path("server.pem");
    o->tls.key = pki_.Path("server.key");
    o->http_listen = "127.0.0.1:0";
    o->metrics_listen = "127.0.0.1:0";
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const int http_port = (*server)->http_port();
  // Both listeners of catalog data speak TLS, with the same certificate.
  EXPECT_TRUE(List((*server)->port(), grpc::SslCredentials(Trusting("ca", false))).ok());
  FetchOptions trusting;
  trusting.ca_file = pki_.Path("ca.pem");
  auto served = Fetch(absl::StrCat("https://localhost:", http_port, "/v1/models"), trusting);
  EXPECT_EQ(served.code, CURLE_OK);
  EXPECT_EQ(served.status, 200);
  EXPECT_THAT(served.body, ::testing::HasSubstr("claude-sonnet-4-6"));
  // No plaintext, and no client that does not trust the CA.
  auto plaintext = Fetch(absl::StrCat("http://localhost:", http_port, "/v1/models"));
  EXPECT_NE(plaintext.code, CURLE_OK);
  EXPECT_EQ(plaintext.status, 0);
  EXPECT_THAT(plaintext.body, ::testing::Not(::testing::HasSubstr("claude")));
  ASSERT_TRUE(pki_.MakeCa("other"));
  FetchOptions distrusting;
  distrusting.ca_file = pki_.Path("other.pem");
  auto untrusted = Fetch(absl::StrCat("https://localhost:", http_port, "/v1/models"), distrusting);
  EXPECT_EQ(untrusted.code, CURLE_PEER_FAILED_VERIFICATION);
  // The metrics port stays plaintext for scrapers and probes.
  EXPECT_EQ(Fetch(absl::StrCat("http://127.0.0.1:", (*server)->metrics_port(), "/healthz")).status,
            200);
}

TEST_F(SecurityTest, TheJsonViewRequiresClientCertificatesUnderMutualTls) {
  auto server = Start([&](auto* o) {
    o->tls.cert = pki_.Path("server.pem");
    o->tls.key = pki_.Path("server.key");
    o->tls.client_ca = pki_.Path("ca.pem");
    o->http_listen = "127.0.0.1:0";
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string url = absl::StrCat("https://localhost:", (*server)->http_port(), "/v1/models");
  FetchOptions anonymous;
  anonymous.ca_file = pki_.Path("ca.pem");
  auto refused = Fetch(url, anonymous);
  EXPECT_NE(refused.code, CURLE_OK);
  EXPECT_EQ(refused.status, 0);
  FetchOptions with_certificate = anonymous;
  with_certificate.client_cert = pki_.Path("client.pem");
  with_certificate.client_key = pki_.Path("client.key");
  auto served = Fetch(url, with_certificate);
  EXPECT_EQ(served.code, CURLE_OK);
  EXPECT_EQ(served.status, 200);
  // A certificate from another CA is refused as well.
  ASSERT_TRUE(pki_.MakeCa("other"));
  ASSERT_TRUE(pki_.MakeCert("other", "stranger", true));
  FetchOptions stranger = anonymous;
  stranger.client_cert = pki_.Path("stranger.pem");
  stranger.client_key = pki_.Path("stranger.key");
  EXPECT_EQ(Fetch(url, stranger).status, 0);
}

TEST_F(SecurityTest, TheJsonViewsCertificateIsReloadedWhenTheFilesChange) {
  auto server = Start([&](auto* o) {
    o->tls.cert = pki_.Path("server.pem");
    o->tls.key = pki_.Path("server.key");
    o->tls.reload_interval = absl::Milliseconds(200);
    o->http_listen = "127.0.0.1:0";
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string url = absl::StrCat("https://localhost:", (*server)->http_port(), "/v1/models");
  ASSERT_TRUE(pki_.MakeCa("next"));
  FetchOptions trusting_next;
  trusting_next.ca_file = pki_.Path("next.pem");
  EXPECT_NE(Fetch(url, trusting_next).code, CURLE_OK);
  // A half-written key is not taken: the old certificate keeps being served.
  WriteFile(pki_.Path("server.key"), "-----BEGIN PRIVATE KEY-----\n");
  absl::SleepFor(absl::Milliseconds(600));
  FetchOptions trusting_first;
  trusting_first.ca_file = pki_.Path("ca.pem");
  EXPECT_EQ(Fetch(url, trusting_first).status, 200);
  // Rotate: a certificate from the next CA replaces the served one.
  ASSERT_TRUE(pki_.MakeCert("next", "rotated", false));
  ASSERT_EQ(std::rename(pki_.Path("rotated.key").c_str(), pki_.Path("server.key").c_str()), 0);
  ASSERT_EQ(std::rename(pki_.Path("rotated.pem").c_str(), pki_.Path("server.pem").c_str()), 0);
  bool rotated = false;
  for (int attempt = 0; attempt < 100 && !rotated; ++attempt) {
    rotated = Fetch(url, trusting_next).status == 200;
    if (!rotated) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(rotated) << "the new certificate was never served";
}

TEST_F(SecurityTest, BadSecurityConfigurationIsRefusedAtStart) {
  struct Case {
    std::function<void(catalog::CatalogServerOptions*)> configure;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[&](auto* o) { o->tls.cert = pki_.Path("server.pem"); }, "--tls_cert and --tls_key go together"},
      {[&](auto* o) { o->tls.client_ca = pki_.Path("ca.pem"); },
       "--tls_client_ca needs --tls_cert and --tls_key"},
      {[&](auto* o) {
         o->tls.cert = pki_.Path("missing.pem");
         o->tls.key = pki_.Path("server.key");
       },
       absl::StrCat("--tls_cert: cannot read ", pki_.Path("missing.pem"))},
      {[&](auto* o) { o->auth_tokens_file = pki_.Path("no-such-tokens"); },
       absl::StrCat("cannot read tokens file ", pki_.Path("no-such-tokens"))},
      {[&](auto* o) { o->http_listen = "nonsense"; },
       "--http_listen must be host:port, got \"nonsense\""},
      {[&](auto* o) {
         o->http_listen = "127.0.0.1:0";
         o->tls.cert = pki_.Path("server.pem");
         o->tls.key = pki_.Path("client.key");
       },
       absl::StrCat("--tls_key does not match --tls_cert (", pki_.Path("client.key"), ", ",
                    pki_.Path("server.pem"), ")")},
  };
  for (const Case& c : cases) {
    auto server = Start(c.configure);
    ASSERT_FALSE(server.ok()) << c.message;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(server.status().message(), c.message);
  }
}

}  // namespace
}  // namespace modelcatalog
