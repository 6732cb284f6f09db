// Synthetic catalogs for benchmarks and scale tests.
#ifndef MODEL_CATALOG_SERVICES_HUB_EMULATOR_GENERATOR_H_
#define MODEL_CATALOG_SERVICES_HUB_EMULATOR_GENERATOR_H_

#include <vector>

#include "services/hub_emulator/catalog.h"

namespace modelcatalog {
namespace hub_emulator {

// A deterministic catalog of `count` models, varied like the sample catalog:
// in every block of ten, five base models (token, null-cost token, per_image,
// time and per_video_output_second pricing; chat, image and video endpoints)
// and five custom models fine-tuned from them, whose deployments cycle through
// every status (active, inactive, deploying, deactivating, error, unknown) and
// include none and two. Some models carry a request_schema, fine_tuning and
// nulls in the nullable fields. Ids are "gen-<kind>-<index>", zero-padded.
// Builds the JSON directly (no DOM), so 100,000 models take well under a second.
std::vector<CatalogModel> GenerateCatalog(int count);

}  // namespace hub_emulator
}  // namespace modelcatalog

#endif  // MODEL_CATALOG_SERVICES_HUB_EMULATOR_GENERATOR_H_
