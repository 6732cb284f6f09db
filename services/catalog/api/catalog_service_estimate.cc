// CatalogServiceImpl::EstimateCost: the models of the request, priced by
// cost_estimate.h. Kept apart from the reads in catalog_service_impl.cc.
#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/catalog/api/catalog_service_impl.h"
#include "services/catalog/api/cost_estimate.h"
#include "services/catalog/api/page_token.h"
#include "services/catalog/api/request_limits.h"
#include "services/catalog/query/filter.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::v1::EstimateCostRequest;
using ::modelcatalog::v1::EstimateCostResponse;

// A model's place in the cheapest-first order: its total, then its id.
int CompareCostOrder(const ExactDecimal& total, absl::string_view id,
                     const ExactDecimal& other_total, absl::string_view other_id) {
  const int by_total = total.Compare(other_total);
  if (by_total != 0) return by_total;
  return id < other_id ? -1 : (id > other_id ? 1 : 0);
}

absl::Status CheckModelIds(const EstimateCostRequest& request) {
  if (request.model_ids_size() > kMaxBatchIds) {
    return absl::InvalidArgumentError(absl::StrCat("model_ids lists ", request.model_ids_size(),
                                                   " models; at most ", kMaxBatchIds,
                                                   " may be priced at once"));
  }
  for (int i = 0; i < request.model_ids_size(); ++i) {
    const std::string& id = request.model_ids(i);
    if (id.empty()) return absl::InvalidArgumentError(absl::StrCat("model_ids[", i, "] is empty"));
    if (absl::Status s = CheckLength(absl::StrCat("model_ids[", i, "]"), id, kMaxIdBytes);
        !s.ok()) {
      return s;
    }
  }
  if (!request.page_token().empty() || request.page_size() != 0) {
    return absl::InvalidArgumentError(
        "page_size and page_token page through a filter's models; model_ids are answered whole");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CatalogServiceImpl::EstimateCost(const EstimateCostRequest& request,
                                              EstimateCostResponse* response) const {
  const bool by_id = request.model_ids_size() > 0;
  if (by_id && !request.filter().empty()) {
    return absl::InvalidArgumentError("give model_ids or filter, not both");
  }
  if (!by_id && request.filter().empty()) {
    return absl::InvalidArgumentError("give the models to price: model_ids or a filter");
  }
  absl::StatusOr<UsageQuantities> usage = ReadUsage(request.usage());
  if (!usage.ok()) return usage.status();

  if (by_id) {
    if (absl::Status s = CheckModelIds(request); !s.ok()) return s;
    absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> snapshot = LoadedSnapshot();
    if (!snapshot.ok()) return snapshot.status();
    for (const std::string& id : request.model_ids()) {
      const CatalogEntry* entry = (*snapshot)->Find(id);
      if (entry == nullptr) return absl::NotFoundError(absl::StrCat("Model not found: ", id));
      const ModelCost cost = PriceModel(entry->fields, *usage);
      if (!cost.ok()) return CostProblem(*entry, cost, *usage);
      WriteEstimate(*entry, cost, *usage, response->add_estimates());
    }
    return absl::OkStatus();
  }

  if (absl::Status s = CheckLength("page_token", request.page_token(), kMaxPageTokenBytes);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<int32_t> page_size = PageSize(request.page_size());
  if (!page_size.ok()) return page_size.status();
  absl::StatusOr<Filter> filter = Filter::Parse(request.filter());
  if (!filter.ok()) return filter.status();
  const std::string usage_key = usage->Key();
  const uint64_t fingerprint = QueryFingerprint(PageKind::kCost, {request.filter(), usage_key});
  absl::optional<PageCursor> cursor;
  absl::optional<ExactDecimal> cursor_total;
  if (!request.page_token().empty()) {
    // As ListModels' tokens: of this query, fresh, and with the total of the
    // page's last model.
    absl::StatusOr<PageCursor> decoded = DecodePageToken(request.page_token());
    if (!decoded.ok()) return decoded.status();
    if (decoded->kind != PageKind::kCost || decoded->query_fingerprint != fingerprint) {
      return absl::InvalidArgumentError(
          "page_token belongs to a different query: keep every other request field as it was "
          "for the first page");
    }
    if (options_.clock() - decoded->issued_at > options_.page_token_lifetime) {
      return absl::InvalidArgumentError("page_token has expired: request the first page again");
    }
    absl::StatusOr<ExactDecimal> total = ExactDecimal::Parse(decoded->order_key);
    if (!total.ok()) {
      return absl::InvalidArgumentError(
          "page_token is not a valid page token: pass the next_page_token of the previous "
          "response unchanged");
    }
    cursor = *std::move(decoded);
    cursor_total = *total;
  }
  absl::StatusOr<std::shared_ptr<const CatalogSnapshot>> snapshot = LoadedSnapshot();
  if (!snapshot.ok()) return snapshot.status();
  const CatalogSnapshot& catalog = **snapshot;

  // Every match, the priced ones cheapest first and then the others in id
  // order: computed once per snapshot, filter and usage, then read by the
  // next pages and repeated questions. Prices do not depend on deployments,
  // so only the filter decides whether a live status change keeps it.
  const std::shared_ptr<const std::vector<uint32_t>> ordered = catalog.Memoized(
      absl::StrCat("cost\n", request.filter(), "\n", usage_key), filter->reads_deployments(), [&] {
        std::vector<std::pair<ExactDecimal, uint32_t>> priced;
        std::vector<uint32_t> unpriced;
        for (uint32_t p = 0; p < catalog.size(); ++p) {
          const CatalogEntry& entry = catalog.entry(p);
          if (!filter->Matches(entry)) continue;
          const ModelCost cost = PriceModel(entry.fields, *usage);
          if (cost.ok()) {
            priced.emplace_back(cost.total, p);
          } else {
            unpriced.push_back(p);
          }
        }
        // Positions are in id order, so they break ties by id.
        std::sort(priced.begin(), priced.end(), [](const auto& a, const auto& b) {
          const int by_total = a.first.Compare(b.first);
          return by_total != 0 ? by_total < 0 : a.second < b.second;
        });
        std::vector<uint32_t> order;
        order.reserve(priced.size() + unpriced.size());
        for (const auto& [total, position] : priced) order.push_back(position);
        order.insert(order.end(), unpriced.begin(), unpriced.end());
        return order;
      });
  // Where the priced models end: found again by pricing a few models rather
  // than kept beside the memoized order.
  const auto priced_end = std::partition_point(ordered->begin(), ordered->end(), [&](uint32_t p) {
    return PriceModel(catalog.entry(p).fields, *usage).ok();
  });
  response->set_total_size(static_cast<int32_t>(priced_end - ordered->begin()));
  response->set_unpriced_size(static_cast<int32_t>(ordered->end() - priced_end));
  auto start = ordered->begin();
  if (cursor) {
    start = std::partition_point(ordered->begin(), priced_end, [&](uint32_t p) {
      const CatalogEntry& entry = catalog.entry(p);
      return CompareCostOrder(PriceModel(entry.fields, *usage).total, entry.id, *cursor_total,
                              cursor->last_id) <= 0;
    });
  }
  const auto end = start + std::min<std::ptrdiff_t>(priced_end - start, *page_size);
  for (auto it = start; it != end; ++it) {
    const CatalogEntry& entry = catalog.entry(*it);
    WriteEstimate(entry, PriceModel(entry.fields, *usage), *usage, response->add_estimates());
  }
  if (end != priced_end && end != start) {
    const CatalogEntry& last = catalog.entry(*(end - 1));
    PageCursor next;
    next.kind = PageKind::kCost;
    next.query_fingerprint = fingerprint;
    next.last_id = last.id;
    next.order_key = PriceModel(last.fields, *usage).total.ToString();
    next.issued_at = options_.clock();
    response->set_next_page_token(EncodePageToken(next));
  }
  return absl::OkStatus();
}

}  // namespace modelcatalog::catalog
