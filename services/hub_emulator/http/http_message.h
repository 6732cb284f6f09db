// HTTP/1.1 request and response values, and the parsing helpers the server
// uses. Kept apart from the socket code so they can be tested without sockets.
#ifndef MODEL_CATALOG_SERVICES_HUB_EMULATOR_HTTP_HTTP_MESSAGE_H_
#define MODEL_CATALOG_SERVICES_HUB_EMULATOR_HTTP_HTTP_MESSAGE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace modelcatalog {
namespace http {

// Header fields in the order received or set. Names keep their spelling;
// lookups compare them case-insensitively, as HTTP requires.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The first field named `name` (any case), or nullptr.
const std::string* FindHeader(const HeaderList& headers, absl::string_view name);

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET" (methods are case-sensitive)
  std::string target;  // the request-target as sent: "/a%2Fb/c?x=1"
  // The target before '?', still percent-encoded. Routers that must tell an
  // encoded "/" inside a segment from a separator split this, then decode.
  std::string raw_path;
  std::string path;   // raw_path percent-decoded: "/a/b/c"
  std::string query;  // the target after '?', still encoded ("" if none)
  // Decoded query parameters in order; "+" means a space. "?flag" gives {"flag", ""}.
  std::vector<std::pair<std::string, std::string>> query_params;
  int version_minor = 1;  // HTTP/1.<minor>: 0 or 1
  HeaderList headers;
  std::string body;
  std::string peer;  // the client's "address:port"

  const std::string* FindHeader(absl::string_view name) const {
    return http::FindHeader(headers, name);
  }
  // The first parameter named `name` (exact match), or nullptr.
  const std::string* FindQueryParam(absl::string_view name) const;
  // Whether the client asked to keep the connection open after this request:
  // the HTTP/1.1 default unless "Connection: close"; HTTP/1.0 only with
  // "Connection: keep-alive".
  bool KeepAlive() const;
};

// What a handler returns. Besides a normal response it can describe the
// misbehaviours a test double needs to emulate a flaky upstream.
struct HttpResponse {
  int status = 200;
  HeaderList headers;  // Content-Length and Connection are set by the server
  std::string body;

  // Wait this long before sending anything (the server cuts the wait short when
  // it stops, closing the connection without a response).
  absl::Duration delay = absl::ZeroDuration();
  // Send nothing at all: hold the connection open until the client closes it,
  // the server stops, or HttpServerOptions::max_hang passes; then close it.
  bool hang = false;
  // Called when a hang ends because the client closed its connection (it
  // gave up on the request), from the connection's thread.
  std::function<void()> on_hang_abandoned;
  // Announce the full Content-Length but send only the first `*truncate_at`
  // bytes of the body, then close the connection.
  std::optional<size_t> truncate_at;
  // Close the connection after this response even if the client wants to keep
  // it (a "Connection: close" header does the same).
  bool close_connection = false;
  // When not empty, the body never ends: after `body` this is sent over and
  // over until the client closes the connection or the server stops. The
  // head then carries `announced_length` as its Content-Length, or, without
  // one, no Content-Length at all (the body ends with the connection).
  std::string endless_tail;
  std::optional<uint64_t> announced_length;

  // Replaces every field named `name` (any case) by one with `value`.
  void SetHeader(absl::string_view name, absl::string_view value);
  const std::string* FindHeader(absl::string_view name) const {
    return http::FindHeader(headers, name);
  }

  static HttpResponse Json(int status, std::string body);
  static HttpResponse Text(int status, std::string body);
};

// "OK", "Not Found", ...; "Unknown" for codes without a standard phrase.
absl::string_view ReasonPhrase(int status);

// Decodes %XX escapes (and "+" as a space when `plus_as_space`, for query
// strings). A malformed escape or an encoded NUL is INVALID_ARGUMENT.
absl::StatusOr<std::string> PercentDecode(absl::string_view in, bool plus_as_space = false);

// Escapes everything but RFC 3986 unreserved characters: safe for one path
// segment or one query value.
std::string PercentEncode(absl::string_view in);

// Splits "a=1&b=x%20y" into decoded pairs, appended to `out`.
absl::Status ParseQuery(absl::string_view query,
                        std::vector<std::pair<std::string, std::string>>* out);

// Parses a request head: the request line and header fields, without the
// blank line that ends them. Fills everything but `body` and `peer`, and sets
// `*content_length` to the announced body size (0 if none).
//
// Returns INVALID_ARGUMENT for a malformed head (the server answers 400),
// UNIMPLEMENTED for any Transfer-Encoding (501: request bodies must carry a
// Content-Length; chunked uploads are refused rather than half-supported),
// FAILED_PRECONDITION for an HTTP version other than 1.0/1.1 (505).
absl::Status ParseRequestHead(absl::string_view head, HttpRequest* request,
                              uint64_t* content_length);

// The response status for a ParseRequestHead error.
int HttpStatusForParseError(const absl::Status& status);

// The status line and header block (ending with the blank line) of `response`
// for a body of `content_length` bytes.
std::string SerializeResponseHead(const HttpResponse& response,
                                  std::optional<uint64_t> content_length, bool keep_alive);

}  // namespace http
}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_HUB_EMULATOR_HTTP_HTTP_MESSAGE_H_
