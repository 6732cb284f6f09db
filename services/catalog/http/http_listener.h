// An HTTP/1.1 listener of catalog-server, on cpp-httplib: plaintext, or TLS
// from the same files as the gRPC port (see tls_credentials.h). It serves GET
// and HEAD with one handler that sees a small, library-free request and
// returns a reply; any other method gets 405. A fixed pool of threads serves
// connections, so a flood of clients queues instead of growing the process.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_HTTP_HTTP_LISTENER_H_
#define MODEL_CATALOG_SERVICES_CATALOG_HTTP_HTTP_LISTENER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/tls_files.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace modelcatalog::catalog {

class TlsCredentials;

struct HttpRequest {
  std::string method;                                      // GET, HEAD or POST
  std::string path;                                        // percent-decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::string authorization;  // the Authorization header; empty when absent
  std::string body;           // POST only

  // The first value of query parameter `name`, or null.
  const std::string* FindQuery(absl::string_view name) const {
    for (const auto& [key, value] : query) {
      if (key == name) return &value;
    }
    return nullptr;
  }
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  // Shared, so that a large body rendered once (the whole catalog) is written
  // to every client without a copy.
  std::shared_ptr<const std::string> body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpReply Json(int status, std::string body) {
    return {status, "application/json", std::make_shared<const std::string>(std::move(body)), {}};
  }
  static HttpReply Text(int status, std::string body) {
    return {status,
            "text/plain; charset=utf-8",
            std::make_shared<const std::string>(std::move(body)),
            {}};
  }
};

using HttpHandler = std::function<HttpReply(const HttpRequest&)>;

struct HttpListenerOptions {
  std::string listen;  // host:port, [v6 host]:port; port 0 picks a free one
  // The flag `listen` came from, named in errors.
  std::string flag = "--http_listen";
  TlsFiles tls;        // enabled(): serve TLS
  size_t threads = 2;  // connections served at once; more wait their turn
  // The POST requests whose body the handler reads (by path); the others are
  // answered before any body is read. Empty: none.
  std::function<bool(absl::string_view path)> reads_body;
};

class HttpListener {
 public:
  // Binds and starts serving `handler` on a thread of its own.
  // INVALID_ARGUMENT naming the flag for a malformed address or unusable TLS
  // files; UNAVAILABLE naming it when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpListener>> Start(HttpListenerOptions options,
                                                             HttpHandler handler);
  ~HttpListener();  // Stop()
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  int port() const { return port_; }
  bool tls() const { return credentials_ != nullptr; }

  // Closes the listener, ends open connections and joins the threads. Idempotent.
  void Stop();

 private:
  HttpListener() = default;

  std::unique_ptr<TlsCredentials> credentials_;  // before server_, which uses it
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// Splits "host:port" or "[v6]:port". INVALID_ARGUMENT naming `flag` otherwise.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(absl::string_view flag,
                                                          absl::string_view listen);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_HTTP_HTTP_LISTENER_H_
