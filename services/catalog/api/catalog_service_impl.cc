#include "services/catalog/api/catalog_service_impl.h"

#include <algorithm>
#include <functional>
#include <limits>

#include "absl/strings/str_cat.h"
#include "services/catalog/api/page_token.h"
#include "services/catalog/api/request_limits.h"
#include "services/catalog/model/model_search.h"
#include "services/catalog/model/proto_time.h"
#include "services/catalog/model/text_fold.h"
#include "services/catalog/query/filter.h"
#include "services/catalog/query/order.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::v1::GetModelRequest;
using ::modelcatalog::v1::GetModelResponse;
using ::modelcatalog::v1::GetSyncStatusRequest;
using ::modelcatalog::v1::GetSyncStatusResponse;
using ::modelcatalog::v1::ListModelsRequest;
using ::modelcatalog::v1::ListModelsResponse;
using ::modelcatalog::v1::SearchModelsRequest;
using ::modelcatalog::v1::SearchModelsResponse;

// Decodes a request's page token and checks that it belongs to this query and
// is still fresh. An empty token is the first page (nullopt).
absl::StatusOr<absl::optional<PageCursor>> CursorFromToken(absl::string_view token, PageKind kind,
                                                           uint64_t fingerprint,
                                                           const CatalogServiceOptions& options) {
  if (token.empty()) return absl::optional<PageCursor>();
  absl::StatusOr<PageCursor> cursor = DecodePageToken(token);
  if (!cursor.ok()) return cursor.status();
  if (cursor->kind != kind || cursor->query_fingerprint != fingerprint) {
    return absl::InvalidArgumentError(
        "page_token belongs to a different query: keep every other request field as it was "
        "for the first page");
  }
  if (options.clock() - cursor->issued_at > options.page_token_lifetime) {
    return absl::InvalidArgumentError("page_token has expired: request the first page again");
  }
  return absl::optional<PageCursor>(*std::move(cursor));
}

using ::modelcatalog::v1::BatchGetModelsRequest;
using ::modelcatalog::v1::ModelView;

// UNSPECIFIED means the method's default; anything but BASIC is FULL.
ModelView ResolveView(ModelView requested, ModelView method_default) {
  const ModelView view =
      requested == modelcatalog::v1::MODEL_VIEW_UNSPECIFIED ? method_default : requested;
  return view == modelcatalog::v1::MODEL_VIEW_BASIC ? view : modelcatalog::v1::MODEL_VIEW_FULL;
}

}  // namespace

modelcatalog::v1::Model ModelIn(const CatalogEntry& entry, ModelView view) {
  modelcatalog::v1::Model model = entry.model();
  if (view == modelcatalog::v1::MODEL_VIEW_BASIC) {
    model.clear_description();
    model.clear_request_schema();
  }
  return model;
}

void AppendModel(const CatalogEntry& entry, ModelView view, std::string* out) {
  if (view == modelcatalog::v1::MODEL_VIEW_BASIC) {
    AppendBasic(entry.wire, entry.fields, out);
  } else {
    out->append(entry.wire);
  }
}

size_t ModelSize(const CatalogEntry& entry, ModelView view) {
  return view == modelcatalog::v1::MODEL_VIEW_BASIC ? BasicSize(entry.wire, entry.fields)
                                                    : entry.wire.size();
}

CatalogServiceImpl::CatalogServiceImpl(const CatalogStore* store,
                                       const SyncStatusRecorder* sync_status,
                                       CatalogServiceOptions options)
    : store_(store), sync_status_(sync_status), options_(std::move(options)) {}

absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> CatalogServiceImpl::LoadedSnapshot() const {
  std::shared_ptr<const CatalogSnapshot> snapshot = store_->Current();
  if (snapshot == nullptr) {
    return absl::UnavailableError(
        "the catalog has not been loaded from the hub yet: retry shortly");
  }
  return snapshot;
}

absl::StatusOr<int32_t> CatalogServiceImpl::PageSize(int32_t requested) const {
  if (requested < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must not be negative, got ", requested));
  }
  if (requested == 0) return options_.default_page_size;
  return std::min(requested, options_.max_page_size);
}

absl::StatusOr<ModelPage> CatalogServiceImpl::ListPage(const ListModelsRequest& request) const {
  absl::StatusOr<int32_t> page_size = PageSize(request.page_size());
  if (!page_size.ok()) return page_size.status();
  return List(request, static_cast<size_t>(*page_size));
}

absl::StatusOr<ModelPage> CatalogServiceImpl::ListAll(const ListModelsRequest& request) const {
  ListModelsRequest all = request;
  all.clear_page_token();
  return List(all, std::numeric_limits<size_t>::max());
}

absl::StatusOr<ModelPage> CatalogServiceImpl::List(const ListModelsRequest& request,
                                                   size_t limit) const {
  for (const absl::Status& s :
       {CheckLength("developer_name", request.developer_name(), kMaxHubFilterBytes),
        CheckLength("action", request.action(), kMaxHubFilterBytes),
        CheckLength("order_by", request.order_by(), kMaxOrderByBytes),
        CheckLength("page_token", request.page_token(), kMaxPageTokenBytes)}) {
    if (!s.ok()) return s;
  }
  absl::StatusOr<Filter> filter = Filter::Parse(request.filter());
  if (!filter.ok()) return filter.status();
  absl::StatusOr<Ordering> ordering = Ordering::Parse(request.order_by());
  if (!ordering.ok()) return ordering.status();
  const ModelView view = ResolveView(request.view(), modelcatalog::v1::MODEL_VIEW_BASIC);
  const std::string developer = FoldCase(request.developer_name());
  const std::string order = ordering->Canonical();
  const uint64_t fingerprint =
      QueryFingerprint(PageKind::kList, {developer, request.action(), request.filter(), order,
                                         modelcatalog::v1::ModelView_Name(view)});
  absl::StatusOr<absl::optional<PageCursor>> cursor =
      CursorFromToken(request.page_token(), PageKind::kList, fingerprint, options_);
  if (!cursor.ok()) return cursor.status();
  absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> snapshot = LoadedSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  ModelPage page;
  page.snapshot = *std::move(snapshot);
  page.view = view;
  const CatalogSnapshot& catalog = *page.snapshot;

  if (filter->empty() && developer.empty() && request.action().empty() && ordering->by_id()) {
    // The whole catalog in id order: the snapshot's own positions.
    const size_t start = *cursor ? catalog.UpperBound((*cursor)->last_id) : 0;
    const size_t end = start + std::min(catalog.size() - start, limit);
    page.positions.reserve(end > start ? end - start : 0);
    for (size_t i = start; i < end; ++i) page.positions.push_back(static_cast<uint32_t>(i));
    page.total_size = static_cast<int32_t>(catalog.size());
    if (end < catalog.size()) {
      PageCursor next;
      next.kind = PageKind::kList;
      next.query_fingerprint = fingerprint;
      next.last_id = catalog.entry(page.positions.back()).id;
      next.issued_at = options_.clock();
      page.next_page_token = EncodePageToken(next);
    }
    return page;
  }

  // Every match, in the requested order: computed once per snapshot and query
  // (the first page), then read by the next pages and by repeated questions.
  const std::string memo_key = absl::StrCat("list\n", developer, "\n", request.action(), "\n",
                                            request.filter(), "\n", order);
  const std::shared_ptr<const std::vector<uint32_t>> matches =
      catalog.Memoized(memo_key, filter->reads_deployments(), [&] {
        std::vector<uint32_t> found;
        const auto consider = [&](uint32_t position) {
          if (filter->Matches(catalog.entry(position))) found.push_back(position);
        };
        if (developer.empty() && request.action().empty()) {
          for (uint32_t p = 0; p < catalog.size(); ++p) consider(p);
        } else {
          // The hub's filters from the snapshot's indexes: walk the shorter list,
          // look each position up in the other.
          const absl::Span<const uint32_t> by_developer = catalog.WithDeveloper(developer);
          const absl::Span<const uint32_t> by_action = catalog.WithAction(request.action());
          const bool both = !developer.empty() && !request.action().empty();
          const bool walk_developer =
              !developer.empty() &&
              (request.action().empty() || by_developer.size() <= by_action.size());
          const absl::Span<const uint32_t> walked = walk_developer ? by_developer : by_action;
          const absl::Span<const uint32_t> other = walk_developer ? by_action : by_developer;
          for (uint32_t p : walked) {
            if (!both || std::binary_search(other.begin(), other.end(), p)) consider(p);
          }
        }
        if (!ordering->by_id()) ordering->Sort(catalog, &found);
        return found;
      });
  page.total_size = static_cast<int32_t>(matches->size());
  // After the cursor: the first match past the last model of the previous
  // page, by its key in this order (its id in the default one).
  size_t start = 0;
  if (*cursor) {
    const PageCursor& after = **cursor;
    const auto at_or_before = [&](uint32_t p) {
      const CatalogEntry& entry = catalog.entry(p);
      return ordering->by_id() ? entry.id <= after.last_id
                               : ordering->CompareWithKey(entry, after.order_key) <= 0;
    };
    start = static_cast<size_t>(
        std::partition_point(matches->begin(), matches->end(), at_or_before) - matches->begin());
  }
  const size_t end = start + std::min(matches->size() - start, limit);
  page.positions.assign(matches->begin() + start, matches->begin() + end);
  if (end < matches->size()) {
    const CatalogEntry& last = catalog.entry(page.positions.back());
    PageCursor next;
    next.kind = PageKind::kList;
    next.query_fingerprint = fingerprint;
    next.last_id = last.id;
    if (!ordering->by_id()) next.order_key = ordering->EncodeKey(last);
    next.issued_at = options_.clock();
    page.next_page_token = EncodePageToken(next);
  }
  return page;
}

absl::StatusOr<ModelPage> CatalogServiceImpl::SearchPage(const SearchModelsRequest& request) const {
  if (request.query().empty()) return absl::InvalidArgumentError("query must not be empty");
  for (const absl::Status& s :
       {CheckLength("query", request.query(), kMaxQueryBytes),
        CheckLength("page_token", request.page_token(), kMaxPageTokenBytes)}) {
    if (!s.ok()) return s;
  }
  absl::StatusOr<int32_t> page_size = PageSize(request.page_size());
  if (!page_size.ok()) return page_size.status();
  absl::StatusOr<Filter> filter = Filter::Parse(request.filter());
  if (!filter.ok()) return filter.status();
  const ModelView view = ResolveView(request.view(), modelcatalog::v1::MODEL_VIEW_BASIC);
  absl::StatusOr<SearchQuery> query = ParseSearchQuery(request.query());
  if (!query.ok()) return query.status();
  // Queries that differ only in case and separators ("GPT-5", "gpt 5") are
  // one query: they share results and page tokens.
  const uint64_t fingerprint = QueryFingerprint(
      PageKind::kSearch, {query->key, request.filter(), modelcatalog::v1::ModelView_Name(view)});
  absl::StatusOr<absl::optional<PageCursor>> cursor =
      CursorFromToken(request.page_token(), PageKind::kSearch, fingerprint, options_);
  if (!cursor.ok()) return cursor.status();
  if (*cursor && (*cursor)->rank > kWorstSearchRank) {
    return absl::InvalidArgumentError(
        "page_token is not a valid page token: pass the next_page_token of the previous "
        "response unchanged");
  }
  absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> snapshot = LoadedSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  ModelPage page;
  page.snapshot = *std::move(snapshot);
  page.view = view;
  const CatalogSnapshot& catalog = *page.snapshot;
  std::function<bool(uint32_t)> accept;
  if (!filter->empty()) {
    accept = [&](uint32_t position) { return filter->Matches(catalog.entry(position)); };
  }
  // Every match, ranked, once per snapshot, query and filter: the first page
  // ranks them all (a rank is not known before a model is read), the next
  // pages and the same question from other callers read the kept order.
  const std::shared_ptr<const std::vector<uint32_t>> ranked = catalog.Memoized(
      absl::StrCat("search\n", query->key, "\n", request.filter()), filter->reads_deployments(),
      [&] { return RankedMatches(catalog, *query, accept); });
  page.total_size = static_cast<int32_t>(ranked->size());
  const size_t first =
      *cursor ? FirstMatchAfter(catalog, *query, *ranked, (*cursor)->rank, (*cursor)->last_id) : 0;
  const size_t end = std::min(ranked->size(), first + static_cast<size_t>(*page_size));
  page.positions.assign(ranked->begin() + static_cast<std::ptrdiff_t>(first),
                        ranked->begin() + static_cast<std::ptrdiff_t>(end));
  if (end < ranked->size() && !page.positions.empty()) {
    const CatalogEntry& last = catalog.entry(page.positions.back());
    PageCursor next;
    next.kind = PageKind::kSearch;
    next.query_fingerprint = fingerprint;
    next.rank = RankEntry(last, *query).value_or(kWorstSearchRank);
    next.last_id = last.id;
    next.issued_at = options_.clock();
    page.next_page_token = EncodePageToken(next);
  }
  return page;
}

absl::StatusOr<ModelRef> CatalogServiceImpl::FindModel(const GetModelRequest& request) const {
  if (absl::Status s = CheckModelId(request.id()); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> snapshot = LoadedSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  const absl::optional<size_t> position = (*snapshot)->PositionOf(request.id());
  // The hub's own wording, so callers can match on it whichever they talk to.
  if (!position) return absl::NotFoundError(absl::StrCat("Model not found: ", request.id()));
  return ModelRef{*std::move(snapshot), static_cast<uint32_t>(*position),
                  ResolveView(request.view(), modelcatalog::v1::MODEL_VIEW_FULL)};
}

absl::StatusOr<ModelPage> CatalogServiceImpl::BatchGet(const BatchGetModelsRequest& request) const {
  if (request.ids().empty()) return absl::InvalidArgumentError("ids must not be empty");
  if (request.ids_size() > kMaxBatchIds) {
    return absl::InvalidArgumentError(absl::StrCat("ids lists ", request.ids_size(),
                                                   " models; at most ", kMaxBatchIds,
                                                   " may be asked for at once"));
  }
  for (int i = 0; i < request.ids_size(); ++i) {
    const std::string& id = request.ids(i);
    if (id.empty()) return absl::InvalidArgumentError(absl::StrCat("ids[", i, "] is empty"));
    if (absl::Status s = CheckLength(absl::StrCat("ids[", i, "]"), id, kMaxIdBytes); !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> snapshot = LoadedSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  ModelPage page;
  page.snapshot = *std::move(snapshot);
  page.view = ResolveView(request.view(), modelcatalog::v1::MODEL_VIEW_FULL);
  page.positions.reserve(request.ids_size());
  for (const std::string& id : request.ids()) {
    const absl::optional<size_t> position = page.snapshot->PositionOf(id);
    if (!position) return absl::NotFoundError(absl::StrCat("Model not found: ", id));
    page.positions.push_back(static_cast<uint32_t>(*position));
  }
  page.total_size = static_cast<int32_t>(page.positions.size());
  return page;
}

absl::Status CatalogServiceImpl::ListModels(const ListModelsRequest& request,
                                            ListModelsResponse* response) const {
  absl::StatusOr<ModelPage> page = ListPage(request);
  if (!page.ok()) return page.status();
  for (uint32_t position : page->positions) {
    *response->add_models() = ModelIn(page->snapshot->entry(position), page->view);
  }
  response->set_next_page_token(page->next_page_token);
  response->set_total_size(page->total_size);
  return absl::OkStatus();
}

absl::Status CatalogServiceImpl::SearchModels(const SearchModelsRequest& request,
                                              SearchModelsResponse* response) const {
  absl::StatusOr<ModelPage> page = SearchPage(request);
  if (!page.ok()) return page.status();
  for (uint32_t position : page->positions) {
    *response->add_models() = ModelIn(page->snapshot->entry(position), page->view);
  }
  response->set_next_page_token(page->next_page_token);
  response->set_total_size(page->total_size);
  return absl::OkStatus();
}

absl::Status CatalogServiceImpl::GetModel(const GetModelRequest& request,
                                          GetModelResponse* response) const {
  absl::StatusOr<ModelRef> model = FindModel(request);
  if (!model.ok()) return model.status();
  *response->mutable_model() = ModelIn(model->entry(), model->view);
  return absl::OkStatus();
}

absl::Status CatalogServiceImpl::GetSyncStatus(const GetSyncStatusRequest& request,
                                               GetSyncStatusResponse* response) const {
  const SyncStatus status = sync_status_->Get();
  response->set_source(status.source);
  if (status.last_attempt_time != absl::InfinitePast()) {
    ToProtoTimestamp(status.last_attempt_time, response->mutable_last_attempt_time());
  }
  if (status.last_success_time != absl::InfinitePast()) {
    ToProtoTimestamp(status.last_success_time, response->mutable_last_success_time());
  }
  response->set_last_error(status.last_error);
  response->set_consecutive_failures(status.consecutive_failures);
  if (std::shared_ptr<const CatalogSnapshot> snapshot = store_->Current()) {
    response->set_model_count(static_cast<int64_t>(snapshot->size()));
    response->set_revision(snapshot->revision());
  }
  switch (status.origin) {
    case SyncStatus::Origin::kNone:
      break;
    case SyncStatus::Origin::kHub:
      response->set_origin(modelcatalog::v1::CATALOG_ORIGIN_HUB);
      break;
    case SyncStatus::Origin::kSnapshotFile:
      response->set_origin(modelcatalog::v1::CATALOG_ORIGIN_SNAPSHOT_FILE);
      break;
  }
  if (status.last_success_time != absl::InfinitePast()) {
    ToProtoDuration(options_.clock() - status.last_success_time, response->mutable_staleness());
  }
  if (status.origin == SyncStatus::Origin::kHub) {
    ToProtoDuration(status.last_fetch_duration, response->mutable_last_sync_fetch_duration());
    ToProtoDuration(status.last_apply_duration, response->mutable_last_sync_apply_duration());
  }
  for (const RejectedModel& rejected : status.rejected) {
    modelcatalog::v1::RejectedRecord* record = response->add_rejected_records();
    record->set_id(rejected.id);
    record->set_index(rejected.index);
    record->set_error(rejected.error);
    record->set_kept_previous(rejected.kept_previous);
  }
  return absl::OkStatus();
}

}  // namespace modelcatalog::catalog
