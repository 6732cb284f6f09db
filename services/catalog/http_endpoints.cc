#include "services/catalog/http_endpoints.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/hub/model_json.h"
#include "services/catalog/text_fold.h"
#include "services/common/json_text.h"

namespace modelcatalog::catalog {
namespace {

// The hub's error envelope.
http::HttpResponse Error(int status, absl::string_view message) {
  std::string body = R"({"status":"error","status_message":)";
  AppendJsonString(&body, message);
  body.push_back('}');
  return http::HttpResponse::Json(status, std::move(body));
}

std::string ListBody(const CatalogSnapshot& snapshot, const std::vector<size_t>& positions) {
  std::string body = R"({"object":"list","data":[)";
  for (size_t i = 0; i < positions.size(); ++i) {
    if (i > 0) body.push_back(',');
    body += hub::ModelToJson(snapshot.entry(positions[i]).model());
  }
  body += "]}";
  return body;
}

}  // namespace

http::HttpResponse HttpEndpoints::Handle(const http::HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    http::HttpResponse response = Error(405, "only GET is served here");
    response.SetHeader("Allow", "GET, HEAD");
    return response;
  }
  if (request.path == "/metrics") {
    http::HttpResponse response = http::HttpResponse::Text(200, registry_->Render());
    response.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return response;
  }
  if (request.path == "/v1/models") return ListModels(request);
  if (request.path == "/healthz") {
    return store_->Current() != nullptr ? http::HttpResponse::Text(200, "SERVING\n")
                                        : http::HttpResponse::Text(503, "NOT_SERVING\n");
  }
  constexpr absl::string_view kModelPrefix = "/v1/models/";
  if (absl::StartsWith(request.path, kModelPrefix) && request.path.size() > kModelPrefix.size()) {
    const std::shared_ptr<const CatalogSnapshot> snapshot = store_->Current();
    if (snapshot == nullptr) return Error(503, "the catalog has not been loaded from the hub yet");
    const std::string id = request.path.substr(kModelPrefix.size());
    const CatalogEntry* entry = snapshot->Find(id);
    if (entry == nullptr) return Error(404, absl::StrCat("Model not found: ", id));
    return http::HttpResponse::Json(200, hub::ModelToJson(entry->model()));
  }
  return Error(404, absl::StrCat("no such page: ", request.path));
}

http::HttpResponse HttpEndpoints::ListModels(const http::HttpRequest& request) {
  const std::shared_ptr<const CatalogSnapshot> snapshot = store_->Current();
  if (snapshot == nullptr) return Error(503, "the catalog has not been loaded from the hub yet");
  const std::string* developer = request.FindQueryParam("developer_name");
  const std::string* action = request.FindQueryParam("action");
  const bool filtered = (developer && !developer->empty()) || (action && !action->empty());
  if (!filtered) {
    absl::MutexLock lock(&mu_);
    if (rendered_for_ != snapshot) {
      std::vector<size_t> all(snapshot->size());
      for (size_t i = 0; i < all.size(); ++i) all[i] = i;
      rendered_list_ = std::make_shared<const std::string>(ListBody(*snapshot, all));
      rendered_for_ = snapshot;
    }
    return http::HttpResponse::Json(200, *rendered_list_);
  }
  // The snapshot's filter indexes, as ListModels uses them.
  const bool by_developer = developer && !developer->empty();
  const bool by_action = action && !action->empty();
  const absl::Span<const uint32_t> developers =
      by_developer ? snapshot->WithDeveloper(FoldCase(*developer)) : absl::Span<const uint32_t>();
  const absl::Span<const uint32_t> actions =
      by_action ? snapshot->WithAction(*action) : absl::Span<const uint32_t>();
  std::vector<size_t> positions;
  for (uint32_t p : by_developer ? developers : actions) {
    if (by_developer && by_action && !std::binary_search(actions.begin(), actions.end(), p)) continue;
    positions.push_back(p);
  }
  return http::HttpResponse::Json(200, ListBody(*snapshot, positions));
}

}  // namespace modelcatalog::catalog
