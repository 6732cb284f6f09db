#include "services/common/periodic_task.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"

namespace modelcatalog {

std::string FileSignature(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return "";
  return absl::StrCat(info.st_size, ":", info.st_mtim.tv_sec, ".", info.st_mtim.tv_nsec, ":",
                      info.st_ino);
}

}  // namespace modelcatalog
