#include "services/catalog/sync/timers.h"

#include "absl/time/clock.h"

namespace modelcatalog::catalog {

Timers::Timers() : thread_([this] { Loop(); }) {}

Timers::~Timers() { Stop(); }

Timers::Id Timers::Schedule(absl::Time at, std::function<void()> fire) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return 0;
  const Id id = next_id_++;
  pending_.emplace(std::make_pair(at, id), std::move(fire));
  due_.emplace(id, at);
  return id;
}

bool Timers::Cancel(Id id) {
  std::function<void()> dropped;  // destroyed outside the lock
  absl::MutexLock lock(&mu_);
  auto due = due_.find(id);
  if (due == due_.end()) return false;
  auto it = pending_.find(std::make_pair(due->second, id));
  dropped = std::move(it->second);
  pending_.erase(it);
  due_.erase(due);
  return true;
}

void Timers::Stop() {
  std::map<std::pair<absl::Time, Id>, std::function<void()>> dropped;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    dropped.swap(pending_);
    due_.clear();
  }
  if (thread_.joinable()) thread_.join();
}

void Timers::Loop() {
  while (true) {
    std::function<void()> fire;
    {
      absl::MutexLock lock(&mu_);
      while (true) {
        if (stopping_) return;
        if (!pending_.empty() && pending_.begin()->first.first <= absl::Now()) break;
        // Until the first timer is due, or one is scheduled or cancelled.
        const absl::Time wake =
            pending_.empty() ? absl::InfiniteFuture() : pending_.begin()->first.first;
        struct Seen {
          Timers* timers;
          size_t count;
          Id first;
        } seen{this, pending_.size(), pending_.empty() ? 0 : pending_.begin()->first.second};
        mu_.AwaitWithDeadline(absl::Condition(
                                  +[](Seen* seen) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                    const Timers& timers = *seen->timers;
                                    return timers.stopping_ ||
                                           timers.pending_.size() != seen->count ||
                                           (!timers.pending_.empty() &&
                                            timers.pending_.begin()->first.second != seen->first);
                                  },
                                  &seen),
                              wake);
      }
      auto first = pending_.begin();
      due_.erase(first->first.second);
      fire = std::move(first->second);
      pending_.erase(first);
    }
    fire();
  }
}

}  // namespace modelcatalog::catalog
