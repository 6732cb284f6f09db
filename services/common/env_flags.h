// Lets every command-line flag also be set from the environment, the way
// Kubernetes passes configuration: flag `sync_interval` of a program with prefix
// `MODEL_CATALOG_` is read from `MODEL_CATALOG_SYNC_INTERVAL`. A flag given on the
// command line wins over the environment.
#ifndef MODEL_CATALOG_SERVICES_COMMON_ENV_FLAGS_H_
#define MODEL_CATALOG_SERVICES_COMMON_ENV_FLAGS_H_

#include <initializer_list>
#include <string>
#include "absl/strings/string_view.h"

namespace modelcatalog {

// The environment variable that sets `flag_name`: prefix + upper-cased name.
std::string EnvVarForFlag(absl::string_view prefix, absl::string_view flag_name);

// Sets each named flag from its environment variable, when that is set. Call
// before absl::ParseCommandLine so the command line overrides. An unknown flag
// name or an unparsable value is fatal with a message naming the variable.
void ApplyEnvironmentToFlags(absl::string_view prefix,
                             std::initializer_list<absl::string_view> flag_names);

// Prints `message` to stderr and exits with status 2: for bad configuration at start-up.
[[noreturn]] void ExitWithUsageError(absl::string_view message);

}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_COMMON_ENV_FLAGS_H_
