// What the TSan annotation libraries share: finding the definition that one of theirs hides.
#ifndef MODEL_CATALOG_TESTS_SANITIZERS_TSAN_ORIGINAL_H_
#define MODEL_CATALOG_TESTS_SANITIZERS_TSAN_ORIGINAL_H_

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace modelcatalog::tsan {

[[noreturn]] inline void Fail(const std::string& name, const char* what) {
  std::fprintf(stderr, "tsan annotations: %s: %s\n", name.c_str(), what);
  std::abort();
}

// Whether this library's definition of `name` is the one the process uses, when any is loaded.
inline void CheckFirst(const std::string& name) {
  Dl_info self, found;
  if (dladdr(reinterpret_cast<void*>(&Fail), &self) == 0) Fail(name, "dladdr failed");
  void* first = dlsym(RTLD_DEFAULT, name.c_str());
  if (first != nullptr && (dladdr(first, &found) == 0 || found.dli_fbase != self.dli_fbase)) {
    Fail(name, found.dli_fname != nullptr
                   ? (std::string("hidden by ") + found.dli_fname +
                      ": this library must come first on the executable's link line")
                         .c_str()
                   : "hidden by another definition");
  }
}

// The definition of the symbol `name` that this library hides: the next one in the lookup
// order (abseil's, gRPC's). Checks first that the name is really one this library defines and
// that its definition comes first, which a wrong mangled name or link order would break.
template <typename Fn>
Fn Original(const std::string& name) {
  Dl_info self, found;
  if (dladdr(reinterpret_cast<void*>(&Fail), &self) == 0) Fail(name, "dladdr failed");
  void* first = dlsym(RTLD_DEFAULT, name.c_str());
  if (first == nullptr || dladdr(first, &found) == 0 || found.dli_fbase != self.dli_fbase) {
    Fail(name, "not this library's definition: check the mangled name and the link order");
  }
  void* next = dlsym(RTLD_NEXT, name.c_str());
  if (next == nullptr) Fail(name, "no definition after this library's");
  return reinterpret_cast<Fn>(next);
}

}  // namespace modelcatalog::tsan

#endif  // MODEL_CATALOG_TESTS_SANITIZERS_TSAN_ORIGINAL_H_
