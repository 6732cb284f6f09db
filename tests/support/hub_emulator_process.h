// Starts a real `hub-emulator` process for a test and drives its control API.
//
//   absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub =
//       HubEmulatorProcess::Start({"--deploy_delay=200ms"});
//   ASSERT_TRUE(hub.ok()) << hub.status();
//   MyClient client((*hub)->api_url());                    // http://127.0.0.1:PORT/api/ai
//   ASSERT_TRUE((*hub)->InjectFault(R"({"fault":"rate_limit","count":2})").ok());
//   absl::StatusOr<HubRequestCounts> counts = (*hub)->Stats();
//
// The emulator listens on 127.0.0.1 on a free port, serves the bundled sample
// catalog unless a flag says otherwise, and is stopped (SIGTERM, then SIGKILL)
// by the destructor; it also dies with the test process. The control API is
// described in services/hub_emulator/README.md.
#ifndef MODEL_CATALOG_TESTS_SUPPORT_HUB_EMULATOR_PROCESS_H_
#define MODEL_CATALOG_TESTS_SUPPORT_HUB_EMULATOR_PROCESS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/support/child_process.h"

namespace modelcatalog {
namespace testing {

// An HTTP answer from the emulator.
struct ControlResponse {
  long status = 0;  // HTTP status code
  std::string body;
};

// GET /_control/stats: /api/ai requests received, per endpoint, since start or
// the last Reset(). `retrieve_live` counts GET /models/{id}?deployment_status=live
// (which `retrieve` does not).
struct HubRequestCounts {
  int64_t list = 0;
  int64_t search = 0;
  int64_t retrieve = 0;
  int64_t retrieve_live = 0;
  int64_t activate = 0;
  int64_t deactivate = 0;
  // Requests held by the `hang` fault whose client closed the connection:
  // how a test sees that the client gave a request up.
  int64_t hangs_abandoned = 0;
};

class HubEmulatorProcess {
 public:
  struct Options {
    // Empty: DefaultBinaryPath().
    std::string binary;
    // Extra command-line flags, e.g. "--deploy_delay=200ms", "--catalog=<file>".
    // --listen is always 127.0.0.1:0.
    std::vector<std::string> flags;
    // Extra environment variables for the process (e.g. HUB_EMULATOR_*).
    std::vector<std::pair<std::string, std::string>> env;
    // If set, written to a temporary file passed as --api_key_file: /api/ai
    // then requires "Authorization: Bearer <api_key>".
    std::string api_key;
    // How long to wait for the "listening on" line.
    absl::Duration startup_timeout = absl::Seconds(10);
  };

  // <MODEL_CATALOG_BIN_DIR>/hub-emulator of the build tree the tests belong to.
  static std::string DefaultBinaryPath();

  // Spawns the emulator and waits until it listens. Returns the spawn error,
  // or FAILED_PRECONDITION / DEADLINE_EXCEEDED (with its output) if it exits
  // or stays silent instead -- e.g. for an invalid flag.
  static absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> Start(
      std::vector<std::string> extra_flags = {});
  static absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> Start(
      absl::string_view binary_path, std::vector<std::string> extra_flags);
  static absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> StartWithOptions(Options options);

  ~HubEmulatorProcess();  // stops the process, removes the key file

  HubEmulatorProcess(const HubEmulatorProcess&) = delete;
  HubEmulatorProcess& operator=(const HubEmulatorProcess&) = delete;

  std::string base_url() const { return base_url_; }  // http://127.0.0.1:PORT
  std::string api_url() const { return base_url_ + "/api/ai"; }
  int port() const { return port_; }
  ChildProcess& process() { return *process_; }

  // SIGTERM and wait; returns the exit code (0 for a clean stop).
  absl::StatusOr<int> Stop();

  // One HTTP request to the emulator: `path` is absolute ("/_control/stats",
  // "/api/ai/models"); a non-empty body is sent as application/json. Any
  // status is a successful result; UNAVAILABLE if the request fails.
  absl::StatusOr<ControlResponse> Control(absl::string_view method, absl::string_view path,
                                          absl::string_view json_body = "");

  // Control API helpers. Ids are percent-encoded for the path. They return OK
  // on a 2xx answer, else INVALID_ARGUMENT (400), NOT_FOUND (404) or INTERNAL,
  // with the emulator's message.
  // PUT /_control/models/{id}/status: every deployment (or the one at `deployment`).
  absl::Status SetDeploymentStatus(absl::string_view id, absl::string_view status);
  absl::Status SetDeploymentStatus(absl::string_view id, absl::string_view status, int deployment);
  // PUT /_control/models/{id}: add or replace a model (the path id wins).
  absl::Status PutModel(absl::string_view id, absl::string_view model_json);
  // PATCH /_control/models/{id}: JSON merge patch (RFC 7386).
  absl::Status PatchModel(absl::string_view id, absl::string_view merge_patch_json);
  // DELETE /_control/models/{id}.
  absl::Status DeleteModel(absl::string_view id);
  // PUT /_control/catalog: replace everything with a {"object":"list","data":[...]} body.
  absl::Status ReplaceCatalog(absl::string_view list_json);
  // POST /_control/faults, e.g. {"fault":"http_error","status":503,"count":2}.
  absl::Status InjectFault(absl::string_view fault_json);
  // DELETE /_control/faults.
  absl::Status ClearFaults();
  // GET /_control/stats, parsed / as returned.
  absl::StatusOr<HubRequestCounts> Stats();
  absl::StatusOr<std::string> StatsJson();
  // POST /_control/reset: initial catalog, no faults, counters zeroed.
  absl::Status Reset();

 private:
  HubEmulatorProcess(std::unique_ptr<ChildProcess> process, std::string base_url, int port,
                     std::string key_file);

  // Control() that maps a non-2xx answer to an error status.
  absl::StatusOr<ControlResponse> ControlOk(absl::string_view method, absl::string_view path,
                                            absl::string_view json_body = "");

  std::unique_ptr<ChildProcess> process_;
  std::string base_url_;
  int port_ = 0;
  std::string key_file_;  // removed on destruction; "" if none
};

}  // namespace testing
}  // namespace modelcatalog

#endif  // MODEL_CATALOG_TESTS_SUPPORT_HUB_EMULATOR_PROCESS_H_
