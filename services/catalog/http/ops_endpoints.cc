#include "services/catalog/http/ops_endpoints.h"

#include "absl/strings/str_cat.h"
#include "services/catalog/http/json_view.h"

namespace modelcatalog::catalog {

HttpReply OpsEndpoints::Handle(const HttpRequest& request) const {
  const bool metrics = request.path == "/metrics";
  const bool healthz = request.path == "/healthz";
  if (!metrics && !healthz) return HubError(404, absl::StrCat("Not found: ", request.path));
  if (request.method != "GET" && request.method != "HEAD") {
    HttpReply reply = HubError(405, absl::StrCat("Method not allowed: ", request.method));
    reply.headers.emplace_back("Allow", "GET, HEAD");
    return reply;
  }
  if (metrics) {
    HttpReply reply = HttpReply::Text(200, registry_->Render());
    reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return reply;
  }
  return store_->Current() != nullptr ? HttpReply::Text(200, "SERVING\n")
                                      : HttpReply::Text(503, "NOT_SERVING\n");
}

}  // namespace modelcatalog::catalog
