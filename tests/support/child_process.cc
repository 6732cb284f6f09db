#include "tests/support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace modelcatalog {
namespace testing {
namespace {

void CloseIfOpen(int fd) {
  if (fd >= 0) ::close(fd);
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// Closes every descriptor >= 3 except `keep`. Runs between fork and exec, so
// only async-signal-safe calls.
void CloseInheritedDescriptors(int keep) {
#ifdef SYS_close_range
  if (keep > 3) ::syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u);
  if (::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0) return;
#endif
  for (int fd = 3; fd < 65536; ++fd) {
    if (fd != keep) ::close(fd);
  }
}

// The environment for the child: the test's own, with `additions` replacing
// variables of the same name.
std::vector<std::string> ChildEnvironment(
    const std::vector<std::pair<std::string, std::string>>& additions) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const absl::string_view entry(*e);
    bool overridden = false;
    for (const auto& [name, value] : additions) {
      overridden = overridden || absl::StartsWith(entry, absl::StrCat(name, "="));
    }
    if (!overridden) env.emplace_back(entry);
  }
  for (const auto& [name, value] : additions) env.push_back(absl::StrCat(name, "=", value));
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(
    std::vector<std::string> argv, std::vector<std::pair<std::string, std::string>> env) {
  ChildProcessOptions options;
  options.argv = std::move(argv);
  options.env = std::move(env);
  return Spawn(std::move(options));
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(ChildProcessOptions options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("ChildProcess: empty argv");
  // Everything the child needs is built before fork(): after it, in a
  // multi-threaded parent, the child may only make async-signal-safe calls.
  std::vector<std::string> env_strings = ChildEnvironment(options.env);
  std::vector<char*> envp = CStrings(env_strings);
  std::vector<char*> argv = CStrings(options.argv);

  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  int exec_error[2] = {-1, -1};  // carries errno if execve fails; closed by a successful exec
  auto close_all = [&] {
    for (int fd : {out[0], out[1], err[0], err[1], exec_error[0], exec_error[1]}) CloseIfOpen(fd);
  };
  if (::pipe2(out, O_CLOEXEC) != 0 || (options.capture_stderr && ::pipe2(err, O_CLOEXEC) != 0) ||
      ::pipe2(exec_error, O_CLOEXEC) != 0) {
    const std::string error = std::strerror(errno);
    close_all();
    return absl::InternalError(absl::StrCat("pipe2: ", error));
  }

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const std::string error = std::strerror(errno);
    close_all();
    return absl::InternalError(absl::StrCat("fork: ", error));
  }
  if (pid == 0) {
    // Die with the parent; and if it already died before prctl, do not linger.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    // Undo what the test process may have changed: a blocked or ignored
    // SIGTERM would make the child unkillable by Terminate().
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGHUP}) ::sigaction(sig, &default_action, nullptr);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    if (err[1] >= 0) ::dup2(err[1], STDERR_FILENO);
    CloseInheritedDescriptors(exec_error[1]);
    ::execve(argv[0], argv.data(), envp.data());
    const int error = errno;
    [[maybe_unused]] const ssize_t ignored = ::write(exec_error[1], &error, sizeof(error));
    ::_exit(127);
  }

  CloseIfOpen(out[1]);
  CloseIfOpen(err[1]);
  CloseIfOpen(exec_error[1]);
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_error[0], &exec_errno, sizeof(exec_errno));
  } while (n < 0 && errno == EINTR);
  ::close(exec_error[0]);
  if (n == static_cast<ssize_t>(sizeof(exec_errno))) {
    ::waitpid(pid, nullptr, 0);
    CloseIfOpen(out[0]);
    CloseIfOpen(err[0]);
    const std::string message =
        absl::StrCat("cannot execute ", options.argv[0], ": ", std::strerror(exec_errno));
    if (exec_errno == ENOENT) return absl::NotFoundError(message);
    if (exec_errno == EACCES) return absl::PermissionDeniedError(message);
    return absl::InternalError(message);
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, out[0], err[0]));
}

ChildProcess::ChildProcess(pid_t pid, int stdout_fd, int stderr_fd)
    : pid_(pid), stdout_fd_(stdout_fd), stderr_fd_(stderr_fd) {
  int wake[2] = {-1, -1};
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) == 0) {
    wake_read_fd_ = wake[0];
    wake_write_fd_ = wake[1];
  }
  pump_ = std::thread(&ChildProcess::Pump, this);
}

ChildProcess::~ChildProcess() {
  [[maybe_unused]] absl::StatusOr<int> ignored = Terminate();
  StopPump();
  CloseIfOpen(stdout_fd_);
  CloseIfOpen(stderr_fd_);
  CloseIfOpen(wake_read_fd_);
  CloseIfOpen(wake_write_fd_);
}

void ChildProcess::Pump() {
  bool stdout_open = true;
  bool stderr_open = stderr_fd_ >= 0;
  char chunk[16 * 1024];
  while (stdout_open || stderr_open) {
    pollfd fds[3] = {{wake_read_fd_, POLLIN, 0},
                     {stdout_open ? stdout_fd_ : -1, POLLIN, 0},
                     {stderr_open ? stderr_fd_ : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) break;
    for (int i = 1; i <= 2; ++i) {
      if (fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, chunk, sizeof(chunk));
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      absl::MutexLock lock(&mu_);
      if (n > 0) {
        (i == 1 ? stdout_ : stderr_).append(chunk, static_cast<size_t>(n));
      } else if (i == 1) {
        stdout_open = false;
        stdout_closed_ = true;
      } else {
        stderr_open = false;
      }
    }
  }
  absl::MutexLock lock(&mu_);
  stdout_closed_ = true;
  pump_done_ = true;
}

void ChildProcess::StopPump() {
  if (!pump_.joinable()) return;
  if (wake_write_fd_ >= 0) {
    [[maybe_unused]] const ssize_t ignored = ::write(wake_write_fd_, "x", 1);
  }
  pump_.join();
}

absl::StatusOr<std::string> ChildProcess::WaitForLine(absl::string_view marker,
                                                      absl::Duration timeout) {
  std::string line;
  size_t line_end = 0;
  absl::MutexLock lock(&mu_);
  // Looks for a complete line containing `marker` after the last one returned.
  auto find_line = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    size_t start = stdout_consumed_;
    while (true) {
      const size_t newline = stdout_.find('\n', start);
      if (newline == std::string::npos) return false;
      const absl::string_view candidate(stdout_.data() + start, newline - start);
      if (absl::StrContains(candidate, marker)) {
        line = std::string(candidate);
        line_end = newline + 1;
        return true;
      }
      start = newline + 1;
    }
  };
  auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return find_line() || stdout_closed_; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (find_line()) {
    stdout_consumed_ = line_end;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  const std::string printed =
      absl::StrCat("stdout so far: \"", stdout_, "\"",
                   stderr_fd_ >= 0 ? absl::StrCat("; stderr: \"", stderr_, "\"") : "");
  if (stdout_closed_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "child ", pid_, " closed stdout before printing \"", marker, "\"; ", printed));
  }
  return absl::DeadlineExceededError(absl::StrCat("child ", pid_, " did not print \"", marker,
                                                  "\" within ", absl::FormatDuration(timeout),
                                                  "; ", printed));
}

absl::StatusOr<int> ChildProcess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (exit_code_.has_value()) return *exit_code_;
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exit_code_ = ExitCodeOf(status);
        return *exit_code_;
      }
      if (r < 0 && errno != EINTR) {
        return absl::InternalError(absl::StrCat("waitpid(", pid_, "): ", std::strerror(errno)));
      }
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("child ", pid_, " still running after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(std::min(pause, deadline - absl::Now()));
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
}

absl::Status ChildProcess::Signal(int signal) {
  absl::MutexLock lock(&mu_);
  // After reaping, the pid may belong to an unrelated process: never signal it.
  if (exit_code_.has_value()) return absl::OkStatus();
  if (::kill(pid_, signal) != 0 && errno != ESRCH) {
    return absl::InternalError(absl::StrCat("kill(", pid_, "): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ChildProcess::Terminate(absl::Duration grace) {
  if (absl::Status s = Signal(SIGTERM); !s.ok()) return s;
  absl::StatusOr<int> code = Wait(grace);
  if (code.ok() || !absl::IsDeadlineExceeded(code.status())) return code;
  if (absl::Status s = Signal(SIGKILL); !s.ok()) return s;
  return Wait(absl::Seconds(10));
}

std::string ChildProcess::stdout_text() const {
  absl::MutexLock lock(&mu_);
  return stdout_;
}

std::string ChildProcess::captured_stderr() const {
  absl::MutexLock lock(&mu_);
  return stderr_;
}

absl::StatusOr<ChildProcess::Result> ChildProcess::Run(ChildProcessOptions options,
                                                       absl::Duration timeout) {
  options.capture_stderr = true;
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = Spawn(std::move(options));
  if (!child.ok()) return child.status();
  absl::StatusOr<int> code = (*child)->Wait(timeout);
  if (!code.ok()) {
    (*child)->Terminate(absl::Milliseconds(100)).IgnoreError();
    return code.status();
  }
  // The pipes reach EOF once the child is gone (unless it left descendants
  // holding them); give the pump a moment to read the last bytes.
  {
    ChildProcess* c = child->get();
    absl::MutexLock lock(&c->mu_);
    c->mu_.AwaitWithTimeout(absl::Condition(&c->pump_done_), absl::Seconds(2));
  }
  (*child)->StopPump();
  Result result;
  result.exit_code = *code;
  result.stdout_text = (*child)->stdout_text();
  result.stderr_text = (*child)->captured_stderr();
  return result;
}

}  // namespace testing
}  // namespace modelcatalog
