// The fields the catalog's query language names (filters, orderings), their
// types, and how each is read from a snapshot entry. One table, shared by the
// filter and the ordering, and documented in catalog_service.proto.
#ifndef MODEL_CATALOG_SERVICES_CATALOG_QUERY_FIELDS_H_
#define MODEL_CATALOG_SERVICES_CATALOG_QUERY_FIELDS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::catalog {

enum class FieldType {
  kText,      // one string, compared case-insensitively
  kEnum,      // one enumeration: the hub's string or the enum's name
  kTextList,  // a repeated string
  kEnumList,  // a repeated enumeration (deployments.status)
  kNumber,    // an optional number (a price)
  kTime,      // an optional timestamp
};

enum class FieldId {
  kId,
  kDisplayName,
  kOwnedBy,
  kModelType,
  kEndpoint,
  kDeveloperName,
  kCapabilitiesInput,
  kCapabilitiesOutput,
  kPricingMethod,
  kInputCostPerToken,
  kOutputCostPerToken,
  kCostPerSecond,
  kCostPerImage,
  kCostPerSecondHighRes,
  kCostPerSecondWithAudio,
  kFineTuningActions,
  kFineTuningCostPerSecond,
  kDeploymentsStatus,
  kSourceModel,
  kCreated,
  kReleasedAt,
};

struct FieldSpec {
  absl::string_view name;  // as written in a filter or order_by
  FieldId id;
  FieldType type;
  bool sortable;
};

// The field named `name`, or null.
const FieldSpec* FindField(absl::string_view name);
// Every field, in the order of the documentation.
const std::vector<FieldSpec>& AllFields();

// Reading a field of an entry. Text is folded; absent optional values report
// false from Has*.
absl::string_view TextOf(const CatalogEntry& entry, FieldId field);  // kText, kEnum
bool HasText(const CatalogEntry& entry, FieldId field);  // false: an absent optional string
ModelFields::TextList TextListOf(const CatalogEntry& entry, FieldId field);
int EnumOf(const CatalogEntry& entry, FieldId field);                    // kEnum: the enum's number
bool NumberOf(const CatalogEntry& entry, FieldId field, double* value);  // false: absent
bool TimeOf(const CatalogEntry& entry, FieldId field, absl::Time* value);  // false: absent

// The enum number named `name` (case-insensitive, e.g. "MODEL_TYPE_CUSTOM")
// for an enumeration field; -1 when it names none.
int EnumNumberOf(FieldId field, absl::string_view name);

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_QUERY_FIELDS_H_
