// SendHold on real TCP connections, through the process's own sendmsg (the
// one send_hold.cc defines): what is held, when it leaves, in what order, and
// what passes straight to the kernel.
#include "services/catalog/grpc/send_hold.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/tcp_loopback.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::TcpLoopback;

// What gRPC does: one sendmsg of one buffer, MSG_NOSIGNAL.
ssize_t Send(int fd, const std::string& bytes, int flags = MSG_NOSIGNAL) {
  iovec part = {const_cast<char*>(bytes.data()), bytes.size()};
  msghdr message = {};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  return sendmsg(fd, &message, flags);
}

// Whatever has arrived at `fd` within `wait` (nothing: "").
std::string Arrived(int fd, absl::Duration wait = absl::Milliseconds(50)) {
  std::string got;
  const absl::Time until = absl::Now() + wait;
  char buffer[65536];
  while (absl::Now() < until) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      got.append(buffer, static_cast<size_t>(n));
    } else {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  return got;
}

// Reads from `fd` until `size` bytes have arrived or five seconds pass.
std::string ReadAll(int fd, size_t size) {
  std::string got;
  const absl::Time until = absl::Now() + absl::Seconds(5);
  char buffer[65536];
  while (got.size() < size && absl::Now() < until) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      got.append(buffer, static_cast<size_t>(n));
    } else {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  return got;
}

std::string Event(int i) { return absl::StrCat("event-", 1000 + i, ";"); }

void MakeNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

TEST(SendHoldTest, TheProcessSendmsgIsTheHolds) {
  // Without it (the executable not exporting sendmsg) no send is ever held
  // and every test below fails.
  EXPECT_TRUE(SendHold::Interposed());
}

TEST(SendHoldTest, HeldSendsLeaveInOneCallWhenTheHoldCloses) {
  TcpLoopback loopback;
  const auto [client, accepted] = loopback.Connect();
  SendHold* hold = SendHold::ForDescriptor(accepted);
  ASSERT_NE(hold, nullptr);
  EXPECT_EQ(SendHold::ForDescriptor(accepted), hold) << "one hold per descriptor";
  const SendHold::Counts before = SendHold::ProcessCounts();

  hold->Open();
  std::string sent;
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(Send(accepted, Event(i)), static_cast<ssize_t>(Event(i).size()));
    sent += Event(i);
  }
  EXPECT_EQ(Arrived(client), "") << "a held send reached the peer before the hold closed";
  hold->Close();
  EXPECT_EQ(ReadAll(client, sent.size()), sent);

  const SendHold::Counts after = SendHold::ProcessCounts();
  EXPECT_EQ(after.sends_held - before.sends_held, 100u);
  EXPECT_EQ(after.flushes - before.flushes, 1u);
  EXPECT_EQ(after.passed_through - before.passed_through, 0u);
}

TEST(SendHoldTest, AFullHoldIsSentWithoutWaitingForTheClose) {
  TcpLoopback loopback;
  const auto [client, accepted] = loopback.Connect();
  SendHold* hold = SendHold::ForDescriptor(accepted);
  const SendHold::Counts before = SendHold::ProcessCounts();

  // Kilobytes until the hold sends on its own: at kFlushBytes, or sooner when
  // the socket's free space (its budget) is less.
  hold->Open();
  std::string sent;
  size_t sends = 0;
  while (SendHold::ProcessCounts().flushes == before.flushes) {
    ASSERT_LT(sends, SendHold::kFlushBytes / 1024) << "held past kFlushBytes";
    const std::string kilobyte(1024, static_cast<char>('a' + sends % 26));
    ASSERT_EQ(Send(accepted, kilobyte), 1024);
    sent += kilobyte;
    ++sends;
  }
  const size_t flushed = sent.size();
  EXPECT_EQ(ReadAll(client, flushed), sent) << "what was held, in order, before the close";
  const std::string tail(6 * 1024, 'z');
  ASSERT_EQ(Send(accepted, tail), static_cast<ssize_t>(tail.size()));
  EXPECT_EQ(Arrived(client), "") << "sends after the flush are held again";
  hold->Close();
  EXPECT_EQ(ReadAll(client, tail.size()), tail);
  EXPECT_EQ(SendHold::ProcessCounts().flushes - before.flushes, 2u);
}

TEST(SendHoldTest, WithoutAnOpenHoldSendsGoStraightToTheKernel) {
  TcpLoopback loopback;
  const auto [client, accepted] = loopback.Connect();
  SendHold* hold = SendHold::ForDescriptor(accepted);
  hold->Open();
  hold->Close();
  const SendHold::Counts before = SendHold::ProcessCounts();
  ASSERT_EQ(Send(accepted, "now"), 3);
  EXPECT_EQ(ReadAll(client, 3), "now");
  EXPECT_EQ(SendHold::ProcessCounts().sends_held, before.sends_held);
}

TEST(SendHoldTest, AnUnusualSendFlushesTheHoldAndPassesThrough) {
  TcpLoopback loopback;
  const auto [client, accepted] = loopback.Connect();
  SendHold* hold = SendHold::ForDescriptor(accepted);
  const SendHold::Counts before = SendHold::ProcessCounts();
  hold->Open();
  ASSERT_EQ(Send(accepted, "held;"), 5);
  // A flag gRPC does not use: the hold does not guess what it means.
  ASSERT_EQ(Send(accepted, "unusual;", MSG_NOSIGNAL | MSG_DONTWAIT), 8);
  EXPECT_EQ(ReadAll(client, 13), "held;unusual;") << "sent before the close, in order";
  ASSERT_EQ(Send(accepted, "after;"), 6);
  hold->Close();
  EXPECT_EQ(ReadAll(client, 6), "after;");
  EXPECT_EQ(SendHold::ProcessCounts().passed_through - before.passed_through, 1u);
}

// A peer that does not read: the hold takes only what the socket's free send
// buffer can take, then lets the kernel answer (EAGAIN, as gRPC expects of a
// non-blocking socket), and nothing is lost or reordered.
TEST(SendHoldTest, PastTheFreeSendBufferTheKernelAnswers) {
  TcpLoopback loopback;
  const auto [client, accepted] = loopback.Connect();
  const int small = 16 * 1024;
  ASSERT_EQ(setsockopt(accepted, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  ASSERT_EQ(setsockopt(client, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
  MakeNonBlocking(accepted);
  SendHold* hold = SendHold::ForDescriptor(accepted);
  const SendHold::Counts before = SendHold::ProcessCounts();

  hold->Open();
  std::string accepted_bytes;
  int i = 0;
  for (; i < 100000; ++i) {
    const std::string event = Event(i) + std::string(500, 'x');
    const ssize_t n = Send(accepted, event);
    if (n < 0) {
      EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << errno;
      break;
    }
    accepted_bytes += event.substr(0, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < event.size()) break;  // the kernel took part of it
  }
  ASSERT_LT(i, 100000) << "the socket never filled up";
  hold->Close();
  const SendHold::Counts after = SendHold::ProcessCounts();
  EXPECT_GT(after.sends_held - before.sends_held, 0u);
  EXPECT_GT(after.passed_through - before.passed_through, 0u);
  EXPECT_EQ(after.bytes_dropped, before.bytes_dropped);
  EXPECT_EQ(ReadAll(client, accepted_bytes.size()), accepted_bytes);
}

TEST(SendHoldTest, APeerGoneLosesTheHeldBytesWithoutASignal) {
  TcpLoopback loopback;
  const auto [client, accepted] = loopback.Connect();
  SendHold* hold = SendHold::ForDescriptor(accepted);
  const SendHold::Counts before = SendHold::ProcessCounts();
  hold->Open();
  ASSERT_EQ(Send(accepted, "for nobody;"), 11);
  // The peer resets the connection (SO_LINGER 0), as a killed client does.
  const linger reset = {1, 0};
  ASSERT_EQ(setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)), 0);
  ASSERT_EQ(close(client), 0);  // the loopback's own close of it later finds it closed
  absl::SleepFor(absl::Milliseconds(20));
  hold->Close();  // a SIGPIPE here would end the test binary
  EXPECT_EQ(SendHold::ProcessCounts().bytes_dropped - before.bytes_dropped, 11u);
}

}  // namespace
}  // namespace modelcatalog::catalog
