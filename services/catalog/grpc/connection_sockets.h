// The TCP sockets of the gRPC server's client connections, so a watch fan-out
// can send the events of one pass to one connection in a few packets.
//
// gRPC 1.51 writes every message it is given at once, one sendmsg and (with
// TCP_NODELAY, which gRPC sets) one TCP segment each, unless the message
// finds the connection already busy writing. A change fanned out to 10,000
// streams over 16 connections is 10,000 segments; each costs the server its
// TCP send and, on loopback or a busy host, the receiving side's work, and
// costs the client one read and often a flow-control frame back. gRPC offers
// no way to hold a connection's writes, so the socket does it: TCP_CORK while
// the pass writes to the connection (SinkConnection::BeginWrites), and
// uncorking sends what was held at once. A burst of 600 events of 160 bytes
// leaves in two or three segments.
//
// gRPC does not say which socket carries a call either; it says who the peer
// is (ServerContext::peer(), "ipv4:10.0.0.7:53122"). The socket is the one
// whose local port is the server's and whose peer is that address, found
// among the process's open descriptors (/proc/self/fd) when the connection's
// first watch stream starts, and shared by the connection's later streams.
// The descriptor stays gRPC's: it is never closed here, and it stays open as
// long as a call of the connection exists, so while a stream holds it.
//
// The cork merges the burst's segments; gRPC still makes one system call per
// event. A SendHold (send_hold.h) on the same socket for the same span takes
// those calls into memory and makes one per burst.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_GRPC_CONNECTION_SOCKETS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_GRPC_CONNECTION_SOCKETS_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"
#include "services/catalog/grpc/send_hold.h"
#include "services/catalog/watch/watch_sink.h"

namespace modelcatalog::catalog {

// One client connection's socket. Corked, and its sends held, from the first
// BeginWrites to the last matching EndWrites (passes of several feed shards
// may overlap).
class ConnectionSocket final : public SinkConnection {
 public:
  ConnectionSocket(int fd, size_t index)
      : fd_(fd), index_(index), hold_(SendHold::ForDescriptor(fd)) {}

  void BeginWrites() override ABSL_LOCKS_EXCLUDED(mu_);
  void EndWrites() override ABSL_LOCKS_EXCLUDED(mu_);

  int fd() const { return fd_; }
  // The connection's number, in the order connections were found.
  size_t index() const { return index_; }
  // For tests: whether the socket is corked now.
  bool corked() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const int fd_;
  const size_t index_;
  SendHold* const hold_;  // null for a descriptor number too large to hold
  mutable absl::Mutex mu_;
  int writers_ ABSL_GUARDED_BY(mu_) = 0;
  bool corked_ ABSL_GUARDED_BY(mu_) = false;
};

class ConnectionSockets {
 public:
  ConnectionSockets() = default;
  ConnectionSockets(const ConnectionSockets&) = delete;
  ConnectionSockets& operator=(const ConnectionSockets&) = delete;

  // The gRPC server's port, once bound: only connections to it are looked for.
  void SetServerPort(int port) { server_port_.store(port, std::memory_order_release); }

  // The socket of the connection from `peer` (as ServerContext::peer() gives
  // it: "ipv4:ADDR:PORT" or "ipv6:[ADDR]:PORT"), shared by whoever holds it;
  // null when there is none to be had: another kind of peer (a Unix socket),
  // no port set, or no such socket open.
  std::shared_ptr<ConnectionSocket> Find(absl::string_view peer) ABSL_LOCKS_EXCLUDED(mu_);

  // How many TCP peers Find looked for and did not find (the first is logged).
  size_t misses() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return misses_;
  }

  // "ipv4:127.0.0.1:5000" for a socket's address; nullopt for other families.
  // Public for tests.
  static absl::optional<std::string> PeerName(const void* sockaddr);

 private:
  // The descriptor of the server's connection from `peer`; -1 if none.
  int Scan(absl::string_view peer) const;

  std::atomic<int> server_port_{0};
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::weak_ptr<ConnectionSocket>> by_peer_ ABSL_GUARDED_BY(mu_);
  size_t found_ ABSL_GUARDED_BY(mu_) = 0;
  size_t misses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_GRPC_CONNECTION_SOCKETS_H_
