// The filter of ListModels, SearchModels and the JSON view: a boolean
// expression in the grammar of Google's AIP-160, parsed once per request and
// compiled to a predicate over what each snapshot entry keeps (ModelFields).
//
//   expression := sequence { "AND" sequence }     AND: lowest precedence
//   sequence   := factor { factor }               side by side: AND as well
//   factor     := term { "OR" term }              OR binds tighter than AND
//   term       := [ "NOT" | "-" ] simple
//   simple     := "(" expression ")" | field comparator value
//   comparator := "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"
//   value      := "quoted string" | 'quoted' | bare-text
//
// Fields and their types are in fields.h (and the proto's table). Strings
// compare case-insensitively; `*` in a string value is a wildcard (any run of
// characters); `:` on a list is "has an element that matches", on other fields
// it is `=`, and `field:*` is "has a value". Numbers are decimal (1e-6, 0.03);
// times are RFC 3339 or Unix seconds. An enumeration takes the hub's string
// (`custom`) or the enum's name (`MODEL_TYPE_CUSTOM`). A comparison with a
// value the model does not have (a missing price) is false, whatever the
// comparator. Errors name the problem and its byte offset.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_QUERY_FILTER_H_
#define MODEL_CATALOG_SERVICES_CATALOG_QUERY_FILTER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::catalog {

inline constexpr size_t kMaxFilterExpressionBytes = 2000;
inline constexpr int kMaxFilterComparisons = 100;
inline constexpr int kMaxFilterDepth = 32;  // nested parentheses and negations

class Filter {
 public:
  // Matches every model.
  Filter() = default;

  // INVALID_ARGUMENT "filter: <what> at offset <n>" for text that is not a
  // filter, and for one over kMaxFilterExpressionBytes or kMaxFilterComparisons.
  static absl::StatusOr<Filter> Parse(absl::string_view text);

  bool empty() const { return root_ == nullptr; }
  bool Matches(const CatalogEntry& entry) const;
  // Whether the filter reads deployments.status: its result can change when
  // a deployment's status does, while the rest of the catalog stays put.
  bool reads_deployments() const { return reads_deployments_; }

  struct Node;

 private:
  explicit Filter(std::shared_ptr<const Node> root);
  std::shared_ptr<const Node> root_;
  bool reads_deployments_ = false;
};

// `text` matches `pattern`, in which `*` stands for any run of bytes.
bool WildcardMatch(absl::string_view pattern, absl::string_view text);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_QUERY_FILTER_H_
