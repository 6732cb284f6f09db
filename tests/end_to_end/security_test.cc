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
#include "services/catalog/catalog_server.h"
#include "tests/support/catalog_server_for_test.h"
#include "tests/support/hub_emulator_process.h"

namespace modelcatalog {
namespace {

using ::modelcatalog::testing::HubEmulatorProcess;
using ::modelcatalog::v1::ModelCatalogService;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// A scratch directory with a CA, and certificates it signs.
class Pki {
 public:
  Pki() {
    char pattern[] = "/tmp/security_test.XXXXXX";
    dir_ = ::mkdtemp(pattern);
  }
  ~Pki() { std::system(absl::StrCat("rm -rf ", dir_).c_str()); }

  std::string Path(const std::string& name) const { return absl::StrCat(dir_, "/", name); }

  // A self-signed CA named `name`.
  bool MakeCa(const std::string& name) {
    return Run(absl::StrCat("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                            "-nodes -days 2 -subj /CN=", name, " -keyout ", Path(name + ".key"),
                            " -out ", Path(name + ".pem")));
  }

  // A certificate for localhost / 127.0.0.1 signed by `ca`, as <name>.pem and <name>.key.
  bool MakeCert(const std::string& ca, const std::string& name, bool client) {
    WriteFile(Path(name + ".ext"),
              client ? "extendedKeyUsage=clientAuth\n"
                     : "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    return Run(absl::StrCat("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                            "-subj /CN=", name, " -keyout ", Path(name + ".key"), " -out ",
                            Path(name + ".csr"))) &&
           Run(absl::StrCat("openssl x509 -req -days 2 -in ", Path(name + ".csr"), " -CA ",
                            Path(ca + ".pem"), " -CAkey ", Path(ca + ".key"), " -CAcreateserial -out ",
                            Path(name + ".pem"), " -extfile ", Path(name + ".ext")));
  }

 private:
  static bool Run(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
  }
  std::string dir_;
};

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
  EXPECT_EQ(none.error_message(), "missing bearer token: send the metadata 'authorization: Bearer <token>'");
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
