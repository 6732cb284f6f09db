#include "services/catalog/grpc/serving_queues.h"

#include <pthread.h>
#include <sched.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "grpc/support/time.h"
#include "services/common/log.h"

namespace modelcatalog::catalog {
namespace {

// A completion queue whose thread never polls sockets: it waits for the
// completions the polling threads (and the threads writing to its streams)
// put on it. The constructor that sets the polling type is protected.
class NonPollingQueue final : public grpc::CompletionQueue {
 public:
  NonPollingQueue()
      : grpc::CompletionQueue(grpc_completion_queue_attributes{
            GRPC_CQ_CURRENT_VERSION, GRPC_CQ_NEXT, GRPC_CQ_NON_POLLING, nullptr}) {}
};

}  // namespace

bool CallCount::WaitForNone(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return count_ == 0; };
  return mu_.AwaitWithTimeout(absl::Condition(&none), timeout);
}

ServingQueue::ServingQueue(std::string name, std::unique_ptr<grpc::CompletionQueue> queue,
                           grpc::ServerCompletionQueue* server_queue, CallCount* calls)
    : name_(std::move(name)),
      queue_(std::move(queue)),
      server_queue_(server_queue),
      calls_(calls) {}

void ServingQueue::Start() {
  thread_ = std::thread([this] {
    // Named for profiles and `top -H`; Linux keeps 15 characters.
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    void* tag = nullptr;
    bool ok = false;
    // No deadline: the thread is always there to take the next completion.
    while (queue_->Next(&tag, &ok)) static_cast<QueueTag*>(tag)->Proceed(ok);
  });
}

void ServingQueue::Close() {
  absl::MutexLock lock(&mu_);
  if (closed_) return;
  closed_ = true;
  queue_->Shutdown();
}

void ServingQueue::Join() {
  if (thread_.joinable()) thread_.join();
}

void QueueTask::Schedule() {
  if (scheduled_.exchange(true, std::memory_order_acq_rel)) return;  // one is pending
  // Due in the past, not now: gRPC rounds a deadline up to the next millisecond
  // and puts one not yet due on its timer heap, where it can wait for the
  // timer thread (seen: 100 ms); one already due completes on the spot.
  const bool set = queue_->IfOpen(
      [this] { alarm_.Set(queue_->queue(), gpr_inf_past(GPR_CLOCK_MONOTONIC), this); });
  if (!set) scheduled_.store(false, std::memory_order_release);
}

void QueueTask::Proceed(bool ok) {
  // Cleared first: whatever is asked for while run_ runs gets a run of its own.
  scheduled_.store(false, std::memory_order_release);
  if (ok) run_();
}

ServingQueues::ServingQueues(size_t stream_queues, std::function<void(size_t index)> stream_task) {
  for (size_t i = 0; i < std::max<size_t>(1, stream_queues); ++i) {
    stream_queues_.push_back(std::make_unique<ServingQueue>(
        absl::StrCat("grpc-streams-", i), std::make_unique<NonPollingQueue>(), nullptr, &calls_));
    stream_tasks_.push_back(std::make_unique<QueueTask>(stream_queues_.back().get(),
                                                        [stream_task, i] { stream_task(i); }));
  }
}

ServingQueues::~ServingQueues() { Stop(); }

void ServingQueues::AddCallQueues(grpc::ServerBuilder* builder, size_t count) {
  for (size_t i = 0; i < std::max<size_t>(1, count); ++i) {
    std::unique_ptr<grpc::ServerCompletionQueue> queue = builder->AddCompletionQueue();
    grpc::ServerCompletionQueue* server_queue = queue.get();
    call_queues_.push_back(std::make_unique<ServingQueue>(
        absl::StrCat("grpc-calls-", call_queues_.size()), std::move(queue), server_queue, &calls_));
  }
}

void ServingQueues::Start() {
  if (started_) return;
  started_ = true;
  for (auto& queue : call_queues_) queue->Start();
  for (auto& queue : stream_queues_) queue->Start();
}

void ServingQueues::Stop(absl::Duration calls_timeout) {
  if (stopped_) return;
  stopped_ = true;
  // The calls end first, on open queues: the server's shutdown has cancelled
  // them, but one may still answer or finish (a write that completed, a hub
  // call's answer), which on a closed queue would abort the process.
  Start();  // if nobody did: their threads drain them
  if (!calls_.WaitForNone(calls_timeout)) {
    // Closing the queues anyway may abort on a late answer; hanging for ever
    // would be worse.
    Log(LogLevel::kError, "grpc_calls_outlived_shutdown",
        {{"calls", calls_.count()}, {"waited", absl::FormatDuration(calls_timeout)}});
  }
  for (auto& queue : call_queues_) queue->Close();
  for (auto& queue : stream_queues_) queue->Close();
  for (auto& queue : call_queues_) queue->Join();
  for (auto& queue : stream_queues_) queue->Join();
}

size_t UsableCpuCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int count = CPU_COUNT(&set);
  return count > 0 ? static_cast<size_t>(count) : 1;
}

}  // namespace modelcatalog::catalog
