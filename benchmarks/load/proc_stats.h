// What the benchmark reads about processes from /proc: the server's resident
// memory and the CPU time of the server and of the benchmark itself.
#ifndef MODEL_CATALOG_BENCHMARKS_LOAD_PROC_STATS_H_
#define MODEL_CATALOG_BENCHMARKS_LOAD_PROC_STATS_H_

#include <cstdint>
#include <map>
#include <string>

namespace modelcatalog::bench {

// A field of /proc/<pid>/status in KiB ("VmRSS", "VmHWM"); -1 when unreadable.
int64_t ReadStatusKib(int pid, const char* field);

// Resets the peak resident memory (VmHWM) of process `pid` to its current
// resident memory (Linux: "5" written to /proc/<pid>/clear_refs), so that a
// later VmHWM is the peak of what happened since. False when not permitted.
bool ResetPeakRss(int pid);

// User + system CPU seconds of process `pid`; -1 when unreadable or pid <= 0.
double ReadCpuSeconds(int pid);
// User + system CPU seconds of this process.
double ReadSelfCpuSeconds();

// CPU cores busy between two readings: (cpu1 - cpu0) / wall_seconds; -1 if either is unknown.
double CoresBusy(double cpu0, double cpu1, double wall_seconds);

// What each thread of a process has done so far, read from /proc/<pid>/task:
// run time from the scheduler's own accounting (schedstat, in nanoseconds, where
// the stat file counts 10 ms ticks) and context switches. Threads are keyed by
// their name (comm), so threads of one pool add up.
struct ThreadGroupStats {
  int threads = 0;
  int64_t cpu_nanos = 0;
  int64_t voluntary_switches = 0;    // the thread blocked: a wait, a wake-up to come
  int64_t involuntary_switches = 0;  // the thread was preempted
};
using ThreadStats = std::map<std::string, ThreadGroupStats>;
ThreadStats ReadThreadStats(int pid);
// `after` minus `before`, name by name; a thread group absent before counts from zero.
ThreadStats ThreadStatsDelta(const ThreadStats& before, const ThreadStats& after);
// Run time of every thread of `pid` together, in nanoseconds; -1 when unreadable.
int64_t ReadCpuNanos(int pid);

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_LOAD_PROC_STATS_H_
