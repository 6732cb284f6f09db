// The threads that serve gRPC calls: each drains one completion queue of its own.
//
// Why not gRPC's callback API. In gRPC 1.51 on Linux (the epoll1 poller), callback
// methods run on two threads shared by the whole process ("nexting" threads) that wait on
// their queue for at most one second and then sleep for 100 ms. After a quiet second both
// can be asleep at once, and a call that arrives then waits up to 100 ms before anything
// reads it. Every completion is also a hand-off: a write finished on one thread wakes
// another to run OnWriteDone, which for a change fanned out to 10,000 watchers is 10,000
// wake-ups. Here every queue has one thread of ours, blocked in Next() with no deadline:
//
//  - Call queues (ServerCompletionQueues, one per CPU this process may run on by default)
//    poll the sockets. A unary call is read, answered and written by the same thread,
//    with no hand-off, unless its answer comes from elsewhere (a hub call).
//  - Stream queues do not poll; each owns the long-lived streams bound to it
//    (WatchModels, WatchDeployments, Health.Watch), whose completions arrive there, and
//    each thread is one feed shard. Every event of a shard's watch streams (changes and
//    PROGRESS alike) is written by the shard's own thread, woken by its stream task (see
//    the constructor). A watch stream's shard is its client connection's, so one thread
//    writes all of a connection's events of a change together (connection_sockets.h);
//    its write completions come to the stream's own queue, drained by that queue's
//    thread once its own pass is done. Keeping long-lived streams off the call queues
//    also keeps unary calls cheap: each open call holds one tag on its queue for its
//    whole life, and gRPC's debug bookkeeping (which Debian's build keeps) scans a
//    queue's outstanding tags on every completion.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_GRPC_SERVING_QUEUES_H_
#define MODEL_CATALOG_SERVICES_CATALOG_GRPC_SERVING_QUEUES_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/alarm.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/server_builder.h"

namespace modelcatalog::catalog {

// What every tag on a serving queue points to. `ok` is the queue's verdict on
// the operation that completed; Proceed runs on the queue's thread.
class QueueTag {
 public:
  virtual void Proceed(bool ok) = 0;

 protected:
  ~QueueTag() = default;
};

// A tag that calls a member function of its owner: a call object with several
// operations in flight (a write, its end) has one of these for each.
template <typename Owner>
class MemberTag final : public QueueTag {
 public:
  MemberTag(Owner* owner, void (Owner::*on_done)(bool)) : owner_(owner), on_done_(on_done) {}
  void Proceed(bool ok) override { (owner_->*on_done_)(ok); }

 private:
  Owner* const owner_;
  void (Owner::*const on_done_)(bool);
};

// How many call objects (UnaryCall, StreamCall) are alive, requested or
// serving: the queues close only once none is left, because a call may start
// an operation (its answer, a write) until it is gone, and an operation put on
// a queue after its Shutdown is a fatal error in gRPC.
class CallCount {
 public:
  void Add() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    ++count_;
  }
  void Remove() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    --count_;
  }
  // Waits until no call is alive; false if some still are after `timeout`.
  bool WaitForNone(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);
  int64_t count() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return count_;
  }

 private:
  mutable absl::Mutex mu_;
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

// One completion queue and the thread that drains it.
class ServingQueue {
 public:
  // `server_queue` is `queue` when it was made by a ServerBuilder (it can be
  // told of new calls), null otherwise. `calls` counts the calls requested on
  // this queue.
  ServingQueue(std::string name, std::unique_ptr<grpc::CompletionQueue> queue,
               grpc::ServerCompletionQueue* server_queue, CallCount* calls);
  ServingQueue(const ServingQueue&) = delete;
  ServingQueue& operator=(const ServingQueue&) = delete;

  const std::string& name() const { return name_; }
  grpc::CompletionQueue* queue() const { return queue_.get(); }
  grpc::ServerCompletionQueue* server_queue() const { return server_queue_; }
  // Every call object on this queue counts itself here for its whole life.
  CallCount& calls() const { return *calls_; }

  // Runs `post`, which puts an operation with a tag on this queue (requests the
  // next call of a method, sets an alarm), unless the queue is closing: an
  // operation put on a queue after its Shutdown is a fatal error in gRPC.
  // Returns whether `post` ran.
  template <typename Post>
  bool IfOpen(Post&& post) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (closed_) return false;
    post();
    return true;
  }

  void Start();
  // Refuses new operations and shuts the queue down; its thread drains what is
  // left and exits. Join waits for it.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);
  void Join();

 private:
  const std::string name_;
  const std::unique_ptr<grpc::CompletionQueue> queue_;
  grpc::ServerCompletionQueue* const server_queue_;
  CallCount* const calls_;
  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Runs a function on a queue's thread when asked from any thread. Asks made
// while a run is pending are merged into it; a run asked for while one is in
// progress follows it.
class QueueTask final : public QueueTag {
 public:
  QueueTask(ServingQueue* queue, std::function<void()> run) : queue_(queue), run_(std::move(run)) {}

  void Schedule();
  void Proceed(bool ok) override;

 private:
  ServingQueue* const queue_;
  const std::function<void()> run_;
  std::atomic<bool> scheduled_{false};
  grpc::Alarm alarm_;  // an alarm due at once is how another thread wakes a queue's thread
};

class ServingQueues {
 public:
  // Makes `stream_queues` stream queues (at least one). `stream_task(i)` runs
  // on stream queue i's thread whenever WakeStreamQueue(i) asks for it (asks
  // made while a run is pending merge into it).
  ServingQueues(size_t stream_queues, std::function<void(size_t index)> stream_task);
  ~ServingQueues();  // Stop()
  ServingQueues(const ServingQueues&) = delete;
  ServingQueues& operator=(const ServingQueues&) = delete;

  // Adds `count` call queues to `builder` (at least one); before BuildAndStart.
  void AddCallQueues(grpc::ServerBuilder* builder, size_t count);

  size_t call_queue_count() const { return call_queues_.size(); }
  size_t stream_queue_count() const { return stream_queues_.size(); }
  ServingQueue& call_queue(size_t index) { return *call_queues_[index]; }
  ServingQueue& stream_queue(size_t index) { return *stream_queues_[index]; }
  // The stream queue of the next stream, in turn, so streams spread evenly.
  size_t NextStreamQueue() {
    return next_stream_queue_.fetch_add(1, std::memory_order_relaxed) % stream_queues_.size();
  }

  // Has stream queue `index`'s thread run the stream task soon. From any thread.
  void WakeStreamQueue(size_t index) { stream_tasks_[index]->Schedule(); }

  // One thread per queue.
  void Start();
  // Waits until every call is gone (grpc::Server::Shutdown has cancelled
  // them; each ends through its queue), at most `calls_timeout`; then closes
  // every queue, drains it and joins its thread. Call after
  // grpc::Server::Shutdown. Idempotent.
  void Stop(absl::Duration calls_timeout = absl::Seconds(10));

 private:
  std::vector<std::unique_ptr<ServingQueue>> call_queues_;
  std::vector<std::unique_ptr<ServingQueue>> stream_queues_;
  std::vector<std::unique_ptr<QueueTask>> stream_tasks_;  // one per stream queue
  CallCount calls_;
  std::atomic<size_t> next_stream_queue_{0};
  bool started_ = false;
  bool stopped_ = false;
};

// The CPUs this process may run on (its affinity mask, which taskset and
// Kubernetes' static CPU manager set); at least 1.
size_t UsableCpuCount();

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_GRPC_SERVING_QUEUES_H_
