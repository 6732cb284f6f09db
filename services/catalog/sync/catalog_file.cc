#include "services/catalog/sync/catalog_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "modelcatalog/v1/catalog_service.pb.h"
#include "services/catalog/model/token_encoding.h"
#include "services/common/log.h"
#include "services/common/thread_priority.h"

namespace modelcatalog::catalog {
namespace {

constexpr char kMagic[] = "MCCATLG1";
constexpr size_t kMagicSize = 8;
constexpr size_t kHeaderSize = kMagicSize + 8 + 8 + 8 + 8;

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  const int error = errno;
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(error));
  return error == ENOENT ? absl::NotFoundError(message) : absl::UnavailableError(message);
}

absl::Status WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

absl::Status WriteCatalogFile(const std::string& path, const CatalogSnapshot& snapshot) {
  // The payload reads as a ListModelsResponse: field 1, one model each,
  // written straight from the snapshot without copying the models.
  std::string payload;
  {
    google::protobuf::io::StringOutputStream stream(&payload);
    google::protobuf::io::CodedOutputStream coded(&stream);
    for (size_t i = 0; i < snapshot.size(); ++i) {
      // A message field is its bytes, length-delimited: the stored serialization as is.
      google::protobuf::internal::WireFormatLite::WriteBytes(1, snapshot.entry(i).wire, &coded);
    }
  }
  std::string header(kMagic, kMagicSize);
  PutLittleEndian(static_cast<uint64_t>(snapshot.revision()), 8, &header);
  PutLittleEndian(static_cast<uint64_t>(absl::ToUnixNanos(snapshot.fetched_at())), 8, &header);
  PutLittleEndian(payload.size(), 8, &header);
  PutLittleEndian(StableHash(payload), 8, &header);

  const std::string temporary = absl::StrCat(path, ".tmp.", ::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", temporary);
  absl::Status written = WriteAll(fd, header);
  if (written.ok()) written = WriteAll(fd, payload);
  if (written.ok() && ::fsync(fd) != 0) written = ErrnoError("cannot flush", temporary);
  ::close(fd);
  if (written.ok() && ::rename(temporary.c_str(), path.c_str()) != 0) {
    written = ErrnoError("cannot rename to", path);
  }
  if (!written.ok()) {
    ::unlink(temporary.c_str());
    return absl::Status(written.code(), absl::StrCat("writing ", path, ": ", written.message()));
  }
  // The rename is durable only once the directory entry is.
  const int dir = ::open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return absl::OkStatus();
}

absl::StatusOr<CatalogFileHeader> ReadCatalogFile(
    const std::string& path, absl::FunctionRef<void(const modelcatalog::v1::Model&)> on_model,
    size_t max_bytes) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) return ErrnoError("cannot open", path);
  // Read straight into one buffer of the file's size: the file is as large as
  // the catalog, and a stream's buffer plus a copy of it would double that.
  const std::streamoff size = file.tellg();
  if (size < 0) return ErrnoError("cannot read", path);
  if (static_cast<uint64_t>(size) > max_bytes) {
    // Checked before the buffer is allocated: a file grown past what the
    // process may hold must not take the memory the server needs to start.
    return absl::ResourceExhaustedError(absl::StrCat(
        path, " is ", size, " bytes, more than the catalog may take (", max_bytes, ")"));
  }
  std::string data(static_cast<size_t>(size), '\0');
  file.seekg(0);
  if (!file.read(data.data(), static_cast<std::streamsize>(data.size()))) {
    return ErrnoError("cannot read", path);
  }
  const auto corrupt = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat(path, " is not a usable catalog file: ", why));
  };
  if (data.size() < kHeaderSize || data.compare(0, kMagicSize, kMagic) != 0) {
    return corrupt("it does not start with a catalog file header");
  }
  const char* p = data.data() + kMagicSize;
  CatalogFileHeader header;
  header.revision = static_cast<int64_t>(GetLittleEndian(p, 8));
  header.fetched_at = absl::FromUnixNanos(static_cast<int64_t>(GetLittleEndian(p + 8, 8)));
  const uint64_t payload_size = GetLittleEndian(p + 16, 8);
  const uint64_t checksum = GetLittleEndian(p + 24, 8);
  if (payload_size != data.size() - kHeaderSize) {
    return corrupt(absl::StrCat("it holds ", data.size() - kHeaderSize,
                                " bytes of models where its header says ", payload_size,
                                " (truncated or appended to)"));
  }
  const absl::string_view payload(data.data() + kHeaderSize, payload_size);
  if (StableHash(payload) != checksum) return corrupt("its checksum does not match its contents");

  // The payload is a ListModelsResponse; its models (field 1) are read one by
  // one into the same message rather than as one message holding them all,
  // which would take the catalog's size several times over.
  using google::protobuf::internal::WireFormatLite;
  constexpr int kModelsField = 1;
  if (payload.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return corrupt("its models are over 2 GiB");
  }
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(payload.data()),
                                            static_cast<int>(payload.size()));
  modelcatalog::v1::Model model;
  for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) != kModelsField ||
        WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) return corrupt("its models do not parse");
      continue;
    }
    uint32_t length = 0;
    if (!in.ReadVarint32(&length) || length > payload.size() - in.CurrentPosition()) {
      return corrupt("its models do not parse");
    }
    if (!model.ParseFromArray(payload.data() + in.CurrentPosition(), static_cast<int>(length))) {
      return corrupt("its models do not parse");
    }
    in.Skip(static_cast<int>(length));
    on_model(model);
  }
  if (in.CurrentPosition() != static_cast<int>(payload.size())) {
    return corrupt("its models do not parse");
  }
  return header;
}

absl::StatusOr<StoredCatalog> ReadCatalogFile(const std::string& path, size_t max_bytes) {
  StoredCatalog stored;
  absl::StatusOr<CatalogFileHeader> header = ReadCatalogFile(
      path, [&stored](const modelcatalog::v1::Model& model) { stored.models.push_back(model); },
      max_bytes);
  if (!header.ok()) return header.status();
  stored.revision = header->revision;
  stored.fetched_at = header->fetched_at;
  return stored;
}

CatalogFile::CatalogFile(std::string path, const CatalogStore* store, absl::Duration min_interval,
                         bool idle_priority, size_t max_bytes)
    : path_(std::move(path)),
      store_(store),
      min_interval_(min_interval),
      idle_priority_(idle_priority),
      max_bytes_(max_bytes) {}

CatalogFile::~CatalogFile() { Stop(); }

void CatalogFile::Restore(CatalogUpdater* updater, SyncStatusRecorder* status) {
  // Each stored model becomes its entry as it is read: the file is never
  // held as messages (see CatalogSnapshot::Builder).
  CatalogSnapshot::Builder models;
  absl::StatusOr<CatalogFileHeader> stored = ReadCatalogFile(
      path_, [&models](const modelcatalog::v1::Model& model) { models.Add(model); }, max_bytes_);
  if (!stored.ok()) {
    const bool first_start = absl::IsNotFound(stored.status());
    Log(first_start ? LogLevel::kInfo : LogLevel::kWarning,
        first_start ? "catalog_file_absent" : "catalog_file_unusable",
        {{"path", path_}, {"error", stored.status().ToString()}});
    return;
  }
  const size_t count = models.size();
  updater->Restore(std::move(models), stored->revision, stored->fetched_at);
  status->RecordRestored(stored->fetched_at);
  if (const std::shared_ptr<const CatalogSnapshot> served = store_->Current();
      served != nullptr && served->revision() == stored->revision) {
    absl::MutexLock lock(&mu_);
    on_disk_revision_ = served->revision();
    on_disk_fingerprint_ = served->fingerprint();
  }
  Log(LogLevel::kInfo, "catalog_restored",
      {{"path", path_},
       {"models", count},
       {"revision", stored->revision},
       {"fetched", absl::FormatTime(stored->fetched_at)}});
}

void CatalogFile::OnCatalogPublished(const std::shared_ptr<const CatalogSnapshot>& snapshot,
                                     const std::vector<ModelChange>& changes) {
  absl::MutexLock lock(&mu_);
  dirty_ = true;
}

void CatalogFile::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void CatalogFile::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void CatalogFile::Loop() {
  if (idle_priority_) {
    if (absl::Status lowered = RunThisThreadAtIdlePriority(); !lowered.ok()) {
      Log(LogLevel::kWarning, "catalog_file_priority_unchanged", {{"error", lowered.ToString()}});
    }
  }
  while (true) {
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](CatalogFile* f) ABSL_NO_THREAD_SAFETY_ANALYSIS { return f->dirty_ || f->stopping_; },
          this));
      stopping = stopping_;
      if (!dirty_) return;  // stopping with nothing to write
      dirty_ = false;
    }
    WriteCurrent();
    if (stopping) return;
    // Coalesce a burst of changes (live updates) into one write.
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), min_interval_);
  }
}

void CatalogFile::WriteCurrent() {
  const std::shared_ptr<const CatalogSnapshot> snapshot = store_->Current();
  if (snapshot == nullptr) return;
  {
    absl::MutexLock lock(&mu_);
    if (snapshot->revision() == on_disk_revision_ &&
        snapshot->fingerprint() == on_disk_fingerprint_) {
      return;  // the file holds it already
    }
  }
  const absl::Time started = absl::Now();
  absl::Status written = WriteCatalogFile(path_, *snapshot);
  if (!written.ok()) {
    Log(LogLevel::kWarning, "catalog_file_write_failed",
        {{"path", path_}, {"error", written.ToString()}});
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    on_disk_revision_ = snapshot->revision();
    on_disk_fingerprint_ = snapshot->fingerprint();
  }
  Log(LogLevel::kDebug, "catalog_file_written",
      {{"path", path_},
       {"models", snapshot->size()},
       {"revision", snapshot->revision()},
       {"took", absl::FormatDuration(absl::Now() - started)}});
}

}  // namespace modelcatalog::catalog
