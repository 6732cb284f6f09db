#include "benchmarks/load/etcd_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmarks/load/bench_context.h"

namespace modelcatalog::bench {
namespace {

// A loopback port no one listens on now. etcd wants its ports named in advance
// (the client URL it listens on is also the one it advertises), so the port is
// found by binding port 0 and let go just before etcd binds it.
int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace

std::unique_ptr<EtcdProcess> EtcdProcess::Start(const EtcdOptions& options) {
  const char* tmp = std::getenv("TMPDIR");
  std::string data_dir =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/catalog-bench-etcd-XXXXXX");
  if (mkdtemp(data_dir.data()) == nullptr) {
    std::fprintf(stderr, "catalog-bench: cannot make a data directory for etcd: %s\n",
                 std::strerror(errno));
    return nullptr;
  }
  const int client_port = FreeLoopbackPort();
  const int peer_port = FreeLoopbackPort();
  if (client_port <= 0 || peer_port <= 0 || client_port == peer_port) {
    std::fprintf(stderr, "catalog-bench: no free loopback port for etcd\n");
    std::filesystem::remove_all(data_dir);
    return nullptr;
  }
  const std::string client_url = absl::StrCat("http://127.0.0.1:", client_port);
  const std::string peer_url = absl::StrCat("http://127.0.0.1:", peer_port);
  std::vector<std::string> args = {
      options.binary,
      "--name=catalog-bench",
      absl::StrCat("--data-dir=", data_dir),
      absl::StrCat("--listen-client-urls=", client_url),
      absl::StrCat("--advertise-client-urls=", client_url),
      absl::StrCat("--listen-peer-urls=", peer_url),
      absl::StrCat("--initial-advertise-peer-urls=", peer_url),
      absl::StrCat("--initial-cluster=catalog-bench=", peer_url),
      "--logger=zap",
      "--log-level=warn",
      "--log-outputs=stderr",
  };
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) {
    std::fprintf(stderr, "catalog-bench: fork: %s\n", std::strerror(errno));
    std::filesystem::remove_all(data_dir);
    return nullptr;
  }
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    if (options.cpu >= 0) {
      cpu_set_t cpus;
      CPU_ZERO(&cpus);
      CPU_SET(options.cpu, &cpus);
      if (sched_setaffinity(0, sizeof(cpus), &cpus) != 0) _exit(126);
    }
    const int null_fd = open("/dev/null", O_RDWR);
    const int log_fd = options.log_path.empty()
                           ? null_fd
                           : open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (null_fd >= 0) {
      dup2(null_fd, STDIN_FILENO);
      dup2(null_fd, STDOUT_FILENO);
    }
    if (log_fd >= 0) dup2(log_fd, STDERR_FILENO);
    execvp(argv[0], argv.data());
    _exit(127);
  }

  std::unique_ptr<EtcdProcess> etcd(
      new EtcdProcess(pid, data_dir, absl::StrCat("127.0.0.1:", client_port)));
  // Up when a gRPC connection is; the member then elects itself leader within
  // a heartbeat or two, which the first Put waits for.
  const auto channel = MakeConnection(etcd->client_address(), 0);
  const absl::Time deadline = absl::Now() + options.start_timeout;
  while (!Connect(channel, absl::Milliseconds(200))) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      etcd->pid_ = 0;
      std::fprintf(stderr, "catalog-bench: %s exited (status %d) before serving%s%s\n",
                   options.binary.c_str(), status, options.log_path.empty() ? "" : "; see ",
                   options.log_path.c_str());
      return nullptr;
    }
    if (absl::Now() > deadline) {
      std::fprintf(stderr, "catalog-bench: etcd did not serve on %s within %s\n",
                   etcd->client_address().c_str(),
                   absl::FormatDuration(options.start_timeout).c_str());
      return nullptr;
    }
  }
  return etcd;
}

EtcdProcess::~EtcdProcess() {
  Stop();
  std::error_code ignored;
  std::filesystem::remove_all(data_dir_, ignored);
}

void EtcdProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = 0;
      return;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = 0;
}

}  // namespace modelcatalog::bench
