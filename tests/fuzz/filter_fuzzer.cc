// Fuzzes the query language, text that comes from clients (ListModels, SearchModels, the JSON
// view): Filter::Parse and Ordering::Parse (services/catalog/query/).
// - a filter is parsed or refused with INVALID_ARGUMENT whose message starts "filter", and an
//   offset the message names lies within the text; no crash or sanitizer report, whatever the
//   nesting (the depth limit holds before the stack runs out);
// - a filter that parses means the same in parentheses, and its negation `NOT (...)` matches
//   exactly the models it does not, on a catalog whose models have every kind of field, some
//   missing; so the parser neither reads past its text nor depends on what follows it;
// - an ordering is parsed or refused with INVALID_ARGUMENT whose message starts "order_by"; one
//   that parses orders the catalog's models totally (irreflexive, asymmetric, transitive: ties
//   go by id), and a model compares with another's encoded key (a page token's cursor) as with
//   the model itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/util/json_util.h"
#include "services/catalog/model/catalog_snapshot.h"
#include "services/catalog/query/filter.h"
#include "services/catalog/query/order.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using ::modelcatalog::catalog::CatalogSnapshot;
using ::modelcatalog::catalog::Filter;
using ::modelcatalog::catalog::kMaxFilterExpressionBytes;
using ::modelcatalog::catalog::Ordering;

// Models with every kind of field the language reads, and models without most of them.
std::shared_ptr<const CatalogSnapshot> Catalog() {
  const char* const kModels[] = {
      R"({"id":"claude-sonnet-4-6","displayName":"Claude Sonnet 4.6","ownedBy":"oxen",
          "modelType":"MODEL_TYPE_BASE","modelTypeRaw":"base","endpoint":"/chat/completions",
          "capabilities":{"input":["text","image"],"output":["text"]},
          "pricing":{"method":"PRICING_METHOD_TOKEN","methodRaw":"token",
                     "inputCostPerToken":3e-6,"outputCostPerToken":1.5e-5},
          "developer":{"name":"Anthropic"},"created":"2025-06-15T00:00:00Z",
          "releasedAt":"2025-06-19T00:00:00Z"})",
      R"({"id":"flux-2-dev","displayName":"FLUX.2 [dev]","ownedBy":"oxen",
          "modelType":"MODEL_TYPE_BASE","modelTypeRaw":"base","endpoint":"/images/generate",
          "capabilities":{"input":["text"],"output":["image"]},
          "pricing":{"method":"PRICING_METHOD_PER_IMAGE","methodRaw":"per_image","costPerImage":0.025},
          "developer":{"name":"Black Forest Labs"},"created":"2025-11-01T00:00:00Z"})",
      R"({"id":"acme-bot","displayName":"Äcme Bøt","ownedBy":"acme",
          "modelType":"MODEL_TYPE_CUSTOM","modelTypeRaw":"custom","endpoint":"/chat/completions",
          "capabilities":{"input":["text"],"output":["text"]},
          "pricing":{"method":"PRICING_METHOD_TOKEN","methodRaw":"token","inputCostPerToken":0},
          "fineTuning":{"actions":["text_generation"],"costPerSecond":0.01},
          "deployments":[{"status":"DEPLOYMENT_STATUS_ERROR","statusRaw":"error"}],
          "sourceModel":"claude-sonnet-4-6","developer":{"name":"Acme"},
          "created":"1970-01-01T00:00:00Z"})",
      R"({"id":"acme-painter","ownedBy":"acme","modelType":"MODEL_TYPE_OTHER",
          "modelTypeRaw":"experimental","endpoint":"/images/generate",
          "pricing":{"method":"PRICING_METHOD_OTHER","methodRaw":"per_megapixel"},
          "deployments":[{"status":"DEPLOYMENT_STATUS_ACTIVE","statusRaw":"active"},
                         {"status":"DEPLOYMENT_STATUS_OTHER","statusRaw":"warming"}]})",
      R"({"id":"bare"})",
  };
  std::vector<modelcatalog::v1::Model> models;
  for (const char* json : kModels) {
    modelcatalog::v1::Model model;
    const auto parsed = google::protobuf::util::JsonStringToMessage(json, &model);
    FUZZ_CHECK(parsed.ok(), absl::StrCat("a model of the fuzzer's catalog: ", parsed.ToString()));
    models.push_back(model);
  }
  return CatalogSnapshot::Build(models, 1, absl::UnixEpoch());
}

const CatalogSnapshot& TheCatalog() {
  static const std::shared_ptr<const CatalogSnapshot> catalog = Catalog();
  return *catalog;
}

// Every "at offset N" of a message names a place within (or just after) the text.
void CheckOffsets(absl::string_view message, size_t text_size, absl::string_view text) {
  constexpr absl::string_view kAt = " at offset ";
  for (size_t at = message.find(kAt); at != absl::string_view::npos;
       at = message.find(kAt, at + 1)) {
    absl::string_view digits = message.substr(at + kAt.size());
    size_t n = 0;
    while (n < digits.size() && absl::ascii_isdigit(digits[n])) ++n;
    uint64_t offset = 0;
    FUZZ_CHECK(absl::SimpleAtoi(digits.substr(0, n), &offset), std::string(message));
    FUZZ_CHECK(offset <= text_size,
               absl::StrCat(message, "\ntext(", text_size, ")=", absl::CHexEscape(text)));
  }
}

// A filter built around one that parsed: it must parse too, unless it passes a limit.
bool ParsesUnlessOverALimit(const std::string& text, Filter* out) {
  absl::StatusOr<Filter> parsed = Filter::Parse(text);
  if (parsed.ok()) {
    *out = *std::move(parsed);
    return true;
  }
  const absl::string_view message = parsed.status().message();
  FUZZ_CHECK(
      absl::StrContains(message, "nested too deep") || absl::StartsWith(message, "filter is "),
      absl::StrCat("a filter that parsed does not in parentheses: ", message,
                   "\ntext=", absl::CHexEscape(text)));
  return false;
}

void FuzzFilter(absl::string_view text) {
  absl::StatusOr<Filter> filter = Filter::Parse(text);
  if (!filter.ok()) {
    FUZZ_CHECK(filter.status().code() == absl::StatusCode::kInvalidArgument &&
                   absl::StartsWith(filter.status().message(), "filter"),
               filter.status().ToString());
    CheckOffsets(filter.status().message(), text.size(), text);
    return;
  }
  FUZZ_CHECK(text.size() <= kMaxFilterExpressionBytes, absl::StrCat(text.size(), " bytes"));
  const CatalogSnapshot& catalog = TheCatalog();
  if (filter->empty()) {
    // Blank text: no filter, which matches every model (and "()" is not a filter).
    FUZZ_CHECK(text.find_first_not_of(" \t\r\n") == absl::string_view::npos,
               absl::StrCat("a filter that is empty: ", absl::CHexEscape(text)));
    for (size_t i = 0; i < catalog.size(); ++i) {
      FUZZ_CHECK(filter->Matches(catalog.entry(i)), catalog.entry(i).id);
    }
    return;
  }
  Filter same, negated;
  const bool have_same = ParsesUnlessOverALimit(absl::StrCat("(", text, ")"), &same);
  const bool have_negated = ParsesUnlessOverALimit(absl::StrCat("NOT (", text, ")"), &negated);
  for (size_t i = 0; i < catalog.size(); ++i) {
    const bool matches = filter->Matches(catalog.entry(i));
    if (have_same) {
      FUZZ_CHECK(same.Matches(catalog.entry(i)) == matches,
                 absl::StrCat("(filter) differs from filter on ", catalog.entry(i).id,
                              "\ntext=", absl::CHexEscape(text)));
    }
    if (have_negated) {
      FUZZ_CHECK(negated.Matches(catalog.entry(i)) != matches,
                 absl::StrCat("NOT (filter) agrees with filter on ", catalog.entry(i).id,
                              "\ntext=", absl::CHexEscape(text)));
    }
  }
}

void FuzzOrdering(absl::string_view text) {
  absl::StatusOr<Ordering> ordering = Ordering::Parse(text);
  if (!ordering.ok()) {
    FUZZ_CHECK(ordering.status().code() == absl::StatusCode::kInvalidArgument &&
                   absl::StartsWith(ordering.status().message(), "order_by"),
               ordering.status().ToString());
    return;
  }
  const CatalogSnapshot& catalog = TheCatalog();
  const size_t n = catalog.size();
  auto less = [&](size_t a, size_t b) {
    return ordering->Less(catalog.entry(a), catalog.entry(b));
  };
  auto sign = [](int x) { return (x > 0) - (x < 0); };
  for (size_t a = 0; a < n; ++a) {
    FUZZ_CHECK(!less(a, a), absl::StrCat("irreflexive: ", catalog.entry(a).id, " ", text));
    const std::string key = ordering->EncodeKey(catalog.entry(a));
    for (size_t b = 0; b < n; ++b) {
      FUZZ_CHECK(sign(ordering->CompareWithKey(catalog.entry(b), key)) ==
                     sign(ordering->Compare(catalog.entry(b), catalog.entry(a))),
                 absl::StrCat(catalog.entry(b).id, " against the key of ", catalog.entry(a).id,
                              ": ", text));
    }
    for (size_t b = 0; b < n; ++b) {
      // Ties are broken by id, so two different models are always ordered.
      if (a != b) {
        FUZZ_CHECK(less(a, b) != less(b, a),
                   absl::StrCat("not a total order on ", catalog.entry(a).id, ", ",
                                catalog.entry(b).id, ": ", text));
      }
      for (size_t c = 0; c < n; ++c) {
        if (less(a, b) && less(b, c)) {
          FUZZ_CHECK(less(a, c), absl::StrCat("not transitive: ", text));
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  FuzzFilter(text);
  FuzzOrdering(text);
  return 0;
}
