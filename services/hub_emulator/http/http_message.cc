#include "services/hub_emulator/http/http_message.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace modelcatalog {
namespace http {
namespace {

// RFC 9110 token characters (method and header names).
bool IsTokenChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// Control characters are never valid in a target or a field value; bytes
// >= 0x80 are tolerated (obs-text) so that sloppy clients still get an answer.
bool IsControl(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status ParseRequestLine(absl::string_view line, HttpRequest* request) {
  std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError("request line must be METHOD SP TARGET SP VERSION");
  }
  if (!IsToken(parts[0])) return absl::InvalidArgumentError("invalid method");
  request->method = std::string(parts[0]);

  const absl::string_view version = parts[2];
  if (version == "HTTP/1.1") {
    request->version_minor = 1;
  } else if (version == "HTTP/1.0") {
    request->version_minor = 0;
  } else if (version.size() == 8 && absl::StartsWith(version, "HTTP/") &&
             absl::ascii_isdigit(static_cast<unsigned char>(version[5])) && version[6] == '.' &&
             absl::ascii_isdigit(static_cast<unsigned char>(version[7]))) {
    return absl::FailedPreconditionError(absl::StrCat("unsupported HTTP version ", version));
  } else {
    return absl::InvalidArgumentError("invalid HTTP version");
  }

  const absl::string_view target = parts[1];
  // Only origin-form ("/path?query") is served: this is not a proxy.
  if (target.empty() || target[0] != '/') {
    return absl::InvalidArgumentError("request target must start with '/'");
  }
  for (char c : target) {
    if (IsControl(c)) return absl::InvalidArgumentError("control character in request target");
  }
  request->target = std::string(target);
  absl::string_view path = target;
  absl::string_view query;
  const size_t q = target.find('?');
  if (q != absl::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  // Clients must not send fragments; drop one rather than treat it as data.
  const size_t hash = query.find('#');
  if (hash != absl::string_view::npos) query = query.substr(0, hash);
  if (q == absl::string_view::npos) {
    const size_t path_hash = path.find('#');
    if (path_hash != absl::string_view::npos) path = path.substr(0, path_hash);
  }
  request->raw_path = std::string(path);
  absl::StatusOr<std::string> decoded = PercentDecode(path);
  if (!decoded.ok()) return decoded.status();
  request->path = *std::move(decoded);
  request->query = std::string(query);
  request->query_params.clear();
  return ParseQuery(query, &request->query_params);
}

}  // namespace

const std::string* FindHeader(const HeaderList& headers, absl::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

const std::string* HttpRequest::FindQueryParam(absl::string_view name) const {
  for (const auto& [key, value] : query_params) {
    if (key == name) return &value;
  }
  return nullptr;
}

bool HttpRequest::KeepAlive() const {
  bool close = false;
  bool keep_alive = false;
  for (const auto& [key, value] : headers) {
    if (!absl::EqualsIgnoreCase(key, "Connection")) continue;
    for (absl::string_view option : absl::StrSplit(value, ',')) {
      option = absl::StripAsciiWhitespace(option);
      if (absl::EqualsIgnoreCase(option, "close")) close = true;
      if (absl::EqualsIgnoreCase(option, "keep-alive")) keep_alive = true;
    }
  }
  if (close) return false;
  return version_minor >= 1 || keep_alive;
}

void HttpResponse::SetHeader(absl::string_view name, absl::string_view value) {
  HeaderList kept;
  kept.reserve(headers.size() + 1);
  for (auto& field : headers) {
    if (!absl::EqualsIgnoreCase(field.first, name)) kept.push_back(std::move(field));
  }
  kept.emplace_back(std::string(name), std::string(value));
  headers = std::move(kept);
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/json");
  response.body = std::move(body);
  return response;
}

HttpResponse HttpResponse::Text(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  response.body = std::move(body);
  return response;
}

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

absl::StatusOr<std::string> PercentDecode(absl::string_view in, bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return absl::InvalidArgumentError("truncated percent escape");
      }
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return absl::InvalidArgumentError("invalid percent escape");
      const char decoded = static_cast<char>(hi * 16 + lo);
      // An encoded NUL only ever serves to smuggle a terminator past C APIs.
      if (decoded == '\0') return absl::InvalidArgumentError("encoded NUL byte");
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PercentEncode(absl::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

absl::Status ParseQuery(absl::string_view query,
                        std::vector<std::pair<std::string, std::string>>* out) {
  if (query.empty()) return absl::OkStatus();
  for (absl::string_view pair : absl::StrSplit(query, '&')) {
    if (pair.empty()) continue;  // "a=1&&b=2"
    absl::string_view key = pair;
    absl::string_view value;
    const size_t eq = pair.find('=');
    if (eq != absl::string_view::npos) {
      key = pair.substr(0, eq);
      value = pair.substr(eq + 1);
    }
    absl::StatusOr<std::string> k = PercentDecode(key, /*plus_as_space=*/true);
    if (!k.ok()) return k.status();
    absl::StatusOr<std::string> v = PercentDecode(value, /*plus_as_space=*/true);
    if (!v.ok()) return v.status();
    out->emplace_back(*std::move(k), *std::move(v));
  }
  return absl::OkStatus();
}

absl::Status ParseRequestHead(absl::string_view head, HttpRequest* request,
                              uint64_t* content_length) {
  *content_length = 0;
  request->headers.clear();
  // Lines end in CRLF; a bare LF is tolerated (RFC 9112 section 2.2).
  std::vector<absl::string_view> lines = absl::StrSplit(head, '\n');
  for (absl::string_view& line : lines) absl::ConsumeSuffix(&line, "\r");
  // A client may send empty lines before the request line (RFC 9112 section 2.2).
  size_t first = 0;
  while (first < lines.size() && lines[first].empty()) ++first;
  if (first == lines.size()) return absl::InvalidArgumentError("empty request");
  if (absl::Status s = ParseRequestLine(lines[first], request); !s.ok()) return s;

  bool has_length = false;
  for (size_t i = first + 1; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    if (line.empty()) continue;  // only possible as the trailing piece of the split
    if (line[0] == ' ' || line[0] == '\t') {
      return absl::InvalidArgumentError("obsolete header line folding");
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError("header line without ':'");
    }
    const absl::string_view name = line.substr(0, colon);
    // "Name :" (whitespace before the colon) must be rejected (RFC 9112 section 5.1).
    if (!IsToken(name)) return absl::InvalidArgumentError("invalid header name");
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    for (char c : value) {
      if (IsControl(c) && c != '\t') {
        return absl::InvalidArgumentError("control character in header value");
      }
    }
    if (absl::EqualsIgnoreCase(name, "Content-Length")) {
      uint64_t length = 0;
      bool digits = !value.empty() && value.size() <= 18;
      for (char c : value) digits = digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
      if (!digits || !absl::SimpleAtoi(value, &length)) {
        return absl::InvalidArgumentError("invalid Content-Length");
      }
      // Differing lengths are a request-smuggling vector: refuse.
      if (has_length && length != *content_length) {
        return absl::InvalidArgumentError("conflicting Content-Length fields");
      }
      has_length = true;
      *content_length = length;
    } else if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      return absl::UnimplementedError("Transfer-Encoding is not supported; send a Content-Length");
    }
    request->headers.emplace_back(std::string(name), std::string(value));
  }
  return absl::OkStatus();
}

int HttpStatusForParseError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kFailedPrecondition:
      return 505;
    default:
      return 400;
  }
}

std::string SerializeResponseHead(const HttpResponse& response,
                                  std::optional<uint64_t> content_length, bool keep_alive) {
  std::string head =
      absl::StrCat("HTTP/1.1 ", response.status, " ", ReasonPhrase(response.status), "\r\n");
  for (const auto& [name, value] : response.headers) {
    // The server owns framing: a handler's own values could only contradict it.
    if (absl::EqualsIgnoreCase(name, "Content-Length") ||
        absl::EqualsIgnoreCase(name, "Connection") ||
        absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      continue;
    }
    absl::StrAppend(&head, name, ": ", value, "\r\n");
  }
  if (content_length.has_value()) {
    absl::StrAppend(&head, "Content-Length: ", *content_length, "\r\n");
  }
  absl::StrAppend(&head, "Connection: ", keep_alive ? "keep-alive" : "close", "\r\n\r\n");
  return head;
}

}  // namespace http
}  // namespace modelcatalog
