// Runs a function every interval on a thread of its own, until destroyed:
// what re-reads configuration files that may change while the server runs
// (caller tokens, TLS certificates).
#ifndef MODEL_CATALOG_SERVICES_COMMON_PERIODIC_TASK_H_
#define MODEL_CATALOG_SERVICES_COMMON_PERIODIC_TASK_H_

#include <functional>
#include <string>
#include <thread>
#include <utility>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace modelcatalog {

class PeriodicTask {
 public:
  // The first run is one `interval` from now.
  PeriodicTask(absl::Duration interval, std::function<void()> run)
      : thread_([this, interval, run = std::move(run)] {
          while (!stop_.WaitForNotificationWithTimeout(interval)) run();
        }) {}
  // Waits for a run in progress, then stops.
  ~PeriodicTask() {
    stop_.Notify();
    thread_.join();
  }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

 private:
  absl::Notification stop_;  // declared before thread_: the thread reads it
  std::thread thread_;
};

// The file's size, modification time and inode: cheap to compare, and
// different after any rewrite or replacement (a rename over it, as Kubernetes
// updates a mounted secret). Empty when the file cannot be read.
std::string FileSignature(const std::string& path);

}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_COMMON_PERIODIC_TASK_H_
