#include "services/catalog/catalog_syncer.h"

#include <utility>

#include "services/common/log.h"

namespace modelcatalog::catalog {

CatalogSyncer::CatalogSyncer(FetchFn fetch, CatalogStore* store, SyncStatusRecorder* status,
                             CatalogSyncerOptions options)
    : fetch_(std::move(fetch)), store_(store), status_(status), options_(std::move(options)) {}

CatalogSyncer::~CatalogSyncer() { Stop(); }

absl::Status CatalogSyncer::SyncOnce() {
  absl::MutexLock lock(&sync_mu_);
  const absl::Time started = options_.clock();
  absl::StatusOr<hub::ParsedModelList> fetched = fetch_();
  if (!fetched.ok()) {
    status_->RecordFailure(options_.clock(), fetched.status());
    Log(LogLevel::kWarning, "sync_failed",
        {{"error", fetched.status().ToString()},
         {"serving", store_->Current() ? "last good catalog" : "nothing yet"}});
    return fetched.status();
  }
  for (const hub::RejectedRecord& rejected : fetched->rejected) {
    Log(LogLevel::kWarning, "sync_record_rejected",
        {{"index", rejected.index}, {"id", rejected.id}, {"error", rejected.status.ToString()}});
  }

  const std::shared_ptr<const CatalogSnapshot> previous = store_->Current();
  const int64_t next_revision = previous ? previous->revision() + 1 : 1;
  std::shared_ptr<const CatalogSnapshot> snapshot =
      CatalogSnapshot::Build(std::move(fetched->models), next_revision, options_.clock());
  for (const std::string& id : snapshot->duplicate_ids()) {
    Log(LogLevel::kWarning, "sync_duplicate_id", {{"id", id}, {"kept", "first record"}});
  }
  const bool changed = previous == nullptr || previous->fingerprint() != snapshot->fingerprint();
  // An unchanged catalog keeps its snapshot and revision: readers and watchers
  // see nothing new, and the revision only moves when content does.
  if (changed) {
    store_->Publish(snapshot);
    if (options_.on_publish) options_.on_publish(previous, snapshot);
  }
  const absl::Time finished = options_.clock();
  status_->RecordSuccess(finished);
  Log(LogLevel::kInfo, "sync_succeeded",
      {{"models", snapshot->size()},
       {"revision", changed ? snapshot->revision() : previous->revision()},
       {"changed", changed},
       {"rejected", fetched->rejected.size()},
       {"took", absl::FormatDuration(finished - started)}});
  return absl::OkStatus();
}

void CatalogSyncer::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void CatalogSyncer::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void CatalogSyncer::Loop() {
  do {
    // Failures are recorded and logged by SyncOnce; the loop just tries again
    // at the next tick.
    SyncOnce().IgnoreError();
  } while (!stop_.WaitForNotificationWithTimeout(options_.interval));
}

}  // namespace modelcatalog::catalog
