// ThreadSanitizer builds only (MODEL_CATALOG_SANITIZE=thread): makes abseil's synchronization
// visible to TSan.
//
// Debian's libabsl_synchronization.so is not built with TSan, so absl::Mutex, absl::CondVar and
// absl::Notification synchronize through atomics and futexes that TSan never sees: every access
// guarded by an absl::Mutex, in this project's code and in gRPC's (gpr_mu and grpc_core::Mutex are
// absl::Mutex here), would look like a race. This library defines the public entry points of
// those classes itself. Linked into every executable ahead of abseil, its definitions win the
// dynamic symbol lookup (calls inside abseil itself go through the PLT too), each one calls the
// original, found with dlsym(RTLD_NEXT, <mangled name>), and tells TSan what happened with the
// __tsan_mutex_* hooks, exactly as abseil's own sources do when they are compiled with TSan:
// the lock/unlock edges become happens-before edges, and lock-order inversions, double locks and
// unlocks of unheld mutexes are reported too.
//
// Between a pre_lock/pre_unlock hook and its post_* hook TSan ignores memory accesses; that is
// where abseil evaluates absl::Condition functions (in the waiter or in an unlocking thread), so
// the reads a Condition makes are not checked. Everything else a thread does while it holds the
// lock is.
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "tests/sanitizers/tsan_original.h"

namespace {

using ::modelcatalog::tsan::Original;

// The mangled name of absl::<inline namespace>::<rest>, `rest` already mangled, e.g.
// "5Mutex4LockEv" for absl::Mutex::Lock(); a leading 'K' marks a const member function.
#define MODEL_CATALOG_STR2(x) #x
#define MODEL_CATALOG_STR(x) MODEL_CATALOG_STR2(x)
std::string Mangled(const char* rest) {
  const std::string ns = MODEL_CATALOG_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const bool is_const = rest[0] == 'K';
  return std::string(is_const ? "_ZNK4absl" : "_ZN4absl") + std::to_string(ns.size()) + ns +
         (is_const ? rest + 1 : rest);
}

// Each entry point resolves its original once, on first use (before main, abseil is used by
// static initializers of other libraries).
#define ORIGINAL(type, rest) static const auto original = Original<type>(Mangled(rest))

// At load time: each definition here must be the one in use, or it annotates nothing.
__attribute__((constructor)) void CheckLinkOrder() {
  for (const char* rest : {"5MutexD2Ev", "5Mutex4LockEv", "5Mutex6UnlockEv",
                           "5Mutex8LockWhenERKNS0_9ConditionE", "7CondVar4WaitEPNS0_5MutexE",
                           "12Notification6NotifyEv", "K12Notification19WaitForNotificationEv"}) {
    modelcatalog::tsan::CheckFirst(Mangled(rest));
  }
}

// Whether this thread holds a mutex in shared mode: waits (Await, CondVar) release and
// re-acquire it in the mode it is held in, which abseil reads from the mutex's private state.
// A thread holds few mutexes at once; past kSlots, shared holds are not tracked (TSan would then
// report a mode mismatch rather than miss anything).
constexpr int kSlots = 16;
thread_local const void* shared_holds[kSlots];

void NoteShared(const void* mu) {
  for (const void*& slot : shared_holds) {
    if (slot == nullptr) {
      slot = mu;
      return;
    }
  }
}

void ForgetShared(const void* mu) {
  for (const void*& slot : shared_holds) {
    if (slot == mu) {
      slot = nullptr;
      return;
    }
  }
}

unsigned HeldMode(const void* mu) {
  for (const void* slot : shared_holds) {
    if (slot == mu) return __tsan_mutex_read_lock;
  }
  return 0;
}

// Some entry points are built on others (AwaitWithTimeout calls AwaitWithDeadline, through the
// PLT and so through this library): only the outermost call on a thread is annotated.
thread_local bool in_entry_point = false;

class Outermost {
 public:
  Outermost() : outermost_(!in_entry_point) { in_entry_point = true; }
  ~Outermost() {
    if (outermost_) in_entry_point = false;
  }
  explicit operator bool() const { return outermost_; }

 private:
  const bool outermost_;
};

// Annotations of a lock taken (flags: 0 or __tsan_mutex_read_lock) around `lock()`.
template <typename Lock>
auto Locking(absl::Mutex* mu, unsigned flags, Lock lock) {
  Outermost outermost;
  if (!outermost) return lock();
  __tsan_mutex_pre_lock(mu, flags);
  auto result = lock();
  __tsan_mutex_post_lock(mu, flags, 0);
  if (flags & __tsan_mutex_read_lock) NoteShared(mu);
  return result;
}

// Annotations of a lock attempt (flags: 0 or __tsan_mutex_read_lock) around `try_lock()`.
template <typename TryLock>
bool TryLocking(absl::Mutex* mu, unsigned flags, TryLock try_lock) {
  Outermost outermost;
  if (!outermost) return try_lock();
  __tsan_mutex_pre_lock(mu, flags | __tsan_mutex_try_lock);
  const bool locked = try_lock();
  __tsan_mutex_post_lock(
      mu, flags | __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  if (locked && (flags & __tsan_mutex_read_lock)) NoteShared(mu);
  return locked;
}

// Annotations of an unlock (flags: 0 or __tsan_mutex_read_lock) around `unlock()`.
template <typename Unlock>
void Unlocking(absl::Mutex* mu, unsigned flags, Unlock unlock) {
  Outermost outermost;
  if (!outermost) return unlock();
  if (flags & __tsan_mutex_read_lock) ForgetShared(mu);
  __tsan_mutex_pre_unlock(mu, flags);
  unlock();
  __tsan_mutex_post_unlock(mu, flags);
}

// Annotations of a wait that releases `mu` and holds it again when it returns.
template <typename Wait>
auto Waiting(absl::Mutex* mu, Wait wait) {
  Outermost outermost;
  if (!outermost) return wait();
  const unsigned mode = HeldMode(mu);
  __tsan_mutex_pre_unlock(mu, mode);
  __tsan_mutex_post_unlock(mu, mode);
  __tsan_mutex_pre_lock(mu, mode);
  auto result = wait();
  __tsan_mutex_post_lock(mu, mode, 0);
  return result;
}

// absl::Notification keeps its state in an atomic that HasBeenNotified(), inline in the header
// and so compiled with TSan, reads with acquire order; Notify() writes it in abseil. The release
// is annotated on that atomic's address, which this mirror of the class's layout gives.
struct NotificationLayout {
  absl::Mutex mutex;
  std::atomic<bool> notified_yet;
};
static_assert(sizeof(NotificationLayout) == sizeof(absl::Notification) &&
                  alignof(NotificationLayout) == alignof(absl::Notification),
              "absl::Notification's layout changed: update NotificationLayout");

void* NotifiedFlag(const absl::Notification* n) {
  return const_cast<char*>(reinterpret_cast<const char*>(n)) +
         offsetof(NotificationLayout, notified_yet);
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

// --- Mutex ---

// With __tsan_mutex_not_static, as abseil passes it: only mutexes constructed in instrumented code
// (the inline constructor announces them) are checked for a destruction racing with a use; gRPC's,
// constructed in libgrpc, are destroyed after uses that its uninstrumented reference counts order.
Mutex::~Mutex() {
  ORIGINAL(void (*)(Mutex*), "5MutexD2Ev");
  __tsan_mutex_destroy(this, __tsan_mutex_not_static);
  original(this);
}

void Mutex::Lock() {
  ORIGINAL(void (*)(Mutex*), "5Mutex4LockEv");
  Locking(this, 0, [&] { return (original(this), 0); });
}

void Mutex::ReaderLock() {
  ORIGINAL(void (*)(Mutex*), "5Mutex10ReaderLockEv");
  Locking(this, __tsan_mutex_read_lock, [&] { return (original(this), 0); });
}

bool Mutex::TryLock() {
  ORIGINAL(bool (*)(Mutex*), "5Mutex7TryLockEv");
  return TryLocking(this, 0, [&] { return original(this); });
}

bool Mutex::ReaderTryLock() {
  ORIGINAL(bool (*)(Mutex*), "5Mutex13ReaderTryLockEv");
  return TryLocking(this, __tsan_mutex_read_lock, [&] { return original(this); });
}

void Mutex::Unlock() {
  ORIGINAL(void (*)(Mutex*), "5Mutex6UnlockEv");
  Unlocking(this, 0, [&] { original(this); });
}

void Mutex::ReaderUnlock() {
  ORIGINAL(void (*)(Mutex*), "5Mutex12ReaderUnlockEv");
  Unlocking(this, __tsan_mutex_read_lock, [&] { original(this); });
}

void Mutex::LockWhen(const Condition& cond) {
  ORIGINAL(void (*)(Mutex*, const Condition&), "5Mutex8LockWhenERKNS0_9ConditionE");
  Locking(this, 0, [&] { return (original(this, cond), 0); });
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  ORIGINAL(void (*)(Mutex*, const Condition&), "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  Locking(this, __tsan_mutex_read_lock, [&] { return (original(this, cond), 0); });
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  ORIGINAL(bool (*)(Mutex*, const Condition&, Duration),
           "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Locking(this, 0, [&] { return original(this, cond, timeout); });
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  ORIGINAL(bool (*)(Mutex*, const Condition&, Duration),
           "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Locking(this, __tsan_mutex_read_lock, [&] { return original(this, cond, timeout); });
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  ORIGINAL(bool (*)(Mutex*, const Condition&, Time),
           "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Locking(this, 0, [&] { return original(this, cond, deadline); });
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  ORIGINAL(bool (*)(Mutex*, const Condition&, Time),
           "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Locking(this, __tsan_mutex_read_lock, [&] { return original(this, cond, deadline); });
}

void Mutex::Await(const Condition& cond) {
  ORIGINAL(void (*)(Mutex*, const Condition&), "5Mutex5AwaitERKNS0_9ConditionE");
  Waiting(this, [&] { return (original(this, cond), 0); });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  ORIGINAL(bool (*)(Mutex*, const Condition&, Duration),
           "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Waiting(this, [&] { return original(this, cond, timeout); });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  ORIGINAL(bool (*)(Mutex*, const Condition&, Time),
           "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Waiting(this, [&] { return original(this, cond, deadline); });
}

// --- CondVar ---

void CondVar::Wait(Mutex* mu) {
  ORIGINAL(void (*)(CondVar*, Mutex*), "7CondVar4WaitEPNS0_5MutexE");
  Waiting(mu, [&] { return (original(this, mu), 0); });
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  ORIGINAL(bool (*)(CondVar*, Mutex*, Duration),
           "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  return Waiting(mu, [&] { return original(this, mu, timeout); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  ORIGINAL(bool (*)(CondVar*, Mutex*, Time), "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return Waiting(mu, [&] { return original(this, mu, deadline); });
}

// --- Notification ---
// Notify() and the waits lock the notification's mutex through the entry points above; what is
// added here is the edge to and from HasBeenNotified() and the waits' lock-free fast path.

void Notification::Notify() {
  ORIGINAL(void (*)(Notification*), "12Notification6NotifyEv");
  __tsan_release(NotifiedFlag(this));
  original(this);
}

void Notification::WaitForNotification() const {
  ORIGINAL(void (*)(const Notification*), "K12Notification19WaitForNotificationEv");
  original(this);
  __tsan_acquire(NotifiedFlag(this));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  ORIGINAL(bool (*)(const Notification*, Duration),
           "K12Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool notified = original(this, timeout);
  if (notified) __tsan_acquire(NotifiedFlag(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  ORIGINAL(bool (*)(const Notification*, Time),
           "K12Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  const bool notified = original(this, deadline);
  if (notified) __tsan_acquire(NotifiedFlag(this));
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
