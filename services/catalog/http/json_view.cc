#include "services/catalog/http/json_view.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/hub/model_json.h"
#include "services/catalog/model/text_fold.h"
#include "services/common/json_text.h"

namespace modelcatalog::catalog {
namespace {

constexpr absl::string_view kModelsPath = "/v1/models";
constexpr absl::string_view kModelPrefix = "/v1/models/";

std::string ListBody(const CatalogSnapshot& snapshot, const std::vector<uint32_t>& positions) {
  std::string body = R"({"object":"list","data":[)";
  for (size_t i = 0; i < positions.size(); ++i) {
    if (i > 0) body.push_back(',');
    body += hub::ModelToJson(snapshot.entry(positions[i]).model());
  }
  body += "]}";
  return body;
}

HttpReply NotLoaded() {
  return HubError(503, "the catalog has not been loaded from the hub yet: retry shortly");
}

}  // namespace

HttpReply HubError(int status, absl::string_view message) {
  std::string body = R"({"status":"error","status_message":)";
  AppendJsonString(&body, message);
  body.push_back('}');
  return HttpReply::Json(status, std::move(body));
}

HttpReply JsonView::Handle(const HttpRequest& request) {
  const bool list = request.path == kModelsPath;
  const bool one =
      absl::StartsWith(request.path, kModelPrefix) && request.path.size() > kModelPrefix.size();
  if (!list && !one) return HubError(404, absl::StrCat("Not found: ", request.path));
  if (request.method != "GET" && request.method != "HEAD") {
    HttpReply reply = HubError(405, absl::StrCat("Method not allowed: ", request.method));
    reply.headers.emplace_back("Allow", "GET, HEAD");
    return reply;
  }
  if (auth_ != nullptr) {
    const absl::Status allowed = auth_->Check(request.authorization, Access::kRead);
    if (!allowed.ok()) {
      // RFC 6750: a missing token gets the bare challenge, a wrong one says so.
      HttpReply reply = HubError(401, allowed.message());
      reply.headers.emplace_back(
          "WWW-Authenticate", request.authorization.empty()
                                  ? R"(Bearer realm="model-catalog")"
                                  : R"(Bearer realm="model-catalog", error="invalid_token")");
      return reply;
    }
  }
  return list ? List(request) : Get(absl::string_view(request.path).substr(kModelPrefix.size()));
}

HttpReply JsonView::Get(absl::string_view id) const {
  const std::shared_ptr<const CatalogSnapshot> snapshot = store_->Current();
  if (snapshot == nullptr) return NotLoaded();
  const CatalogEntry* entry = snapshot->Find(id);
  if (entry == nullptr) return HubError(404, absl::StrCat("Model not found: ", id));
  return HttpReply::Json(200, hub::ModelToJson(entry->model()));
}

HttpReply JsonView::List(const HttpRequest& request) {
  const std::shared_ptr<const CatalogSnapshot> snapshot = store_->Current();
  if (snapshot == nullptr) return NotLoaded();
  const std::string* developer = request.FindQuery("developer_name");
  const std::string* action = request.FindQuery("action");
  const bool by_developer = developer != nullptr && !developer->empty();
  const bool by_action = action != nullptr && !action->empty();
  if (!by_developer && !by_action) {
    absl::MutexLock lock(&mu_);
    if (rendered_for_ != snapshot) {
      std::vector<uint32_t> all(snapshot->size());
      for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
      rendered_list_ = std::make_shared<const std::string>(ListBody(*snapshot, all));
      rendered_for_ = snapshot;
    }
    return {200, "application/json", rendered_list_, {}};
  }
  // The snapshot's filter indexes, as ListModels uses them.
  const absl::Span<const uint32_t> developers =
      by_developer ? snapshot->WithDeveloper(FoldCase(*developer)) : absl::Span<const uint32_t>();
  const absl::Span<const uint32_t> actions =
      by_action ? snapshot->WithAction(*action) : absl::Span<const uint32_t>();
  std::vector<uint32_t> positions;
  for (uint32_t p : by_developer ? developers : actions) {
    if (by_developer && by_action && !std::binary_search(actions.begin(), actions.end(), p)) {
      continue;
    }
    positions.push_back(p);
  }
  return HttpReply::Json(200, ListBody(*snapshot, positions));
}

}  // namespace modelcatalog::catalog
