// catalog-server: serves the hub's model catalog over gRPC.
//
// Every flag can also be set through the environment as MODEL_CATALOG_<FLAG>
// (e.g. MODEL_CATALOG_SYNC_INTERVAL=1m); the command line wins. The hub key is
// read from OXEN_API_KEY or from the file named by --hub_api_key_file, never
// from a flag value, so it shows up in neither `ps` nor logs.
#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/catalog/server/catalog_server.h"
#include "services/common/env_flags.h"
#include "services/common/log.h"
#include "services/common/memory_limit.h"

ABSL_FLAG(std::string, listen, "0.0.0.0:50051", "Address the gRPC server listens on (host:port).");
ABSL_FLAG(std::string, hub_url, "https://hub.oxen.ai/api/ai",
          "Base URL of the hub's model API; /models is appended.");
ABSL_FLAG(absl::Duration, sync_interval, absl::Seconds(30),
          "Time between two syncs of the whole catalog, e.g. 30s or 5m.");
ABSL_FLAG(absl::Duration, deployment_poll_interval, absl::Seconds(2),
          "How often deployments in transition are asked about individually.");
ABSL_FLAG(absl::Duration, watch_progress_interval, absl::Seconds(10),
          "A watch stream (WatchDeployments, WatchModels) idle this long gets a PROGRESS event.");
ABSL_FLAG(std::string, snapshot_path, "",
          "File the last good catalog is kept in across restarts (written atomically); empty: "
          "none.");
ABSL_FLAG(std::string, hub_api_key_file, "",
          "File holding the hub API key. Without it the key comes from OXEN_API_KEY.");
ABSL_FLAG(absl::Duration, hub_timeout, absl::Seconds(30), "Timeout of one request to the hub.");
ABSL_FLAG(int64_t, max_hub_response_bytes, 0,
          "Largest answer of the hub read (and catalog file restored), in bytes; a larger one "
          "fails the sync with RESOURCE_EXHAUSTED and the catalog served is kept. 0: derived "
          "from the process's memory limit (cgroup memory.max), so that a sync's peak stays "
          "under it; 512 MiB without a limit.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM, how long calls in flight may take to finish.");
ABSL_FLAG(
    int32_t, max_watchers, 20000,
    "Watch streams (WatchDeployments, WatchModels) served at once; more get RESOURCE_EXHAUSTED.");
ABSL_FLAG(int32_t, max_concurrent_streams, 1000, "Concurrent calls and streams per connection.");
ABSL_FLAG(absl::Duration, max_connection_age, absl::Minutes(30),
          "Connections are closed gracefully after this age, so load balancers can rebalance.");
ABSL_FLAG(absl::Duration, max_connection_age_grace, absl::Minutes(5),
          "Time calls and streams get to finish on a connection past its maximum age.");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of the gRPC port; empty: plaintext.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: when set, clients must present a certificate it signed (mutual TLS).");
ABSL_FLAG(absl::Duration, tls_reload_interval, absl::Seconds(10),
          "How often the certificate files are checked for changes.");
ABSL_FLAG(std::string, auth_tokens_file, "",
          "Callers must send 'authorization: Bearer <token>' with a token of this file (one per "
          "line, optionally followed by 'read' to deny Activate/Deactivate). Empty: no caller "
          "auth.");
ABSL_FLAG(int32_t, call_threads, 0,
          "Threads that poll the sockets and answer unary calls; 0: one per CPU this process may "
          "run on.");
ABSL_FLAG(int32_t, stream_threads, 0,
          "Threads that own WatchModels, WatchDeployments and Health.Watch streams and write their "
          "events; 0: "
          "one per CPU this process may run on, at least 8.");
ABSL_FLAG(bool, coalesce_watch_writes, true,
          "Write a watch fan-out's events to each client connection together, in a few TCP "
          "segments (TCP_CORK while they are written); false: one segment per event.");
ABSL_FLAG(absl::Duration, watch_burst_hold, absl::Milliseconds(100),
          "How long a watch fan-out may hold a connection's written events so that a change "
          "leaves for every connection together, once every stream thread has written it; 0: "
          "each stream thread's connections are sent as soon as it has written them.");
ABSL_FLAG(std::string, sync_priority, "idle",
          "CPU priority of syncing and of writing --snapshot_path: 'idle' (only CPU time the "
          "serving threads leave unused, so a sync never delays a call) or 'normal'.");
ABSL_FLAG(std::string, log_level, "info", "Least level logged: debug, info, warning or error.");
ABSL_FLAG(std::string, log_format, "keyvalue", "Log lines as 'keyvalue' pairs or 'json' objects.");
ABSL_FLAG(std::string, metrics_listen, "0.0.0.0:9090",
          "Address of the plaintext HTTP listener for Prometheus /metrics and the /healthz probe "
          "(no model data, no token); empty: none.");
ABSL_FLAG(std::string, http_listen, "0.0.0.0:8080",
          "Address of the HTTP listener for the JSON view of the catalog (/v1/models), with the "
          "gRPC port's TLS (--tls_*) and caller tokens (--auth_tokens_file); empty: none.");

namespace modelcatalog {
namespace {

std::string ReadApiKey() {
  const std::string path = absl::GetFlag(FLAGS_hub_api_key_file);
  if (!path.empty()) {
    std::ifstream file(path);
    if (!file) ExitWithUsageError(absl::StrCat("cannot read --hub_api_key_file ", path));
    std::stringstream contents;
    contents << file.rdbuf();
    std::string key(absl::StripAsciiWhitespace(contents.str()));
    if (key.empty()) ExitWithUsageError(absl::StrCat("--hub_api_key_file ", path, " is empty"));
    return key;
  }
  const char* env = std::getenv("OXEN_API_KEY");
  return env == nullptr ? "" : std::string(absl::StripAsciiWhitespace(env));
}

// glibc hands freed memory back to the kernel once 128 KiB of it lies at the
// top of a heap (and maps each block from 128 KiB up on its own), so a fan-out
// to thousands of watchers, which allocates and frees a few MB per change, had
// its pages unmapped after each change and faulted back in by the next: on a
// virtual machine a fault costs about 10 µs, and at 10,000 streams that was a
// fifth of the server's CPU per change (BENCHMARKS.md). Up to 64 MiB free at
// the top of each heap now stay with the process, and blocks up to 4 MiB come
// from the heaps; GLIBC_TUNABLES set by the operator for either takes
// precedence.
void KeepFreedMemory() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const std::string set = tunables == nullptr ? "" : tunables;
  if (set.find("malloc.trim_threshold") == std::string::npos) {
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
  }
  if (set.find("malloc.mmap_threshold") == std::string::npos) {
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
  }
}

int Run(int argc, char** argv) {
  // Debian's abseil is built with deadlock detection on, which costs every
  // mutex acquisition a graph update (6% of the server's CPU fanning an event
  // out to 10,000 watchers). Lock order is kept by design and by TSan in CI.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  KeepFreedMemory();
  {
    // --help lists the program's flags: by default abseil shows only those of
    // a source file named after the program, and this one's are elsewhere.
    absl::FlagsUsageConfig usage;
    usage.contains_help_flags = [](absl::string_view file) {
      return !absl::StrContains(file, "absl/");
    };
    // --version (abseil's own flag) prints this and exits.
    usage.version_string = [] { return std::string("catalog-server " MODEL_CATALOG_VERSION "\n"); };
    absl::SetFlagsUsageConfig(usage);
  }
  absl::SetProgramUsageMessage("Serves the hub's model catalog over gRPC.");
  ApplyEnvironmentToFlags("MODEL_CATALOG_", {"listen",
                                             "hub_url",
                                             "sync_interval",
                                             "deployment_poll_interval",
                                             "watch_progress_interval",
                                             "snapshot_path",
                                             "hub_api_key_file",
                                             "hub_timeout",
                                             "max_hub_response_bytes",
                                             "shutdown_grace",
                                             "log_level",
                                             "max_watchers",
                                             "max_concurrent_streams",
                                             "max_connection_age",
                                             "max_connection_age_grace",
                                             "tls_cert",
                                             "tls_key",
                                             "tls_client_ca",
                                             "tls_reload_interval",
                                             "auth_tokens_file",
                                             "log_format",
                                             "metrics_listen",
                                             "http_listen",
                                             "call_threads",
                                             "stream_threads",
                                             "coalesce_watch_writes",
                                             "watch_burst_hold",
                                             "sync_priority"});
  absl::ParseCommandLine(argc, argv);

  LogLevel level;
  if (!ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    ExitWithUsageError("--log_level must be debug, info, warning or error");
  }
  SetMinLogLevel(level);
  const std::string log_format = absl::GetFlag(FLAGS_log_format);
  if (log_format != "keyvalue" && log_format != "json") {
    ExitWithUsageError("--log_format must be keyvalue or json");
  }
  SetLogFormat(log_format == "json" ? LogFormat::kJson : LogFormat::kKeyValue);
  for (const auto& [name, value] :
       {std::make_pair("--sync_interval", absl::GetFlag(FLAGS_sync_interval)),
        std::make_pair("--deployment_poll_interval", absl::GetFlag(FLAGS_deployment_poll_interval)),
        std::make_pair("--watch_progress_interval",
                       absl::GetFlag(FLAGS_watch_progress_interval))}) {
    if (value <= absl::ZeroDuration()) ExitWithUsageError(absl::StrCat(name, " must be positive"));
  }

  // Signals are taken by a sigwait below rather than a handler: block them
  // before any thread starts so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  catalog::CatalogServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.sync_interval = absl::GetFlag(FLAGS_sync_interval);
  options.deployment_poll_interval = absl::GetFlag(FLAGS_deployment_poll_interval);
  options.watch_progress_interval = absl::GetFlag(FLAGS_watch_progress_interval);
  options.snapshot_path = absl::GetFlag(FLAGS_snapshot_path);
  if (absl::GetFlag(FLAGS_max_watchers) < 1 || absl::GetFlag(FLAGS_max_concurrent_streams) < 1) {
    ExitWithUsageError("--max_watchers and --max_concurrent_streams must be at least 1");
  }
  options.max_watchers = static_cast<size_t>(absl::GetFlag(FLAGS_max_watchers));
  options.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  if (absl::GetFlag(FLAGS_call_threads) < 0 || absl::GetFlag(FLAGS_stream_threads) < 0) {
    ExitWithUsageError("--call_threads and --stream_threads must be 0 (one per CPU) or more");
  }
  options.call_threads = static_cast<size_t>(absl::GetFlag(FLAGS_call_threads));
  options.stream_threads = static_cast<size_t>(absl::GetFlag(FLAGS_stream_threads));
  options.coalesce_watch_writes = absl::GetFlag(FLAGS_coalesce_watch_writes);
  options.watch_burst_hold = absl::GetFlag(FLAGS_watch_burst_hold);
  if (options.watch_burst_hold < absl::ZeroDuration()) {
    ExitWithUsageError("--watch_burst_hold must not be negative");
  }
  const std::string sync_priority = absl::GetFlag(FLAGS_sync_priority);
  if (sync_priority != "idle" && sync_priority != "normal") {
    ExitWithUsageError("--sync_priority must be idle or normal");
  }
  options.background_at_idle_priority = sync_priority == "idle";
  options.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  options.max_connection_age_grace = absl::GetFlag(FLAGS_max_connection_age_grace);
  options.tls.cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls.key = absl::GetFlag(FLAGS_tls_key);
  options.tls.client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  options.tls.reload_interval = absl::GetFlag(FLAGS_tls_reload_interval);
  options.auth_tokens_file = absl::GetFlag(FLAGS_auth_tokens_file);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.http_listen = absl::GetFlag(FLAGS_http_listen);
  options.hub.base_url = absl::GetFlag(FLAGS_hub_url);
  options.hub.api_key = ReadApiKey();
  options.hub.request_timeout = absl::GetFlag(FLAGS_hub_timeout);
  const int64_t max_hub_response_bytes = absl::GetFlag(FLAGS_max_hub_response_bytes);
  if (max_hub_response_bytes < 0) {
    ExitWithUsageError(
        "--max_hub_response_bytes must be 0 (derived from the memory limit) or more");
  }
  const absl::optional<uint64_t> memory_limit = CgroupMemoryLimit();
  options.hub.max_response_bytes = max_hub_response_bytes > 0
                                       ? static_cast<size_t>(max_hub_response_bytes)
                                       : catalog::DefaultMaxHubResponseBytes(memory_limit);

  absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> server =
      catalog::CatalogServer::Start(options);
  if (!server.ok()) ExitWithUsageError(server.status().message());

  const absl::string_view listen = options.listen;
  const std::string host(listen.substr(0, listen.rfind(':')));
  std::printf("catalog-server listening on %s:%d\n", host.c_str(), (*server)->port());
  const auto host_of = [](absl::string_view address) {
    return std::string(address.substr(0, address.rfind(':')));
  };
  if ((*server)->metrics_port() != 0) {
    std::printf("catalog-server metrics on http://%s:%d/metrics\n",
                host_of(options.metrics_listen).c_str(), (*server)->metrics_port());
  }
  if ((*server)->http_port() != 0) {
    std::printf("catalog-server JSON view on %s://%s:%d/v1/models\n",
                options.tls.enabled() ? "https" : "http", host_of(options.http_listen).c_str(),
                (*server)->http_port());
  }
  std::fflush(stdout);
  Log(LogLevel::kInfo, "started",
      {{"listen", absl::StrCat(host, ":", (*server)->port())},
       {"hub", options.hub.base_url},
       {"hub_key", options.hub.api_key.empty() ? "none" : "set"},
       {"sync_interval", absl::FormatDuration(options.sync_interval)},
       {"max_hub_response_bytes", options.hub.max_response_bytes},
       {"memory_limit", memory_limit.has_value() ? absl::StrCat(*memory_limit) : "none"}});

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  Log(LogLevel::kInfo, "shutting_down", {{"signal", signal_number}});
  (*server)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace
}  // namespace modelcatalog

int main(int argc, char** argv) { return modelcatalog::Run(argc, argv); }
