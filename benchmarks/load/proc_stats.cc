#include "benchmarks/load/proc_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace modelcatalog::bench {

int64_t ReadStatusKib(int pid, const char* field) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const size_t length = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, length, field) == 0 && line.size() > length && line[length] == ':') {
      return std::stoll(line.substr(length + 1));  // "  123456 kB"
    }
  }
  return -1;
}

bool ResetPeakRss(int pid) {
  if (pid <= 0) return false;
  std::ofstream out("/proc/" + std::to_string(pid) + "/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

double ReadSelfCpuSeconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
         usage.ru_stime.tv_usec / 1e6;
}

double ReadCpuSeconds(int pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces; fields are counted after its ')'.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) {
      stime = std::stoull(field);
      return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  return -1;
}

namespace {

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int64_t StatusField(const std::string& status, const char* field) {
  const size_t at = status.find(field);
  if (at == std::string::npos) return 0;
  return std::stoll(status.substr(at + std::strlen(field)));
}

}  // namespace

ThreadStats ReadThreadStats(int pid) {
  ThreadStats stats;
  if (pid <= 0) return stats;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return stats;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const std::string task = tasks + "/" + entry->d_name;
    std::string name = ReadSmallFile(task + "/comm");
    while (!name.empty() && name.back() == '\n') name.pop_back();
    const std::string schedstat = ReadSmallFile(task + "/schedstat");  // "run_ns wait_ns slices"
    const std::string status = ReadSmallFile(task + "/status");
    if (schedstat.empty() || status.empty()) continue;  // the thread just ended
    ThreadGroupStats& group = stats[name];
    ++group.threads;
    group.cpu_nanos += std::stoll(schedstat);
    group.voluntary_switches += StatusField(status, "\nvoluntary_ctxt_switches:");
    group.involuntary_switches += StatusField(status, "\nnonvoluntary_ctxt_switches:");
  }
  closedir(dir);
  return stats;
}

ThreadStats ThreadStatsDelta(const ThreadStats& before, const ThreadStats& after) {
  ThreadStats delta;
  for (const auto& [name, now] : after) {
    ThreadGroupStats d = now;
    const auto then = before.find(name);
    if (then != before.end()) {
      d.cpu_nanos -= then->second.cpu_nanos;
      d.voluntary_switches -= then->second.voluntary_switches;
      d.involuntary_switches -= then->second.involuntary_switches;
    }
    delta[name] = d;
  }
  return delta;
}

int64_t ReadCpuNanos(int pid) {
  const ThreadStats stats = ReadThreadStats(pid);
  if (stats.empty()) return -1;
  int64_t total = 0;
  for (const auto& [name, group] : stats) total += group.cpu_nanos;
  return total;
}

double CoresBusy(double cpu0, double cpu1, double wall_seconds) {
  if (cpu0 < 0 || cpu1 < 0 || wall_seconds <= 0) return -1;
  return (cpu1 - cpu0) / wall_seconds;
}

}  // namespace modelcatalog::bench
