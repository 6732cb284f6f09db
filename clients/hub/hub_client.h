// A faithful client of the hub's HTTP JSON model API: one call per endpoint, no retries,
// no caching. A later layer decides about backoff, using the codes and RetryAfter() below.
//
// Errors, for every call:
// - The hub answered with an error status. The message is the hub's own, read from its
//   envelope `{"status":"error","status_message":"..."}` (also `{"error":"..."}`,
//   `{"error":{"message":"..."}}`, `{"message":"..."}`), else a short plain-text body, else
//   `HTTP <code>`. Codes: 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED,
//   404 NOT_FOUND, 409 FAILED_PRECONDITION, 429 RESOURCE_EXHAUSTED, 500 INTERNAL,
//   502/503/504 UNAVAILABLE, any other (3xx included: redirects are never followed, so the
//   bearer key never travels to another address) UNKNOWN. A Retry-After header on an
//   error response is attached to the status, read by RetryAfter().
// - The hub answered 2xx with a body that is not what the endpoint returns (not JSON,
//   the wrong shape, a model that does not read, an empty body): DATA_LOSS,
//   `malformed response from GET /models: <parser message>`. A broken hub is thereby told
//   apart from a bad request (INVALID_ARGUMENT).
// - Transport: no connection (refused, DNS, TLS, reset, a body cut short) UNAVAILABLE;
//   `request_timeout` or `connect_timeout` elapsed DEADLINE_EXCEEDED; a body larger than
//   `max_response_bytes` RESOURCE_EXHAUSTED (with no RetryAfter: waiting does not help);
//   a `base_url` curl cannot use, or an `api_key` with control characters, INVALID_ARGUMENT. These
//   messages name the endpoint
//   (`GET /models/x: ...`), never the URL's query.
// The api key never appears in a message or a log line: should the hub echo it back, it
// is replaced by `<redacted>`.
#ifndef MODEL_CATALOG_CLIENTS_HUB_HUB_CLIENT_H_
#define MODEL_CATALOG_CLIENTS_HUB_HUB_CLIENT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "clients/hub/model_json.h"
#include "modelcatalog/v1/model.pb.h"

namespace modelcatalog::hub {

struct HubClientOptions {
  // The API's root; endpoints are appended to it: /models, /models/search, /models/{id},
  // /models/{id}/activate, /models/{id}/deactivate. E.g. "https://hub.oxen.ai/api/ai".
  // A trailing '/' is ignored.
  std::string base_url;
  // Sent as "Authorization: Bearer <key>" when non-empty. Never logged, never in a message.
  // Surrounding whitespace (a key file's newline) is ignored; a control character inside
  // makes every call INVALID_ARGUMENT.
  std::string api_key;
  // Time to establish the connection. Zero, negative or infinite: curl's default (300s).
  absl::Duration connect_timeout = absl::Seconds(5);
  // Time for the whole request, connection included. Zero, negative or infinite: no limit.
  absl::Duration request_timeout = absl::Seconds(30);
  // Largest response body accepted (after decompression).
  size_t max_response_bytes = 512 << 20;
  // Told of every request that got an answer or failed in transport: the
  // endpoint ("list", "search", "retrieve", "activate", "deactivate"), the
  // HTTP status (0 when there was no answer) and how long it took. For metrics.
  std::function<void(absl::string_view endpoint, int http_status, absl::Duration took)> on_response;
};

// The endpoint a request went to, by the names HubClientOptions::on_response uses.
absl::string_view EndpointName(absl::string_view method, absl::string_view path);

// When a request must end. A request made for several callers (a live look-up
// they share) ends at the last of their deadlines, so its deadline may move
// later while it runs, never earlier. Thread-safe.
class RequestDeadline {
 public:
  explicit RequestDeadline(absl::Time at = absl::InfiniteFuture())
      : nanos_(absl::ToUnixNanos(at == absl::InfiniteFuture() ? kNever : at)) {}
  RequestDeadline(const RequestDeadline&) = delete;
  RequestDeadline& operator=(const RequestDeadline&) = delete;

  absl::Time Get() const {
    const int64_t nanos = nanos_.load(std::memory_order_acquire);
    return nanos == absl::ToUnixNanos(kNever) ? absl::InfiniteFuture() : absl::FromUnixNanos(nanos);
  }
  // Moves the deadline to `later` when that is later. False, and nothing
  // moves, once it has passed: the request is ending or over.
  bool ExtendTo(absl::Time later);

 private:
  // InfiniteFuture as nanoseconds: the largest time they can hold.
  static constexpr absl::Time kNever = absl::FromUnixNanos(INT64_MAX);
  std::atomic<int64_t> nanos_;
};

// Filters of ListModels; an empty field does not filter.
struct ListModelsFilter {
  // Only models of this developer, e.g. "openai".
  std::string developer_name;
  // Only models supporting this fine-tuning action type.
  std::string action;
};

// Thread-safe: calls may run concurrently. Connections are kept alive between calls.
class HubClient {
 public:
  explicit HubClient(HubClientOptions options);
  ~HubClient();

  HubClient(const HubClient&) = delete;
  HubClient& operator=(const HubClient&) = delete;

  // GET /models. Records the parser rejects come back in `rejected`; the call still succeeds.
  absl::StatusOr<ParsedModelList> ListModels(const ListModelsFilter& filter = {});
  // GET /models, each readable model handed to `on_model` as soon as it is parsed, while the
  // list is still arriving (see ParseModelList with a TextSource): for a caller that keeps
  // something else than the messages. Neither the body nor the list is ever held whole, so
  // memory does not grow with the hub's answer. Returns the rejected records. On an error,
  // `on_model` may have received models already, which the caller drops. `received_at`, when
  // given, is set to when the last byte of the list had arrived.
  absl::StatusOr<std::vector<RejectedRecord>> ListModels(const ListModelsFilter& filter,
                                                         ModelSink on_model,
                                                         absl::Time* received_at = nullptr);

  // GET /models/search?search=<query>.
  absl::StatusOr<ParsedModelList> SearchModels(absl::string_view query);

  // GET /models/{id}, with ?deployment_status=live to have the hub refresh the deployments'
  // status from their provider first. INVALID_ARGUMENT for an empty id, without a request;
  // NOT_FOUND (`Model not found: <id>`) when the hub has no such model.
  //
  // RetrieveModel, ActivateModel and DeactivateModel take the caller's `deadline`: the
  // request ends at the earlier of it and `request_timeout` after its start (and the
  // connection is closed), and a deadline already past is DEADLINE_EXCEEDED without a
  // request. A RequestDeadline may be moved later while the request runs.
  absl::StatusOr<modelcatalog::v1::Model> RetrieveModel(
      absl::string_view id, bool live_deployment_status = false,
      absl::Time deadline = absl::InfiniteFuture());
  absl::StatusOr<modelcatalog::v1::Model> RetrieveModel(absl::string_view id,
                                                        bool live_deployment_status,
                                                        const RequestDeadline& deadline);

  // POST /models/{id}/activate: activates an inactive custom model's deployment. The hub
  // answers INVALID_ARGUMENT for a base model (always active).
  absl::StatusOr<modelcatalog::v1::Model> ActivateModel(
      absl::string_view id, absl::Time deadline = absl::InfiniteFuture());

  // POST /models/{id}/deactivate: deactivates an active custom model's deployment.
  absl::StatusOr<modelcatalog::v1::Model> DeactivateModel(
      absl::string_view id, absl::Time deadline = absl::InfiniteFuture());

  const std::string& base_url() const { return options_.base_url; }

  // Carries a list's body from the transfer to the parser (hub_client.cc).
  class BodyPipe;

 private:
  struct Response;
  class HandleLease;

  // Performs one request; `path` is percent-encoded already, `query` a ready query string.
  // With a `pipe`, a successful answer's body goes into it as it arrives (the caller reads it
  // from another thread and closes the pipe) rather than into the Response.
  absl::StatusOr<Response> Perform(absl::string_view method, absl::string_view path,
                                   absl::string_view query, const RequestDeadline& deadline,
                                   BodyPipe* pipe = nullptr);
  // GET of a model list, each model handed to `on_model` as it is read from the transfer.
  absl::StatusOr<std::vector<RejectedRecord>> StreamModelList(absl::string_view path,
                                                              absl::string_view query,
                                                              ModelSink on_model,
                                                              absl::Time* received_at);
  absl::StatusOr<ParsedModelList> GetModelList(absl::string_view path, absl::string_view query);
  // The error of a list body that does not parse.
  absl::Status MalformedList(absl::string_view path, const absl::Status& error) const;
  absl::StatusOr<modelcatalog::v1::Model> CallForModel(absl::string_view method,
                                                       absl::string_view path,
                                                       absl::string_view query,
                                                       const RequestDeadline& deadline);
  // Replaces the api key in hub-provided text.
  std::string Redact(absl::string_view text) const;

  // A transfer's handles, kept for reuse: the multi handle drives the easy one
  // (so a request can end at a deadline that moves) and holds its open
  // connections, so reuse is keep-alive.
  struct Handles {
    void* easy = nullptr;
    void* multi = nullptr;
  };
  Handles AcquireHandles();
  void ReleaseHandles(Handles handles);

  const HubClientOptions options_;
  const std::string authorization_header_;  // empty without an api key
  absl::Mutex mu_;
  std::vector<Handles> idle_handles_ ABSL_GUARDED_BY(mu_);
};

// The HTTP status of the hub's answer, as carried by a status this client
// returned for an error response; absl::nullopt when the hub did not answer
// (a transport error) or answered 2xx with a body that does not read.
absl::optional<int> HttpStatusOf(const absl::Status& status);

// The hub's Retry-After on an error response (seconds or an HTTP date), as carried by a
// status this client returned; absl::nullopt when there was none.
absl::optional<absl::Duration> RetryAfter(const absl::Status& status);
// Attaches a Retry-After to `status`, as this client does for the hub's.
void SetRetryAfter(absl::Status* status, absl::Duration retry_after);

}  // namespace modelcatalog::hub

#endif  // MODEL_CATALOG_CLIENTS_HUB_HUB_CLIENT_H_
