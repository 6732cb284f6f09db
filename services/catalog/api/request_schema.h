// A model's request_schema compiled for validation, and the schemas of a
// catalog kept compiled between calls (ValidateRequest).
//
// Validation is valijson's (Debian's libvalijson-dev, header-only) through
// its RapidJSON adapter, RapidJSON being the JSON library the project already
// uses; valijson stays inside request_schema.cc. Its results are turned into
// violations a caller can act on: the JSON Pointer of the offending value,
// the keyword, and a message written from the schema's own values where they
// can be found ("must be at most 50, got 51").
#ifndef MODEL_CATALOG_SERVICES_CATALOG_API_REQUEST_SCHEMA_H_
#define MODEL_CATALOG_SERVICES_CATALOG_API_REQUEST_SCHEMA_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/struct.pb.h"
#include "modelcatalog/v1/catalog_service.pb.h"
#include "rapidjson/document.h"
#include "services/catalog/model/catalog_snapshot.h"

namespace modelcatalog::catalog {

class CompiledRequestSchema {
 public:
  // Compiles `schema`, choosing the draft by its `$schema` (draft 7 when
  // absent; see ValidateRequest in catalog_service.proto). Never throws: a
  // schema valijson cannot compile gives an object whose error() says why.
  static std::shared_ptr<const CompiledRequestSchema> Compile(const rapidjson::Value& schema);
  static std::shared_ptr<const CompiledRequestSchema> Compile(
      const google::protobuf::Struct& schema);

  ~CompiledRequestSchema();

  // Empty when the schema compiled.
  const std::string& error() const { return error_; }
  // What the caller should know about what is checked (a draft read as another).
  const std::vector<std::string>& notes() const { return notes_; }

  // Whether `parameters` satisfy the schema; each violation appended to
  // `violations`. Whole numbers held as doubles within ±2^53 are made
  // integers first, as drafts 6 and later count 1.0 as an integer. False,
  // with no violation, when the schema did not compile.
  bool Validate(rapidjson::Document* parameters,
                google::protobuf::RepeatedPtrField<modelcatalog::v1::Violation>* violations) const;

 private:
  struct Valijson;
  CompiledRequestSchema();

  std::string error_;
  std::vector<std::string> notes_;
  bool integral_doubles_are_integers_ = true;
  rapidjson::Document schema_;  // the schema's JSON, for messages that quote it
  std::unique_ptr<Valijson> valijson_;
};

// A Struct as a RapidJSON document (allocated in `document`).
void StructToJson(const google::protobuf::Struct& value, rapidjson::Document* document);

// The request schemas of the models of the catalog, compiled when first
// asked for and then kept: a call validates against a schema compiled once per
// catalog revision at most, and not again in later revisions for a model whose
// entry did not change (entries unchanged by a sync are shared by both
// snapshots). Thread-safe.
//
// What is kept: the schemas used in the current revision and in the one
// before it, at most kMaxCompiled per revision (beyond, a revision's
// schemas are dropped and compiled again as asked).
class RequestSchemaCache {
 public:
  static constexpr size_t kMaxCompiled = 10000;

  // The compiled schema of the model at `position` of `snapshot`, or null
  // when it has no request_schema. A schema that does not compile is logged
  // once, when compiled, and kept like the others.
  std::shared_ptr<const CompiledRequestSchema> SchemaOf(const CatalogSnapshot& snapshot,
                                                        size_t position) ABSL_LOCKS_EXCLUDED(mu_);

  // How many schemas have been compiled: for tests.
  int64_t compilations() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A compiled schema (null: the model has none) and the entry it is of,
  // kept alive so that its address stays its key.
  struct Kept {
    std::shared_ptr<const CatalogEntry> entry;
    std::shared_ptr<const CompiledRequestSchema> schema;
  };
  using Generation = absl::flat_hash_map<const CatalogEntry*, Kept>;

  mutable absl::Mutex mu_;
  int64_t revision_ ABSL_GUARDED_BY(mu_) = -1;
  Generation current_ ABSL_GUARDED_BY(mu_);
  Generation previous_ ABSL_GUARDED_BY(mu_);
  int64_t compilations_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace modelcatalog::catalog

#endif  // MODEL_CATALOG_SERVICES_CATALOG_API_REQUEST_SCHEMA_H_
