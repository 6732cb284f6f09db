// An etcd server that catalog-bench starts for its watch_etcd scenario: a
// one-member cluster on loopback, on a data directory of its own, pinned to a
// chosen CPU like catalog-server is by scripts/bench.sh, and stopped (then its
// data directory removed) when the object goes.
#ifndef MODEL_CATALOG_BENCHMARKS_LOAD_ETCD_PROCESS_H_
#define MODEL_CATALOG_BENCHMARKS_LOAD_ETCD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace modelcatalog::bench {

struct EtcdOptions {
  std::string binary = "etcd";  // found on PATH unless it holds a '/'
  int cpu = -1;                 // -1: not pinned
  std::string log_path;         // etcd's stderr; empty: discarded
  absl::Duration start_timeout = absl::Seconds(30);
};

class EtcdProcess {
 public:
  // Starts etcd and waits until its client port accepts gRPC calls; null when
  // it does not (the reason is printed).
  static std::unique_ptr<EtcdProcess> Start(const EtcdOptions& options);
  ~EtcdProcess();
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  const std::string& client_address() const { return client_address_; }  // host:port
  pid_t pid() const { return pid_; }

 private:
  EtcdProcess(pid_t pid, std::string data_dir, std::string client_address)
      : pid_(pid), data_dir_(std::move(data_dir)), client_address_(std::move(client_address)) {}
  void Stop();

  pid_t pid_;
  const std::string data_dir_;
  const std::string client_address_;
};

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_LOAD_ETCD_PROCESS_H_
