#include "services/catalog/api/catalog_service_impl.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/catalog/model/model_search.h"
#include "services/catalog/api/page_token.h"
#include "services/catalog/model/proto_time.h"
#include "services/catalog/api/request_limits.h"
#include "services/catalog/model/text_fold.h"

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

}  // namespace

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
  for (const absl::Status& s : {CheckLength("developer_name", request.developer_name(), kMaxFilterBytes),
                                CheckLength("action", request.action(), kMaxFilterBytes),
                                CheckLength("page_token", request.page_token(), kMaxPageTokenBytes)}) {
    if (!s.ok()) return s;
  }
  absl::StatusOr<int32_t> page_size = PageSize(request.page_size());
  if (!page_size.ok()) return page_size.status();
  const std::string developer = FoldCase(request.developer_name());
  const uint64_t fingerprint = QueryFingerprint(PageKind::kList, {developer, request.action()});
  absl::StatusOr<absl::optional<PageCursor>> cursor =
      CursorFromToken(request.page_token(), PageKind::kList, fingerprint, options_);
  if (!cursor.ok()) return cursor.status();
  absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> snapshot = LoadedSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  ModelPage page;
  page.snapshot = *std::move(snapshot);
  const CatalogSnapshot& catalog = *page.snapshot;

  // Walk positions in id order from just after the cursor. With a filter,
  // walk the smaller posting list and look the position up in the other.
  const size_t start = *cursor ? catalog.UpperBound((*cursor)->last_id) : 0;
  const size_t limit = static_cast<size_t>(*page_size);
  page.positions.reserve(std::min(limit, catalog.size()));
  bool more = false;
  if (developer.empty() && request.action().empty()) {
    for (size_t i = start; i < catalog.size(); ++i) {
      if (page.positions.size() == limit) {
        more = true;
        break;
      }
      page.positions.push_back(static_cast<uint32_t>(i));
    }
  } else {
    const absl::Span<const uint32_t> by_developer = catalog.WithDeveloper(developer);
    const absl::Span<const uint32_t> by_action = catalog.WithAction(request.action());
    const bool both = !developer.empty() && !request.action().empty();
    const bool walk_developer =
        !developer.empty() && (request.action().empty() || by_developer.size() <= by_action.size());
    const absl::Span<const uint32_t> walked = walk_developer ? by_developer : by_action;
    const absl::Span<const uint32_t> other = walk_developer ? by_action : by_developer;
    for (auto it = std::lower_bound(walked.begin(), walked.end(), start); it != walked.end(); ++it) {
      if (both && !std::binary_search(other.begin(), other.end(), *it)) continue;
      if (page.positions.size() == limit) {
        more = true;
        break;
      }
      page.positions.push_back(*it);
    }
  }
  if (more) {
    PageCursor next;
    next.kind = PageKind::kList;
    next.query_fingerprint = fingerprint;
    next.last_id = catalog.entry(page.positions.back()).id;
    next.issued_at = options_.clock();
    page.next_page_token = EncodePageToken(next);
  }
  return page;
}

absl::StatusOr<ModelPage> CatalogServiceImpl::SearchPage(const SearchModelsRequest& request) const {
  if (request.query().empty()) return absl::InvalidArgumentError("query must not be empty");
  for (const absl::Status& s : {CheckLength("query", request.query(), kMaxQueryBytes),
                                CheckLength("page_token", request.page_token(), kMaxPageTokenBytes)}) {
    if (!s.ok()) return s;
  }
  absl::StatusOr<int32_t> page_size = PageSize(request.page_size());
  if (!page_size.ok()) return page_size.status();
  const std::string query = FoldCase(request.query());
  const uint64_t fingerprint = QueryFingerprint(PageKind::kSearch, {query});
  absl::StatusOr<absl::optional<PageCursor>> cursor =
      CursorFromToken(request.page_token(), PageKind::kSearch, fingerprint, options_);
  if (!cursor.ok()) return cursor.status();
  absl::optional<SearchCursor> after;
  if (*cursor) {
    if ((*cursor)->rank > static_cast<uint8_t>(MatchRank::kSubstring)) {
      return absl::InvalidArgumentError(
          "page_token is not a valid page token: pass the next_page_token of the previous "
          "response unchanged");
    }
    after = SearchCursor{static_cast<MatchRank>((*cursor)->rank), (*cursor)->last_id};
  }
  absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> snapshot = LoadedSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  ModelPage page;
  page.snapshot = *std::move(snapshot);

  // One hit more than the page tells whether another page follows.
  std::vector<SearchHit> hits =
      SearchSnapshot(*page.snapshot, query, after, static_cast<size_t>(*page_size) + 1);
  const bool more = hits.size() > static_cast<size_t>(*page_size);
  if (more) hits.pop_back();
  page.positions.reserve(hits.size());
  for (const SearchHit& hit : hits) page.positions.push_back(hit.position);
  if (more) {
    PageCursor next;
    next.kind = PageKind::kSearch;
    next.query_fingerprint = fingerprint;
    next.rank = static_cast<uint8_t>(hits.back().rank);
    next.last_id = page.snapshot->entry(hits.back().position).id;
    next.issued_at = options_.clock();
    page.next_page_token = EncodePageToken(next);
  }
  return page;
}

absl::StatusOr<ModelRef> CatalogServiceImpl::FindModel(const GetModelRequest& request) const {
  if (request.id().empty()) return absl::InvalidArgumentError("id must not be empty");
  if (absl::Status s = CheckLength("id", request.id(), kMaxIdBytes); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> snapshot = LoadedSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  const absl::optional<size_t> position = (*snapshot)->PositionOf(request.id());
  // The hub's own wording, so callers can match on it whichever they talk to.
  if (!position) return absl::NotFoundError(absl::StrCat("Model not found: ", request.id()));
  return ModelRef{*std::move(snapshot), static_cast<uint32_t>(*position)};
}

absl::Status CatalogServiceImpl::ListModels(const ListModelsRequest& request,
                                            ListModelsResponse* response) const {
  absl::StatusOr<ModelPage> page = ListPage(request);
  if (!page.ok()) return page.status();
  for (uint32_t position : page->positions) *response->add_models() = page->snapshot->entry(position).model();
  response->set_next_page_token(page->next_page_token);
  return absl::OkStatus();
}

absl::Status CatalogServiceImpl::SearchModels(const SearchModelsRequest& request,
                                              SearchModelsResponse* response) const {
  absl::StatusOr<ModelPage> page = SearchPage(request);
  if (!page.ok()) return page.status();
  for (uint32_t position : page->positions) *response->add_models() = page->snapshot->entry(position).model();
  response->set_next_page_token(page->next_page_token);
  return absl::OkStatus();
}

absl::Status CatalogServiceImpl::GetModel(const GetModelRequest& request,
                                          GetModelResponse* response) const {
  absl::StatusOr<ModelRef> model = FindModel(request);
  if (!model.ok()) return model.status();
  *response->mutable_model() = model->entry().model();
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
