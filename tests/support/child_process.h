// Runs a program as a child process of a test: spawn with extra environment,
// wait for a readiness line on its stdout, terminate it.
//
//   absl::StatusOr<std::unique_ptr<ChildProcess>> child =
//       ChildProcess::Spawn({"/path/to/server", "--port=0"}, {{"SERVER_LOG_LEVEL", "debug"}});
//   absl::StatusOr<std::string> line =
//       (*child)->WaitForLine("listening on", absl::Seconds(10));
//   ...
//   (*child)->Terminate();  // also done by the destructor
//
// The child is killed (SIGKILL) if the thread that spawned it exits -- in
// practice, when the test process dies -- so a crashed test leaves no server
// behind (prctl PR_SET_PDEATHSIG). Spawn from a thread that outlives the child
// (the test's main thread), not from a short-lived helper thread.
#ifndef MODEL_CATALOG_TESTS_SUPPORT_CHILD_PROCESS_H_
#define MODEL_CATALOG_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace modelcatalog {
namespace testing {

struct ChildProcessOptions {
  // argv[0] is the path of the executable (no PATH search).
  std::vector<std::string> argv;
  // Set in the child's environment, on top of (and overriding) the test's own.
  std::vector<std::pair<std::string, std::string>> env;
  // Keep the child's stderr (see captured_stderr()) instead of letting it
  // through to the test's stderr, where it shows up in the test log.
  bool capture_stderr = false;
};

class ChildProcess {
 public:
  // Starts the program. Returns NOT_FOUND / PERMISSION_DENIED / INTERNAL if it
  // cannot be executed (the exec error is reported, not a silent exit 127).
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(ChildProcessOptions options);
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(
      std::vector<std::string> argv, std::vector<std::pair<std::string, std::string>> env = {});

  // The outcome of a program run to completion by Run().
  struct Result {
    int exit_code = 0;  // 128 + signal number if killed by a signal
    std::string stdout_text;
    std::string stderr_text;
  };
  // Runs the program to completion (stderr always captured). Returns
  // DEADLINE_EXCEEDED, after killing it, if it runs longer than `timeout`.
  static absl::StatusOr<Result> Run(ChildProcessOptions options, absl::Duration timeout);

  ~ChildProcess();  // Terminate()s

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits until the child prints a stdout line containing `marker` and returns
  // that line (without the newline). Each call continues after the line the
  // previous call returned. Returns DEADLINE_EXCEEDED after `timeout`, or
  // FAILED_PRECONDITION if the child closes stdout (usually: exits) first; the
  // messages include what the child printed.
  absl::StatusOr<std::string> WaitForLine(absl::string_view marker, absl::Duration timeout);

  // Waits up to `timeout` for the child to exit and returns its exit code
  // (128 + signal if killed). DEADLINE_EXCEEDED if it is still running.
  absl::StatusOr<int> Wait(absl::Duration timeout);

  // SIGTERM, then SIGKILL if the child has not exited within `grace`. Returns
  // the exit code. Safe to call repeatedly and after the child exited.
  absl::StatusOr<int> Terminate(absl::Duration grace = absl::Seconds(5));

  // Sends `signal` to the child (no-op once it has been reaped).
  absl::Status Signal(int signal);

  pid_t pid() const { return pid_; }
  // Everything read so far from the child's stdout / captured stderr.
  std::string stdout_text() const;
  std::string captured_stderr() const;

 private:
  ChildProcess(pid_t pid, int stdout_fd, int stderr_fd);
  // Reads the child's output pipes into the buffers until they close or
  // StopPump() is called.
  void Pump();
  void StopPump();

  const pid_t pid_;
  const int stdout_fd_;
  const int stderr_fd_;  // -1 unless captured
  int wake_read_fd_ = -1;
  int wake_write_fd_ = -1;
  std::thread pump_;

  mutable absl::Mutex mu_;
  std::string stdout_ ABSL_GUARDED_BY(mu_);
  std::string stderr_ ABSL_GUARDED_BY(mu_);
  size_t stdout_consumed_ ABSL_GUARDED_BY(mu_) = 0;  // end of the last line WaitForLine returned
  bool stdout_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool pump_done_ ABSL_GUARDED_BY(mu_) = false;  // both pipes read to the end
  std::optional<int> exit_code_ ABSL_GUARDED_BY(mu_);  // once reaped
};

}  // namespace testing
}  // namespace modelcatalog

#endif  // MODEL_CATALOG_TESTS_SUPPORT_CHILD_PROCESS_H_
