// What the syncer last did, for GetSyncStatus, health and logs. Written by the
// syncer, read by RPCs; each read gets a consistent copy.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_SYNC_SYNC_STATUS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_SYNC_SYNC_STATUS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/log.h"

namespace modelcatalog::catalog {

struct RejectedModel {
  std::string id;
  int64_t index = 0;
  std::string error;
  bool kept_previous = false;
};

struct SyncStatus {
  enum class Origin { kNone, kHub, kSnapshotFile };

  std::string source;                                   // the hub's base URL
  Origin origin = Origin::kNone;                        // where the catalog being served came from
  absl::Time last_attempt_time = absl::InfinitePast();  // InfinitePast: never
  // When the catalog being served was fetched from the hub; after a restart,
  // when the persisted copy was.
  absl::Time last_success_time = absl::InfinitePast();
  std::string last_error;  // empty when the last attempt succeeded
  int64_t consecutive_failures = 0;
  std::vector<RejectedModel> rejected;  // of the last successful sync
  // The last successful sync's two parts: receiving the hub's answer (retries
  // included), then reading it into a catalog and swapping it in (parse,
  // diff, index, swap). Zero before the first.
  absl::Duration last_fetch_duration;
  absl::Duration last_apply_duration;
};

class SyncStatusRecorder {
 public:
  explicit SyncStatusRecorder(std::string source) { status_.source = std::move(source); }

  // `when` the attempt that succeeded began (after retries, later than the
  // sync's start): the moment the catalog it fetched describes. `fetch` and
  // `apply` how long the sync's parts took.
  void RecordSuccess(absl::Time when, std::vector<RejectedModel> rejected = {},
                     absl::Duration fetch = absl::ZeroDuration(),
                     absl::Duration apply = absl::ZeroDuration()) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    status_.origin = SyncStatus::Origin::kHub;
    status_.last_attempt_time = when;
    status_.last_success_time = when;
    status_.last_error.clear();
    status_.consecutive_failures = 0;
    status_.rejected = std::move(rejected);
    status_.last_fetch_duration = fetch;
    status_.last_apply_duration = apply;
  }

  void RecordFailure(absl::Time when, const absl::Status& error) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    status_.last_attempt_time = when;
    status_.last_error = ErrorText(error);
    ++status_.consecutive_failures;
  }

  // A catalog read from the persisted copy, fetched from the hub at `fetched_at`.
  void RecordRestored(absl::Time fetched_at) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    status_.origin = SyncStatus::Origin::kSnapshotFile;
    status_.last_success_time = fetched_at;
  }

  SyncStatus Get() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  mutable absl::Mutex mu_;
  SyncStatus status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_SYNC_SYNC_STATUS_H_
