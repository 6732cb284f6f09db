#include "services/common/env_flags.h"

#include <cstdio>
#include <cstdlib>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace modelcatalog {

std::string EnvVarForFlag(absl::string_view prefix, absl::string_view flag_name) {
  return absl::StrCat(prefix, absl::AsciiStrToUpper(flag_name));
}

void ApplyEnvironmentToFlags(absl::string_view prefix,
                             std::initializer_list<absl::string_view> flag_names) {
  for (absl::string_view name : flag_names) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) ExitWithUsageError(absl::StrCat("unknown flag: ", name));
    const std::string var = EnvVarForFlag(prefix, name);
    const char* value = std::getenv(var.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      ExitWithUsageError(absl::StrCat("invalid value of ", var, ": ", error));
    }
  }
}

void ExitWithUsageError(absl::string_view message) {
  std::fprintf(stderr, "error: %.*s\n", static_cast<int>(message.size()), message.data());
  std::exit(2);
}

}  // namespace modelcatalog
