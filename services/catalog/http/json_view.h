// The catalog as the hub itself shows it, for people and tools that speak
// HTTP rather than gRPC:
//   GET /v1/models        the hub's list object (OpenAI-compatible); its
//                         `developer_name` and `action` filters work as the hub's
//                         do, and ListModels' own `filter`, `order_by` and `view`
//                         (basic | full) work as on gRPC
//   GET /v1/models/{id}   one model (`view` too), or 404 with the hub's error envelope
//   POST /v1/models/{id}:validate   ValidateRequest: the body is the request's
//                         parameters as JSON; the answer ValidateRequestResponse
//                         in JSON (field names as in the proto)
//   GET /v1/models/{id}:estimate    EstimateCost of one model: the usage as
//                         query parameters (input_tokens=1000&output_tokens=200,
//                         seconds, images, video_output_seconds, high_res,
//                         with_audio); the answer the model's CostEstimate in JSON
// Models come in the FULL view unless `view=basic` asks otherwise, as the hub
// serves them; the list is not paged, as the hub's is not. Served from the
// snapshot in memory through the gRPC reads' own logic (CatalogServiceImpl), so
// a query means the same on both ports; its errors come back in the hub's error
// envelope (400 for a filter that does not parse). The unfiltered list is
// rendered once per catalog revision and view and then shared by every response.
//
// The view serves catalog data, so it holds to the gRPC port's rules: with
// caller tokens, a request needs `Authorization: Bearer <token>` (a read token
// is enough), else 401 with `WWW-Authenticate: Bearer`; and its listener serves
// TLS whenever the gRPC port does (see CatalogServer).
#ifndef MODEL_CATALOG_SERVICES_CATALOG_HTTP_JSON_VIEW_H_
#define MODEL_CATALOG_SERVICES_CATALOG_HTTP_JSON_VIEW_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/catalog/api/caller_auth.h"
#include "services/catalog/api/catalog_service_impl.h"
#include "services/catalog/http/http_listener.h"

namespace modelcatalog::catalog {

class JsonView {
 public:
  // `auth` may be null: every caller is let in.
  JsonView(const CatalogServiceImpl* catalog, const CallerAuth* auth)
      : catalog_(catalog), auth_(auth) {}

  HttpReply Handle(const HttpRequest& request) ABSL_LOCKS_EXCLUDED(mu_);

  // The requests whose body Handle reads (HttpListenerOptions::reads_body):
  // POST {id}:validate.
  static bool ReadsBody(absl::string_view path);

 private:
  // The unfiltered list's body in one view, for the snapshot it was rendered from.
  struct RenderedList {
    std::shared_ptr<const CatalogSnapshot> snapshot;
    std::shared_ptr<const std::string> body;
  };

  HttpReply List(const HttpRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  HttpReply Get(const HttpRequest& request, absl::string_view id) const;
  HttpReply Search(const HttpRequest& request) const;
  // json_view_calls.cc:
  HttpReply Validate(const HttpRequest& request, absl::string_view id) const;
  HttpReply Estimate(const HttpRequest& request, absl::string_view id) const;

  const CatalogServiceImpl* const catalog_;
  const CallerAuth* const auth_;
  absl::Mutex mu_;
  RenderedList rendered_basic_ ABSL_GUARDED_BY(mu_);
  RenderedList rendered_full_ ABSL_GUARDED_BY(mu_);
};

// The hub's error envelope: {"status":"error","status_message":"..."}.
HttpReply HubError(int status, absl::string_view message);

// The HTTP status that stands for a non-OK `status`: 400 for INVALID_ARGUMENT,
// FAILED_PRECONDITION and OUT_OF_RANGE,
// 404 NOT_FOUND, 503 UNAVAILABLE, 429 RESOURCE_EXHAUSTED, else 500.
int HttpStatusFor(const absl::Status& status);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_HTTP_JSON_VIEW_H_
