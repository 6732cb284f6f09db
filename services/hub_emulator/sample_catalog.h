// The bundled sample catalog (sample_catalog.json), embedded into the binary at
// build time so that `hub-emulator` with no arguments serves it.
#ifndef MODEL_CATALOG_SERVICES_HUB_EMULATOR_SAMPLE_CATALOG_H_
#define MODEL_CATALOG_SERVICES_HUB_EMULATOR_SAMPLE_CATALOG_H_

#include "absl/strings/string_view.h"

namespace modelcatalog {
namespace hub_emulator {

// The text of sample_catalog.json as it was when the binary was built.
absl::string_view SampleCatalogJson();

}  // namespace hub_emulator
}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_HUB_EMULATOR_SAMPLE_CATALOG_H_
