#include "benchmarks/load/sync_monitor.h"

#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "benchmarks/load/closed_loop.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"

namespace modelcatalog::bench {
namespace {

using ::modelcatalog::v1::GetSyncStatusResponse;
using ::modelcatalog::v1::ModelCatalogService;

int64_t WallNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t Nanos(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000000LL + t.nanos();
}
int64_t Nanos(const google::protobuf::Duration& d) {
  return d.seconds() * 1000000000LL + d.nanos();
}

bool ReadStatus(BenchContext& context, GetSyncStatusResponse* status) {
  auto control = ModelCatalogService::NewStub(context.control);
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  return control->GetSyncStatus(&call, {}, status).ok();
}

}  // namespace

SyncMonitor::SyncMonitor(BenchContext& context, absl::Duration poll_interval, int64_t start,
                         int64_t measure_begin, int syncs, int64_t max_ns, std::atomic<bool>* stop)
    : context_(context),
      poll_interval_(poll_interval),
      start_(start),
      measure_begin_(measure_begin),
      syncs_(syncs),
      max_ns_(max_ns),
      stop_(stop),
      patched_id_(context.catalog.ids.empty() ? "" : context.catalog.ids.front()) {}

void SyncMonitor::PatchHub() {
  const HttpResult patched = context_.hub->Patch(
      patched_id_, absl::StrCat("{\"description\":\"catalog-bench sync edit ", ++patches_, "\"}"));
  if (patched.status != 200) {
    std::fprintf(stderr, "catalog-bench: PATCH answered %ld: %s\n", patched.status,
                 patched.body.substr(0, 200).c_str());
  }
}

bool SyncMonitor::Start() {
  GetSyncStatusResponse first;
  if (!ReadStatus(context_, &first)) {
    std::fprintf(stderr, "catalog-bench: GetSyncStatus failed\n");
    return false;
  }
  PatchHub();
  thread_ = std::thread([this, attempt = Nanos(first.last_attempt_time()),
                         revision = first.revision()] { Loop(attempt, revision); });
  return true;
}

void SyncMonitor::Join() {
  if (thread_.joinable()) thread_.join();
}

void SyncMonitor::Loop(int64_t last_attempt, int64_t revision) {
  // Steady clock = wall clock + offset, for the server's sync start times.
  const int64_t clock_offset = NowNanos() - WallNanos();
  int seen = 0;
  while (!stop_->load()) {
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(poll_interval_));
    if (NowNanos() - start_ > max_ns_) break;
    GetSyncStatusResponse status;
    if (!ReadStatus(context_, &status)) continue;
    const int64_t observed = NowNanos();
    const int64_t attempt = Nanos(status.last_attempt_time());
    if (attempt == last_attempt) continue;
    SyncWindow window;
    window.failed = !status.last_error().empty();
    // A successful sync reports when it started and how long its parts took;
    // a failed one only when it ended.
    window.start = window.failed ? observed : attempt + clock_offset;
    window.fetch_end = window.start;
    window.end = observed;
    if (!window.failed && status.has_last_sync_apply_duration()) {
      window.fetch_end = window.start + Nanos(status.last_sync_fetch_duration());
      window.end = window.fetch_end + Nanos(status.last_sync_apply_duration());
    }
    window.revision = status.revision();
    window.applied = status.revision() > revision;
    windows_.push_back(window);
    last_attempt = attempt;
    revision = status.revision();
    PatchHub();
    if (window.start >= measure_begin_ && !window.failed && ++seen >= syncs_) break;
  }
  stopped_at_.store(NowNanos());
  stop_->store(true);
}

int64_t SyncMonitor::Measured(int64_t* applied, std::string* text) const {
  int64_t measured = 0;
  *applied = 0;
  for (const SyncWindow& w : windows_) {
    if (w.end < measure_begin_) continue;
    ++measured;
    *applied += w.applied ? 1 : 0;
    absl::StrAppend(
        text, text->empty() ? "" : " ",
        absl::StrFormat("%.2fs@%.1fs", (w.end - w.start) / 1e9, (w.start - measure_begin_) / 1e9),
        absl::StrFormat("(fetch %.2fs)", (w.fetch_end - w.start) / 1e9),
        w.applied ? "" : "(not applied)", w.failed ? "(failed)" : "");
  }
  return measured;
}

}  // namespace modelcatalog::bench
