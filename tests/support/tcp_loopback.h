// Real TCP connections on 127.0.0.1 for tests of socket-level code: a
// listener, and connections to it as {client end, accepted end} pairs.
#ifndef MODEL_CATALOG_TESTS_SUPPORT_TCP_LOOPBACK_H_
#define MODEL_CATALOG_TESTS_SUPPORT_TCP_LOOPBACK_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace modelcatalog::testing {

inline int LocalPort(int fd) {
  sockaddr_in address = {};
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

class TcpLoopback {
 public:
  TcpLoopback() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(listener_, 8);
  }
  ~TcpLoopback() {
    for (int fd : fds_) close(fd);
    close(listener_);
  }
  TcpLoopback(const TcpLoopback&) = delete;
  TcpLoopback& operator=(const TcpLoopback&) = delete;

  int port() const { return LocalPort(listener_); }

  // Connects; returns {client fd, accepted fd}, both closed with the loopback.
  std::pair<int, int> Connect() {
    const int client = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port()));
    EXPECT_EQ(connect(client, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    const int accepted = accept(listener_, nullptr, nullptr);
    fds_.push_back(client);
    fds_.push_back(accepted);
    return {client, accepted};
  }

 private:
  int listener_ = -1;
  std::vector<int> fds_;
};

}  // namespace modelcatalog::testing

#endif  // MODEL_CATALOG_TESTS_SUPPORT_TCP_LOOPBACK_H_
