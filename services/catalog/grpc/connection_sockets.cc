#include "services/catalog/grpc/connection_sockets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "services/common/log.h"

namespace modelcatalog::catalog {
namespace {

void SetCork(int fd, bool on) {
  const int value = on ? 1 : 0;
  // A failure (the client gone, the descriptor not TCP) only loses the batching.
  (void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, sizeof(value));
}

int LocalPort(const sockaddr_storage& address) {
  switch (address.ss_family) {
    case AF_INET:
      return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
    case AF_INET6:
      return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
    default:
      return -1;
  }
}

}  // namespace

void ConnectionSocket::BeginWrites() {
  absl::MutexLock lock(&mu_);
  if (writers_++ == 0) {
    SetCork(fd_, true);
    if (hold_ != nullptr) hold_->Open();
    corked_ = true;
  }
}

void ConnectionSocket::EndWrites() {
  absl::MutexLock lock(&mu_);
  if (--writers_ == 0 && corked_) {
    if (hold_ != nullptr) hold_->Close();  // the burst's last held sends, in one call
    SetCork(fd_, false);                   // sends what the burst left in the socket
    corked_ = false;
  }
}

bool ConnectionSocket::corked() const {
  absl::MutexLock lock(&mu_);
  return corked_;
}

absl::optional<std::string> ConnectionSockets::PeerName(const void* sockaddr) {
  const auto* address = static_cast<const sockaddr_storage*>(sockaddr);
  char text[INET6_ADDRSTRLEN] = {};
  if (address->ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    if (inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text)) == nullptr) return absl::nullopt;
    return absl::StrCat("ipv4:", text, ":", ntohs(v4->sin_port));
  }
  if (address->ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    // gRPC names an IPv4 client of a dual-stack listener by its IPv4 address.
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
      if (inet_ntop(AF_INET, &v6->sin6_addr.s6_addr[12], text, sizeof(text)) == nullptr) {
        return absl::nullopt;
      }
      return absl::StrCat("ipv4:", text, ":", ntohs(v6->sin6_port));
    }
    if (inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text)) == nullptr) return absl::nullopt;
    return absl::StrCat("ipv6:[", text, "]:", ntohs(v6->sin6_port));
  }
  return absl::nullopt;
}

std::shared_ptr<ConnectionSocket> ConnectionSockets::Find(absl::string_view peer) {
  if (!absl::StartsWith(peer, "ipv4:") && !absl::StartsWith(peer, "ipv6:")) return nullptr;
  if (server_port_.load(std::memory_order_acquire) == 0) return nullptr;
  // Some gRPC versions escape the brackets of an IPv6 peer as in a URI.
  const std::string name = absl::StrReplaceAll(
      peer, {{"%5B", "["}, {"%5b", "["}, {"%5D", "]"}, {"%5d", "]"}, {"%25", "%"}});
  absl::MutexLock lock(&mu_);
  if (auto it = by_peer_.find(name); it != by_peer_.end()) {
    if (std::shared_ptr<ConnectionSocket> socket = it->second.lock()) return socket;
  }
  // A new connection (its first stream), which is rare next to the streams:
  // the moment to forget the connections whose streams have all gone.
  absl::erase_if(by_peer_, [](const auto& entry) { return entry.second.expired(); });
  const int fd = Scan(name);
  if (fd < 0) {
    // The streams still work, written one by one: worth saying once, not per stream. A
    // client gone before its stream started is missed too, so the first miss is only a
    // hint; a steady count (misses()) is the sign.
    if (misses_++ == 0) {
      Log(LogLevel::kWarning, "watch_socket_not_found",
          {{"peer", name},
           {"effect", "this connection's watch events are written one by one, not coalesced"},
           {"needs", "/proc/self/fd readable, listing the server's TCP connections"}});
    }
    return nullptr;
  }
  auto socket = std::make_shared<ConnectionSocket>(fd, found_++);
  by_peer_[name] = socket;
  return socket;
}

int ConnectionSockets::Scan(absl::string_view peer) const {
  const int server_port = server_port_.load(std::memory_order_acquire);
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return -1;
  int found = -1;
  while (const dirent* entry = readdir(fds)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(fds)) continue;
    sockaddr_storage local = {};
    socklen_t length = sizeof(local);
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &length) != 0 ||
        LocalPort(local) != server_port) {
      continue;  // not a socket, or not one of the server's connections (its listener has no peer)
    }
    sockaddr_storage remote = {};
    length = sizeof(remote);
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&remote), &length) != 0) {
      continue;
    }
    if (PeerName(&remote) == peer) {
      found = static_cast<int>(fd);
      break;
    }
  }
  closedir(fds);
  return found;
}

}  // namespace modelcatalog::catalog
