// The hub emulator's HTTP/1.1 server on POSIX sockets. Its own rather than a
// library's because the emulator's faults (a response held for minutes, a body
// cut short after a full Content-Length) are plain sequential code on a thread
// per connection; catalog-server serves HTTP with cpp-httplib instead.
//
//   http::HttpServer server([](const http::HttpRequest& request) {
//     return http::HttpResponse::Text(200, "hello");
//   });
//   absl::StatusOr<int> port = server.Start("127.0.0.1", 0);
//   ...
//   server.Stop();
//
// Threading: one accept thread, plus one thread per open connection, at most
// `max_connections` of them (further clients get a 503 and are closed). That
// keeps each connection's code a plain sequential loop -- read a request, call
// the handler, write the response -- which is what makes delays and hangs easy
// to express, and is plenty for a test double.
// The handler runs on the connection's thread and may be called concurrently
// from several connections.
//
// Supported: keep-alive (and pipelining), bodies framed by Content-Length,
// "Expect: 100-continue". Refused: Transfer-Encoding (chunked request bodies)
// with 501, heads over `max_header_bytes` with 431, bodies over
// `max_body_bytes` with 413, malformed requests with 400. Every error response
// closes the connection.
#ifndef MODEL_CATALOG_SERVICES_HUB_EMULATOR_HTTP_HTTP_SERVER_H_
#define MODEL_CATALOG_SERVICES_HUB_EMULATOR_HTTP_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/hub_emulator/http/http_message.h"

namespace modelcatalog {
namespace http {

struct HttpServerOptions {
  // Request line plus header fields, in bytes; larger heads get a 431.
  size_t max_header_bytes = 64 * 1024;
  // Request bodies larger than this get a 413.
  size_t max_body_bytes = 8 * 1024 * 1024;
  // Open connections served at once; the next client gets a 503.
  int max_connections = 256;
  // How long a connection may sit idle between (or inside) requests before the
  // server closes it.
  absl::Duration idle_timeout = absl::Seconds(60);
  // The longest a `hang` response holds its connection.
  absl::Duration max_hang = absl::Minutes(5);
};

// Must return promptly: Stop() waits for handlers that are running. Slowness
// belongs in HttpResponse::delay / hang, which Stop() cuts short.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  explicit HttpServer(HttpHandler handler, HttpServerOptions options = HttpServerOptions());
  ~HttpServer();  // Stop()s

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `host` (a name or numeric IPv4/IPv6 address) and `port` (0 picks a
  // free port), starts serving, and returns the bound port. Returns
  // FAILED_PRECONDITION if called twice, UNAVAILABLE if the address cannot be
  // bound, INVALID_ARGUMENT for a host that does not resolve.
  absl::StatusOr<int> Start(absl::string_view host, int port);

  // Closes the listener and every connection (cutting delays and hangs
  // short), waits for running handlers, and joins all threads. Idempotent.
  void Stop();

  // The bound port, or 0 before Start().
  int port() const;

 private:
  struct Connection;

  void AcceptLoop();
  void ServeConnection(Connection* connection);
  // Joins and forgets connections whose threads have finished.
  void ReapFinishedConnections();
  // Closes `connection`'s socket, coordinating with Stop()'s shutdown().
  void CloseConnection(Connection* connection);

  const HttpHandler handler_;
  const HttpServerOptions options_;

  // Serialises Start() and Stop() so concurrent callers see a consistent state.
  absl::Mutex lifecycle_mu_;
  std::thread accept_thread_ ABSL_GUARDED_BY(lifecycle_mu_);

  mutable absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int port_ ABSL_GUARDED_BY(mu_) = 0;
  std::list<std::unique_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);

  // Set in Start() before any thread exists, closed in Stop() after all are
  // joined; read-only in between, so the threads read them without a lock.
  int listen_fd_ = -1;
  // A pipe that becomes readable (and stays so) when Stop() begins: every
  // blocking wait polls it, which is how Stop() interrupts them all at once.
  int stop_read_fd_ = -1;
  int stop_write_fd_ = -1;
};

}  // namespace http
}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_HUB_EMULATOR_HTTP_HTTP_SERVER_H_
