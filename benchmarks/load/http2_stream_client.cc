#include "benchmarks/load/http2_stream_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "benchmarks/load/now_nanos.h"

namespace modelcatalog::bench {
namespace {

// grpc-status codes the client gives itself.
constexpr int kCancelled = 1;
constexpr int kInternal = 13;
constexpr int kUnavailable = 14;

constexpr size_t kGrpcPrefix = 5;  // compressed flag, then the length, big-endian

uint32_t MessageLength(const uint8_t* prefix) {
  return (static_cast<uint32_t>(prefix[1]) << 24) | (static_cast<uint32_t>(prefix[2]) << 16) |
         (static_cast<uint32_t>(prefix[3]) << 8) | static_cast<uint32_t>(prefix[4]);
}

nghttp2_nv Header(absl::string_view name, absl::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}

}  // namespace

struct Http2StreamClient::Stream {
  Http2StreamHandler* handler = nullptr;
  Connection* connection = nullptr;
  int32_t id = 0;
  std::string body;  // the request: gRPC's prefix and the message
  size_t body_sent = 0;
  bool half_close = true;
  std::string partial;  // a message begun in one DATA frame, to be continued in the next
  int code = -1;        // grpc-status, once received
  std::string message;  // grpc-message
};

struct Http2StreamClient::Connection {
  Http2StreamClient* client = nullptr;
  int fd = -1;
  nghttp2_session* session = nullptr;
  std::string out;  // frames nghttp2 made that the socket has not taken yet
  size_t out_sent = 0;
  bool waiting_writable = false;  // EPOLLOUT armed
  bool lost = false;
  absl::flat_hash_set<Stream*> streams;

  ~Connection() {
    if (session != nullptr) nghttp2_session_del(session);
    if (fd >= 0) close(fd);
  }
};

namespace {

using Stream = Http2StreamClient::Stream;
using Connection = Http2StreamClient::Connection;

Stream* StreamOf(nghttp2_session* session, int32_t id) {
  return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, id));
}

// Cuts DATA into gRPC messages: in place while a frame holds whole ones, the
// common case; through `partial` for one that spans frames.
int OnDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                size_t length, void* user_data) {
  if (static_cast<Connection*>(user_data)->lost) return 0;
  Stream* stream = StreamOf(session, stream_id);
  if (stream == nullptr) return 0;
  if (stream->partial.empty()) {
    while (length >= kGrpcPrefix) {
      const size_t size = MessageLength(data);
      if (length - kGrpcPrefix < size) break;
      stream->handler->OnMessage(
          absl::string_view(reinterpret_cast<const char*>(data) + kGrpcPrefix, size), NowNanos());
      data += kGrpcPrefix + size;
      length -= kGrpcPrefix + size;
    }
    stream->partial.assign(reinterpret_cast<const char*>(data), length);
    return 0;
  }
  stream->partial.append(reinterpret_cast<const char*>(data), length);
  size_t at = 0;
  while (stream->partial.size() - at >= kGrpcPrefix) {
    const auto* prefix = reinterpret_cast<const uint8_t*>(stream->partial.data() + at);
    const size_t size = MessageLength(prefix);
    if (stream->partial.size() - at - kGrpcPrefix < size) break;
    stream->handler->OnMessage(absl::string_view(stream->partial.data() + at + kGrpcPrefix, size),
                               NowNanos());
    at += kGrpcPrefix + size;
  }
  stream->partial.erase(0, at);
  return 0;
}

int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
             size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
             void* user_data) {
  if (static_cast<Connection*>(user_data)->lost || frame->hd.type != NGHTTP2_HEADERS) return 0;
  Stream* stream = StreamOf(session, frame->hd.stream_id);
  if (stream == nullptr) return 0;
  const absl::string_view key(reinterpret_cast<const char*>(name), name_length);
  const absl::string_view text(reinterpret_cast<const char*>(value), value_length);
  if (key == "grpc-status") {
    int code = 0;
    stream->code = absl::SimpleAtoi(text, &code) ? code : kInternal;
  } else if (key == "grpc-message") {
    stream->message = std::string(text);
  }
  return 0;
}

ssize_t ReadRequestBody(nghttp2_session*, int32_t, uint8_t* buffer, size_t length, uint32_t* flags,
                        nghttp2_data_source* source, void*) {
  Stream* stream = static_cast<Stream*>(source->ptr);
  const size_t n = std::min(length, stream->body.size() - stream->body_sent);
  std::memcpy(buffer, stream->body.data() + stream->body_sent, n);
  stream->body_sent += n;
  if (stream->body_sent == stream->body.size()) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    // etcd's Watch ends the watches of a stream its client half-closes.
    if (!stream->half_close) *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
  }
  return static_cast<ssize_t>(n);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Http2StreamClient>> Http2StreamClient::Connect(
    const std::string& address, int connections) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not host:port"));
  }
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int error = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); error != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", address, ": ", gai_strerror(error)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);

  std::unique_ptr<Http2StreamClient> client(new Http2StreamClient());
  client->authority_ = address;
  client->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  client->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (client->epoll_fd_ < 0 || client->wake_fd_ < 0) {
    return absl::InternalError(absl::StrCat("epoll or eventfd: ", std::strerror(errno)));
  }
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.ptr = nullptr;
  epoll_ctl(client->epoll_fd_, EPOLL_CTL_ADD, client->wake_fd_, &wake);

  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, OnDataChunk);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, OnHeader);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks,
                                                         &Http2StreamClient::OnStreamClose);

  absl::Status failed;
  for (int i = 0; i < connections && failed.ok(); ++i) {
    auto connection = std::make_unique<Connection>();
    connection->client = client.get();
    connection->fd =
        socket(addresses->ai_family, SOCK_STREAM | SOCK_CLOEXEC, addresses->ai_protocol);
    if (connection->fd < 0 ||
        connect(connection->fd, addresses->ai_addr, addresses->ai_addrlen) != 0) {
      failed = absl::UnavailableError(
          absl::StrCat("cannot connect to ", address, ": ", std::strerror(errno)));
      break;
    }
    const int one = 1;
    setsockopt(connection->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(connection->fd, F_SETFL, fcntl(connection->fd, F_GETFL) | O_NONBLOCK);
    nghttp2_session_client_new(&connection->session, callbacks, connection.get());
    // Windows wide enough that flow control never holds a server back: the
    // figures are of the servers' writing, not of this client's windows.
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
    };
    nghttp2_submit_settings(connection->session, NGHTTP2_FLAG_NONE, settings,
                            sizeof(settings) / sizeof(settings[0]));
    nghttp2_session_set_local_window_size(connection->session, NGHTTP2_FLAG_NONE, 0, 1 << 30);
    epoll_event ready{};
    ready.events = EPOLLIN;
    ready.data.ptr = connection.get();
    epoll_ctl(client->epoll_fd_, EPOLL_CTL_ADD, connection->fd, &ready);
    client->connections_.push_back(std::move(connection));
  }
  nghttp2_session_callbacks_del(callbacks);
  if (!failed.ok()) return failed;
  for (auto& connection : client->connections_) client->Flush(*connection);
  client->thread_ = std::thread([raw = client.get()] { raw->Run(); });
  return client;
}

Http2StreamClient::~Http2StreamClient() {
  if (thread_.joinable()) {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
    thread_.join();
  }
  for (auto& connection : connections_) {
    connection->lost = true;  // nghttp2 may close streams as it is deleted: tell no one
    for (Stream* stream : connection->streams) delete stream;
    connection->streams.clear();
  }
  connections_.clear();
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void Http2StreamClient::Open(int connection, std::string method, std::string request,
                             bool half_close, Http2StreamHandler* handler) {
  Command command;
  command.kind = Command::kOpen;
  command.connection = connection % std::max(1, this->connections());
  command.method = std::move(method);
  command.request = std::move(request);
  command.half_close = half_close;
  command.handler = handler;
  Push(std::move(command));
}

void Http2StreamClient::Cancel(Http2StreamHandler* handler) {
  Command command;
  command.kind = Command::kCancel;
  command.handler = handler;
  Push(std::move(command));
}

void Http2StreamClient::Push(Command command) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    wake = commands_.empty();
    commands_.push_back(std::move(command));
  }
  if (wake) {
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
  }
}

void Http2StreamClient::RunCommands() {
  std::vector<Command> commands;
  {
    absl::MutexLock lock(&mu_);
    commands.swap(commands_);
  }
  absl::flat_hash_set<Connection*> touched;
  for (Command& command : commands) {
    if (command.kind == Command::kCancel) {
      auto found = streams_.find(command.handler);
      if (found == streams_.end()) continue;  // already ended
      Connection& connection = *found->second->connection;
      nghttp2_submit_rst_stream(connection.session, NGHTTP2_FLAG_NONE, found->second->id,
                                NGHTTP2_CANCEL);
      touched.insert(&connection);
      continue;
    }
    Connection& connection = *connections_[command.connection];
    if (connection.lost) {
      command.handler->OnClose(kUnavailable, "connection lost");
      continue;
    }
    auto stream = std::make_unique<Stream>();
    stream->handler = command.handler;
    stream->connection = &connection;
    stream->half_close = command.half_close;
    const uint32_t size = static_cast<uint32_t>(command.request.size());
    stream->body.reserve(kGrpcPrefix + size);
    stream->body.push_back('\0');
    for (int shift = 24; shift >= 0; shift -= 8) {
      stream->body.push_back(static_cast<char>((size >> shift) & 0xff));
    }
    stream->body.append(command.request);
    const nghttp2_nv headers[] = {
        Header(":method", "POST"),
        Header(":scheme", "http"),
        Header(":path", command.method),
        Header(":authority", authority_),
        Header("content-type", "application/grpc"),
        Header("te", "trailers"),
    };
    nghttp2_data_provider body{};
    body.source.ptr = stream.get();
    body.read_callback = ReadRequestBody;
    const int32_t id =
        nghttp2_submit_request(connection.session, nullptr, headers,
                               sizeof(headers) / sizeof(headers[0]), &body, stream.get());
    if (id < 0) {
      command.handler->OnClose(kInternal, nghttp2_strerror(id));
      continue;
    }
    stream->id = id;
    streams_[command.handler] = stream.get();
    connection.streams.insert(stream.release());
    touched.insert(&connection);
  }
  for (Connection* connection : touched) Flush(*connection);
}

void Http2StreamClient::Run() {
  std::vector<uint8_t> buffer(256 * 1024);
  epoll_event events[32];
  for (;;) {
    const int ready = epoll_wait(epoll_fd_, events, 32, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < ready; ++i) {
      if (events[i].data.ptr == nullptr) {
        uint64_t count = 0;
        (void)!read(wake_fd_, &count, sizeof(count));
        {
          absl::MutexLock lock(&mu_);
          if (stop_) return;
        }
        RunCommands();
        continue;
      }
      Connection& connection = *static_cast<Connection*>(events[i].data.ptr);
      if (connection.lost) continue;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        const ssize_t got = recv(connection.fd, buffer.data(), buffer.size(), 0);
        if (got > 0) {
          if (nghttp2_session_mem_recv(connection.session, buffer.data(),
                                       static_cast<size_t>(got)) < 0) {
            Lost(connection);
            continue;
          }
        } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
          Lost(connection);
          continue;
        }
      }
      Flush(connection);
    }
  }
}

void Http2StreamClient::Flush(Connection& connection) {
  if (connection.lost) return;
  for (;;) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(connection.session, &data);
    if (n < 0) {
      Lost(connection);
      return;
    }
    if (n == 0) break;
    connection.out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  while (connection.out_sent < connection.out.size()) {
    const ssize_t sent = send(connection.fd, connection.out.data() + connection.out_sent,
                              connection.out.size() - connection.out_sent, MSG_NOSIGNAL);
    if (sent > 0) {
      connection.out_sent += static_cast<size_t>(sent);
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && errno == EAGAIN) {
      if (!connection.waiting_writable) {
        epoll_event ready{};
        ready.events = EPOLLIN | EPOLLOUT;
        ready.data.ptr = &connection;
        epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &ready);
        connection.waiting_writable = true;
      }
      return;
    }
    Lost(connection);
    return;
  }
  connection.out.clear();
  connection.out_sent = 0;
  if (connection.waiting_writable) {
    epoll_event ready{};
    ready.events = EPOLLIN;
    ready.data.ptr = &connection;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &ready);
    connection.waiting_writable = false;
  }
}

// The connection is gone: every stream on it ends UNAVAILABLE.
void Http2StreamClient::Lost(Connection& connection) {
  if (connection.lost) return;
  connection.lost = true;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connection.fd, nullptr);
  for (Stream* stream : connection.streams) {
    streams_.erase(stream->handler);
    stream->handler->OnClose(kUnavailable, "connection lost");
    delete stream;
  }
  connection.streams.clear();
}

int Http2StreamClient::OnStreamClose(nghttp2_session* session, int32_t stream_id,
                                     uint32_t error_code, void* user_data) {
  auto* connection = static_cast<Connection*>(user_data);
  if (connection->lost) return 0;
  Stream* stream = StreamOf(session, stream_id);
  if (stream == nullptr) return 0;
  int code = stream->code;
  std::string message = stream->message;
  if (code < 0) {
    code = error_code == NGHTTP2_CANCEL     ? kCancelled
           : error_code == NGHTTP2_NO_ERROR ? kInternal
                                            : kUnavailable;
    message = error_code == NGHTTP2_NO_ERROR ? "stream ended without grpc-status"
                                             : nghttp2_http2_strerror(error_code);
  }
  connection->client->streams_.erase(stream->handler);
  connection->streams.erase(stream);
  Http2StreamHandler* handler = stream->handler;
  delete stream;
  handler->OnClose(code, message);
  return 0;
}

}  // namespace modelcatalog::bench
