// The catalog as the hub itself shows it, for people and tools that speak
// HTTP rather than gRPC:
//   GET /v1/models        the hub's list object (OpenAI-compatible); its
//                         `developer_name` and `action` filters work as the hub's do
//   GET /v1/models/{id}   one model, or 404 with the hub's error envelope
// Served from the snapshot in memory, like the gRPC reads; the unfiltered list
// is rendered once per catalog revision and then shared by every response.
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
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/catalog/api/caller_auth.h"
#include "services/catalog/model/catalog_store.h"
#include "services/catalog/http/http_listener.h"

namespace modelcatalog::catalog {

class JsonView {
 public:
  // `auth` may be null: every caller is let in.
  JsonView(const CatalogStore* store, const CallerAuth* auth) : store_(store), auth_(auth) {}

  HttpReply Handle(const HttpRequest& request) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  HttpReply List(const HttpRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  HttpReply Get(absl::string_view id) const;

  const CatalogStore* const store_;
  const CallerAuth* const auth_;
  absl::Mutex mu_;
  // The unfiltered list's body for the snapshot it was rendered from.
  std::shared_ptr<const CatalogSnapshot> rendered_for_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const std::string> rendered_list_ ABSL_GUARDED_BY(mu_);
};

// The hub's error envelope: {"status":"error","status_message":"..."}.
HttpReply HubError(int status, absl::string_view message);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_HTTP_JSON_VIEW_H_
