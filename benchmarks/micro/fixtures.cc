#include "benchmarks/micro/fixtures.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

#include "absl/time/clock.h"
#include "clients/hub/model_json.h"
#include "services/catalog/model/text_fold.h"
#include "services/hub_emulator/catalog.h"
#include "services/hub_emulator/generator.h"

namespace modelcatalog::bench {
namespace {

std::mutex& FixtureMutex() {
  static std::mutex mu;
  return mu;
}

std::vector<int>& Sizes() {
  static std::vector<int> sizes = {10000, 100000};
  return sizes;
}

std::vector<size_t> CodePointStarts(const std::string& text) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  starts.push_back(text.size());
  return starts;
}

}  // namespace

const std::string& CatalogJson(int models) {
  std::lock_guard<std::mutex> lock(FixtureMutex());
  static std::map<int, std::string> cache;
  auto it = cache.find(models);
  if (it == cache.end()) {
    std::vector<std::shared_ptr<const std::string>> texts;
    for (const hub_emulator::CatalogModel& model : hub_emulator::GenerateCatalog(models)) {
      texts.push_back(model.json);
    }
    it = cache.emplace(models, hub_emulator::ListJson(texts)).first;
  }
  return it->second;
}

const std::vector<modelcatalog::v1::Model>& CatalogModels(int models) {
  const std::string& json = CatalogJson(models);
  std::lock_guard<std::mutex> lock(FixtureMutex());
  static std::map<int, std::vector<modelcatalog::v1::Model>> cache;
  auto it = cache.find(models);
  if (it == cache.end()) {
    absl::StatusOr<hub::ParsedModelList> parsed = hub::ParseModelList(json);
    if (!parsed.ok() || !parsed->rejected.empty()) {
      std::fprintf(stderr, "the generated catalog of %d models does not parse: %s\n", models,
                   parsed.ok() ? parsed->rejected.front().status.ToString().c_str()
                               : parsed.status().ToString().c_str());
      std::abort();
    }
    it = cache.emplace(models, std::move(parsed->models)).first;
  }
  return it->second;
}

std::shared_ptr<const catalog::CatalogSnapshot> CatalogSnapshotOf(int models) {
  const std::vector<modelcatalog::v1::Model>& parsed = CatalogModels(models);
  std::lock_guard<std::mutex> lock(FixtureMutex());
  static std::map<int, std::shared_ptr<const catalog::CatalogSnapshot>> cache;
  auto it = cache.find(models);
  if (it == cache.end()) {
    it = cache.emplace(models, catalog::CatalogSnapshot::Build(parsed, 1, absl::Now())).first;
  }
  return it->second;
}

std::vector<std::string> WordStartQueries(const std::vector<modelcatalog::v1::Model>& models,
                                          size_t count, int length, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<std::string> queries;
  while (queries.size() < count) {
    const modelcatalog::v1::Model& model = models[random() % models.size()];
    const std::string& text = random() % 2 == 0 ? model.id() : model.display_name();
    std::vector<std::string> words;
    std::string word;
    for (char c : text) {
      if (std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80) {
        word.push_back(c);
      } else if (!word.empty()) {
        words.push_back(std::move(word));
        word.clear();
      }
    }
    if (!word.empty()) words.push_back(std::move(word));
    if (words.empty()) continue;
    const std::string& chosen = words[random() % words.size()];
    const std::vector<size_t> starts = CodePointStarts(chosen);
    const size_t wanted = length > 0 ? static_cast<size_t>(length) : 2 + random() % 5;
    const size_t taken = std::min(wanted, starts.size() - 1);
    if (taken < 2) continue;
    queries.push_back(chosen.substr(0, starts[taken]));
  }
  return queries;
}

const std::vector<int>& SelectedSizes() { return Sizes(); }
void SetSelectedSizes(std::vector<int> sizes) { Sizes() = std::move(sizes); }
int LargestSize() { return *std::max_element(Sizes().begin(), Sizes().end()); }

}  // namespace modelcatalog::bench
