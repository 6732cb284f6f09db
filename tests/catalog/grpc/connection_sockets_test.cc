// ConnectionSockets on real TCP connections: a listener of the test's own
// stands in for the gRPC server's, whose accepted sockets it must find.
#include "services/catalog/grpc/connection_sockets.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/tcp_loopback.h"

namespace modelcatalog::catalog {
namespace {

bool KernelCorked(int fd) {
  int value = 0;
  socklen_t length = sizeof(value);
  getsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, &length);
  return value != 0;
}

using Loopback = ::modelcatalog::testing::TcpLoopback;
using ::modelcatalog::testing::LocalPort;

std::string PeerOf(int client_fd) { return absl::StrCat("ipv4:127.0.0.1:", LocalPort(client_fd)); }

TEST(ConnectionSocketsTest, FindsTheAcceptedSocketOfAPeerAndSharesIt) {
  Loopback loopback;
  const auto [client, accepted] = loopback.Connect();
  const auto [other_client, other_accepted] = loopback.Connect();
  ConnectionSockets sockets;
  sockets.SetServerPort(loopback.port());

  std::shared_ptr<ConnectionSocket> socket = sockets.Find(PeerOf(client));
  ASSERT_NE(socket, nullptr);
  EXPECT_EQ(socket->fd(), accepted);                // the server's end, not the client's
  EXPECT_EQ(sockets.Find(PeerOf(client)), socket);  // one per connection
  EXPECT_EQ(sockets.misses(), 0u);
  std::shared_ptr<ConnectionSocket> other = sockets.Find(PeerOf(other_client));
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->fd(), other_accepted);
}

TEST(ConnectionSocketsTest, FindsNothingItCannotCork) {
  Loopback loopback;
  const auto [client, accepted] = loopback.Connect();
  ConnectionSockets sockets;
  EXPECT_EQ(sockets.Find(PeerOf(client)), nullptr);  // the server's port not known yet
  sockets.SetServerPort(loopback.port());
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(sockets.Find("ipv4:127.0.0.1:1"), nullptr);  // no such connection
  EXPECT_EQ(sockets.Find("unix:/tmp/catalog.sock"), nullptr);
  EXPECT_EQ(sockets.Find("garbage"), nullptr);
  // The client's own end has the server's port as its peer, not as its local port.
  EXPECT_EQ(sockets.Find(absl::StrCat("ipv4:127.0.0.1:", loopback.port())), nullptr);
  const std::string log = ::testing::internal::GetCapturedStderr();
  // Only TCP peers are looked for, so only they count as missed; the first is logged, once.
  EXPECT_EQ(sockets.misses(), 2u);
  EXPECT_THAT(log, ::testing::HasSubstr("level=warning event=watch_socket_not_found "
                                        "peer=ipv4:127.0.0.1:1 effect="));
  EXPECT_EQ(log.find("watch_socket_not_found"), log.rfind("watch_socket_not_found")) << log;
  (void)accepted;
}

TEST(ConnectionSocketsTest, CorksFromTheFirstBeginToTheLastEnd) {
  Loopback loopback;
  const auto [client, accepted] = loopback.Connect();
  ConnectionSockets sockets;
  sockets.SetServerPort(loopback.port());
  std::shared_ptr<ConnectionSocket> socket = sockets.Find(PeerOf(client));
  ASSERT_NE(socket, nullptr);
  EXPECT_FALSE(KernelCorked(accepted));
  socket->BeginWrites();  // one shard's pass
  EXPECT_TRUE(KernelCorked(accepted));
  socket->BeginWrites();  // another's, overlapping
  socket->EndWrites();
  EXPECT_TRUE(KernelCorked(accepted)) << "uncorked while a pass still writes";
  EXPECT_TRUE(socket->corked());
  socket->EndWrites();
  EXPECT_FALSE(KernelCorked(accepted));
  EXPECT_FALSE(socket->corked());
}

TEST(ConnectionSocketsTest, AHeldBurstLeavesWhenUncorked) {
  Loopback loopback;
  const auto [client, accepted] = loopback.Connect();
  ConnectionSockets sockets;
  sockets.SetServerPort(loopback.port());
  std::shared_ptr<ConnectionSocket> socket = sockets.Find(PeerOf(client));
  ASSERT_NE(socket, nullptr);
  socket->BeginWrites();
  ASSERT_EQ(write(accepted, "event", 5), 5);
  char buffer[16];
  // Corked: the 5 bytes wait (up to the kernel's 200 ms) for more.
  EXPECT_EQ(recv(client, buffer, sizeof(buffer), MSG_DONTWAIT), -1);
  socket->EndWrites();
  timeval timeout = {5, 0};
  setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  EXPECT_EQ(recv(client, buffer, sizeof(buffer), 0), 5);
}

TEST(ConnectionSocketsTest, NamesPeersAsGrpcDoes) {
  sockaddr_storage storage = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(53122);
  inet_pton(AF_INET, "10.0.0.7", &v4->sin_addr);
  EXPECT_EQ(ConnectionSockets::PeerName(&storage), "ipv4:10.0.0.7:53122");

  storage = {};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(443);
  inet_pton(AF_INET6, "2001:db8::1", &v6->sin6_addr);
  EXPECT_EQ(ConnectionSockets::PeerName(&storage), "ipv6:[2001:db8::1]:443");
  // An IPv4 client of a dual-stack listener.
  inet_pton(AF_INET6, "::ffff:192.168.1.2", &v6->sin6_addr);
  EXPECT_EQ(ConnectionSockets::PeerName(&storage), "ipv4:192.168.1.2:443");

  storage = {};
  storage.ss_family = AF_UNIX;
  EXPECT_EQ(ConnectionSockets::PeerName(&storage), absl::nullopt);
}

}  // namespace
}  // namespace modelcatalog::catalog
