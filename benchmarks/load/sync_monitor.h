// Watches the syncs of a server under load: polls GetSyncStatus, records each
// finished sync as a window split into its fetch and its apply (from the
// times GetSyncStatus reports), and edits one model on the hub after each, so
// that every sync changes the catalog and is applied (a new revision is
// published, not only a fetch that finds nothing new). Used by the scenarios
// that measure calls during syncs.
#ifndef MODEL_CATALOG_BENCHMARKS_LOAD_SYNC_MONITOR_H_
#define MODEL_CATALOG_BENCHMARKS_LOAD_SYNC_MONITOR_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "benchmarks/load/bench_context.h"

namespace modelcatalog::bench {

struct SyncWindow {
  int64_t start = 0;      // steady-clock ns (NowNanos)
  int64_t fetch_end = 0;  // the apply starts here; == start when not known
  int64_t end = 0;
  int64_t revision = 0;
  bool applied = false;  // a new revision was published
  bool failed = false;   // the attempt failed (last_error set)
};

class SyncMonitor {
 public:
  // Counts the syncs that start after `measure_begin` (steady ns), and stops
  // after `syncs` of them have finished, after `max_ns` from `start`, or when
  // `*stop` is set.
  SyncMonitor(BenchContext& context, absl::Duration poll_interval, int64_t start,
              int64_t measure_begin, int syncs, int64_t max_ns, std::atomic<bool>* stop);
  ~SyncMonitor() { Join(); }

  // Reads the current sync status, edits the hub and starts polling; false
  // when GetSyncStatus fails (nothing started).
  bool Start();
  // Waits for the monitor to finish; sets `*stop` when it does.
  void Join();

  // After Join.
  const std::vector<SyncWindow>& windows() const { return windows_; }
  // When the monitor stopped (steady ns).
  int64_t stopped_at() const { return stopped_at_.load(); }
  // Windows after measure_begin, of which applied, and their text for reports.
  int64_t Measured(int64_t* applied, std::string* text) const;

 private:
  void PatchHub();
  void Loop(int64_t last_attempt, int64_t revision);

  BenchContext& context_;
  const absl::Duration poll_interval_;
  const int64_t start_;
  const int64_t measure_begin_;
  const int syncs_;
  const int64_t max_ns_;
  std::atomic<bool>* const stop_;
  const std::string patched_id_;
  int patches_ = 0;
  std::vector<SyncWindow> windows_;
  std::atomic<int64_t> stopped_at_{0};
  std::thread thread_;
};

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_LOAD_SYNC_MONITOR_H_
