#include "services/catalog/sync/catalog_syncer.h"

#include <malloc.h>

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/thread_priority.h"

namespace modelcatalog::catalog {

CatalogSyncer::CatalogSyncer(CatalogSource* source, CatalogUpdater* updater,
                             SyncStatusRecorder* status, CatalogSyncerOptions options)
    : source_(source), updater_(updater), status_(status), options_(std::move(options)) {}

CatalogSyncer::~CatalogSyncer() { Stop(); }

absl::Status CatalogSyncer::SyncOnce() {
  absl::MutexLock lock(&sync_mu_);
  const absl::Time started = options_.clock();
  absl::BitGen random;
  const hub::Sleeper sleep = options_.sleep ? options_.sleep : [this](absl::Duration delay) {
    return !stop_.WaitForNotificationWithTimeout(delay);
  };
  // When the attempt that succeeded began: the moment the catalog it fetched
  // describes. A live observation made during earlier, failed attempts is
  // newer than it and must not be undone by it.
  absl::Time attempt_started = started;
  absl::StatusOr<FetchedCatalog> fetched = hub::CallWithRetries<FetchedCatalog>(
      options_.retry, sleep, [&random] { return absl::Uniform(random, 0.0, 1.0); },
      [&] {
        attempt_started = options_.clock();
        return source_->FetchCatalog(updater_->Current());
      },
      [](int retry, absl::Duration delay, const absl::Status& error) {
        Log(LogLevel::kInfo, "sync_retrying",
            {{"retry", retry},
             {"delay", absl::FormatDuration(delay)},
             {"error", ErrorText(error)}});
      });

  const auto report = [&](absl::string_view outcome) {
    if (options_.on_sync_done) options_.on_sync_done(outcome, options_.clock() - started);
  };
  const auto fail = [&](const absl::Status& error) {
    report(absl::IsFailedPrecondition(error) ? "suspect" : "failure");
    status_->RecordFailure(options_.clock(), error);
    const SyncStatus status = status_->Get();
    const bool serving = status.last_success_time != absl::InfinitePast();
    Log(LogLevel::kWarning, "sync_failed",
        {{"error", ErrorText(error)},
         {"serving", serving ? "last good catalog" : "nothing yet"},
         {"staleness",
          serving ? absl::FormatDuration(options_.clock() - status.last_success_time) : "-"},
         {"consecutive_failures", status.consecutive_failures}});
    return error;
  };
  if (!fetched.ok()) return fail(fetched.status());

  // Stale is better than empty: a catalog that suddenly lost most of its
  // models waits for the next sync to confirm it.
  const std::shared_ptr<const CatalogSnapshot> current = updater_->Current();
  const size_t before = current ? current->size() : 0;
  const size_t after = fetched->models.size() + fetched->rejected.size();
  const bool mass_removal = before >= options_.mass_removal_min_models &&
                            static_cast<double>(after) < static_cast<double>(before) *
                                                             (1.0 - options_.mass_removal_fraction);
  if (mass_removal && !suspect_pending_) {
    suspect_pending_ = true;
    return fail(absl::FailedPreconditionError(
        absl::StrCat("suspect sync: the hub listed ", after, " models where the catalog has ",
                     before, "; not applied unless the next sync shows the same")));
  }
  if (mass_removal) {
    Log(LogLevel::kWarning, "sync_mass_removal_confirmed", {{"before", before}, {"after", after}});
  }
  suspect_pending_ = false;

  std::vector<std::string> rejected_ids;
  for (const hub::RejectedRecord& rejected : fetched->rejected) {
    if (!rejected.id.empty()) rejected_ids.push_back(rejected.id);
  }
  const CatalogUpdater::SyncResult result =
      updater_->ApplySync(std::move(fetched->models), attempt_started, rejected_ids);
  // A sync holds the fetched text, its parsed document and the new snapshot
  // next to the one served: give the peak back rather than keep it for good.
  if (result.changed) ::malloc_trim(0);
  std::vector<RejectedModel> rejected;
  for (const hub::RejectedRecord& record : fetched->rejected) {
    RejectedModel& model = rejected.emplace_back();
    model.id = record.id;
    model.index = static_cast<int64_t>(record.index);
    model.error = std::string(record.status.message());
    model.kept_previous = std::find(result.kept_previous.begin(), result.kept_previous.end(),
                                    record.id) != result.kept_previous.end();
    Log(LogLevel::kWarning, "sync_record_rejected",
        {{"index", record.index},
         {"id", record.id},
         {"error", model.error},
         {"kept_previous", model.kept_previous}});
  }
  for (const std::string& id : result.duplicate_ids) {
    Log(LogLevel::kWarning, "sync_duplicate_id", {{"id", id}, {"kept", "first record"}});
  }
  const absl::Time finished = options_.clock();
  report("success");
  const absl::Time received =
      std::clamp(fetched->received_at, started, finished);  // InfinitePast: all applying
  status_->RecordSuccess(attempt_started, std::move(rejected), received - started,
                         finished - received);
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
  if (!first_sync_done_.HasBeenNotified()) first_sync_done_.Notify();
}

void CatalogSyncer::Loop() {
  if (options_.idle_priority) {
    if (absl::Status lowered = RunThisThreadAtIdlePriority(); !lowered.ok()) {
      Log(LogLevel::kWarning, "sync_priority_unchanged", {{"error", lowered.ToString()}});
    }
  }
  // Failures are recorded and logged by SyncOnce; the loop just tries again
  // at the next tick.
  SyncOnce().IgnoreError();
  first_sync_done_.Notify();
  while (!stop_.WaitForNotificationWithTimeout(options_.interval)) SyncOnce().IgnoreError();
}

}  // namespace modelcatalog::catalog
