// hub-emulator: a stand-in for the AI hub's model API, for tests, local runs
// and benchmarks. See README.md.
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "services/common/env_flags.h"
#include "services/common/log.h"
#include "services/hub_emulator/catalog.h"
#include "services/hub_emulator/emulator.h"
#include "services/hub_emulator/generator.h"
#include "services/hub_emulator/http/http_server.h"
#include "services/hub_emulator/sample_catalog.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:8080",
          "HOST:PORT to listen on; port 0 picks a free port ([::1]:PORT for IPv6)");
ABSL_FLAG(std::string, catalog, "",
          "JSON file in the hub's list shape {\"object\":\"list\",\"data\":[...]} to serve; "
          "default: the bundled sample catalog");
ABSL_FLAG(std::string, api_key_file, "",
          "file whose trimmed content is the only bearer key /api/ai accepts; "
          "default: no authentication");
ABSL_FLAG(absl::Duration, deploy_delay, absl::Seconds(3),
          "how long activation (deploying -> active) and deactivation "
          "(deactivating -> inactive) take");
ABSL_FLAG(int, generate_models, 0,
          "serve a deterministic synthetic catalog of this many models instead of a file");
ABSL_FLAG(std::string, log_level, "info", "debug (logs every request), info, warning or error");
ABSL_FLAG(int64_t, max_request_bytes, int64_t{512} << 20,
          "largest request body accepted (a catalog PUT to /_control); a larger one gets 413 "
          "before any of it is read. The default holds a 100,000-model catalog");

namespace modelcatalog {
namespace hub_emulator {
namespace {

struct ListenAddress {
  std::string host;  // without IPv6 brackets
  int port = 0;
};

ListenAddress ParseListen(absl::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    ExitWithUsageError(absl::StrCat("--listen must be HOST:PORT, got \"", text, "\""));
  }
  ListenAddress address;
  absl::string_view host = text.substr(0, colon);
  if (absl::ConsumePrefix(&host, "[") && !absl::ConsumeSuffix(&host, "]")) {
    ExitWithUsageError(absl::StrCat("--listen has an unclosed '[': \"", text, "\""));
  }
  address.host = std::string(host);
  const absl::string_view port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !absl::SimpleAtoi(port, &address.port) ||
      address.port < 0 || address.port > 65535 || !absl::ascii_isdigit(port[0])) {
    ExitWithUsageError(absl::StrCat("--listen port must be 0-65535, got \"", port, "\""));
  }
  return address;
}

std::string ReadFileOrExit(absl::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ExitWithUsageError(
        absl::StrCat("--", flag, ": cannot read \"", path, "\": ", std::strerror(errno)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) ExitWithUsageError(absl::StrCat("--", flag, ": error reading \"", path, "\""));
  return contents.str();
}

std::vector<CatalogModel> LoadCatalogOrExit() {
  const std::string path = absl::GetFlag(FLAGS_catalog);
  const int generate = absl::GetFlag(FLAGS_generate_models);
  if (generate < 0) ExitWithUsageError("--generate_models must not be negative");
  if (generate > 0 && !path.empty()) {
    ExitWithUsageError("--catalog and --generate_models are mutually exclusive");
  }
  if (generate > 0) return GenerateCatalog(generate);
  const std::string source = path.empty() ? "the bundled sample catalog" : path;
  absl::StatusOr<std::vector<CatalogModel>> catalog =
      path.empty() ? ParseCatalog(SampleCatalogJson())
                   : ParseCatalog(ReadFileOrExit("catalog", path));
  if (!catalog.ok()) {
    ExitWithUsageError(absl::StrCat("invalid catalog ", source, ": ", catalog.status().message()));
  }
  return *std::move(catalog);
}

int Run() {
  LogLevel level;
  if (!ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    ExitWithUsageError(absl::StrCat("--log_level must be debug, info, warning or error, got \"",
                                    absl::GetFlag(FLAGS_log_level), "\""));
  }
  SetMinLogLevel(level);
  const ListenAddress address = ParseListen(absl::GetFlag(FLAGS_listen));
  if (absl::GetFlag(FLAGS_deploy_delay) < absl::ZeroDuration()) {
    ExitWithUsageError("--deploy_delay must not be negative");
  }

  HubEmulatorOptions options;
  options.deploy_delay = absl::GetFlag(FLAGS_deploy_delay);
  if (const std::string key_file = absl::GetFlag(FLAGS_api_key_file); !key_file.empty()) {
    options.api_key =
        std::string(absl::StripAsciiWhitespace(ReadFileOrExit("api_key_file", key_file)));
    if (options.api_key.empty()) {
      ExitWithUsageError(absl::StrCat("--api_key_file: \"", key_file, "\" is empty"));
    }
  }
  std::vector<CatalogModel> catalog = LoadCatalogOrExit();
  const size_t model_count = catalog.size();

  // SIGTERM and SIGINT are taken synchronously by sigwait() below; they must
  // be blocked before any thread starts so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const bool authenticated = !options.api_key.empty();
  HubEmulator emulator(std::move(catalog), std::move(options));
  if (absl::GetFlag(FLAGS_max_request_bytes) < 1) {
    ExitWithUsageError("--max_request_bytes must be at least 1");
  }
  http::HttpServerOptions server_options;
  server_options.max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_request_bytes));
  http::HttpServer server(
      [&emulator](const http::HttpRequest& request) { return emulator.Handle(request); },
      server_options);
  absl::StatusOr<int> port = server.Start(address.host, address.port);
  if (!port.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(port.status().message()).c_str());
    return 1;
  }
  const std::string host = address.host.find(':') != std::string::npos
                               ? absl::StrCat("[", address.host, "]")
                               : address.host;
  // Tests and scripts wait for exactly this line.
  std::printf("hub-emulator listening on http://%s:%d\n", host.c_str(), *port);
  std::fflush(stdout);
  Log(LogLevel::kInfo, "listening",
      {{"url", absl::StrCat("http://", host, ":", *port)},
       {"models", absl::StrCat(model_count)},
       {"auth", authenticated}});

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  Log(LogLevel::kInfo, "stopping", {{"signal", absl::string_view(strsignal(signal_number))}});
  server.Stop();
  return 0;
}

}  // namespace
}  // namespace hub_emulator
}  // namespace modelcatalog

int main(int argc, char** argv) {
  {
    // --help lists the program's flags: by default abseil shows only those of
    // a source file named after the program, and this one's are elsewhere.
    absl::FlagsUsageConfig usage;
    usage.contains_help_flags = [](absl::string_view file) {
      return !absl::StrContains(file, "absl/");
    };
    absl::SetFlagsUsageConfig(usage);
  }
  absl::SetProgramUsageMessage(
      "Emulates the AI hub's model API (/api/ai) with a control API (/_control) for tests.\n"
      "Every flag can also be set from the environment: --deploy_delay from "
      "HUB_EMULATOR_DEPLOY_DELAY, and so on.");
  modelcatalog::ApplyEnvironmentToFlags(
      "HUB_EMULATOR_", {"listen", "catalog", "api_key_file", "deploy_delay", "generate_models",
                        "log_level", "max_request_bytes"});
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    modelcatalog::ExitWithUsageError(
        absl::StrCat("unexpected argument \"", positional[1], "\"; see --help"));
  }
  return modelcatalog::hub_emulator::Run();
}
