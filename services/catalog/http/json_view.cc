#include "services/catalog/http/json_view.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clients/hub/model_json.h"
#include "services/common/json_text.h"

namespace modelcatalog::catalog {
namespace {

using modelcatalog::v1::ModelView;

constexpr absl::string_view kModelsPath = "/v1/models";
constexpr absl::string_view kModelPrefix = "/v1/models/";
// SearchModels (AIP-136 custom method): `query` (or `search`, the hub's name
// for it), `filter`, `view`, `page_size`, `page_token`.
constexpr absl::string_view kSearchPath = "/v1/models:search";
constexpr absl::string_view kValidateSuffix = ":validate";
constexpr absl::string_view kEstimateSuffix = ":estimate";

// The model as the hub's JSON; BASIC leaves out what ModelIn clears.
std::string ModelJson(const CatalogEntry& entry, ModelView view) {
  return view == modelcatalog::v1::MODEL_VIEW_BASIC ? hub::ModelToJson(ModelIn(entry, view))
                                                    : hub::ModelToJson(entry.model());
}

std::string ListBody(const ModelPage& page) {
  std::string body = R"({"object":"list","data":[)";
  for (size_t i = 0; i < page.positions.size(); ++i) {
    if (i > 0) body.push_back(',');
    body += ModelJson(page.snapshot->entry(page.positions[i]), page.view);
  }
  body += "]}";
  return body;
}

HttpReply ErrorReply(const absl::Status& status) {
  return HubError(HttpStatusFor(status), status.message());
}

// `view=basic|full` (any case, or the enum's names); FULL when absent.
absl::StatusOr<ModelView> ViewOf(const HttpRequest& request) {
  const std::string* view = request.FindQuery("view");
  if (view == nullptr || view->empty()) return modelcatalog::v1::MODEL_VIEW_FULL;
  const std::string name = absl::AsciiStrToLower(*view);
  if (name == "basic" || name == "model_view_basic") return modelcatalog::v1::MODEL_VIEW_BASIC;
  if (name == "full" || name == "model_view_full") return modelcatalog::v1::MODEL_VIEW_FULL;
  std::string message = "view must be basic or full, not ";
  AppendJsonString(&message, *view);
  return absl::InvalidArgumentError(message);
}

std::string QueryOr(const HttpRequest& request, absl::string_view name) {
  const std::string* value = request.FindQuery(name);
  return value == nullptr ? std::string() : *value;
}

}  // namespace

HttpReply HubError(int status, absl::string_view message) {
  std::string body = R"({"status":"error","status_message":)";
  AppendJsonString(&body, message);
  body.push_back('}');
  return HttpReply::Json(status, std::move(body));
}

int HttpStatusFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

bool JsonView::ReadsBody(absl::string_view path) {
  return absl::StartsWith(path, kModelPrefix) && absl::EndsWith(path, kValidateSuffix);
}

HttpReply JsonView::Handle(const HttpRequest& request) {
  const bool list = request.path == kModelsPath;
  const bool search = request.path == kSearchPath;
  const bool one =
      absl::StartsWith(request.path, kModelPrefix) && request.path.size() > kModelPrefix.size();
  if (!list && !search && !one) return HubError(404, absl::StrCat("Not found: ", request.path));
  // A custom method on one model (AIP-136): POST {id}:validate, GET {id}:estimate.
  const absl::string_view path = request.path;
  const bool validate = one && absl::EndsWith(path, kValidateSuffix);
  const bool estimate = one && absl::EndsWith(path, kEstimateSuffix);
  const char* allowed = validate ? "POST" : "GET, HEAD";
  if (validate ? request.method != "POST" : request.method != "GET" && request.method != "HEAD") {
    HttpReply reply = HubError(405, absl::StrCat("Method not allowed: ", request.method));
    reply.headers.emplace_back("Allow", allowed);
    return reply;
  }
  if (auth_ != nullptr) {
    const absl::Status allowed = auth_->Check(request.authorization, Access::kRead);
    if (!allowed.ok()) {
      // RFC 6750: a missing token gets the bare challenge, a wrong one says so.
      HttpReply reply = HubError(401, allowed.message());
      reply.headers.emplace_back("WWW-Authenticate",
                                 request.authorization.empty()
                                     ? R"(Bearer realm="model-catalog")"
                                     : R"(Bearer realm="model-catalog", error="invalid_token")");
      return reply;
    }
  }
  if (search) return Search(request);
  const absl::string_view id = one ? path.substr(kModelPrefix.size()) : absl::string_view();
  if (validate) return Validate(request, id.substr(0, id.size() - kValidateSuffix.size()));
  if (estimate) return Estimate(request, id.substr(0, id.size() - kEstimateSuffix.size()));
  return list ? List(request) : Get(request, id);
}

HttpReply JsonView::Search(const HttpRequest& request) const {
  absl::StatusOr<ModelView> view = ViewOf(request);
  if (!view.ok()) return ErrorReply(view.status());
  modelcatalog::v1::SearchModelsRequest search;
  const std::string query = QueryOr(request, "query");
  search.set_query(query.empty() ? QueryOr(request, "search") : query);
  search.set_filter(QueryOr(request, "filter"));
  search.set_page_token(QueryOr(request, "page_token"));
  search.set_view(*view);
  const std::string page_size = QueryOr(request, "page_size");
  if (!page_size.empty()) {
    int32_t size = 0;
    if (!absl::SimpleAtoi(page_size, &size)) {
      std::string message = "page_size must be a whole number, not ";
      AppendJsonString(&message, page_size);
      return ErrorReply(absl::InvalidArgumentError(message));
    }
    search.set_page_size(size);
  }
  absl::StatusOr<ModelPage> page = catalog_->SearchPage(search);
  if (!page.ok()) return ErrorReply(page.status());
  // The list's shape, with what paging needs after it.
  std::string body = ListBody(*page);
  body.pop_back();  // the closing brace
  absl::StrAppend(&body, R"(,"total_size":)", page->total_size, R"(,"next_page_token":)");
  AppendJsonString(&body, page->next_page_token);
  body.push_back('}');
  return HttpReply::Json(200, std::move(body));
}

HttpReply JsonView::Get(const HttpRequest& request, absl::string_view id) const {
  absl::StatusOr<ModelView> view = ViewOf(request);
  if (!view.ok()) return ErrorReply(view.status());
  modelcatalog::v1::GetModelRequest get;
  get.set_id(std::string(id));
  get.set_view(*view);
  absl::StatusOr<ModelRef> model = catalog_->FindModel(get);
  if (!model.ok()) return ErrorReply(model.status());
  return HttpReply::Json(200, ModelJson(model->entry(), model->view));
}

HttpReply JsonView::List(const HttpRequest& request) {
  absl::StatusOr<ModelView> view = ViewOf(request);
  if (!view.ok()) return ErrorReply(view.status());
  modelcatalog::v1::ListModelsRequest list;
  list.set_developer_name(QueryOr(request, "developer_name"));
  list.set_action(QueryOr(request, "action"));
  list.set_filter(QueryOr(request, "filter"));
  list.set_order_by(QueryOr(request, "order_by"));
  list.set_view(*view);
  const bool whole_catalog = list.developer_name().empty() && list.action().empty() &&
                             list.filter().empty() && list.order_by().empty();
  absl::StatusOr<ModelPage> page = catalog_->ListAll(list);
  if (!page.ok()) return ErrorReply(page.status());
  if (!whole_catalog) return HttpReply::Json(200, ListBody(*page));

  // The whole catalog: what most readers of this view ask for, and the
  // largest body; rendered once per snapshot.
  absl::MutexLock lock(&mu_);
  RenderedList& rendered =
      page->view == modelcatalog::v1::MODEL_VIEW_BASIC ? rendered_basic_ : rendered_full_;
  if (rendered.snapshot != page->snapshot) {
    rendered.body = std::make_shared<const std::string>(ListBody(*page));
    rendered.snapshot = page->snapshot;
  }
  return {200, "application/json", rendered.body, {}};
}

}  // namespace modelcatalog::catalog
