// The memory this process may use, as the kernel enforces it: the limit of its
// control group (in a Kubernetes pod, the container's resources.limits.memory).
#ifndef MODEL_CATALOG_SERVICES_COMMON_MEMORY_LIMIT_H_
#define MODEL_CATALOG_SERVICES_COMMON_MEMORY_LIMIT_H_

#include <cstdint>
#include <string>

#include "absl/types/optional.h"

namespace modelcatalog {

// The memory limit of this process's control group, in bytes: cgroup v2's
// `memory.max`, else cgroup v1's `memory.limit_in_bytes`. absl::nullopt when
// neither sets one ("max", v1's "unlimited" near 2^63, no such file). The
// group is found through `proc_self_cgroup` (its line `0::<path>`, or
// `N:memory:<path>` for v1) under `cgroup_root`; in a container that has its
// own cgroup namespace the path is "/" and the root's files are its own.
absl::optional<uint64_t> CgroupMemoryLimit(
    const std::string& cgroup_root = "/sys/fs/cgroup",
    const std::string& proc_self_cgroup = "/proc/self/cgroup");

}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_COMMON_MEMORY_LIMIT_H_
