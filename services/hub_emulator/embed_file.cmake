# Writes a C++ source defining modelcatalog::hub_emulator::SampleCatalogJson()
# with the bytes of INPUT. Run by the build (cmake -P) so edits to the JSON
# re-embed it. Bytes rather than a raw string literal: any content is safe.
#   cmake -DINPUT=<file> -DOUTPUT=<file.cc> -P embed_file.cmake
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
# 0x.., 0x.., with a line break every 16 bytes.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUTPUT}" "// Generated from ${INPUT} by embed_file.cmake. Do not edit.
#include \"services/hub_emulator/sample_catalog.h\"

#include <cstddef>

namespace modelcatalog {
namespace hub_emulator {
namespace {

const unsigned char kBytes[] = {
    ${bytes}0x00};
constexpr size_t kSize = ${size};

}  // namespace

absl::string_view SampleCatalogJson() {
  return absl::string_view(reinterpret_cast<const char*>(kBytes), kSize);
}

}  // namespace hub_emulator
}  // namespace modelcatalog
")
