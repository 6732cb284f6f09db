// Retrying hub calls that failed in a way that may pass: exponential backoff
// with jitter, and the hub's own Retry-After honoured when it sends one (429,
// 503). Calls that cannot succeed by waiting (a bad request, a bad key, a
// missing model, a response too large) are not retried.
#ifndef MODEL_CATALOG_CLIENTS_HUB_RETRY_H_
#define MODEL_CATALOG_CLIENTS_HUB_RETRY_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace modelcatalog::hub {

struct RetryPolicy {
  int max_attempts = 4;  // the first call included
  absl::Duration initial_backoff = absl::Milliseconds(250);
  absl::Duration max_backoff = absl::Seconds(10);
  double multiplier = 2.0;
  // Each delay is scaled by a random factor in [1 - jitter, 1 + jitter], so
  // replicas that failed together do not retry together.
  double jitter = 0.2;
  // A Retry-After longer than this is cut to it.
  absl::Duration max_retry_after = absl::Seconds(60);
};

// True for failures that may pass: no connection, a timeout, the hub
// overloaded or failing (5xx), rate limited with a Retry-After, or a broken
// response body.
bool IsRetryable(const absl::Status& status);

// The delay before retry number `retry` (1 for the first retry). `unit_random`
// is uniform in [0, 1). A Retry-After in `status` is a floor.
absl::Duration RetryDelay(const RetryPolicy& policy, int retry, double unit_random,
                          const absl::Status& status);

// Waits for a delay; returns false when the wait was interrupted (shutdown),
// which ends the retries.
using Sleeper = std::function<bool(absl::Duration)>;

// Calls `attempt` until it succeeds, fails for good, the attempts run out or
// `sleep` is interrupted. The last failure is returned, its message noting
// how many attempts were made.
template <typename T>
absl::StatusOr<T> CallWithRetries(const RetryPolicy& policy, const Sleeper& sleep,
                                  const std::function<double()>& unit_random,
                                  const std::function<absl::StatusOr<T>()>& attempt,
                                  const std::function<void(int, absl::Duration, const absl::Status&)>&
                                      on_retry = nullptr) {
  absl::StatusOr<T> result = attempt();
  int attempts = 1;
  while (!result.ok() && IsRetryable(result.status()) && attempts < policy.max_attempts) {
    const absl::Duration delay = RetryDelay(policy, attempts, unit_random(), result.status());
    if (on_retry) on_retry(attempts, delay, result.status());
    if (!sleep(delay)) break;
    result = attempt();
    ++attempts;
  }
  if (result.ok() || attempts == 1) return result;
  const absl::Status& last = result.status();
  absl::Status annotated(last.code(),
                         absl::StrCat(last.message(), " (after ", attempts, " attempts)"));
  last.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { annotated.SetPayload(url, payload); });
  return annotated;
}

}  // namespace modelcatalog::hub

#endif  // MODEL_CATALOG_CLIENTS_HUB_RETRY_H_
