// Fuzzes search queries, text people type (SearchModels, the JSON view, catalogctl):
// ParseSearchQuery and the ranking of services/catalog/model/model_search.h.
// - a query is parsed, or refused with INVALID_ARGUMENT when it has no letter or digit; no crash
//   or sanitizer report whatever the bytes (invalid UTF-8, marks alone, scripts without spaces);
// - the index changes nothing but speed: RankedMatches finds exactly the models that ranking
//   each model of the catalog finds, in (rank, id) order;
// - a model named what was typed is found by it, in the best tier: the query matches its own
//   words in order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/catalog/model/catalog_snapshot.h"
#include "services/catalog/model/model_search.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using ::modelcatalog::catalog::CatalogSnapshot;
using ::modelcatalog::catalog::ParseSearchQuery;
using ::modelcatalog::catalog::RankEntry;
using ::modelcatalog::catalog::RankedMatches;
using ::modelcatalog::catalog::SearchQuery;
using ::modelcatalog::catalog::SearchRank;

// The longest query SearchModels takes (request_limits.h).
constexpr size_t kMaxQueryBytes = 256;

modelcatalog::v1::Model Model(std::string id, std::string name, std::string developer) {
  modelcatalog::v1::Model model;
  model.set_id(std::move(id));
  model.set_display_name(std::move(name));
  if (!developer.empty()) model.mutable_developer()->set_name(std::move(developer));
  return model;
}

std::vector<modelcatalog::v1::Model> Catalog() {
  return {Model("claude-sonnet-4-5", "Claude Sonnet 4.5", "Anthropic"),
          Model("gpt-5-mini", "GPT-5 mini", "OpenAI"),
          Model("dall-e-3", "DALL·E 3", "OpenAI"),
          Model("deepseek-r1", "DeepSeek R1", "DeepSeek"),
          Model("flux-2-dev", "FLUX.2 [dev]", "Black Forest Labs"),
          Model("qwen-image-max", "通义万相 Max", "Alibaba"),
          Model("hermes-omega", "Ερμής Ωμέγα", ""),
          Model("uber-coder", "Über Coder", "Zürich Labs"),
          Model("strasse-13b", "Straße 13B", "ﬁne ＡＩ"),
          Model("midjourney-v7", "Midjourney v7", "Midjourney")};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxQueryBytes) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<SearchQuery> query = ParseSearchQuery(text);
  if (!query.ok()) {
    FUZZ_CHECK(query.status().code() == absl::StatusCode::kInvalidArgument,
               query.status().ToString());
    return 0;
  }
  FUZZ_CHECK(!query->terms.empty(), "a parsed query has a term");

  std::vector<modelcatalog::v1::Model> models = Catalog();
  models.push_back(Model("zz-typed", text, ""));
  const std::shared_ptr<const CatalogSnapshot> snapshot =
      CatalogSnapshot::Build(models, 1, absl::UnixEpoch());

  std::vector<std::pair<SearchRank, uint32_t>> expected;
  for (uint32_t p = 0; p < snapshot->size(); ++p) {
    if (auto rank = RankEntry(snapshot->entry(p), *query)) expected.push_back({*rank, p});
  }
  std::sort(expected.begin(), expected.end());
  const std::vector<uint32_t> found = RankedMatches(*snapshot, *query);
  FUZZ_CHECK(found.size() == expected.size(),
             absl::StrCat("RankedMatches found ", found.size(), ", ranking each model ",
                          expected.size()));
  for (size_t i = 0; i < found.size(); ++i) {
    FUZZ_CHECK(found[i] == expected[i].second, absl::StrCat("match ", i, " differs"));
  }

  const auto typed = snapshot->PositionOf("zz-typed");
  FUZZ_CHECK(typed.has_value(), "the typed model is in the catalog");
  const auto rank = RankEntry(snapshot->entry(*typed), *query);
  FUZZ_CHECK(rank.has_value(), absl::StrCat("a model named \"", text, "\" is not found by it"));
  FUZZ_CHECK(*rank <= 2, absl::StrCat("a model named what was typed ranks ", int{*rank}));
  return 0;
}
