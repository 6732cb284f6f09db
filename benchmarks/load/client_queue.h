// A completion queue of catalog-bench and the one thread that drains it,
// blocked in Next() with no deadline: how the watch and sync scenarios take
// their calls' completions. Not the callback API of the closed-loop scenarios:
// in gRPC 1.51 its shared threads nap 100 ms after a quiet second (what
// catalog-server avoids, see services/catalog/grpc/serving_queues.h) and cost a
// thread hand-off per completion, which those two scenarios would measure.
#ifndef MODEL_CATALOG_BENCHMARKS_LOAD_CLIENT_QUEUE_H_
#define MODEL_CATALOG_BENCHMARKS_LOAD_CLIENT_QUEUE_H_

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "grpcpp/completion_queue.h"

namespace modelcatalog::bench {

class ClientQueue {
 public:
  // What every tag on the queue points to; Proceed runs on the queue's thread.
  class Tag {
   public:
    virtual void Proceed(bool ok) = 0;

   protected:
    ~Tag() = default;
  };

  // `nice`: the draining thread's nice value, above 0 to yield to the
  // process's other threads (a sender that must be on time).
  explicit ClientQueue(int nice = 0) : thread_([this, nice] { Drain(nice); }) {}
  // Shuts the queue down and waits for what is pending: every call on it must end.
  ~ClientQueue() {
    queue_.Shutdown();
    thread_.join();
  }
  ClientQueue(const ClientQueue&) = delete;
  ClientQueue& operator=(const ClientQueue&) = delete;

  grpc::CompletionQueue* queue() { return &queue_; }

 private:
  void Drain(int nice) {
    // Named apart from the thread that drives a scenario, for the per-thread CPU
    // figures of the watch scenarios and for profiles.
    pthread_setname_np(pthread_self(), "bench-queue");
    if (nice != 0) setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice);
    void* tag = nullptr;
    bool ok = false;
    while (queue_.Next(&tag, &ok)) static_cast<Tag*>(tag)->Proceed(ok);
  }

  grpc::CompletionQueue queue_;
  std::thread thread_;
};

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_LOAD_CLIENT_QUEUE_H_
