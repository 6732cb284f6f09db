// A fixed set of threads running queued tasks: where calls to the hub made on
// behalf of RPCs run, so that the gRPC threads never block on the network.
// The queue is bounded, and a task that cannot be queued is refused with a
// status, so that its caller can still answer.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_SYNC_TASK_RUNNER_H_
#define MODEL_CATALOG_SERVICES_CATALOG_SYNC_TASK_RUNNER_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace modelcatalog::catalog {

class TaskRunner {
 public:
  // `threads` run the tasks; at most `max_queued` wait for one.
  TaskRunner(int threads, size_t max_queued) : max_queued_(max_queued) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~TaskRunner() { Stop(); }
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  // Queues `task`. RESOURCE_EXHAUSTED when `max_queued` tasks wait already,
  // UNAVAILABLE once Stop has begun: then `task` never runs (it is destroyed
  // here), and the caller answers with the status.
  absl::Status Post(std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("the server is shutting down");
    if (tasks_.size() >= max_queued_) {
      return absl::ResourceExhaustedError(absl::StrCat("too many calls to the hub are waiting (",
                                                       tasks_.size(), "): retry shortly"));
    }
    tasks_.push_back(std::move(task));
    return absl::OkStatus();
  }

  // Refuses new tasks, runs every task already queued, then joins the
  // threads. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void Work() ABSL_LOCKS_EXCLUDED(mu_) {
    while (true) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](TaskRunner* r)
                 ABSL_NO_THREAD_SAFETY_ANALYSIS { return r->stopping_ || !r->tasks_.empty(); },
            this));
        if (tasks_.empty()) return;  // stopping, and nothing left
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_SYNC_TASK_RUNNER_H_
