#include "services/catalog/catalog_syncer.h"

#include <utility>

#include "services/common/log.h"

namespace modelcatalog::catalog {

CatalogSyncer::CatalogSyncer(FetchFn fetch, CatalogUpdater* updater, SyncStatusRecorder* status,
                             CatalogSyncerOptions options)
    : fetch_(std::move(fetch)), updater_(updater), status_(status), options_(std::move(options)) {}

CatalogSyncer::~CatalogSyncer() { Stop(); }

absl::Status CatalogSyncer::SyncOnce() {
  absl::MutexLock lock(&sync_mu_);
  const absl::Time started = options_.clock();
  absl::StatusOr<hub::ParsedModelList> fetched = fetch_();
  if (!fetched.ok()) {
    status_->RecordFailure(options_.clock(), fetched.status());
    Log(LogLevel::kWarning, "sync_failed",
        {{"error", fetched.status().ToString()},
         {"serving", status_->Get().last_success_time != absl::InfinitePast()
                         ? "last good catalog"
                         : "nothing yet"}});
    return fetched.status();
  }
  for (const hub::RejectedRecord& rejected : fetched->rejected) {
    Log(LogLevel::kWarning, "sync_record_rejected",
        {{"index", rejected.index}, {"id", rejected.id}, {"error", rejected.status.ToString()}});
  }

  const CatalogUpdater::SyncResult result =
      updater_->ApplySync(std::move(fetched->models), started);
  for (const std::string& id : result.duplicate_ids) {
    Log(LogLevel::kWarning, "sync_duplicate_id", {{"id", id}, {"kept", "first record"}});
  }
  const absl::Time finished = options_.clock();
  status_->RecordSuccess(finished);
  Log(LogLevel::kInfo, "sync_succeeded",
      {{"models", result.model_count},
       {"revision", result.revision},
       {"changed", result.changed},
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
