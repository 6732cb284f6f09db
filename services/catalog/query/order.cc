#include "services/catalog/query/order.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/catalog/model/token_encoding.h"

namespace modelcatalog::catalog {
namespace {

// One field's value of one model, or none.
struct Value {
  bool present = false;
  double number = 0;
  int64_t nanos = 0;
  absl::string_view text;
};

Value ValueOf(const CatalogEntry& entry, const FieldSpec& field) {
  Value value;
  switch (field.type) {
    case FieldType::kNumber:
      value.present = NumberOf(entry, field.id, &value.number);
      break;
    case FieldType::kTime: {
      absl::Time t;
      value.present = TimeOf(entry, field.id, &t);
      if (value.present) value.nanos = absl::ToUnixNanos(t);
      break;
    }
    default:
      value.present = HasText(entry, field.id);
      value.text = TextOf(entry, field.id);
      break;
  }
  return value;
}

int Sign(bool less, bool greater) { return less ? -1 : (greater ? 1 : 0); }

// -1, 0, 1 comparing two values of one field, ascending, absent last.
int CompareValues(const FieldSpec& field, const Value& a, const Value& b) {
  if (a.present != b.present) return a.present ? -1 : 1;
  if (!a.present) return 0;
  switch (field.type) {
    case FieldType::kNumber:
      return Sign(a.number<b.number, a.number> b.number);
    case FieldType::kTime:
      return Sign(a.nanos<b.nanos, a.nanos> b.nanos);
    default:
      return a.text.compare(b.text) < 0 ? -1 : (a.text == b.text ? 0 : 1);
  }
}

int CompareIds(absl::string_view a, absl::string_view b) { return a < b ? -1 : (a == b ? 0 : 1); }

}  // namespace

absl::StatusOr<Ordering> Ordering::Parse(absl::string_view text) {
  Ordering ordering;
  if (absl::StripAsciiWhitespace(text).empty()) return ordering;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    std::vector<absl::string_view> words =
        absl::StrSplit(absl::StripAsciiWhitespace(item), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.empty()) return absl::InvalidArgumentError("order_by: an empty field in the list");
    const FieldSpec* field = FindField(words[0]);
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("order_by: unknown field \"", words[0], "\""));
    }
    if (!field->sortable) {
      return absl::InvalidArgumentError(
          absl::StrCat("order_by: cannot sort by \"", words[0], "\""));
    }
    bool descending = false;
    if (words.size() == 2 && absl::EqualsIgnoreCase(words[1], "desc")) {
      descending = true;
    } else if (words.size() > 2 ||
               (words.size() == 2 && !absl::EqualsIgnoreCase(words[1], "asc"))) {
      return absl::InvalidArgumentError(
          absl::StrCat("order_by: expected \"desc\" or a comma after \"", words[0], "\""));
    }
    for (const Term& term : ordering.terms_) {
      if (term.field == field) {
        return absl::InvalidArgumentError(
            absl::StrCat("order_by: \"", words[0], "\" is listed twice"));
      }
    }
    ordering.terms_.push_back({field, descending});
  }
  // "id" alone, ascending, is the default order; later terms after id cannot
  // change anything (ids are unique), so they are dropped.
  for (size_t i = 0; i < ordering.terms_.size(); ++i) {
    if (ordering.terms_[i].field->id == FieldId::kId && !ordering.terms_[i].descending) {
      ordering.terms_.resize(i);
      break;
    }
  }
  return ordering;
}

std::string Ordering::Canonical() const {
  std::string text;
  for (const Term& term : terms_) {
    absl::StrAppend(&text, text.empty() ? "" : ",", term.field->name,
                    term.descending ? " desc" : "");
  }
  return text.empty() ? "id" : text;
}

int Ordering::Compare(const CatalogEntry& a, const CatalogEntry& b) const {
  for (const Term& term : terms_) {
    const Value va = ValueOf(a, *term.field);
    const Value vb = ValueOf(b, *term.field);
    if (va.present != vb.present) return va.present ? -1 : 1;  // absent last, both ways
    const int c = CompareValues(*term.field, va, vb);
    if (c != 0) return term.descending ? -c : c;
  }
  return CompareIds(a.id, b.id);
}

void Ordering::Sort(const CatalogSnapshot& snapshot, std::vector<uint32_t>* positions) const {
  const size_t n = positions->size();
  const size_t terms = terms_.size();
  if (terms == 0) {  // by id: the snapshot's own order
    std::sort(positions->begin(), positions->end());
    return;
  }
  // values[i * terms + t]: term t of the model at (*positions)[i].
  std::vector<Value> values(n * terms);
  for (size_t i = 0; i < n; ++i) {
    const CatalogEntry& entry = snapshot.entry((*positions)[i]);
    for (size_t t = 0; t < terms; ++t) values[i * terms + t] = ValueOf(entry, *terms_[t].field);
  }
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const Value* va = &values[a * terms];
    const Value* vb = &values[b * terms];
    for (size_t t = 0; t < terms; ++t) {
      if (va[t].present != vb[t].present) return va[t].present;  // absent last, both ways
      const int c = CompareValues(*terms_[t].field, va[t], vb[t]);
      if (c != 0) return terms_[t].descending ? c > 0 : c < 0;
    }
    // Ties by id: a snapshot's positions are in id order.
    return (*positions)[a] < (*positions)[b];
  });
  std::vector<uint32_t> sorted(n);
  for (size_t i = 0; i < n; ++i) sorted[i] = (*positions)[order[i]];
  *positions = std::move(sorted);
}

// Key layout, per term: present u8, then its value (number: 8 bytes of the
// double; time: 8 bytes of Unix nanoseconds; text: length u16 and bytes); then
// the id (length u16 and bytes). Little-endian.
std::string Ordering::EncodeKey(const CatalogEntry& entry) const {
  std::string key;
  for (const Term& term : terms_) {
    const Value value = ValueOf(entry, *term.field);
    key.push_back(value.present ? 1 : 0);
    if (!value.present) continue;
    switch (term.field->type) {
      case FieldType::kNumber: {
        uint64_t bits;
        std::memcpy(&bits, &value.number, sizeof(bits));
        PutLittleEndian(bits, 8, &key);
        break;
      }
      case FieldType::kTime:
        PutLittleEndian(static_cast<uint64_t>(value.nanos), 8, &key);
        break;
      default: {
        const absl::string_view text = value.text.substr(0, 0xFFFF);
        PutLittleEndian(text.size(), 2, &key);
        key.append(text.data(), text.size());
      }
    }
  }
  const absl::string_view id = absl::string_view(entry.id).substr(0, 0xFFFF);
  PutLittleEndian(id.size(), 2, &key);
  key.append(id.data(), id.size());
  return key;
}

int Ordering::CompareWithKey(const CatalogEntry& entry, absl::string_view key) const {
  size_t at = 0;
  const auto take = [&](size_t n, absl::string_view* out) {
    if (key.size() - at < n) return false;
    *out = key.substr(at, n);
    at += n;
    return true;
  };
  const auto text = [&](absl::string_view* out) {
    absl::string_view size;
    return take(2, &size) && take(GetLittleEndian(size.data(), 2), out);
  };
  for (const Term& term : terms_) {
    absl::string_view present;
    if (!take(1, &present)) return -1;
    Value k;
    k.present = present[0] != 0;
    if (k.present) {
      absl::string_view bytes;
      switch (term.field->type) {
        case FieldType::kNumber: {
          if (!take(8, &bytes)) return -1;
          const uint64_t bits = GetLittleEndian(bytes.data(), 8);
          std::memcpy(&k.number, &bits, sizeof(bits));
          break;
        }
        case FieldType::kTime:
          if (!take(8, &bytes)) return -1;
          k.nanos = static_cast<int64_t>(GetLittleEndian(bytes.data(), 8));
          break;
        default:
          if (!text(&k.text)) return -1;
      }
    }
    const Value v = ValueOf(entry, *term.field);
    if (v.present != k.present) return v.present ? -1 : 1;
    const int c = CompareValues(*term.field, v, k);
    if (c != 0) return term.descending ? -c : c;
  }
  absl::string_view id;
  if (!text(&id)) return -1;
  return CompareIds(entry.id, id);
}

}  // namespace modelcatalog::catalog
