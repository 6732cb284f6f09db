#include "services/hub_emulator/http/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace modelcatalog {
namespace http {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// An endless body is sent in blocks of at least this size.
constexpr size_t kEndlessBlockBytes = 64 * 1024;
// How long a closing connection keeps reading (and discarding) what the client
// still sends, so that an early error response is not destroyed by a TCP reset.
constexpr absl::Duration kLingerTime = absl::Seconds(1);

enum class Wait { kReady, kTimeout, kStopped, kError };

int PollTimeoutMs(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

// Waits until `fd` is readable (or hung up), the stop pipe fires, or
// `deadline` passes. `fd` may be -1 to just sleep interruptibly.
Wait WaitReadable(int fd, int stop_fd, absl::Time deadline) {
  while (true) {
    pollfd fds[2] = {{stop_fd, POLLIN, 0}, {fd, POLLIN, 0}};
    const int n = ::poll(fds, 2, PollTimeoutMs(deadline));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Wait::kError;
    }
    if (fds[0].revents != 0) return Wait::kStopped;
    if (n == 0) {
      if (absl::Now() >= deadline) return Wait::kTimeout;
      continue;  // woke a little early (timeout rounding)
    }
    return Wait::kReady;
  }
}

bool StopRequested(int stop_fd) {
  pollfd fd = {stop_fd, POLLIN, 0};
  return ::poll(&fd, 1, 0) > 0;
}

enum class Read { kData, kEof, kTimeout, kStopped, kError };

// Appends what is available on `fd` to `buffer`, waiting until `deadline`.
Read ReadSome(int fd, int stop_fd, absl::Time deadline, std::string* buffer) {
  switch (WaitReadable(fd, stop_fd, deadline)) {
    case Wait::kReady:
      break;
    case Wait::kTimeout:
      return Read::kTimeout;
    case Wait::kStopped:
      return Read::kStopped;
    case Wait::kError:
      return Read::kError;
  }
  char chunk[kReadChunk];
  while (true) {
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer->append(chunk, static_cast<size_t>(n));
      return Read::kData;
    }
    if (n == 0) return Read::kEof;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Read::kData;  // spurious wake-up
    return Read::kError;
  }
}

// Sends all of `parts` with as few syscalls as possible (one, usually), so a
// small head never waits alone in a packet for the body.
bool SendAll(int fd, std::vector<absl::string_view> parts) {
  size_t first = 0;
  while (first < parts.size()) {
    std::vector<iovec> iov;
    for (size_t i = first; i < parts.size(); ++i) {
      if (parts[i].empty()) continue;
      iov.push_back({const_cast<char*>(parts[i].data()), parts[i].size()});
    }
    if (iov.empty()) return true;
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = std::min<size_t>(iov.size(), IOV_MAX);
    // MSG_NOSIGNAL: a client that went away must be an error, not a SIGPIPE.
    const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;  // includes the send timeout (EAGAIN) and shutdown by Stop()
    }
    size_t sent = static_cast<size_t>(n);
    while (first < parts.size() && sent >= parts[first].size()) {
      sent -= parts[first].size();
      ++first;
    }
    if (first < parts.size()) parts[first].remove_prefix(sent);
  }
  return true;
}

// Finds the blank line that ends a request head. Returns the head's length and
// sets `*body_start`, or returns npos.
size_t FindHeadEnd(const std::string& buffer, size_t from, size_t* body_start) {
  for (size_t i = from; i < buffer.size(); ++i) {
    if (buffer[i] != '\n') continue;
    if (i + 1 < buffer.size() && buffer[i + 1] == '\n') {
      *body_start = i + 2;
      return i;
    }
    if (i + 2 < buffer.size() && buffer[i + 1] == '\r' && buffer[i + 2] == '\n') {
      *body_start = i + 3;
      return i;
    }
  }
  return std::string::npos;
}

std::string PeerName(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
    return absl::StrCat(host, ":", port);
  }
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
    return absl::StrCat("[", host, "]:", port);
  }
  return "unknown";
}

// A response sent by the server itself (protocol errors); always closes.
std::string ErrorResponse(int status, absl::string_view message) {
  HttpResponse response = HttpResponse::Text(status, absl::StrCat(message, "\n"));
  return absl::StrCat(SerializeResponseHead(response, response.body.size(), false), response.body);
}

void SetTimeoutOption(int fd, int option, absl::Duration timeout) {
  timeval tv = absl::ToTimeval(timeout);
  ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv));
}

}  // namespace

struct HttpServer::Connection {
  // The socket; -1 once closed. Written under HttpServer::mu_ (CloseConnection)
  // so that Stop() never shuts down a descriptor number that was reused.
  int fd = -1;
  std::string peer;
  std::thread thread;
  bool done = false;  // guarded by HttpServer::mu_
};

HttpServer::HttpServer(HttpHandler handler, HttpServerOptions options)
    : handler_(std::move(handler)), options_(options) {}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const {
  absl::MutexLock lock(&mu_);
  return port_;
}

absl::StatusOr<int> HttpServer::Start(absl::string_view host, int port) {
  absl::MutexLock lifecycle(&lifecycle_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (started_) return absl::FailedPreconditionError("HttpServer::Start called twice");
  }
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("invalid port ", port));
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  const std::string host_string(host);
  const std::string port_string = absl::StrCat(port);
  const int gai = ::getaddrinfo(host_string.empty() ? nullptr : host_string.c_str(),
                                port_string.c_str(), &hints, &addresses);
  if (gai != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve host \"", host, "\": ", ::gai_strerror(gai)));
  }
  int fd = -1;
  std::string last_error = "no address";
  for (addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) break;
    last_error = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(addresses);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, ": ", last_error));
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  const int bound_port = bound.ss_family == AF_INET6
                             ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                             : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  int stop_pipe[2];
  if (::pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    return absl::InternalError(absl::StrCat("pipe2: ", error));
  }
  listen_fd_ = fd;
  stop_read_fd_ = stop_pipe[0];
  stop_write_fd_ = stop_pipe[1];
  {
    absl::MutexLock lock(&mu_);
    started_ = true;
    port_ = bound_port;
  }
  accept_thread_ = std::thread(&HttpServer::AcceptLoop, this);
  return bound_port;
}

void HttpServer::Stop() {
  absl::MutexLock lifecycle(&lifecycle_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  // The pipe is never drained: once written it wakes every present and future
  // poll() on it -- the accept loop and every connection's waits.
  [[maybe_unused]] const ssize_t ignored = ::write(stop_write_fd_, "x", 1);
  accept_thread_.join();

  std::list<std::unique_ptr<Connection>> connections;
  {
    absl::MutexLock lock(&mu_);
    // shutdown() unblocks a thread stuck in send() to a client that stopped reading.
    for (const auto& c : connections_) {
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
    }
    connections.swap(connections_);
  }
  for (const auto& c : connections) c->thread.join();

  ::close(listen_fd_);
  ::close(stop_read_fd_);
  ::close(stop_write_fd_);
  listen_fd_ = stop_read_fd_ = stop_write_fd_ = -1;
}

void HttpServer::ReapFinishedConnections() {
  std::list<std::unique_ptr<Connection>> finished;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->done) {
        finished.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& c : finished) c->thread.join();
}

void HttpServer::CloseConnection(Connection* connection) {
  absl::MutexLock lock(&mu_);
  if (connection->fd >= 0) ::close(connection->fd);
  connection->fd = -1;
}

void HttpServer::AcceptLoop() {
  while (true) {
    const Wait wait = WaitReadable(listen_fd_, stop_read_fd_, absl::InfiniteFuture());
    if (wait == Wait::kStopped) return;
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof(addr);
    const int fd =
        ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &addr_len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: back off instead of spinning on the ready listener.
        Log(LogLevel::kWarning, "http_accept_failed",
            {{"error", absl::string_view(std::strerror(errno))}});
        if (WaitReadable(-1, stop_read_fd_, absl::Now() + absl::Milliseconds(100)) ==
            Wait::kStopped) {
          return;
        }
      }
      continue;  // EAGAIN (the client left before accept), EINTR, ECONNABORTED, ...
    }
    ReapFinishedConnections();

    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    // A client that stops reading must not pin a thread in send() for ever.
    SetTimeoutOption(fd, SO_SNDTIMEO, options_.idle_timeout);

    absl::MutexLock lock(&mu_);
    int active = 0;
    for (const auto& c : connections_) active += c->done ? 0 : 1;
    if (stopping_ || active >= options_.max_connections) {
      if (!stopping_) {
        Log(LogLevel::kWarning, "http_connection_limit",
            {{"max_connections", absl::StrCat(options_.max_connections)}});
      }
      const std::string busy = ErrorResponse(503, "too many connections");
      [[maybe_unused]] const ssize_t ignored =
          ::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      continue;
    }
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    connection->peer = PeerName(addr);
    Connection* raw = connection.get();
    connections_.push_back(std::move(connection));
    raw->thread = std::thread(&HttpServer::ServeConnection, this, raw);
  }
}

void HttpServer::ServeConnection(Connection* connection) {
  // This thread is the only one that closes the socket, so its number stays
  // valid here until CloseConnection().
  int fd;
  {
    absl::MutexLock lock(&mu_);
    fd = connection->fd;
  }
  const int stop_fd = stop_read_fd_;

  // Closes after sending a response or error: stop sending, then read and
  // discard whatever the client still sends for a moment, so that the kernel
  // does not answer unread data with a reset that could destroy our response.
  auto linger_and_close = [&] {
    ::shutdown(fd, SHUT_WR);
    const absl::Time deadline = absl::Now() + kLingerTime;
    std::string discard;
    size_t total = 0;
    while (total < options_.max_body_bytes + options_.max_header_bytes) {
      discard.clear();
      if (ReadSome(fd, stop_fd, deadline, &discard) != Read::kData) break;
      total += discard.size();
    }
    CloseConnection(connection);
  };
  auto send_error = [&](int status, absl::string_view message) {
    const std::string response = ErrorResponse(status, message);
    if (SendAll(fd, {response})) {
      linger_and_close();
    } else {
      CloseConnection(connection);
    }
  };

  std::string buffer;
  bool open = true;
  while (open) {
    // Read the head. Empty lines before a request line are ignored (RFC 9112 section 2.2).
    size_t head_end = std::string::npos;
    size_t body_start = 0;
    size_t scanned = 0;
    absl::Time deadline = absl::Now() + options_.idle_timeout;
    while (true) {
      size_t blank = 0;
      while (blank < buffer.size() && (buffer[blank] == '\r' || buffer[blank] == '\n')) ++blank;
      if (blank > 0) buffer.erase(0, blank);
      head_end = FindHeadEnd(buffer, scanned, &body_start);
      if (head_end != std::string::npos) break;
      if (buffer.size() > options_.max_header_bytes) {
        send_error(431, "request head too large");
        open = false;
        break;
      }
      scanned = buffer.size() >= 2 ? buffer.size() - 2 : 0;
      const size_t before = buffer.size();
      const Read read = ReadSome(fd, stop_fd, deadline, &buffer);
      if (read == Read::kData) {
        if (buffer.size() > before) deadline = absl::Now() + options_.idle_timeout;
        continue;
      }
      if (read == Read::kTimeout && !buffer.empty()) {
        send_error(408, "timed out reading the request");
      } else {
        CloseConnection(connection);  // idle client left, or server stopping
      }
      open = false;
      break;
    }
    if (!open) break;
    if (head_end > options_.max_header_bytes) {
      send_error(431, "request head too large");
      break;
    }

    HttpRequest request;
    request.peer = connection->peer;
    uint64_t content_length = 0;
    const absl::Status parsed =
        ParseRequestHead(absl::string_view(buffer).substr(0, head_end), &request, &content_length);
    if (!parsed.ok()) {
      send_error(HttpStatusForParseError(parsed), parsed.message());
      break;
    }
    if (content_length > options_.max_body_bytes) {
      send_error(413, absl::StrCat("request body larger than ", options_.max_body_bytes, " bytes"));
      break;
    }
    const size_t length = static_cast<size_t>(content_length);
    if (buffer.size() - body_start < length) {
      const std::string* expect = request.FindHeader("Expect");
      if (expect != nullptr && absl::EqualsIgnoreCase(*expect, "100-continue")) {
        // Without this, clients such as curl stall a second before sending the body.
        if (!SendAll(fd, {"HTTP/1.1 100 Continue\r\n\r\n"})) {
          CloseConnection(connection);
          break;
        }
      }
    }
    buffer.reserve(body_start + length);  // large uploads: no repeated regrowth
    deadline = absl::Now() + options_.idle_timeout;
    while (open && buffer.size() - body_start < length) {
      const size_t before = buffer.size();
      const Read read = ReadSome(fd, stop_fd, deadline, &buffer);
      if (read == Read::kData) {
        if (buffer.size() > before) deadline = absl::Now() + options_.idle_timeout;
        continue;
      }
      if (read == Read::kTimeout) {
        send_error(408, "timed out reading the request body");
      } else {
        CloseConnection(connection);
      }
      open = false;
    }
    if (!open) break;
    request.body = buffer.substr(body_start, length);
    buffer.erase(0, body_start + length);

    HttpResponse response = handler_(request);

    if (response.delay > absl::ZeroDuration()) {
      if (WaitReadable(-1, stop_fd, absl::Now() + response.delay) == Wait::kStopped) {
        CloseConnection(connection);
        break;
      }
    }
    if (response.hang) {
      // Hold the connection without answering; discard anything the client
      // sends, and let go once it closes, the server stops, or max_hang passes.
      const absl::Time hang_deadline = absl::Now() + options_.max_hang;
      std::string discard;
      Read read;
      do {
        discard.clear();
        read = ReadSome(fd, stop_fd, hang_deadline, &discard);
      } while (read == Read::kData);
      if ((read == Read::kEof || read == Read::kError) && response.on_hang_abandoned) {
        response.on_hang_abandoned();
      }
      CloseConnection(connection);
      break;
    }

    const bool truncate = response.truncate_at.has_value();
    const std::string* connection_header = response.FindHeader("Connection");
    const bool handler_closes =
        response.close_connection ||
        (connection_header != nullptr && absl::EqualsIgnoreCase(*connection_header, "close"));
    const bool endless = !response.endless_tail.empty();
    const bool keep_alive =
        request.KeepAlive() && !handler_closes && !truncate && !endless && !StopRequested(stop_fd);
    const std::string head = SerializeResponseHead(
        response, endless ? response.announced_length : response.body.size(), keep_alive);
    absl::string_view body = response.body;
    if (request.method == "HEAD") body = absl::string_view();
    if (truncate) body = body.substr(0, std::min(*response.truncate_at, body.size()));
    if (!SendAll(fd, {head, body})) {
      CloseConnection(connection);
      break;
    }
    if (endless && request.method != "HEAD") {
      // The tail, in blocks of some size so that each send is worth its syscall, until the
      // client stops reading and closes (a send then fails) or the server stops.
      std::string block;
      while (block.size() < kEndlessBlockBytes) block += response.endless_tail;
      while (!StopRequested(stop_fd) && SendAll(fd, {block})) {
      }
      CloseConnection(connection);
      break;
    }
    if (!keep_alive) {
      linger_and_close();
      break;
    }
  }

  absl::MutexLock lock(&mu_);
  connection->done = true;
}

}  // namespace http
}  // namespace modelcatalog
