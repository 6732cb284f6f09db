#include "services/catalog/http/http_listener.h"

#include <httplib.h>
#include <sys/socket.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/catalog/http/tls_credentials.h"

namespace modelcatalog::catalog {
namespace {

HttpRequest FromLibrary(const httplib::Request& request) {
  HttpRequest converted;
  converted.method = request.method;
  converted.path = request.path;
  converted.query.assign(request.params.begin(), request.params.end());
  converted.authorization = request.get_header_value("Authorization");
  converted.body = request.body;
  return converted;
}

void ToLibrary(HttpReply reply, httplib::Response* response) {
  response->status = reply.status;
  for (const auto& [name, value] : reply.headers) response->set_header(name, value);
  if (reply.body == nullptr || reply.body->empty()) {
    response->set_content("", reply.content_type);
    return;
  }
  const size_t size = reply.body->size();
  response->set_content_provider(
      size, reply.content_type,
      [body = std::move(reply.body)](size_t offset, size_t length, httplib::DataSink& sink) {
        return sink.write(body->data() + offset, length);
      });
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(absl::string_view flag,
                                                          absl::string_view listen) {
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535 || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " must be host:port, got \"", listen, "\""));
  }
  absl::string_view host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::make_pair(std::string(host), port);
}

absl::StatusOr<std::unique_ptr<HttpListener>> HttpListener::Start(HttpListenerOptions options,
                                                                  HttpHandler handler) {
  absl::StatusOr<std::pair<std::string, int>> address = SplitHostPort(options.flag, options.listen);
  if (!address.ok()) return address.status();
  std::unique_ptr<HttpListener> listener(new HttpListener());
  if (options.tls.enabled()) {
    absl::StatusOr<std::unique_ptr<TlsCredentials>> credentials = TlsCredentials::Load(options.tls);
    if (!credentials.ok()) return credentials.status();
    listener->credentials_ = *std::move(credentials);
    TlsCredentials* raw = listener->credentials_.get();
    listener->server_ = std::make_unique<httplib::SSLServer>(
        [raw](SSL_CTX& context) { return raw->Configure(&context); });
  } else {
    listener->server_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *listener->server_;
  if (!server.is_valid()) {
    return absl::InternalError(absl::StrCat(options.flag, ": the TLS context could not be set up"));
  }
  const size_t threads = std::max<size_t>(1, options.threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Not the library's default, which adds SO_REUSEPORT: a second server on a
  // busy port must fail, not share it.
  server.set_socket_options([](int socket) {
    int on = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  });
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(100);
  server.set_keep_alive_timeout(5);
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  // Only a POST that options.reads_body accepts has its body read (the JSON
  // view's :validate): as large as a gRPC request may be.
  server.set_payload_max_length(1024 * 1024);
  // Every other request goes to the handler before the library routes it, and
  // so before it reads a body: the handler answers 405 to methods it does not
  // serve. A POST with a body to read is read first, then handed over alike.
  server.set_pre_routing_handler([handler, reads_body = options.reads_body](
                                     const httplib::Request& request, httplib::Response& response) {
    if (request.method == "POST" && reads_body && reads_body(request.path)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    ToLibrary(handler(FromLibrary(request)), &response);
    return httplib::Server::HandlerResponse::Handled;
  });
  server.Post(".*", [handler = std::move(handler)](const httplib::Request& request,
                                                   httplib::Response& response) {
    ToLibrary(handler(FromLibrary(request)), &response);
  });

  const auto& [host, port] = *address;
  const int bound =
      port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(
        absl::StrCat(options.flag, ": cannot listen on ", options.listen));
  }
  listener->port_ = bound;
  listener->thread_ = std::thread([&server] { server.listen_after_bind(); });
  // The library's stop() does nothing until the loop runs: Stop() must not
  // come before that, or the thread would never end.
  while (!server.is_running()) absl::SleepFor(absl::Milliseconds(1));
  return listener;
}

HttpListener::~HttpListener() { Stop(); }

void HttpListener::Stop() {
  if (server_ == nullptr) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace modelcatalog::catalog
