#include "clients/hub/hub_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "rapidjson/document.h"
#include "services/common/log.h"

#ifndef MODEL_CATALOG_VERSION
#define MODEL_CATALOG_VERSION "dev"
#endif

namespace modelcatalog::hub {
namespace {

namespace v1 = ::modelcatalog::v1;

constexpr char kUserAgent[] = "model-catalog/" MODEL_CATALOG_VERSION;
constexpr char kRetryAfterPayload[] = "type.googleapis.com/modelcatalog.hub.RetryAfter";
constexpr char kHttpStatusPayload[] = "type.googleapis.com/modelcatalog.hub.HttpStatus";
constexpr char kRedacted[] = "<redacted>";
// Idle handles kept beyond this many are closed: enough for the few concurrent callers a
// service has, without holding connections nobody uses.
constexpr size_t kMaxIdleHandles = 8;
// The hub's error messages are short; a larger one is cut so logs stay readable.
constexpr size_t kMaxMessageBytes = 1024;
// A non-JSON error body longer than this is a page, not a message.
constexpr size_t kMaxPlainTextMessageBytes = 256;

// libcurl's global state is set up once per process, whichever thread gets there first.
bool CurlReady() {
  static const bool ready = [] {
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
      Log(LogLevel::kError, "curl_global_init_failed", {{"error", curl_easy_strerror(rc)}});
    }
    return rc == CURLE_OK;
  }();
  return ready;
}

HubClientOptions Normalized(HubClientOptions options) {
  while (!options.base_url.empty() && options.base_url.back() == '/') {
    options.base_url.pop_back();
  }
  // Keys are often read from files that end in a newline, which is never part of the key.
  absl::StripAsciiWhitespace(&options.api_key);
  return options;
}

// A control character in the key would split the Authorization header into two.
bool IsValidHeaderValue(absl::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

// RFC 3986 unreserved characters pass; every other byte is %XX.
std::string PercentEncode(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// An id as one path segment. "." and ".." are dot-segments that URL normalization would
// remove, reaching another endpoint; encoded, they stay the model's name.
std::string PathSegment(absl::string_view id) {
  if (id == ".") return "%2E";
  if (id == "..") return "%2E%2E";
  return PercentEncode(id);
}

long TimeoutMillis(absl::Duration d) {
  if (d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) return 0;  // curl: no limit
  return static_cast<long>(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

}  // namespace

// The body of a successful answer on its way from the transfer's thread to the parser. At most
// kMaxBytes wait in it: beyond, the transfer waits for the parser to catch up (and the hub, by
// TCP's flow control, for the transfer), so a list of any size costs the same memory.
class HubClient::BodyPipe {
 public:
  // Enough pieces (libcurl hands over at most 16 KiB at once) that neither side waits for
  // the other at every piece; small beside a catalog.
  static constexpr size_t kMaxBytes = 1 << 20;

  // The transfer's side. Waits while the pipe is full; false when the reader has stopped
  // reading, which ends the transfer.
  bool Write(const char* data, size_t n) {
    absl::MutexLock lock(&mu_);
    writing_ = n;
    mu_.Await(absl::Condition(this, &BodyPipe::HasRoomForWrite));
    if (reader_gone_) {
      writer_refused_ = true;
      return false;
    }
    pieces_.emplace_back(data, n);
    bytes_ += n;
    return true;
  }
  // No more bytes will come: the transfer is over, successful or not.
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    closed_at_ = absl::Now();
  }

  // The reader's side: the next piece, valid until the next call; empty once the pipe is
  // closed and everything in it was read.
  absl::string_view Read() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &BodyPipe::HasPieceOrClosed));
    if (pieces_.empty()) return absl::string_view();
    reading_ = std::move(pieces_.front());
    pieces_.pop_front();
    bytes_ -= reading_.size();
    return reading_;
  }
  // The reader will read no more (it has read the list, or found it malformed).
  void StopReading() {
    absl::MutexLock lock(&mu_);
    reader_gone_ = true;
    pieces_.clear();
    bytes_ = 0;
  }

  // Whether the transfer ended because the reader stopped reading.
  bool WriterRefused() {
    absl::MutexLock lock(&mu_);
    return writer_refused_;
  }
  absl::Time closed_at() {
    absl::MutexLock lock(&mu_);
    return closed_at_;
  }

 private:
  bool HasRoomForWrite() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // A piece larger than the pipe passes once it is empty.
    return reader_gone_ || bytes_ == 0 || bytes_ + writing_ <= kMaxBytes;
  }
  bool HasPieceOrClosed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !pieces_.empty() || closed_;
  }

  absl::Mutex mu_;
  std::deque<std::string> pieces_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t writing_ ABSL_GUARDED_BY(mu_) = 0;  // the size of the piece Write waits to add
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time closed_at_ ABSL_GUARDED_BY(mu_);
  bool reader_gone_ ABSL_GUARDED_BY(mu_) = false;
  bool writer_refused_ ABSL_GUARDED_BY(mu_) = false;
  std::string reading_;  // the reader's own
};

namespace {

// Where the body of one transfer goes: the pipe, for a successful answer that is streamed;
// `body` otherwise (an error's message, a single model).
struct BodySink {
  CURL* easy;
  std::string* body;
  size_t limit;
  HubClient::BodyPipe* pipe = nullptr;
  size_t received = 0;
  bool exceeded = false;
  enum class Route { kUndecided, kPipe, kBody } route = Route::kUndecided;
};

bool IsSuccess(long http_status) { return http_status >= 200 && http_status <= 299; }

size_t WriteBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  size_t n = size * nmemb;
  if (n > sink->limit - sink->received) {
    sink->exceeded = true;
    return 0;  // anything but n makes curl abort the transfer
  }
  sink->received += n;
  if (sink->route == BodySink::Route::kUndecided) {
    // The status line has been read by the time the body comes.
    long http_status = 0;
    curl_easy_getinfo(sink->easy, CURLINFO_RESPONSE_CODE, &http_status);
    sink->route = sink->pipe != nullptr && IsSuccess(http_status) ? BodySink::Route::kPipe
                                                                  : BodySink::Route::kBody;
  }
  if (sink->route == BodySink::Route::kPipe) return sink->pipe->Write(data, n) ? n : 0;
  std::string& body = *sink->body;
  if (body.size() + n > body.capacity()) {
    // Grows as a string does, by doubling, but never past the limit: a body just under it
    // must not cost twice its size.
    body.reserve(std::min(sink->limit, std::max(body.size() + n, 2 * body.capacity())));
  }
  body.append(data, n);
  return n;
}

// Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
absl::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return absl::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return absl::ascii_isdigit(c); })) {
    int64_t seconds;
    if (!absl::SimpleAtoi(value, &seconds)) return absl::nullopt;  // overflow
    return absl::Seconds(seconds);
  }
  absl::Time when;
  std::string error;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", value, absl::UTCTimeZone(), &when, &error)) {
    return absl::nullopt;
  }
  return std::max(absl::ZeroDuration(), when - now);
}

absl::StatusCode CodeForHttpStatus(long http_status) {
  switch (http_status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kFailedPrecondition;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 500:
      return absl::StatusCode::kInternal;
    case 502:
    case 503:
    case 504:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kUnknown;
  }
}

const rapidjson::Value* NonEmptyString(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString() || it->value.GetStringLength() == 0) {
    return nullptr;
  }
  return &it->value;
}

bool IsPlainText(absl::string_view text) {
  if (text.empty() || text.size() > kMaxPlainTextMessageBytes || text.front() == '<') return false;
  return std::none_of(text.begin(), text.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u < 0x20 && c != '\t' && c != '\n' && c != '\r';
  });
}

// The hub's message in an error body, in the envelopes the hub and its proxies use;
// empty when there is none.
std::string MessageInBody(absl::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
  if (doc.HasParseError()) {
    absl::string_view text = absl::StripAsciiWhitespace(body);
    return IsPlainText(text) ? std::string(text) : std::string();
  }
  if (!doc.IsObject()) return "";
  const rapidjson::Value* message = NonEmptyString(doc, "status_message");
  if (message == nullptr) message = NonEmptyString(doc, "error");
  if (message == nullptr) {
    auto error = doc.FindMember("error");
    if (error != doc.MemberEnd() && error->value.IsObject()) {
      message = NonEmptyString(error->value, "message");
    }
  }
  if (message == nullptr) message = NonEmptyString(doc, "message");
  if (message == nullptr) return "";
  std::string text(message->GetString(), message->GetStringLength());
  if (text.size() > kMaxMessageBytes) {
    text.resize(kMaxMessageBytes);
    text.append("...");
  }
  return text;
}

absl::Status HttpError(const std::string& message_in_body, long http_status,
                       absl::optional<absl::Duration> retry_after, absl::string_view redirect_url) {
  std::string message = message_in_body;
  if (message.empty()) {
    message = absl::StrCat("HTTP ", http_status);
    if (http_status >= 300 && http_status <= 399 && !redirect_url.empty()) {
      absl::StrAppend(&message, " (redirect to ", redirect_url, " not followed)");
    }
  }
  absl::Status status(CodeForHttpStatus(http_status), message);
  status.SetPayload(kHttpStatusPayload, absl::Cord(absl::StrCat(http_status)));
  if (retry_after.has_value()) {
    SetRetryAfter(&status, *retry_after);
  }
  return status;
}

absl::Status TransportError(CURLcode rc, const char* error_buffer, absl::string_view endpoint,
                            const BodySink& sink) {
  std::string detail =
      absl::StrCat(endpoint, ": ", error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc));
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(detail);
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:
      if (rc == CURLE_FILESIZE_EXCEEDED || sink.exceeded) {
        return absl::ResourceExhaustedError(
            absl::StrCat(endpoint, ": response larger than max_response_bytes (", sink.limit, ")"));
      }
      return absl::InternalError(detail);
    case CURLE_OUT_OF_MEMORY:
      return absl::ResourceExhaustedError(detail);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(absl::StrCat(detail, " (check base_url)"));
    case CURLE_BAD_CONTENT_ENCODING:
      return absl::DataLossError(absl::StrCat("malformed response from ", detail));
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_PROXY:
      return absl::UnavailableError(detail);
    default:
      return absl::UnknownError(detail);
  }
}

// Runs `easy`'s transfer on `multi` until it is over or `deadline` passes,
// whichever comes first; in the second case the transfer is abandoned (its
// connection closed) and `*past_deadline` set. The deadline is read again
// each time the wait ends, so it may move later meanwhile.
CURLcode Transfer(CURLM* multi, CURL* easy, const RequestDeadline& deadline, bool* past_deadline) {
  if (curl_multi_add_handle(multi, easy) != CURLM_OK) return CURLE_FAILED_INIT;
  CURLcode result = CURLE_OK;
  while (true) {
    int running = 0;
    if (curl_multi_perform(multi, &running) != CURLM_OK) {
      result = CURLE_FAILED_INIT;
      break;
    }
    if (running == 0) {
      int left = 0;
      CURLMsg* message = nullptr;
      while ((message = curl_multi_info_read(multi, &left)) != nullptr) {
        if (message->msg == CURLMSG_DONE && message->easy_handle == easy) {
          result = message->data.result;
        }
      }
      break;
    }
    const absl::Duration time_left = deadline.Get() - absl::Now();
    if (time_left <= absl::ZeroDuration()) {
      *past_deadline = true;
      result = CURLE_OPERATION_TIMEDOUT;
      break;
    }
    // Until the socket is ready, libcurl's own timers are due, or the deadline passes.
    const int64_t wait_ms = std::clamp<int64_t>(
        absl::ToInt64Milliseconds(absl::Ceil(time_left, absl::Milliseconds(1))), 1, 1000);
    if (curl_multi_poll(multi, nullptr, 0, static_cast<int>(wait_ms), nullptr) != CURLM_OK) {
      result = CURLE_FAILED_INIT;
      break;
    }
  }
  curl_multi_remove_handle(multi, easy);
  return result;
}

}  // namespace

struct HubClient::Response {
  long http_status = 0;
  std::string body;
  absl::optional<absl::Duration> retry_after;
  std::string redirect_url;
};

bool RequestDeadline::ExtendTo(absl::Time later) {
  const int64_t target = absl::ToUnixNanos(later == absl::InfiniteFuture() ? kNever : later);
  int64_t current = nanos_.load(std::memory_order_acquire);
  while (true) {
    if (current <= absl::ToUnixNanos(absl::Now())) return false;  // passed: the request ends
    if (target <= current) return true;
    if (nanos_.compare_exchange_weak(current, target, std::memory_order_acq_rel)) return true;
  }
}

// Holds one transfer's handles for the length of a request.
class HubClient::HandleLease {
 public:
  explicit HandleLease(HubClient* client) : client_(client), handles_(client->AcquireHandles()) {}
  ~HandleLease() {
    if (handles_.easy != nullptr) client_->ReleaseHandles(handles_);
  }
  HandleLease(const HandleLease&) = delete;
  HandleLease& operator=(const HandleLease&) = delete;

  CURL* easy() const { return static_cast<CURL*>(handles_.easy); }
  CURLM* multi() const { return static_cast<CURLM*>(handles_.multi); }

 private:
  HubClient* client_;
  Handles handles_;
};

HubClient::HubClient(HubClientOptions options)
    : options_(Normalized(std::move(options))),
      authorization_header_(options_.api_key.empty()
                                ? std::string()
                                : absl::StrCat("Authorization: Bearer ", options_.api_key)) {
  CurlReady();
}

HubClient::~HubClient() {
  absl::MutexLock lock(&mu_);
  for (const Handles& handles : idle_handles_) {
    curl_easy_cleanup(static_cast<CURL*>(handles.easy));
    curl_multi_cleanup(static_cast<CURLM*>(handles.multi));
  }
  idle_handles_.clear();
}

HubClient::Handles HubClient::AcquireHandles() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_handles_.empty()) {
      Handles handles = idle_handles_.back();
      idle_handles_.pop_back();
      return handles;
    }
  }
  if (!CurlReady()) return {};
  Handles handles{curl_easy_init(), curl_multi_init()};
  if (handles.easy == nullptr || handles.multi == nullptr) {
    if (handles.easy != nullptr) curl_easy_cleanup(static_cast<CURL*>(handles.easy));
    if (handles.multi != nullptr) curl_multi_cleanup(static_cast<CURLM*>(handles.multi));
    return {};
  }
  return handles;
}

void HubClient::ReleaseHandles(Handles handles) {
  // Forget this request's options (they point at its headers and buffers); the
  // open connections, in the multi handle's cache, and the DNS cache survive.
  curl_easy_reset(static_cast<CURL*>(handles.easy));
  {
    absl::MutexLock lock(&mu_);
    if (idle_handles_.size() < kMaxIdleHandles) {
      idle_handles_.push_back(handles);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(handles.easy));
  curl_multi_cleanup(static_cast<CURLM*>(handles.multi));
}

std::string HubClient::Redact(absl::string_view text) const {
  if (options_.api_key.empty()) return std::string(text);
  return absl::StrReplaceAll(text, {{options_.api_key, kRedacted}});
}

absl::string_view EndpointName(absl::string_view method, absl::string_view path) {
  if (path == "/models") return "list";
  if (path == "/models/search") return "search";
  if (method == "POST" && absl::EndsWith(path, "/activate")) return "activate";
  if (method == "POST" && absl::EndsWith(path, "/deactivate")) return "deactivate";
  return "retrieve";
}

absl::StatusOr<HubClient::Response> HubClient::Perform(absl::string_view method,
                                                       absl::string_view path,
                                                       absl::string_view query,
                                                       const RequestDeadline& deadline,
                                                       BodyPipe* pipe) {
  const std::string endpoint = absl::StrCat(method, " ", path);
  if (deadline.Get() <= absl::Now()) {
    return absl::DeadlineExceededError(
        absl::StrCat(endpoint, ": the caller's deadline has passed"));
  }
  HandleLease lease(this);
  CURL* curl = lease.easy();
  if (curl == nullptr) {
    return absl::InternalError(absl::StrCat(endpoint, ": libcurl could not be initialized"));
  }
  if (options_.base_url.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(endpoint, ": base_url is empty"));
  }
  if (!IsValidHeaderValue(options_.api_key)) {
    return absl::InvalidArgumentError(
        absl::StrCat(endpoint, ": api_key contains control characters"));
  }

  const std::string url = absl::StrCat(options_.base_url, path, query.empty() ? "" : "?", query);
  Response response;
  BodySink sink{curl, &response.body, options_.max_response_bytes, pipe};
  char error_buffer[CURL_ERROR_SIZE];
  error_buffer[0] = '\0';

  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr,
                                                                      &curl_slist_free_all);
  auto add_header = [&headers](const char* header) {
    curl_slist* list = curl_slist_append(headers.get(), header);
    if (list != nullptr) {
      headers.release();
      headers.reset(list);
    }
    return list != nullptr;
  };
  bool headers_ok = add_header("Accept: application/json");
  // These requests carry no body: no Content-Type for curl's form default.
  if (method == "POST") headers_ok = headers_ok && add_header("Content-Type:");
  if (!authorization_header_.empty()) {
    headers_ok = headers_ok && add_header(authorization_header_.c_str());
  }
  if (!headers_ok) return absl::ResourceExhaustedError(absl::StrCat(endpoint, ": out of memory"));

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  // Redirects are answered as errors, never followed: the bearer key stays with the hub.
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, TimeoutMillis(options_.connect_timeout));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, TimeoutMillis(options_.request_timeout));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  // Catalogs are tens of MB of repetitive JSON: let the hub compress them.
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(
      curl, CURLOPT_MAXFILESIZE_LARGE,
      static_cast<curl_off_t>(std::min<size_t>(options_.max_response_bytes, INT64_MAX)));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
  }

  const absl::Time start = absl::Now();
  bool past_deadline = false;
  CURLcode rc = Transfer(lease.multi(), curl, deadline, &past_deadline);
  const absl::Duration took = absl::Now() - start;
  if (rc != CURLE_OK) {
    absl::Status status =
        past_deadline
            ? absl::DeadlineExceededError(absl::StrCat(
                  endpoint, ": no answer before the caller's deadline; the request was abandoned"))
            : TransportError(rc, error_buffer, endpoint, sink);
    if (options_.on_response) options_.on_response(EndpointName(method, path), 0, took);
    Log(LogLevel::kDebug, "hub_request_failed",
        {{"method", method},
         {"path", path},
         {"code", absl::StatusCodeToString(status.code())},
         {"took", absl::FormatDuration(took)}});
    return absl::Status(status.code(), Redact(status.message()));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.http_status);
  curl_header* retry_after = nullptr;
  if (curl_easy_header(curl, "Retry-After", 0, CURLH_HEADER, -1, &retry_after) == CURLHE_OK) {
    response.retry_after = ParseRetryAfter(retry_after->value, absl::Now());
  }
  char* redirect_url = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &redirect_url) == CURLE_OK &&
      redirect_url != nullptr) {
    response.redirect_url = redirect_url;
  }
  if (options_.on_response) {
    options_.on_response(EndpointName(method, path), static_cast<int>(response.http_status), took);
  }
  Log(LogLevel::kDebug, "hub_request",
      {{"method", method},
       {"path", path},
       {"http_status", response.http_status},
       {"bytes", sink.received},
       {"took", absl::FormatDuration(took)}});
  return response;
}

absl::StatusOr<std::vector<RejectedRecord>> HubClient::StreamModelList(absl::string_view path,
                                                                       absl::string_view query,
                                                                       ModelSink on_model,
                                                                       absl::Time* received_at) {
  // The transfer runs on a thread of its own and hands a successful answer's body, as it
  // arrives, through a pipe of bounded size to the parser on this thread, which hands each
  // model on as it is read: neither the body nor the list is ever held whole. (The transfer
  // thread inherits this one's scheduling priority: a sync at idle priority stays there.)
  BodyPipe pipe;
  absl::StatusOr<Response> response = absl::UnknownError("no transfer");
  std::thread transfer([&] {
    const RequestDeadline no_deadline;  // request_timeout alone bounds it
    response = Perform("GET", path, query, no_deadline, &pipe);
    pipe.Close();
  });
  auto read = [&pipe] { return pipe.Read(); };
  absl::StatusOr<std::vector<RejectedRecord>> rejected = ParseModelList(TextSource(read), on_model);
  pipe.StopReading();  // a parse that stopped early (a malformed list) ends the transfer
  transfer.join();
  if (received_at != nullptr) *received_at = pipe.closed_at();

  // What went wrong first decides: the transport (a body over max_response_bytes among its
  // errors) unless it ended because the parser had stopped, then the hub's error status, then
  // the parser's verdict on a successful answer.
  if (!response.ok() && !pipe.WriterRefused()) return response.status();
  if (response.ok() && !IsSuccess(response->http_status)) {
    return HttpError(Redact(MessageInBody(response->body)), response->http_status,
                     response->retry_after, response->redirect_url);
  }
  if (!rejected.ok()) return MalformedList(path, rejected.status());
  return rejected;
}

absl::Status HubClient::MalformedList(absl::string_view path, const absl::Status& error) const {
  return absl::DataLossError(
      Redact(absl::StrCat("malformed response from GET ", path, ": ", error.message())));
}

absl::StatusOr<ParsedModelList> HubClient::GetModelList(absl::string_view path,
                                                        absl::string_view query) {
  ParsedModelList list;
  absl::StatusOr<std::vector<RejectedRecord>> rejected = StreamModelList(
      path, query, [&list](const v1::Model& model) { list.models.push_back(model); }, nullptr);
  if (!rejected.ok()) return rejected.status();
  list.rejected = *std::move(rejected);
  return list;
}

absl::StatusOr<v1::Model> HubClient::CallForModel(absl::string_view method, absl::string_view path,
                                                  absl::string_view query,
                                                  const RequestDeadline& deadline) {
  absl::StatusOr<Response> response = Perform(method, path, query, deadline);
  if (!response.ok()) return response.status();
  if (!IsSuccess(response->http_status)) {
    return HttpError(Redact(MessageInBody(response->body)), response->http_status,
                     response->retry_after, response->redirect_url);
  }
  absl::StatusOr<v1::Model> model = ParseModel(response->body);
  if (!model.ok()) {
    return absl::DataLossError(Redact(absl::StrCat("malformed response from ", method, " ", path,
                                                   ": ", model.status().message())));
  }
  return model;
}

namespace {

// The query string of GET /models for `filter`.
std::string ListQuery(const ListModelsFilter& filter) {
  std::string query;
  if (!filter.developer_name.empty()) {
    absl::StrAppend(&query, "developer_name=", PercentEncode(filter.developer_name));
  }
  if (!filter.action.empty()) {
    absl::StrAppend(&query, query.empty() ? "" : "&", "action=", PercentEncode(filter.action));
  }
  return query;
}

}  // namespace

absl::StatusOr<ParsedModelList> HubClient::ListModels(const ListModelsFilter& filter) {
  return GetModelList("/models", ListQuery(filter));
}

absl::StatusOr<std::vector<RejectedRecord>> HubClient::ListModels(const ListModelsFilter& filter,
                                                                  ModelSink on_model,
                                                                  absl::Time* received_at) {
  return StreamModelList("/models", ListQuery(filter), on_model, received_at);
}

absl::StatusOr<ParsedModelList> HubClient::SearchModels(absl::string_view query) {
  return GetModelList("/models/search", absl::StrCat("search=", PercentEncode(query)));
}

absl::StatusOr<v1::Model> HubClient::RetrieveModel(absl::string_view id,
                                                   bool live_deployment_status,
                                                   absl::Time deadline) {
  const RequestDeadline fixed(deadline);
  return RetrieveModel(id, live_deployment_status, fixed);
}

absl::StatusOr<v1::Model> HubClient::RetrieveModel(absl::string_view id,
                                                   bool live_deployment_status,
                                                   const RequestDeadline& deadline) {
  if (id.empty()) return absl::InvalidArgumentError("model id must not be empty");
  return CallForModel("GET", absl::StrCat("/models/", PathSegment(id)),
                      live_deployment_status ? "deployment_status=live" : "", deadline);
}

absl::StatusOr<v1::Model> HubClient::ActivateModel(absl::string_view id, absl::Time deadline) {
  if (id.empty()) return absl::InvalidArgumentError("model id must not be empty");
  const RequestDeadline fixed(deadline);
  return CallForModel("POST", absl::StrCat("/models/", PathSegment(id), "/activate"), "", fixed);
}

absl::StatusOr<v1::Model> HubClient::DeactivateModel(absl::string_view id, absl::Time deadline) {
  if (id.empty()) return absl::InvalidArgumentError("model id must not be empty");
  const RequestDeadline fixed(deadline);
  return CallForModel("POST", absl::StrCat("/models/", PathSegment(id), "/deactivate"), "", fixed);
}

void SetRetryAfter(absl::Status* status, absl::Duration retry_after) {
  status->SetPayload(kRetryAfterPayload, absl::Cord(absl::FormatDuration(retry_after)));
}

absl::optional<int> HttpStatusOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kHttpStatusPayload);
  int http_status = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &http_status)) {
    return absl::nullopt;
  }
  return http_status;
}

absl::optional<absl::Duration> RetryAfter(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kRetryAfterPayload);
  if (!payload.has_value()) return absl::nullopt;
  absl::Duration d;
  if (!absl::ParseDuration(std::string(*payload), &d)) return absl::nullopt;
  return d;
}

}  // namespace modelcatalog::hub
