// What the benchmark reads about processes from /proc: the server's resident
// memory and the CPU time of the server and of the benchmark itself.
#ifndef MODEL_CATALOG_BENCHMARKS_LOAD_PROC_STATS_H_
#define MODEL_CATALOG_BENCHMARKS_LOAD_PROC_STATS_H_

#include <cstdint>

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

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_LOAD_PROC_STATS_H_
