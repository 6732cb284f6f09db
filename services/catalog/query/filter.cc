#include "services/catalog/query/filter.h"

#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/catalog/model/text_fold.h"
#include "services/catalog/query/fields.h"

namespace modelcatalog::catalog {

enum class Comparator { kEq, kNe, kLt, kLe, kGt, kGe, kHas };

struct Filter::Node {
  enum class Kind { kAnd, kOr, kNot, kTest };
  Kind kind = Kind::kTest;
  std::vector<std::unique_ptr<Node>> children;

  // kTest
  const FieldSpec* field = nullptr;
  Comparator comparator = Comparator::kEq;
  bool presence = false;  // `field:*`
  std::string text;       // folded string value
  bool wildcard = false;  // `text` holds a `*`
  int enum_number = -1;   // the value names an enum value (compared by number)
  double number = 0;
  absl::Time time;
};

namespace {

using Node = Filter::Node;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsFieldChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '.'; }

const char* ComparatorText(Comparator c) {
  switch (c) {
    case Comparator::kEq:
      return "=";
    case Comparator::kNe:
      return "!=";
    case Comparator::kLt:
      return "<";
    case Comparator::kLe:
      return "<=";
    case Comparator::kGt:
      return ">";
    case Comparator::kGe:
      return ">=";
    case Comparator::kHas:
      return ":";
  }
  return "?";
}

template <typename T>
bool Compare(Comparator c, const T& a, const T& b) {
  switch (c) {
    case Comparator::kEq:
    case Comparator::kHas:
      return a == b;
    case Comparator::kNe:
      return a != b;
    case Comparator::kLt:
      return a < b;
    case Comparator::kLe:
      return a <= b;
    case Comparator::kGt:
      return a > b;
    case Comparator::kGe:
      return a >= b;
  }
  return false;
}

class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::StatusOr<std::unique_ptr<Node>> Parse() {
    SkipSpaces();
    if (AtEnd()) return std::unique_ptr<Node>();
    absl::StatusOr<std::unique_ptr<Node>> root = Expression(0);
    if (!root.ok()) return root.status();
    SkipSpaces();
    if (!AtEnd()) {
      return Error(text_[pos_] == ')' ? "unbalanced \")\"" : "unexpected text", pos_);
    }
    return root;
  }

 private:
  absl::Status Error(absl::string_view what, size_t at) const {
    return absl::InvalidArgumentError(absl::StrCat("filter: ", what, " at offset ", at));
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  void SkipSpaces() {
    while (!AtEnd() && IsSpace(text_[pos_])) ++pos_;
  }
  // The keyword `word` (AND, OR, NOT) at the position, as a whole word.
  bool AtKeyword(absl::string_view word) const {
    if (text_.substr(pos_, word.size()) != word) return false;
    const size_t after = pos_ + word.size();
    return after >= text_.size() || IsSpace(text_[after]) || text_[after] == '(';
  }

  static std::unique_ptr<Node> Join(Node::Kind kind, std::vector<std::unique_ptr<Node>> parts) {
    if (parts.size() == 1) return std::move(parts[0]);
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->children = std::move(parts);
    return node;
  }

  absl::StatusOr<std::unique_ptr<Node>> Expression(int depth) {
    std::vector<std::unique_ptr<Node>> parts;
    while (true) {
      absl::StatusOr<std::unique_ptr<Node>> sequence = Sequence(depth);
      if (!sequence.ok()) return sequence.status();
      parts.push_back(*std::move(sequence));
      SkipSpaces();
      if (!AtKeyword("AND")) break;
      pos_ += 3;
    }
    return Join(Node::Kind::kAnd, std::move(parts));
  }

  absl::StatusOr<std::unique_ptr<Node>> Sequence(int depth) {
    std::vector<std::unique_ptr<Node>> parts;
    while (true) {
      absl::StatusOr<std::unique_ptr<Node>> factor = Factor(depth);
      if (!factor.ok()) return factor.status();
      parts.push_back(*std::move(factor));
      SkipSpaces();
      if (AtEnd() || text_[pos_] == ')' || AtKeyword("AND")) break;
    }
    return Join(Node::Kind::kAnd, std::move(parts));
  }

  absl::StatusOr<std::unique_ptr<Node>> Factor(int depth) {
    std::vector<std::unique_ptr<Node>> parts;
    while (true) {
      absl::StatusOr<std::unique_ptr<Node>> term = Term(depth);
      if (!term.ok()) return term.status();
      parts.push_back(*std::move(term));
      SkipSpaces();
      if (!AtKeyword("OR")) break;
      pos_ += 2;
    }
    return Join(Node::Kind::kOr, std::move(parts));
  }

  absl::StatusOr<std::unique_ptr<Node>> Term(int depth) {
    SkipSpaces();
    bool negated = false;
    if (AtKeyword("NOT")) {
      pos_ += 3;
      negated = true;
    } else if (!AtEnd() && text_[pos_] == '-' && pos_ + 1 < text_.size() &&
               !IsSpace(text_[pos_ + 1])) {
      ++pos_;
      negated = true;
    }
    if (negated && depth + 1 > kMaxFilterDepth) return Error("nested too deep", pos_);
    absl::StatusOr<std::unique_ptr<Node>> simple = Simple(negated ? depth + 1 : depth);
    if (!simple.ok() || !negated) return simple;
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kNot;
    node->children.push_back(*std::move(simple));
    return node;
  }

  absl::StatusOr<std::unique_ptr<Node>> Simple(int depth) {
    SkipSpaces();
    if (AtEnd()) return Error("expected a comparison", pos_);
    if (text_[pos_] == '(') {
      if (depth + 1 > kMaxFilterDepth) return Error("nested too deep", pos_);
      const size_t open = pos_++;
      absl::StatusOr<std::unique_ptr<Node>> inner = Expression(depth + 1);
      if (!inner.ok()) return inner.status();
      SkipSpaces();
      if (AtEnd() || text_[pos_] != ')') return Error("unbalanced \"(\"", open);
      ++pos_;
      return inner;
    }
    return Restriction();
  }

  absl::StatusOr<std::unique_ptr<Node>> Restriction() {
    const size_t name_at = pos_;
    while (!AtEnd() && IsFieldChar(text_[pos_])) ++pos_;
    const absl::string_view name = text_.substr(name_at, pos_ - name_at);
    if (name.empty()) return Error("expected a field name", name_at);
    const FieldSpec* field = FindField(name);
    if (field == nullptr) {
      return Error(absl::StrCat("unknown field \"", name, "\""), name_at);
    }
    if (++comparisons_ > kMaxFilterComparisons) {
      return absl::InvalidArgumentError(absl::StrCat("filter: more than ", kMaxFilterComparisons,
                                                     " comparisons; at most ",
                                                     kMaxFilterComparisons, " are allowed"));
    }
    SkipSpaces();
    const size_t comparator_at = pos_;
    Comparator comparator;
    if (text_.substr(pos_, 2) == "!=") {
      comparator = Comparator::kNe;
      pos_ += 2;
    } else if (text_.substr(pos_, 2) == "<=") {
      comparator = Comparator::kLe;
      pos_ += 2;
    } else if (text_.substr(pos_, 2) == ">=") {
      comparator = Comparator::kGe;
      pos_ += 2;
    } else if (!AtEnd() && text_[pos_] == '=') {
      comparator = Comparator::kEq;
      ++pos_;
    } else if (!AtEnd() && text_[pos_] == '<') {
      comparator = Comparator::kLt;
      ++pos_;
    } else if (!AtEnd() && text_[pos_] == '>') {
      comparator = Comparator::kGt;
      ++pos_;
    } else if (!AtEnd() && text_[pos_] == ':') {
      comparator = Comparator::kHas;
      ++pos_;
    } else {
      return Error(
          absl::StrCat("expected a comparison (=, !=, <, <=, >, >=, :) after \"", name, "\""),
          comparator_at);
    }
    SkipSpaces();
    const size_t value_at = pos_;
    std::string value;
    bool quoted = false;
    if (!AtEnd() && (text_[pos_] == '"' || text_[pos_] == '\'')) {
      quoted = true;
      const char quote = text_[pos_++];
      bool closed = false;
      while (!AtEnd()) {
        const char c = text_[pos_++];
        if (c == quote) {
          closed = true;
          break;
        }
        if (c == '\\' && !AtEnd()) {
          value.push_back(text_[pos_++]);
          continue;
        }
        value.push_back(c);
      }
      if (!closed) return Error("unterminated string", value_at);
    } else {
      // A bare value runs to the next space or closing parenthesis, so that
      // times (2025-06-19T00:00:00Z) and ids (flux-2-dev) need no quotes.
      while (!AtEnd() && !IsSpace(text_[pos_]) && text_[pos_] != ')' && text_[pos_] != '(') {
        value.push_back(text_[pos_++]);
      }
    }
    if (value.empty() && !quoted) {
      return Error(absl::StrCat("expected a value after \"", ComparatorText(comparator), "\""),
                   value_at);
    }
    return Test(*field, comparator, value, quoted, comparator_at, value_at);
  }

  absl::StatusOr<std::unique_ptr<Node>> Test(const FieldSpec& field, Comparator comparator,
                                             const std::string& value, bool quoted,
                                             size_t comparator_at, size_t value_at) {
    auto node = std::make_unique<Node>();
    node->field = &field;
    node->comparator = comparator;
    const bool ordering = comparator == Comparator::kLt || comparator == Comparator::kLe ||
                          comparator == Comparator::kGt || comparator == Comparator::kGe;
    if (comparator == Comparator::kHas && value == "*" && !quoted) {
      node->presence = true;
      return node;
    }
    switch (field.type) {
      case FieldType::kEnum:
      case FieldType::kEnumList:
        node->enum_number = EnumNumberOf(field.id, value);
        if (ordering) {
          return Error(absl::StrCat("cannot order \"", field.name, "\": use =, != or :"),
                       comparator_at);
        }
        [[fallthrough]];
      case FieldType::kText:
      case FieldType::kTextList:
        if (ordering && field.type == FieldType::kTextList) {
          return Error(absl::StrCat("\"", field.name, "\" is a list: use : or ="), comparator_at);
        }
        node->text = FoldCase(value);
        node->wildcard = node->text.find('*') != std::string::npos;
        return node;
      case FieldType::kNumber:
        if (!absl::SimpleAtod(value, &node->number) || !std::isfinite(node->number)) {
          return Error(absl::StrCat("expected a number after \"", ComparatorText(comparator), "\""),
                       value_at);
        }
        return node;
      case FieldType::kTime: {
        int64_t seconds = 0;
        std::string error;
        if (absl::SimpleAtoi(value, &seconds)) {
          node->time = absl::FromUnixSeconds(seconds);
        } else if (!absl::ParseTime(absl::RFC3339_full, value, &node->time, &error)) {
          return Error(absl::StrCat("expected an RFC 3339 time or Unix seconds after \"",
                                    ComparatorText(comparator), "\""),
                       value_at);
        }
        return node;
      }
    }
    return node;
  }

  const absl::string_view text_;
  size_t pos_ = 0;
  int comparisons_ = 0;
};

bool TextMatches(const Node& test, absl::string_view value) {
  return test.wildcard ? WildcardMatch(test.text, value) : value == test.text;
}

bool EvaluateTest(const Node& test, const CatalogEntry& entry) {
  const FieldSpec& field = *test.field;
  switch (field.type) {
    case FieldType::kText: {
      if (!HasText(entry, field.id)) return false;  // also the answer to `field:*`
      if (test.presence) return true;
      const absl::string_view value = TextOf(entry, field.id);
      switch (test.comparator) {
        case Comparator::kEq:
        case Comparator::kHas:
          return TextMatches(test, value);
        case Comparator::kNe:
          return !TextMatches(test, value);
        default:
          return Compare(test.comparator, value, absl::string_view(test.text));
      }
    }
    case FieldType::kEnum: {
      const absl::string_view value = TextOf(entry, field.id);
      if (test.presence) return !value.empty();
      const bool equal = test.enum_number >= 0 ? EnumOf(entry, field.id) == test.enum_number
                                               : TextMatches(test, value);
      return test.comparator == Comparator::kNe ? !equal : equal;
    }
    case FieldType::kTextList:
    case FieldType::kEnumList: {
      const ModelFields::TextList values = TextListOf(entry, field.id);
      if (test.presence) return !values.empty();
      bool any = false;
      for (size_t i = 0; i < values.size() && !any; ++i) {
        if (test.enum_number >= 0 && field.id == FieldId::kDeploymentsStatus) {
          any = entry.fields.status_enum(i) == test.enum_number;
        } else {
          any = TextMatches(test, values[i]);
        }
      }
      return test.comparator == Comparator::kNe ? !any : any;
    }
    case FieldType::kNumber: {
      double value = 0;
      if (!NumberOf(entry, field.id, &value)) return false;
      return test.presence || Compare(test.comparator, value, test.number);
    }
    case FieldType::kTime: {
      absl::Time value;
      if (!TimeOf(entry, field.id, &value)) return false;
      return test.presence || Compare(test.comparator, value, test.time);
    }
  }
  return false;
}

bool Evaluate(const Node& node, const CatalogEntry& entry) {
  switch (node.kind) {
    case Node::Kind::kAnd:
      for (const auto& child : node.children) {
        if (!Evaluate(*child, entry)) return false;
      }
      return true;
    case Node::Kind::kOr:
      for (const auto& child : node.children) {
        if (Evaluate(*child, entry)) return true;
      }
      return false;
    case Node::Kind::kNot:
      return !Evaluate(*node.children[0], entry);
    case Node::Kind::kTest:
      return EvaluateTest(node, entry);
  }
  return false;
}

bool ReadsDeployments(const Node& node) {
  if (node.kind == Node::Kind::kTest) return node.field->id == FieldId::kDeploymentsStatus;
  for (const auto& child : node.children) {
    if (ReadsDeployments(*child)) return true;
  }
  return false;
}

}  // namespace

Filter::Filter(std::shared_ptr<const Node> root)
    : root_(std::move(root)), reads_deployments_(root_ != nullptr && ReadsDeployments(*root_)) {}

absl::StatusOr<Filter> Filter::Parse(absl::string_view text) {
  if (text.size() > kMaxFilterExpressionBytes) {
    return absl::InvalidArgumentError(absl::StrCat("filter is ", text.size(),
                                                   " bytes long; at most ",
                                                   kMaxFilterExpressionBytes, " are allowed"));
  }
  absl::StatusOr<std::unique_ptr<Node>> root = Parser(text).Parse();
  if (!root.ok()) return root.status();
  return Filter(std::shared_ptr<const Node>(*std::move(root)));
}

bool Filter::Matches(const CatalogEntry& entry) const {
  return root_ == nullptr || Evaluate(*root_, entry);
}

bool WildcardMatch(absl::string_view pattern, absl::string_view text) {
  // Greedy with backtracking to the last star: linear in practice, and at
  // worst |pattern| x |text|.
  size_t p = 0, t = 0, star = absl::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace modelcatalog::catalog
