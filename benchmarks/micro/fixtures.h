// Inputs the micro-benchmarks share, built once per process and size: the
// hub emulator's synthetic catalog (the one `hub-emulator --generate_models=N`
// serves) as the hub's JSON list, the models parsed from it, and a snapshot.
#ifndef MODEL_CATALOG_BENCHMARKS_MICRO_FIXTURES_H_
#define MODEL_CATALOG_BENCHMARKS_MICRO_FIXTURES_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "modelcatalog/v1/model.pb.h"
#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::bench {

// {"object":"list","data":[...]} of a generated catalog of `models` models.
const std::string& CatalogJson(int models);

// The models ParseModelList reads from CatalogJson(models), in the hub's order.
const std::vector<modelcatalog::v1::Model>& CatalogModels(int models);

// A snapshot of CatalogModels(models).
std::shared_ptr<const catalog::CatalogSnapshot> CatalogSnapshotOf(int models);

// `count` queries as people type them: the first `length` code points of a
// word (a run of letters and digits) of a random model's id or display name,
// the whole word when it is shorter; length 0: 2 to 6 at random.
std::vector<std::string> WordStartQueries(const std::vector<modelcatalog::v1::Model>& models,
                                       size_t count, int length, uint64_t seed);

// The sizes --models selected (default 10000 and 100000).
const std::vector<int>& SelectedSizes();
void SetSelectedSizes(std::vector<int> sizes);
// The largest selected size.
int LargestSize();

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_MICRO_FIXTURES_H_
