#include "services/catalog/grpc/send_hold.h"

#include <dlfcn.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/log.h"

namespace modelcatalog::catalog {
namespace {

using SendmsgFunction = ssize_t (*)(int, const msghdr*, int);

// The sendmsg this file's definition stands in front of: libc's, or a
// sanitizer's wrapper of it.
ssize_t NextSendmsg(int fd, const msghdr* message, int flags) {
  static const SendmsgFunction next =
      reinterpret_cast<SendmsgFunction>(dlsym(RTLD_NEXT, "sendmsg"));
  if (next != nullptr) return next(fd, message, flags);
  return syscall(SYS_sendmsg, fd, message, flags);
}

std::atomic<SendHold*> holds[SendHold::kMaxDescriptors];

std::atomic<uint64_t> sends_held{0};
std::atomic<uint64_t> flushes{0};
std::atomic<uint64_t> passed_through{0};
std::atomic<uint64_t> bytes_dropped{0};

// How long a flush waits for a socket whose free space shrank after the hold
// measured it (memory pressure): then the connection is shut down, which its
// clients see as UNAVAILABLE and retry, rather than a thread stuck on it.
constexpr absl::Duration kFlushPatience = absl::Seconds(2);

}  // namespace

SendHold::Counts SendHold::ProcessCounts() {
  Counts counts;
  counts.sends_held = sends_held.load(std::memory_order_relaxed);
  counts.flushes = flushes.load(std::memory_order_relaxed);
  counts.passed_through = passed_through.load(std::memory_order_relaxed);
  counts.bytes_dropped = bytes_dropped.load(std::memory_order_relaxed);
  return counts;
}

bool SendHold::Interposed() {
  return dlsym(RTLD_DEFAULT, "sendmsg") == reinterpret_cast<void*>(&::sendmsg);
}

SendHold* SendHold::ForDescriptor(int fd) {
  if (fd < 0 || fd >= kMaxDescriptors) return nullptr;
  std::atomic<SendHold*>& slot = holds[fd];
  if (SendHold* hold = slot.load(std::memory_order_acquire)) return hold;
  auto* made = new SendHold(fd);
  SendHold* expected = nullptr;
  if (slot.compare_exchange_strong(expected, made, std::memory_order_acq_rel)) return made;
  delete made;  // another thread made it first
  return expected;
}

void SendHold::Open() {
  absl::MutexLock lock(&mu_);
  // Reserved once and kept: a hold that grew its buffer burst after burst
  // spent more on page faults and copies than on the sends it saves. Only the
  // pages a burst has filled are resident.
  if (held_.capacity() < kFlushBytes) held_.reserve(kFlushBytes);
  RefreshBudgetLocked();
  open_.store(true, std::memory_order_release);
}

void SendHold::Close() {
  absl::MutexLock lock(&mu_);
  if (!held_.empty()) FlushLocked();
  open_.store(false, std::memory_order_release);
}

bool SendHold::TryTake(const msghdr* message, int flags, ssize_t* sent) {
  if (!open_.load(std::memory_order_acquire)) return false;
  absl::MutexLock lock(&mu_);
  if (!open_.load(std::memory_order_relaxed)) return false;  // closed meanwhile, after its flush
  // Past this point a send that is not taken finds the hold empty, so it
  // reaches the kernel after everything held before it.
  if ((flags & ~MSG_NOSIGNAL) != 0 || message->msg_name != nullptr ||
      message->msg_control != nullptr || message->msg_controllen != 0) {
    if (!held_.empty()) FlushLocked();
    passed_through.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  size_t total = 0;
  for (size_t i = 0; i < message->msg_iovlen; ++i) total += message->msg_iov[i].iov_len;
  if (held_.size() + total > budget_) {
    if (!held_.empty()) FlushLocked();
    if (total > budget_) {
      passed_through.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  }
  for (size_t i = 0; i < message->msg_iovlen; ++i) {
    held_.append(static_cast<const char*>(message->msg_iov[i].iov_base),
                 message->msg_iov[i].iov_len);
  }
  sends_held.fetch_add(1, std::memory_order_relaxed);
  if (held_.size() >= kFlushBytes) FlushLocked();
  *sent = static_cast<ssize_t>(total);
  return true;
}

void SendHold::FlushLocked() {
  size_t offset = 0;
  const absl::Time give_up = absl::Now() + kFlushPatience;
  while (offset < held_.size()) {
    iovec part = {held_.data() + offset, held_.size() - offset};
    msghdr message = {};
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    const ssize_t n = NextSendmsg(fd_, &message, MSG_NOSIGNAL);
    flushes.fetch_add(1, std::memory_order_relaxed);
    if (n > 0) {
      offset += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && absl::Now() < give_up) {
      pollfd writable = {fd_, POLLOUT, 0};
      (void)poll(&writable, 1, 100);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      Log(LogLevel::kWarning, "held_sends_stuck",
          {{"descriptor", absl::StrCat(fd_)},
           {"unsent_bytes", absl::StrCat(held_.size() - offset)},
           {"effect", "the connection is shut down; its clients retry"}});
      (void)shutdown(fd_, SHUT_RDWR);
    }
    // The socket failed (its peer gone, or shut down above): gRPC learns it
    // from its own reads and writes; what was held is lost with the connection.
    bytes_dropped.fetch_add(held_.size() - offset, std::memory_order_relaxed);
    break;
  }
  held_.clear();
  RefreshBudgetLocked();
}

void SendHold::RefreshBudgetLocked() {
  uint32_t memory[SK_MEMINFO_VARS] = {};
  socklen_t length = sizeof(memory);
  if (getsockopt(fd_, SOL_SOCKET, SO_MEMINFO, memory, &length) != 0 ||
      length < sizeof(uint32_t) * (SK_MEMINFO_WMEM_QUEUED + 1)) {
    budget_ = 0;  // unknown: every send goes to the kernel
    return;
  }
  const uint32_t limit = memory[SK_MEMINFO_SNDBUF];
  const uint32_t queued = memory[SK_MEMINFO_WMEM_QUEUED];
  // The kernel counts its buffers' overhead against the limit too.
  budget_ = limit > queued ? (limit - queued) / 2 : 0;
}

}  // namespace modelcatalog::catalog

// The process's sendmsg: see send_hold.h.
extern "C" ssize_t sendmsg(int fd, const msghdr* message, int flags) {
  using modelcatalog::catalog::SendHold;
  if (fd >= 0 && fd < SendHold::kMaxDescriptors) {
    SendHold* hold = modelcatalog::catalog::holds[fd].load(std::memory_order_acquire);
    ssize_t sent = 0;
    if (hold != nullptr && hold->TryTake(message, flags, &sent)) return sent;
  }
  return modelcatalog::catalog::NextSendmsg(fd, message, flags);
}
