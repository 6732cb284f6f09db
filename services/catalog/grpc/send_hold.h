// Holding a socket's sends in memory for the length of a burst, so that
// gRPC's one system call per message becomes one per burst (up to 1 MiB).
//
// gRPC 1.51 hands every message it writes to the kernel at once, in its own
// sendmsg. A change fanned out to 10,000 watch streams is 10,000 system calls;
// TCP_CORK (connection_sockets.h) already merges their segments, but the calls
// remain, and a system call is not cheap everywhere: about 1 µs on the
// virtual machines this server was measured on, a fifth of its CPU time per
// delivered event. gRPC offers no hook on its socket writes, so this file
// defines sendmsg itself: an executable's definition of a libc function takes
// precedence over libc's for every library of the process (ELF symbol
// interposition). The definition passes every call straight to libc's sendmsg
// unless the descriptor has a hold open (SendHold::Open). While it does, a
// send is copied into the hold and reported sent in full; the hold goes to the
// kernel in one call when it reaches kFlushBytes, when it would no longer fit
// in the socket's free send buffer, and when the burst ends (Close).
//
// Why it is safe for gRPC:
// - Order: gRPC has at most one write in flight per socket, so its sends reach
//   sendmsg in stream order; a send that finds the hold open joins it, and one
//   that finds it closing waits for the flush and then goes out after it.
// - Back-pressure: the hold accepts only what the kernel's free send buffer
//   (SO_MEMINFO, halved for the kernel's own overhead) will take, so its flush
//   never finds the socket full; past that, sends pass through to the kernel
//   and gRPC sees the kernel's answer (EAGAIN, then it waits for the socket).
// - A send it does not understand (flags other than MSG_NOSIGNAL, a control
//   message, an address) flushes the hold and passes through, as does every
//   send on a descriptor with no hold open.
// - A peer that is gone fails the flush as it would have failed gRPC's own
//   send; the bytes are dropped and gRPC learns of the close from its reads.
// - The descriptor stays open while its hold is: holds are opened only for a
//   connection with live watch streams (whose calls keep gRPC's socket open),
//   and each descriptor number has one hold, kept for the process's life, so
//   a number reused by a later connection finds its hold closed.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_GRPC_SEND_HOLD_H_
#define MODEL_CATALOG_SERVICES_CATALOG_GRPC_SEND_HOLD_H_

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace modelcatalog::catalog {

class SendHold {
 public:
  // The most a hold takes before it sends: a pass's writes to one connection,
  // in one system call, up to this (and the socket's free space).
  static constexpr size_t kFlushBytes = 1024 * 1024;
  // Descriptors at or above this number are never held.
  static constexpr int kMaxDescriptors = 1 << 16;

  // What the process's holds did, for tests and benchmarks.
  struct Counts {
    uint64_t sends_held = 0;      // sends copied into a hold and reported sent
    uint64_t flushes = 0;         // system calls that sent a hold's bytes
    uint64_t passed_through = 0;  // sends on a descriptor with a hold open that went to the kernel
    uint64_t bytes_dropped = 0;   // held bytes whose socket failed (its peer gone)
  };
  static Counts ProcessCounts();

  // Whether this process's sendmsg is the one defined here, so that holds
  // take effect: false when the executable does not export it (it is linked
  // with -Wl,--export-dynamic-symbol=sendmsg; catalog_grpc asks for that).
  static bool Interposed();

  // The hold of descriptor `fd`, made on first use; null if `fd` is out of range.
  static SendHold* ForDescriptor(int fd);

  // Starts holding sends on the descriptor (which must be a connected TCP
  // socket the caller keeps open until Close). Not nested: one owner.
  void Open() ABSL_LOCKS_EXCLUDED(mu_);
  // Sends what is held and lets later sends through.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);
  bool is_open() const { return open_.load(std::memory_order_acquire); }

  // For the sendmsg defined here: true when the hold took `message` (and set
  // `*sent`); false when the caller must send it to the kernel itself.
  bool TryTake(const msghdr* message, int flags, ssize_t* sent) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit SendHold(int fd) : fd_(fd) {}

  // Sends `held_` in full (or drops it if the socket fails), then refreshes
  // `budget_` from the kernel's free send space.
  void FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RefreshBudgetLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int fd_;
  // Read without the lock by every send on the descriptor; set under it.
  std::atomic<bool> open_{false};
  absl::Mutex mu_;
  std::string held_ ABSL_GUARDED_BY(mu_);
  size_t budget_ ABSL_GUARDED_BY(mu_) = 0;  // bytes the hold may still take
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_GRPC_SEND_HOLD_H_
