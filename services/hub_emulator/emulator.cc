#include "services/hub_emulator/emulator.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "services/common/log.h"
#include "services/hub_emulator/text.h"

namespace modelcatalog {
namespace hub_emulator {
namespace {

using http::HttpRequest;
using http::HttpResponse;

constexpr absl::string_view kApiPrefix = "/api/ai";
constexpr absl::string_view kControlPrefix = "/_control";

HttpResponse JsonResponse(int status, std::string body) {
  return HttpResponse::Json(status, std::move(body));
}

HttpResponse Error(int status, absl::string_view message) {
  return JsonResponse(status, ErrorJson(message));
}

HttpResponse MethodNotAllowed(const HttpRequest& request, absl::string_view allowed) {
  HttpResponse response = Error(405, absl::StrCat("Method not allowed: ", request.method, " ",
                                                  request.path, " (allowed: ", allowed, ")"));
  response.SetHeader("Allow", allowed);
  return response;
}

HttpResponse RouteNotFound(const HttpRequest& request) {
  return Error(404, absl::StrCat("Not found: ", request.method, " ", request.path));
}

HttpResponse Ok() { return JsonResponse(200, "{\"status\":\"ok\"}"); }

absl::string_view EndpointName(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kList:
      return "list";
    case Endpoint::kSearch:
      return "search";
    case Endpoint::kRetrieve:
      return "retrieve";
    case Endpoint::kActivate:
      return "activate";
    case Endpoint::kDeactivate:
      return "deactivate";
  }
  return "any";
}

// If `raw_path` is `prefix` or below it, sets `*segments` to the decoded path
// segments after it: "/api/ai/models/a%2Fb" gives ["models", "a/b"]. Splitting
// before decoding is what lets an id contain an encoded "/".
bool SplitUnder(absl::string_view raw_path, absl::string_view prefix,
                absl::StatusOr<std::vector<std::string>>* segments) {
  if (!absl::ConsumePrefix(&raw_path, prefix)) return false;
  if (!raw_path.empty() && raw_path[0] != '/') return false;  // "/api/aix"
  std::vector<std::string> out;
  if (!raw_path.empty()) {
    raw_path.remove_prefix(1);
    for (absl::string_view piece : absl::StrSplit(raw_path, '/')) {
      absl::StatusOr<std::string> decoded = http::PercentDecode(piece);
      if (!decoded.ok()) {
        *segments = decoded.status();
        return true;
      }
      out.push_back(*std::move(decoded));
    }
  }
  *segments = std::move(out);
  return true;
}

bool IsString(const rapidjson::Value& value, absl::string_view text) {
  return value.IsString() && absl::string_view(value.GetString(), value.GetStringLength()) == text;
}

rapidjson::Value MakeString(absl::string_view text, rapidjson::Document::AllocatorType& alloc) {
  return rapidjson::Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), alloc);
}

// Sets `object[key]` to `value`, adding the member (at the end) if absent.
void SetMember(rapidjson::Value& object, absl::string_view key, rapidjson::Value value,
               rapidjson::Document::AllocatorType& alloc) {
  const auto it = object.FindMember(
      rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size())));
  if (it != object.MemberEnd()) {
    it->value = value;
  } else {
    object.AddMember(MakeString(key, alloc), value, alloc);
  }
}

// The model's "deployments" array, created (empty) if missing or not an array.
rapidjson::Value& Deployments(rapidjson::Document& model) {
  const auto it = model.FindMember("deployments");
  if (it != model.MemberEnd() && it->value.IsArray()) return it->value;
  SetMember(model, "deployments", rapidjson::Value(rapidjson::kArrayType), model.GetAllocator());
  return model["deployments"];
}

// A new deployment for a model that had none: {"id":"<model id>-1","status":...}.
rapidjson::Value NewDeployment(absl::string_view model_id, absl::string_view status,
                               rapidjson::Document::AllocatorType& alloc) {
  rapidjson::Value deployment(rapidjson::kObjectType);
  deployment.AddMember("id", MakeString(absl::StrCat(model_id, "-1"), alloc), alloc);
  deployment.AddMember("status", MakeString(status, alloc), alloc);
  return deployment;
}

// Sets the status of every deployment object, keeping their other fields.
void SetAllStatuses(rapidjson::Document& model, absl::string_view status) {
  auto& alloc = model.GetAllocator();
  for (auto& deployment : Deployments(model).GetArray()) {
    if (deployment.IsObject()) SetMember(deployment, "status", MakeString(status, alloc), alloc);
  }
}

// Whether every deployment's status is one of `statuses` (true when there are none).
bool AllStatusesIn(const rapidjson::Value& model,
                   std::initializer_list<absl::string_view> statuses) {
  const auto it = model.FindMember("deployments");
  if (it == model.MemberEnd() || !it->value.IsArray()) return true;
  for (const auto& deployment : it->value.GetArray()) {
    if (!deployment.IsObject()) return false;
    const auto status = deployment.FindMember("status");
    if (status == deployment.MemberEnd()) return false;
    bool known = false;
    for (absl::string_view s : statuses) known = known || IsString(status->value, s);
    if (!known) return false;
  }
  return true;
}

size_t DeploymentCount(const rapidjson::Value& model) {
  const auto it = model.FindMember("deployments");
  return it != model.MemberEnd() && it->value.IsArray() ? it->value.Size() : 0;
}

// Whether `request` carries exactly "Authorization: Bearer <key>".
bool Authorized(const HttpRequest& request, absl::string_view key) {
  const std::string* header = request.FindHeader("Authorization");
  if (header == nullptr) return false;
  absl::string_view value = *header;
  // The scheme name is case-insensitive (RFC 9110 section 11.1); the key is not.
  if (value.size() < 7 || !absl::EqualsIgnoreCase(value.substr(0, 7), "Bearer ")) return false;
  return absl::StripAsciiWhitespace(value.substr(7)) == key;
}

}  // namespace

HubEmulator::HubEmulator(std::vector<CatalogModel> initial_catalog, HubEmulatorOptions options)
    : options_(std::move(options)), initial_catalog_(std::move(initial_catalog)) {
  absl::MutexLock lock(&mu_);
  models_ = initial_catalog_;
  RebuildIndexLocked();
}

absl::Time HubEmulator::Now() const { return options_.clock ? options_.clock() : absl::Now(); }

HttpResponse HubEmulator::Handle(const HttpRequest& request) {
  HttpResponse response;
  absl::StatusOr<std::vector<std::string>> segments;
  if (SplitUnder(request.raw_path, kApiPrefix, &segments)) {
    response = segments.ok()
                   ? HandleApi(request, *segments)
                   : Error(400, absl::StrCat("Invalid path: ", segments.status().message()));
  } else if (SplitUnder(request.raw_path, kControlPrefix, &segments)) {
    response = segments.ok()
                   ? HandleControl(request, *segments)
                   : Error(400, absl::StrCat("Invalid path: ", segments.status().message()));
  } else {
    response = RouteNotFound(request);
  }
  Log(LogLevel::kDebug, "request",
      {{"method", request.method},
       {"target", request.target},
       {"status", absl::StrCat(response.status)},
       {"peer", request.peer}});
  return response;
}

// ---------------------------------------------------------------------------
// /api/ai

HttpResponse HubEmulator::HandleApi(const HttpRequest& request,
                                    const std::vector<std::string>& segments) {
  // Route first, but answer a routing error only after authentication, as the
  // hub does: an unauthenticated client learns nothing about routes.
  std::optional<Endpoint> endpoint;
  absl::string_view allowed;
  std::string id;
  if (segments.size() == 1 && segments[0] == "models") {
    endpoint = Endpoint::kList;
  } else if (segments.size() == 2 && segments[0] == "models" && segments[1] == "search") {
    endpoint = Endpoint::kSearch;
  } else if (segments.size() == 2 && segments[0] == "models" && !segments[1].empty()) {
    endpoint = Endpoint::kRetrieve;
    id = segments[1];
  } else if (segments.size() == 3 && segments[0] == "models" && !segments[1].empty() &&
             (segments[2] == "activate" || segments[2] == "deactivate")) {
    endpoint = segments[2] == "activate" ? Endpoint::kActivate : Endpoint::kDeactivate;
    id = segments[1];
  }
  if (endpoint.has_value()) {
    allowed =
        (*endpoint == Endpoint::kActivate || *endpoint == Endpoint::kDeactivate) ? "POST" : "GET";
  }
  const bool routed = endpoint.has_value() && request.method == allowed;

  // A routed request counts as received and may meet a fault, which stands in
  // for a failure in front of the hub: it applies before authentication.
  Fault fault;
  bool faulted = false;
  if (routed) {
    const std::string* status = request.FindQueryParam("deployment_status");
    const bool live = *endpoint == Endpoint::kRetrieve && status != nullptr && *status == "live";
    absl::MutexLock lock(&mu_);
    switch (*endpoint) {
      case Endpoint::kList:
        ++counts_.list;
        break;
      case Endpoint::kSearch:
        ++counts_.search;
        break;
      case Endpoint::kRetrieve:
        ++(live ? counts_.retrieve_live : counts_.retrieve);
        break;
      case Endpoint::kActivate:
        ++counts_.activate;
        break;
      case Endpoint::kDeactivate:
        ++counts_.deactivate;
        break;
    }
    faulted = TakeFaultLocked(*endpoint, &fault);
  }
  // Faults that replace the response also skip processing: the request never
  // reached the hub. `slow` and `truncated` wrap the real response.
  if (faulted && fault.kind != FaultKind::kSlow && fault.kind != FaultKind::kTruncated) {
    return FaultResponse(fault, *endpoint);
  }
  if (!options_.api_key.empty() && !Authorized(request, options_.api_key)) {
    HttpResponse response = Error(401, "unauthenticated");
    response.SetHeader("WWW-Authenticate", "Bearer");
    return response;
  }
  if (!endpoint.has_value()) return RouteNotFound(request);
  if (!routed) return MethodNotAllowed(request, allowed);

  HttpResponse response = ServeEndpoint(*endpoint, request, id);
  if (faulted && fault.kind == FaultKind::kSlow) {
    response.delay = absl::Milliseconds(fault.delay_ms);
  } else if (faulted && fault.kind == FaultKind::kTruncated) {
    response.truncate_at = response.body.size() / 2;
  }
  return response;
}

HttpResponse HubEmulator::ServeEndpoint(Endpoint endpoint, const HttpRequest& request,
                                        const std::string& id) {
  switch (endpoint) {
    case Endpoint::kList:
      return List(request);
    case Endpoint::kSearch:
      return Search(request);
    case Endpoint::kRetrieve:
      return Retrieve(id);
    case Endpoint::kActivate:
      return ChangeActivation(id, /*activate=*/true);
    case Endpoint::kDeactivate:
      return ChangeActivation(id, /*activate=*/false);
  }
  return Error(500, "unhandled endpoint");
}

HttpResponse HubEmulator::List(const HttpRequest& request) {
  // An empty filter value filters nothing, like an absent one.
  std::string developer;
  if (const std::string* p = request.FindQueryParam("developer_name")) developer = FoldCase(*p);
  std::string action;
  if (const std::string* p = request.FindQueryParam("action")) action = *p;

  std::vector<std::shared_ptr<const std::string>> selected;
  {
    absl::MutexLock lock(&mu_);
    ApplyDueTransitionsLocked(Now());
    selected.reserve(models_.size());
    for (const CatalogModel& model : models_) {
      if (!developer.empty() && model.folded_developer_name != developer) continue;
      if (!action.empty() &&
          std::find(model.actions.begin(), model.actions.end(), action) == model.actions.end()) {
        continue;
      }
      selected.push_back(model.json);
    }
  }
  // The texts are immutable and shared: the (possibly large) body is built
  // without holding the lock.
  return JsonResponse(200, ListJson(selected));
}

HttpResponse HubEmulator::Search(const HttpRequest& request) {
  const std::string* query = request.FindQueryParam("search");
  if (query == nullptr || query->empty()) {
    return Error(400, "Missing required query parameter: search");
  }
  const std::string folded = FoldCase(*query);
  std::vector<std::shared_ptr<const std::string>> selected;
  {
    absl::MutexLock lock(&mu_);
    ApplyDueTransitionsLocked(Now());
    for (const CatalogModel& model : models_) {
      if (absl::StrContains(model.folded_id, folded) ||
          absl::StrContains(model.folded_display_name, folded)) {
        selected.push_back(model.json);
      }
    }
  }
  return JsonResponse(200, ListJson(selected));
}

HttpResponse HubEmulator::Retrieve(const std::string& id) {
  std::shared_ptr<const std::string> json;
  {
    absl::MutexLock lock(&mu_);
    ApplyDueTransitionsLocked(Now());
    const CatalogModel* model = FindLocked(id);
    if (model == nullptr) return Error(404, absl::StrCat("Model not found: ", id));
    json = model->json;
  }
  return JsonResponse(200, *json);
}

HttpResponse HubEmulator::ChangeActivation(const std::string& id, bool activate) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = Now();
  ApplyDueTransitionsLocked(now);
  const auto it = index_.find(id);
  if (it == index_.end()) return Error(404, absl::StrCat("Model not found: ", id));
  const size_t index = it->second;
  if (!models_[index].is_custom) {
    return Error(400, activate ? "Base models are always active and do not need activation"
                               : "Base models are always active and cannot be deactivated");
  }
  absl::StatusOr<rapidjson::Document> model = ParseJson(*models_[index].json);
  if (!model.ok()) return Error(500, model.status().message());
  // Already there or on the way: nothing to do (a model without deployments
  // is inactive, so activating it is never a no-op).
  const bool no_op =
      activate ? DeploymentCount(*model) > 0 && AllStatusesIn(*model, {"active", "deploying"})
               : AllStatusesIn(*model, {"inactive", "deactivating"});
  if (no_op) return JsonResponse(200, *models_[index].json);

  const absl::string_view during = activate ? "deploying" : "deactivating";
  const absl::Status edited = EditModelLocked(index, [&](rapidjson::Document& doc) {
    rapidjson::Value& deployments = Deployments(doc);
    if (deployments.Empty()) {
      deployments.PushBack(NewDeployment(id, during, doc.GetAllocator()), doc.GetAllocator());
    }
    SetAllStatuses(doc, during);
  });
  if (!edited.ok()) return Error(500, edited.message());
  transitions_[id] = Transition{now + options_.deploy_delay, activate ? "active" : "inactive"};
  return JsonResponse(200, *models_[index].json);
}

HttpResponse HubEmulator::FaultResponse(const Fault& fault, Endpoint endpoint) {
  switch (fault.kind) {
    case FaultKind::kHttpError:
      return Error(fault.status, fault.message);
    case FaultKind::kRateLimit: {
      HttpResponse response = Error(429, fault.message);
      response.SetHeader("Retry-After", absl::StrCat(fault.retry_after_seconds));
      return response;
    }
    case FaultKind::kMalformedJson:
      // What a misconfigured proxy in front of the hub returns.
      return JsonResponse(200, "<html><body><h1>502 Bad Gateway</h1></body></html>\n");
    case FaultKind::kWrongShape:
      return JsonResponse(200,
                          endpoint == Endpoint::kList || endpoint == Endpoint::kSearch
                              ? "{\"object\":\"list\",\"data\":{\"oops\":1}}"
                              : "{\"object\":\"model\",\"id\":42,\"deployments\":{\"oops\":1}}");
    case FaultKind::kEmptyBody:
      return JsonResponse(200, "");
    case FaultKind::kHang: {
      HttpResponse response;
      response.hang = true;
      response.on_hang_abandoned = [this] {
        absl::MutexLock lock(&mu_);
        ++hangs_abandoned_;
      };
      return response;
    }
    case FaultKind::kEndlessBody:
    case FaultKind::kHugeBody: {
      HttpResponse response = JsonResponse(200, "");
      {
        absl::MutexLock lock(&mu_);
        EndlessBodyLocked(endpoint, &response);
      }
      if (fault.kind == FaultKind::kHugeBody) {
        response.announced_length = static_cast<uint64_t>(fault.content_length);
      }
      return response;
    }
    case FaultKind::kSlow:
    case FaultKind::kTruncated:
      break;  // applied to the real response
  }
  return Error(500, "unhandled fault");
}

void HubEmulator::EndlessBodyLocked(Endpoint endpoint, HttpResponse* response) const {
  if (endpoint == Endpoint::kList || endpoint == Endpoint::kSearch) {
    // What a proxy or a hub that loops over its pages would send: the list's first models,
    // again and again (a few of them, so that the block sent over and over stays small).
    constexpr size_t kRepeatedModels = 16;
    response->body = "{\"object\":\"list\",\"data\":[";
    if (models_.empty()) {
      response->body += "{\"id\":\"endless\"}";
      response->endless_tail = ",{\"id\":\"endless\"}";
      return;
    }
    const size_t repeated = std::min(models_.size(), kRepeatedModels);
    response->body += *models_[0].json;
    for (size_t i = 1; i <= repeated; ++i) {
      absl::StrAppend(&response->endless_tail, ",", *models_[i % repeated].json);
    }
    return;
  }
  // A model whose description never ends.
  response->body = "{\"object\":\"model\",\"id\":\"endless\",\"description\":\"";
  response->endless_tail = "and so on, ";
}

// ---------------------------------------------------------------------------
// /_control

HttpResponse HubEmulator::HandleControl(const HttpRequest& request,
                                        const std::vector<std::string>& segments) {
  const std::string& method = request.method;
  const size_t n = segments.size();
  if (n == 1 && (segments[0] == "models" || segments[0] == "catalog")) {
    if (method == "GET") {
      std::vector<std::shared_ptr<const std::string>> all;
      {
        absl::MutexLock lock(&mu_);
        ApplyDueTransitionsLocked(Now());
        all.reserve(models_.size());
        for (const CatalogModel& model : models_) all.push_back(model.json);
      }
      return JsonResponse(200, ListJson(all));
    }
    if (segments[0] == "catalog" && method == "PUT") return ReplaceCatalog(request.body);
    return MethodNotAllowed(request, segments[0] == "catalog" ? "GET, PUT" : "GET");
  }
  if (n == 2 && segments[0] == "models" && !segments[1].empty()) {
    const std::string& id = segments[1];
    if (method == "GET") {
      absl::MutexLock lock(&mu_);
      ApplyDueTransitionsLocked(Now());
      const CatalogModel* model = FindLocked(id);
      if (model == nullptr) return Error(404, absl::StrCat("Model not found: ", id));
      return JsonResponse(200, *model->json);
    }
    if (method == "PUT") return PutModel(id, request.body);
    if (method == "PATCH") return PatchModel(id, request.body);
    if (method == "DELETE") return DeleteModel(id);
    return MethodNotAllowed(request, "GET, PUT, PATCH, DELETE");
  }
  if (n == 3 && segments[0] == "models" && !segments[1].empty() && segments[2] == "status") {
    if (method == "PUT") return SetStatus(segments[1], request.body);
    return MethodNotAllowed(request, "PUT");
  }
  if (n == 1 && segments[0] == "faults") {
    if (method == "POST") {
      absl::StatusOr<Fault> fault = ParseFault(request.body);
      if (!fault.ok()) return Error(400, fault.status().message());
      absl::MutexLock lock(&mu_);
      faults_.push_back(*std::move(fault));
      return JsonResponse(200, absl::StrCat("{\"status\":\"ok\",\"queued\":", faults_.size(), "}"));
    }
    if (method == "DELETE") {
      absl::MutexLock lock(&mu_);
      faults_.clear();
      return Ok();
    }
    if (method == "GET") {
      absl::MutexLock lock(&mu_);
      return JsonResponse(200, FaultsJsonLocked());
    }
    return MethodNotAllowed(request, "GET, POST, DELETE");
  }
  if (n == 1 && segments[0] == "stats") {
    if (method != "GET") return MethodNotAllowed(request, "GET");
    absl::MutexLock lock(&mu_);
    return JsonResponse(200, StatsJsonLocked());
  }
  if (n == 1 && segments[0] == "reset") {
    if (method != "POST") return MethodNotAllowed(request, "POST");
    absl::MutexLock lock(&mu_);
    models_ = initial_catalog_;
    RebuildIndexLocked();
    transitions_.clear();
    faults_.clear();
    counts_ = RequestCounts();
    hangs_abandoned_ = 0;
    return Ok();
  }
  return RouteNotFound(request);
}

HttpResponse HubEmulator::PutModel(const std::string& id, absl::string_view body) {
  absl::StatusOr<rapidjson::Document> doc = ParseJson(body);
  if (!doc.ok()) return Error(400, absl::StrCat("Invalid model: ", doc.status().message()));
  if (!doc->IsObject()) return Error(400, "Invalid model: the body must be a JSON object");
  // The path names the model: its id goes first, replacing any in the body.
  rapidjson::Document model;
  model.SetObject();
  auto& alloc = model.GetAllocator();
  model.AddMember("id", MakeString(id, alloc), alloc);
  for (auto& member : doc->GetObject()) {
    if (IsString(member.name, "id")) continue;
    model.AddMember(rapidjson::Value(member.name, alloc), rapidjson::Value(member.value, alloc),
                    alloc);
  }
  absl::StatusOr<CatalogModel> entry = MakeCatalogModel(model);
  if (!entry.ok()) return Error(400, absl::StrCat("Invalid model: ", entry.status().message()));

  absl::MutexLock lock(&mu_);
  ApplyDueTransitionsLocked(Now());
  transitions_.erase(id);  // the model is replaced wholesale
  const auto it = index_.find(id);
  if (it != index_.end()) {
    models_[it->second] = *std::move(entry);
    return JsonResponse(200, *models_[it->second].json);
  }
  index_.emplace(id, models_.size());
  models_.push_back(*std::move(entry));
  return JsonResponse(201, *models_.back().json);
}

HttpResponse HubEmulator::PatchModel(const std::string& id, absl::string_view body) {
  absl::StatusOr<rapidjson::Document> patch = ParseJson(body);
  if (!patch.ok())
    return Error(400, absl::StrCat("Invalid merge patch: ", patch.status().message()));
  if (!patch->IsObject()) return Error(400, "Invalid merge patch: the body must be a JSON object");

  absl::MutexLock lock(&mu_);
  ApplyDueTransitionsLocked(Now());
  const auto it = index_.find(id);
  if (it == index_.end()) return Error(404, absl::StrCat("Model not found: ", id));
  const absl::Status edited = EditModelLocked(it->second, [&](rapidjson::Document& doc) {
    ApplyMergePatch(*patch, &doc, doc.GetAllocator());
    // The path names the model; a patch cannot rename it.
    SetMember(doc, "id", MakeString(id, doc.GetAllocator()), doc.GetAllocator());
  });
  if (!edited.ok()) return Error(400, absl::StrCat("Invalid model: ", edited.message()));
  // A patch of the deployments or the type overrides a lifecycle in progress.
  if (patch->HasMember("deployments") || patch->HasMember("model_type")) transitions_.erase(id);
  return JsonResponse(200, *models_[it->second].json);
}

HttpResponse HubEmulator::DeleteModel(const std::string& id) {
  absl::MutexLock lock(&mu_);
  const auto it = index_.find(id);
  if (it == index_.end()) return Error(404, absl::StrCat("Model not found: ", id));
  models_.erase(models_.begin() + static_cast<std::ptrdiff_t>(it->second));
  RebuildIndexLocked();
  transitions_.erase(id);
  return Ok();
}

HttpResponse HubEmulator::SetStatus(const std::string& id, absl::string_view body) {
  constexpr absl::string_view kUsage =
      "the body must be {\"status\": \"<status>\"} with an optional \"deployment\": <index>";
  absl::StatusOr<rapidjson::Document> doc = ParseJson(body);
  if (!doc.ok()) return Error(400, absl::StrCat("Invalid body: ", doc.status().message()));
  if (!doc->IsObject() || !doc->HasMember("status") || !(*doc)["status"].IsString()) {
    return Error(400, absl::StrCat("Invalid body: ", kUsage));
  }
  const std::string status((*doc)["status"].GetString(), (*doc)["status"].GetStringLength());
  std::optional<size_t> only;
  if (const auto d = doc->FindMember("deployment"); d != doc->MemberEnd()) {
    if (!d->value.IsInt64() || d->value.GetInt64() < 0) {
      return Error(400, absl::StrCat("Invalid body: \"deployment\" must be a non-negative "
                                     "integer; ",
                                     kUsage));
    }
    only = static_cast<size_t>(d->value.GetInt64());
  }

  absl::MutexLock lock(&mu_);
  ApplyDueTransitionsLocked(Now());
  const auto it = index_.find(id);
  if (it == index_.end()) return Error(404, absl::StrCat("Model not found: ", id));
  absl::StatusOr<rapidjson::Document> current = ParseJson(*models_[it->second].json);
  if (!current.ok()) return Error(500, current.status().message());
  const size_t count = DeploymentCount(*current);
  if (only.has_value() && *only >= count) {
    return Error(400, absl::StrCat("Model ", id, " has ", count,
                                   " deployment(s); there is no "
                                   "deployment ",
                                   *only));
  }
  const absl::Status edited = EditModelLocked(it->second, [&](rapidjson::Document& model) {
    auto& alloc = model.GetAllocator();
    rapidjson::Value& deployments = Deployments(model);
    if (only.has_value()) {
      rapidjson::Value& deployment = deployments[static_cast<rapidjson::SizeType>(*only)];
      if (!deployment.IsObject()) deployment.SetObject();
      SetMember(deployment, "status", MakeString(status, alloc), alloc);
      return;
    }
    // A model without deployments gets one, so that any status can be shown.
    if (deployments.Empty()) deployments.PushBack(NewDeployment(id, status, alloc), alloc);
    SetAllStatuses(model, status);
  });
  if (!edited.ok()) return Error(500, edited.message());
  transitions_.erase(id);  // an explicit status overrides a lifecycle in progress
  return JsonResponse(200, *models_[it->second].json);
}

HttpResponse HubEmulator::ReplaceCatalog(absl::string_view body) {
  absl::StatusOr<std::vector<CatalogModel>> catalog = ParseCatalog(body);
  if (!catalog.ok())
    return Error(400, absl::StrCat("Invalid catalog: ", catalog.status().message()));
  absl::MutexLock lock(&mu_);
  models_ = *std::move(catalog);
  RebuildIndexLocked();
  transitions_.clear();
  return JsonResponse(200, absl::StrCat("{\"status\":\"ok\",\"models\":", models_.size(), "}"));
}

absl::StatusOr<HubEmulator::Fault> HubEmulator::ParseFault(absl::string_view body) {
  constexpr absl::string_view kFaults =
      "http_error, rate_limit, malformed_json, wrong_shape, empty_body, truncated, slow, hang, "
      "endless_body, huge_body";
  absl::StatusOr<rapidjson::Document> doc = ParseJson(body);
  if (!doc.ok())
    return absl::InvalidArgumentError(absl::StrCat("Invalid fault: ", doc.status().message()));
  if (!doc->IsObject())
    return absl::InvalidArgumentError("Invalid fault: the body must be a JSON object");
  const auto name = doc->FindMember("fault");
  if (name == doc->MemberEnd() || !name->value.IsString()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid fault: \"fault\" must be one of ", kFaults));
  }
  Fault fault;
  fault.name = std::string(name->value.GetString(), name->value.GetStringLength());
  std::vector<absl::string_view> extra_fields;
  if (fault.name == "http_error") {
    fault.kind = FaultKind::kHttpError;
    extra_fields = {"status", "message"};
  } else if (fault.name == "rate_limit") {
    fault.kind = FaultKind::kRateLimit;
    extra_fields = {"retry_after_seconds", "message"};
  } else if (fault.name == "malformed_json") {
    fault.kind = FaultKind::kMalformedJson;
  } else if (fault.name == "wrong_shape") {
    fault.kind = FaultKind::kWrongShape;
  } else if (fault.name == "empty_body") {
    fault.kind = FaultKind::kEmptyBody;
  } else if (fault.name == "truncated") {
    fault.kind = FaultKind::kTruncated;
  } else if (fault.name == "slow") {
    fault.kind = FaultKind::kSlow;
    extra_fields = {"delay_ms"};
  } else if (fault.name == "hang") {
    fault.kind = FaultKind::kHang;
  } else if (fault.name == "endless_body") {
    fault.kind = FaultKind::kEndlessBody;
  } else if (fault.name == "huge_body") {
    fault.kind = FaultKind::kHugeBody;
    extra_fields = {"content_length"};
  } else {
    return absl::InvalidArgumentError(absl::StrCat("Invalid fault: unknown fault \"", fault.name,
                                                   "\"; expected one of ", kFaults));
  }
  // Unknown fields are refused: a misspelt "delay" silently ignored would make
  // a test pass for the wrong reason.
  for (const auto& member : doc->GetObject()) {
    const absl::string_view key(member.name.GetString(), member.name.GetStringLength());
    if (key == "fault" || key == "count" || key == "endpoint") continue;
    if (std::find(extra_fields.begin(), extra_fields.end(), key) == extra_fields.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Invalid fault: unknown field \"", key, "\" for fault ", fault.name));
    }
  }
  const auto integer = [&](absl::string_view key, int64_t min, int64_t max,
                           int64_t* out) -> absl::Status {
    const auto it = doc->FindMember(
        rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size())));
    if (it == doc->MemberEnd()) return absl::OkStatus();
    if (!it->value.IsInt64() || it->value.GetInt64() < min || it->value.GetInt64() > max) {
      return absl::InvalidArgumentError(
          absl::StrCat("Invalid fault: \"", key, "\" must be an integer from ", min, " to ", max));
    }
    *out = it->value.GetInt64();
    return absl::OkStatus();
  };
  int64_t status = 500;
  for (const absl::Status& s :
       {integer("count", 1, 1000000000, &fault.remaining), integer("status", 400, 599, &status),
        integer("retry_after_seconds", 0, 86400, &fault.retry_after_seconds),
        integer("delay_ms", 0, 3600000, &fault.delay_ms),
        integer("content_length", 1, INT64_MAX, &fault.content_length)}) {
    if (!s.ok()) return s;
  }
  fault.status = static_cast<int>(status);
  if (fault.kind == FaultKind::kSlow && !doc->HasMember("delay_ms")) fault.delay_ms = 1000;
  if (fault.kind == FaultKind::kHugeBody && !doc->HasMember("content_length")) {
    fault.content_length = int64_t{50} << 30;  // 50 GiB
  }

  fault.endpoint = "any";
  if (const auto it = doc->FindMember("endpoint"); it != doc->MemberEnd()) {
    const bool valid = it->value.IsString() &&
                       (IsString(it->value, "any") || IsString(it->value, "list") ||
                        IsString(it->value, "search") || IsString(it->value, "retrieve") ||
                        IsString(it->value, "activate") || IsString(it->value, "deactivate"));
    if (!valid) {
      return absl::InvalidArgumentError(
          "Invalid fault: \"endpoint\" must be one of list, search, retrieve, activate, "
          "deactivate, any");
    }
    fault.endpoint = std::string(it->value.GetString(), it->value.GetStringLength());
  }
  if (const auto it = doc->FindMember("message"); it != doc->MemberEnd()) {
    if (!it->value.IsString()) {
      return absl::InvalidArgumentError("Invalid fault: \"message\" must be a string");
    }
    fault.message = std::string(it->value.GetString(), it->value.GetStringLength());
  } else if (fault.kind == FaultKind::kRateLimit) {
    fault.message = "Rate limit exceeded";
  } else {
    fault.message = std::string(http::ReasonPhrase(fault.status));
  }
  return fault;
}

// ---------------------------------------------------------------------------
// State helpers

void HubEmulator::ApplyDueTransitionsLocked(absl::Time now) {
  for (auto it = transitions_.begin(); it != transitions_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    const auto model = index_.find(it->first);
    if (model != index_.end()) {
      const std::string status = it->second.status;
      const absl::Status edited = EditModelLocked(
          model->second, [&](rapidjson::Document& doc) { SetAllStatuses(doc, status); });
      if (!edited.ok()) {
        Log(LogLevel::kError, "transition_failed",
            {{"model", it->first}, {"error", std::string(edited.message())}});
      }
    }
    transitions_.erase(it++);
  }
}

absl::Status HubEmulator::EditModelLocked(size_t index,
                                          const std::function<void(rapidjson::Document&)>& edit) {
  absl::StatusOr<rapidjson::Document> doc = ParseJson(*models_[index].json);
  if (!doc.ok()) return doc.status();
  edit(*doc);
  absl::StatusOr<CatalogModel> model = MakeCatalogModel(*doc);
  if (!model.ok()) return model.status();
  models_[index] = *std::move(model);
  return absl::OkStatus();
}

void HubEmulator::RebuildIndexLocked() {
  index_.clear();
  index_.reserve(models_.size());
  for (size_t i = 0; i < models_.size(); ++i) index_.emplace(models_[i].id, i);
}

const CatalogModel* HubEmulator::FindLocked(const std::string& id) const {
  const auto it = index_.find(id);
  return it == index_.end() ? nullptr : &models_[it->second];
}

bool HubEmulator::TakeFaultLocked(Endpoint endpoint, Fault* fault) {
  const absl::string_view name = EndpointName(endpoint);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->endpoint != "any" && it->endpoint != name) continue;
    *fault = *it;
    if (--it->remaining <= 0) faults_.erase(it);
    return true;
  }
  return false;
}

std::string HubEmulator::StatsJsonLocked() const {
  return absl::StrCat("{\"requests\":{\"list\":", counts_.list, ",\"search\":", counts_.search,
                      ",\"retrieve\":", counts_.retrieve,
                      ",\"retrieve_live\":", counts_.retrieve_live,
                      ",\"activate\":", counts_.activate, ",\"deactivate\":", counts_.deactivate,
                      "},\"hangs_abandoned\":", hangs_abandoned_, "}");
}

std::string HubEmulator::FaultsJsonLocked() const {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("faults");
  writer.StartArray();
  for (const Fault& fault : faults_) {
    writer.StartObject();
    writer.Key("fault");
    writer.String(fault.name.c_str());
    writer.Key("endpoint");
    writer.String(fault.endpoint.c_str());
    writer.Key("remaining");
    writer.Int64(fault.remaining);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace hub_emulator
}  // namespace modelcatalog
