// The order of ListModels (AIP-132 order_by): a comma-separated list of
// fields, each optionally followed by "desc" (or "asc"). Models are compared
// field by field; a model without a field comes after every model with it, in
// either direction; ties are broken by id, ascending. The default is "id".
//
// A page ends at a model; the next page continues after that model's key in
// this order (its values of the order's fields and its id), in whatever
// snapshot is current, so a sync between two pages neither repeats nor skips a
// model that was there before and after.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_QUERY_ORDER_H_
#define MODEL_CATALOG_SERVICES_CATALOG_QUERY_ORDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/catalog/model/catalog_snapshot.h"
#include "services/catalog/query/fields.h"

namespace modelcatalog::catalog {

class Ordering {
 public:
  // By id, ascending.
  Ordering() = default;

  // INVALID_ARGUMENT "order_by: ..." naming the field that cannot be sorted by.
  static absl::StatusOr<Ordering> Parse(absl::string_view text);

  // The default order (by id alone): the snapshot's own.
  bool by_id() const { return terms_.empty(); }
  // The same order written one way, whatever the spacing and case of the
  // request: what page tokens and memoized results are keyed by.
  std::string Canonical() const;

  // Whether `a` comes before `b`.
  bool Less(const CatalogEntry& a, const CatalogEntry& b) const { return Compare(a, b) < 0; }
  // <0, 0 or >0 as `a` comes before, is, or comes after `b`.
  int Compare(const CatalogEntry& a, const CatalogEntry& b) const;

  // Sorts `positions` of `snapshot` into this order. Each model's values are
  // read once, before sorting, rather than at every comparison: a sort of
  // 100,000 models compares two million times.
  void Sort(const CatalogSnapshot& snapshot, std::vector<uint32_t>* positions) const;

  // The key of `entry` in this order, as bytes for a page token.
  std::string EncodeKey(const CatalogEntry& entry) const;
  // <0, 0 or >0 as `entry` comes before, at or after the model whose key is
  // `key`. A key this order did not encode compares as if it were at the end.
  int CompareWithKey(const CatalogEntry& entry, absl::string_view key) const;

 private:
  struct Term {
    const FieldSpec* field;
    bool descending;
  };
  std::vector<Term> terms_;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_QUERY_ORDER_H_
