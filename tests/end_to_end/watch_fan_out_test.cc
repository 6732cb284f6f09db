// A change fanned out to many watch streams of one client connection, over a
// real socket: every stream gets it, and the server sends the events of the
// pass in a few TCP segments rather than one per event (connection_sockets.h),
// which the server socket's own count of segments sent shows, and in a few
// system calls (send_hold.h), which the holds' own counts show.
#include <dirent.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"
#include "services/catalog/grpc/send_hold.h"
#include "services/catalog/server/catalog_server.h"
#include "tests/support/hub_emulator_process.h"

namespace modelcatalog {
namespace {

using ::modelcatalog::testing::HubEmulatorProcess;
using ::modelcatalog::v1::ModelCatalogService;
using ::modelcatalog::v1::WatchDeploymentsRequest;
using ::modelcatalog::v1::WatchDeploymentsResponse;

constexpr int kStreams = 400;
constexpr char kModel[] = "lab42-broken-tune";  // a custom model with one deployment

// The server's end of the one connection to `server_port` in this process:
// the socket whose local port is the server's and that has a peer.
int ServerSideSocket(int server_port) {
  int found = -1;
  DIR* fds = opendir("/proc/self/fd");
  while (const dirent* entry = readdir(fds)) {
    const int fd = std::atoi(entry->d_name);
    sockaddr_in6 local = {}, remote = {};
    socklen_t length = sizeof(local);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) continue;
    const int port = local.sin6_family == AF_INET
                         ? ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port)
                         : ntohs(local.sin6_port);
    length = sizeof(remote);
    if (port == server_port &&
        getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &length) == 0) {
      EXPECT_EQ(found, -1) << "more than one connection to the server";
      found = fd;
    }
  }
  closedir(fds);
  return found;
}

tcp_info TcpInfo(int fd) {
  tcp_info info = {};
  socklen_t length = sizeof(info);
  EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length), 0);
  return info;
}

// kStreams WatchDeployments streams of kModel on one channel, read on one
// completion queue by the test's thread.
class Watchers {
 public:
  explicit Watchers(ModelCatalogService::Stub* stub) : streams_(kStreams) {
    WatchDeploymentsRequest request;
    request.add_model_ids(kModel);
    for (Stream& stream : streams_) {
      stream.reader = stub->PrepareAsyncWatchDeployments(&stream.context, request, &queue_);
      stream.reader->StartCall(&stream);
    }
  }
  ~Watchers() {
    for (Stream& stream : streams_) stream.context.TryCancel();
    queue_.Shutdown();
    void* tag;
    bool ok;
    while (queue_.Next(&tag, &ok)) {
    }
  }

  // Reads until every stream has seen `count` events of type `type`; false on timeout.
  bool AwaitEach(v1::WatchEventType type, int count) {
    const auto deadline = absl::ToChronoTime(absl::Now() + absl::Seconds(20));
    auto done = [&] {
      for (const Stream& stream : streams_) {
        auto it = stream.seen.find(type);
        if (it == stream.seen.end() || it->second < count) return false;
      }
      return true;
    };
    while (!done()) {
      void* tag;
      bool ok;
      if (queue_.AsyncNext(&tag, &ok, deadline) != grpc::CompletionQueue::GOT_EVENT) return false;
      auto* stream = static_cast<Stream*>(tag);
      if (!ok) continue;  // the stream ended; `done` then never holds
      if (stream->started) {
        ++stream->seen[stream->event.type()];
        if (stream->event.type() == v1::WATCH_EVENT_TYPE_CHANGED) {
          last_status_ = stream->event.status_raw();
        }
      }
      stream->started = true;
      stream->reader->Read(&stream->event, stream);
    }
    return true;
  }
  const std::string& last_status() const { return last_status_; }

 private:
  struct Stream {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncReader<WatchDeploymentsResponse>> reader;
    WatchDeploymentsResponse event;
    bool started = false;
    std::map<int, int> seen;  // events by type
  };
  grpc::CompletionQueue queue_;
  std::vector<Stream> streams_;
  std::string last_status_;
};

class WatchFanOutTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    // Server and client on one CPU, as a busy server is, so the segments
    // counted are the server's doing and not the client's pace. Threads
    // started from here on (the server's, gRPC's) inherit the CPU.
    cpu_set_t cpus;
    ASSERT_EQ(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &cpus)) continue;
      CPU_ZERO(&cpus);
      CPU_SET(cpu, &cpus);
      ASSERT_EQ(sched_setaffinity(0, sizeof(cpus), &cpus), 0);
      break;
    }
    absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> hub = HubEmulatorProcess::Start({});
    ASSERT_TRUE(hub.ok()) << hub.status();
    hub_ = *std::move(hub);
    catalog::CatalogServerOptions options;
    options.listen = "127.0.0.1:0";
    options.hub.base_url = hub_->api_url();
    options.sync_interval = absl::Hours(1);
    options.deployment_poll_interval = absl::Hours(1);
    options.coalesce_watch_writes = GetParam();
    absl::StatusOr<std::unique_ptr<catalog::CatalogServer>> server =
        catalog::CatalogServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_TRUE(server_->SyncNow().ok());
    stub_ = ModelCatalogService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  struct FanOut {
    uint32_t segments = 0;        // TCP segments the server's socket sent
    uint32_t segment_size = 0;    // the most a segment carries on the connection
    uint64_t sends_held = 0;      // gRPC's sends the server held (send_hold.h)
    uint64_t send_calls = 0;      // system calls that sent what was held
    uint64_t passed_through = 0;  // sends during the burst the hold let through
  };

  // What the server sent while a status change reached every stream.
  FanOut OneFanOut() {
    Watchers watchers(stub_.get());
    EXPECT_TRUE(watchers.AwaitEach(v1::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE, 1));
    const int fd = ServerSideSocket(server_->port());
    EXPECT_GE(fd, 0);
    const uint32_t before = TcpInfo(fd).tcpi_segs_out;
    const catalog::SendHold::Counts held_before = catalog::SendHold::ProcessCounts();
    EXPECT_TRUE(hub_->SetDeploymentStatus(kModel, "active").ok());
    EXPECT_TRUE(server_->SyncNow().ok());
    EXPECT_TRUE(watchers.AwaitEach(v1::WATCH_EVENT_TYPE_CHANGED, 1))
        << "not every stream got the change";
    EXPECT_EQ(watchers.last_status(), "active");
    const tcp_info after = TcpInfo(fd);
    const catalog::SendHold::Counts held_after = catalog::SendHold::ProcessCounts();
    return {after.tcpi_segs_out - before, after.tcpi_snd_mss,
            held_after.sends_held - held_before.sends_held,
            held_after.flushes - held_before.flushes,
            held_after.passed_through - held_before.passed_through};
  }

  std::unique_ptr<HubEmulatorProcess> hub_;
  std::unique_ptr<catalog::CatalogServer> server_;
  std::unique_ptr<ModelCatalogService::Stub> stub_;
};

// With coalescing off the change still reaches every stream; how many segments
// it takes then varies from run to run (gRPC merges the writes that find the
// connection busy writing, which depends on preemption), so only the count
// with it on is checked.
TEST_P(WatchFanOutTest, EveryStreamGetsTheChangeInAFewSegmentsAndSystemCalls) {
  const FanOut fan_out = OneFanOut();
  ASSERT_GT(fan_out.segment_size, 0u);
  if (GetParam()) {
    // All of the connection's streams are in one feed shard: one burst of 400
    // events of some 180 bytes, in as many full segments as that takes (two
    // on loopback) and a few more for what gRPC writes meanwhile. Written one
    // by one, they take about 400.
    const uint32_t full = (kStreams * 180 + fan_out.segment_size - 1) / fan_out.segment_size;
    EXPECT_LE(fan_out.segments, full + 4) << "the events were not sent together";
    // gRPC's sends of the burst (one per event, fewer when it merges events
    // that find the connection busy) were held and left in one system call per
    // burst (up to kFlushBytes); none went to the kernel on its own.
    EXPECT_GE(fan_out.sends_held, 1u);
    EXPECT_EQ(fan_out.passed_through, 0u);
    const uint64_t calls =
        (kStreams * 180 + catalog::SendHold::kFlushBytes - 1) / catalog::SendHold::kFlushBytes;
    EXPECT_LE(fan_out.send_calls, calls + 2) << fan_out.sends_held << " sends held";
  } else {
    EXPECT_EQ(fan_out.sends_held, 0u) << "held without coalescing";
  }
}

INSTANTIATE_TEST_SUITE_P(Coalescing, WatchFanOutTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "On" : "Off"; });

}  // namespace
}  // namespace modelcatalog
