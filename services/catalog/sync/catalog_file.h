// The last good catalog on disk, so that a restart serves at once even when
// the hub is down.
//
// Layout: the magic "MCCATLG1", then little-endian revision (i64), fetch time
// (Unix nanoseconds, i64), payload length (u64) and payload checksum (u64,
// FNV-1a), then the payload: the models as a serialized ListModelsResponse.
// Writes are atomic (a temporary file in the same directory, fsync, rename,
// fsync of the directory): a crash leaves the old file or the new one, never
// half of one. A file that does not check out is refused whole.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_SYNC_CATALOG_FILE_H_
#define MODEL_CATALOG_SERVICES_CATALOG_SYNC_CATALOG_FILE_H_

#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/catalog/model/catalog_store.h"
#include "services/catalog/model/model_change.h"
#include "services/catalog/sync/catalog_updater.h"
#include "services/catalog/sync/sync_status.h"

namespace modelcatalog::catalog {

// What a catalog file says besides its models.
struct CatalogFileHeader {
  int64_t revision = 0;
  absl::Time fetched_at;
};

struct StoredCatalog {
  std::vector<modelcatalog::v1::Model> models;
  int64_t revision = 0;
  absl::Time fetched_at;
};

// The largest catalog file read by default: as much as the hub's answer may be
// by default (HubClientOptions::max_response_bytes); the models' wire format
// is smaller than their JSON.
inline constexpr size_t kMaxCatalogFileBytes = size_t{512} << 20;

// Writes `snapshot` to `path` atomically.
absl::Status WriteCatalogFile(const std::string& path, const CatalogSnapshot& snapshot);

// Reads the file at `path` and hands its models to `on_model` one at a time,
// in the stored order; the message passed is reused for the next one. The
// whole file is checked (size, checksum) before the first model is handed
// over; a model that does not parse ends the reading, after those before it.
// So a caller that builds from the models must drop what it built on error.
// NOT_FOUND when there is no file; RESOURCE_EXHAUSTED, before anything is
// read, for a file larger than `max_bytes` (the file is read whole); DATA_LOSS
// naming what is wrong when it is not a complete, intact catalog file; other
// codes for I/O errors.
absl::StatusOr<CatalogFileHeader> ReadCatalogFile(
    const std::string& path, absl::FunctionRef<void(const modelcatalog::v1::Model&)> on_model,
    size_t max_bytes = kMaxCatalogFileBytes);

// The same, every model collected in one vector.
absl::StatusOr<StoredCatalog> ReadCatalogFile(const std::string& path,
                                              size_t max_bytes = kMaxCatalogFileBytes);

// The catalog's file: read back once at start-up, then written in the
// background whenever the catalog changes (it listens to the updater), at
// most once per `min_interval`, and once more on Stop. A catalog the file
// already holds (the one just restored from it) is not written again.
class CatalogFile final : public CatalogListener {
 public:
  // `idle_priority`: write at idle CPU priority (see CatalogSyncerOptions).
  // `max_bytes`: a larger file is not restored (see ReadCatalogFile).
  CatalogFile(std::string path, const CatalogStore* store,
              absl::Duration min_interval = absl::Seconds(1), bool idle_priority = false,
              size_t max_bytes = kMaxCatalogFileBytes);
  ~CatalogFile() override;

  // Serves the catalog the file holds, through `updater`, and records it in
  // `status`, if the file is usable. A missing file is the first start; a
  // corrupt or unreadable one is reported and ignored: the hub is the source
  // of truth, the file only a head start. Before Start.
  void Restore(CatalogUpdater* updater, SyncStatusRecorder* status) ABSL_LOCKS_EXCLUDED(mu_);

  // The catalog changed: write it soon. Never blocks.
  void OnCatalogPublished(const std::shared_ptr<const CatalogSnapshot>& snapshot,
                          const std::vector<ModelChange>& changes) override
      ABSL_LOCKS_EXCLUDED(mu_);

  void Start();
  // Writes what is pending, then stops. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  void WriteCurrent() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string path_;
  const CatalogStore* const store_;
  const absl::Duration min_interval_;
  const bool idle_priority_;
  const size_t max_bytes_;
  absl::Mutex mu_;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The revision and fingerprint of the catalog the file holds; -1: unknown.
  int64_t on_disk_revision_ ABSL_GUARDED_BY(mu_) = -1;
  uint64_t on_disk_fingerprint_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_SYNC_CATALOG_FILE_H_
