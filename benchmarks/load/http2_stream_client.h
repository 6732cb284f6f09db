// A lean reader of gRPC server streams: HTTP/2 through nghttp2, every
// connection on one thread and one epoll, each message handed over as the bytes
// it arrived in. The watch scenarios read with it (--watch_client=http2) to
// time what the servers do: gRPC's C++ client spends about 6 us of its one
// core on each message it reads, more than either server spends writing it,
// so with it a fan-out figure is the client's own (BENCHMARKS.md). This one
// spends well under a microsecond.
//
// It speaks only what a watch needs: one request message, then the server's
// messages and trailers. No compression, no TLS, no retries.
#ifndef MODEL_CATALOG_BENCHMARKS_LOAD_HTTP2_STREAM_CLIENT_H_
#define MODEL_CATALOG_BENCHMARKS_LOAD_HTTP2_STREAM_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

typedef struct nghttp2_session nghttp2_session;

namespace modelcatalog::bench {

// Told what happens to one stream, on the client's thread.
class Http2StreamHandler {
 public:
  // One whole message of the stream; `now` is NowNanos() when it was read.
  virtual void OnMessage(absl::string_view message, int64_t now) = 0;
  // The stream ended: its grpc-status (CANCELLED after Cancel, UNAVAILABLE
  // when the connection was lost without one) and grpc-message. Last call.
  virtual void OnClose(int code, absl::string_view message) = 0;

 protected:
  ~Http2StreamHandler() = default;
};

class Http2StreamClient {
 public:
  // Opens `connections` connections to `address` (host:port, IPv4 or a name)
  // and starts the thread that serves them.
  static absl::StatusOr<std::unique_ptr<Http2StreamClient>> Connect(const std::string& address,
                                                                    int connections);
  // Stops the thread and closes the connections; no handler is called after.
  ~Http2StreamClient();
  Http2StreamClient(const Http2StreamClient&) = delete;
  Http2StreamClient& operator=(const Http2StreamClient&) = delete;

  // Starts a call of `method` ("/package.Service/Method") on connection
  // `connection` with `request` (a serialized message) as its one message,
  // half-closed after it when `half_close`. `handler` must outlive the stream.
  void Open(int connection, std::string method, std::string request, bool half_close,
            Http2StreamHandler* handler);
  // Resets the stream of `handler` (RST_STREAM CANCEL); its OnClose follows.
  void Cancel(Http2StreamHandler* handler);

  int connections() const { return static_cast<int>(connections_.size()); }

  struct Connection;
  struct Stream;

 private:
  struct Command {
    enum Kind { kOpen, kCancel } kind;
    int connection = 0;
    std::string method;
    std::string request;
    bool half_close = true;
    Http2StreamHandler* handler = nullptr;
  };

  Http2StreamClient() = default;
  // nghttp2's callback for a stream that ended (reset, trailers, or lost).
  static int OnStreamClose(nghttp2_session* session, int32_t stream_id, uint32_t error_code,
                           void* user_data);
  void Run();
  void RunCommands();
  void Push(Command command);
  void Flush(Connection& connection);
  void Lost(Connection& connection);

  std::string authority_;
  std::vector<std::unique_ptr<Connection>> connections_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // an eventfd: commands are waiting, or stop
  std::thread thread_;

  absl::Mutex mu_;
  std::vector<Command> commands_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;

  // Loop thread only: where each handler's stream is.
  absl::flat_hash_map<Http2StreamHandler*, Stream*> streams_;
};

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_LOAD_HTTP2_STREAM_CLIENT_H_
