#include "services/catalog/sync/hub_catalog_source.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace modelcatalog::catalog {
namespace {

// The URL as it may be shown: without user information, which may hold a password.
std::string ShownUrl(absl::string_view url) {
  const size_t scheme = url.find("://");
  const size_t host = scheme == absl::string_view::npos ? 0 : scheme + 3;
  const size_t at = url.find('@', host);
  const size_t path = url.find('/', host);
  if (at == absl::string_view::npos || (path != absl::string_view::npos && at > path)) {
    return std::string(url);
  }
  return absl::StrCat(url.substr(0, host), url.substr(at + 1));
}

}  // namespace

absl::Status HubCatalogSource::ListFailure(const absl::Status& error) const {
  // The sync's error is what a person reads to find out why the catalog is
  // stale: it names the URL asked and what came back, and after a 404 says
  // what --hub_url should look like. The code stays the hub client's, which
  // decides retries.
  const std::string url = ShownUrl(absl::StrCat(hub_->base_url(), "/models"));
  std::string message(error.message());
  if (const absl::optional<int> http_status = hub::HttpStatusOf(error)) {
    message = absl::StrCat("GET ", url, " answered HTTP ", *http_status, ": ", message);
    if (*http_status == 404) {
      absl::StrAppend(&message,
                      " (--hub_url is the base of the hub's model API, to which /models is "
                      "appended: it ends in /api/ai, as in https://hub.oxen.ai/api/ai)");
    }
  } else {
    // The client names the endpoint ("GET /models: ..."); the full URL says more.
    message = absl::StrReplaceAll(message, {{"GET /models", absl::StrCat("GET ", url)}});
  }
  absl::Status status(error.code(), message);
  error.ForEachPayload([&status](absl::string_view type, const absl::Cord& payload) {
    status.SetPayload(type, payload);
  });
  return status;
}

absl::StatusOr<FetchedCatalog> HubCatalogSource::FetchCatalog(
    std::shared_ptr<const CatalogSnapshot> served) {
  FetchedCatalog fetched;
  fetched.models = CatalogSnapshot::Builder(std::move(served));
  absl::StatusOr<std::vector<hub::RejectedRecord>> rejected = hub_->ListModels(
      {}, [&fetched](const modelcatalog::v1::Model& model) { fetched.models.Add(model); },
      &fetched.received_at);
  if (!rejected.ok()) return ListFailure(rejected.status());
  fetched.rejected = *std::move(rejected);
  return fetched;
}

absl::StatusOr<modelcatalog::v1::Model> HubCatalogSource::FetchLive(
    const std::string& id, const hub::RequestDeadline& deadline) {
  return hub_->RetrieveModel(id, /*live_deployment_status=*/true, deadline);
}

absl::StatusOr<modelcatalog::v1::Model> HubCatalogSource::Activate(const std::string& id,
                                                                   absl::Time deadline) {
  return hub_->ActivateModel(id, deadline);
}

absl::StatusOr<modelcatalog::v1::Model> HubCatalogSource::Deactivate(const std::string& id,
                                                                     absl::Time deadline) {
  return hub_->DeactivateModel(id, deadline);
}

}  // namespace modelcatalog::catalog
