#include "clients/hub/retry.h"

#include <algorithm>
#include <cmath>

#include "clients/hub/hub_client.h"

namespace modelcatalog::hub {

bool IsRetryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
      return true;
    case absl::StatusCode::kResourceExhausted:
      // Rate limited (429 with Retry-After) passes; a response over the size
      // cap (no Retry-After) never will.
      return RetryAfter(status).has_value();
    default:
      return false;
  }
}

absl::Duration RetryDelay(const RetryPolicy& policy, int retry, double unit_random,
                          const absl::Status& status) {
  const double scale = std::pow(policy.multiplier, std::max(0, retry - 1));
  absl::Duration delay = std::min(policy.initial_backoff * scale, policy.max_backoff);
  delay *= 1.0 + policy.jitter * (2.0 * unit_random - 1.0);
  if (absl::optional<absl::Duration> retry_after = RetryAfter(status)) {
    delay = std::max(delay, std::min(*retry_after, policy.max_retry_after));
  }
  return std::max(delay, absl::ZeroDuration());
}

}  // namespace modelcatalog::hub
