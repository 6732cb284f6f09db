// What the fuzz targets share: a property check that stops the run with a report.
#ifndef MODEL_CATALOG_TESTS_FUZZ_FUZZ_CHECK_H_
#define MODEL_CATALOG_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/message_differencer.h"

namespace modelcatalog::fuzz {

// A property failed: say which and what, then abort, which libFuzzer reports as a crash and
// saves the input as an artifact.
[[noreturn]] inline void PropertyFailed(const char* file, int line, const char* property,
                                        const std::string& details) {
  std::fprintf(stderr, "\n==== PROPERTY FAILED at %s:%d: %s\n%s\n", file, line, property,
               details.c_str());
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_CHECK(condition, details)                                                 \
  do {                                                                                 \
    if (!(condition)) {                                                                \
      ::modelcatalog::fuzz::PropertyFailed(__FILE__, __LINE__, #condition, (details)); \
    }                                                                                  \
  } while (0)

// The deterministic wire encoding of a message: equal bytes for equal messages, map order
// included, and -0.0 told apart from 0.0 (which MessageDifferencer would not).
inline std::string WireBytes(const google::protobuf::Message& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

// Equal fields, down to the bits of every double; on a difference, what differs.
inline bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b,
                        std::string* diff) {
  if (WireBytes(a) == WireBytes(b)) return true;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(diff);
  if (differencer.Compare(a, b)) *diff = "(only the bits of a double differ, e.g. -0.0 and 0.0)";
  *diff += "\nfirst:\n" + a.DebugString() + "second:\n" + b.DebugString();
  return false;
}

}  // namespace modelcatalog::fuzz

#endif  // MODEL_CATALOG_TESTS_FUZZ_FUZZ_CHECK_H_
