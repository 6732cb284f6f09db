// Small builders for catalog tests: models with just the fields a test is about.
#ifndef MODEL_CATALOG_TESTS_CATALOG_TEST_MODELS_H_
#define MODEL_CATALOG_TESTS_CATALOG_TEST_MODELS_H_

#include <string>
#include <vector>

#include "modelcatalog/v1/model.pb.h"

namespace modelcatalog::testing {

inline modelcatalog::v1::Model MakeModel(const std::string& id, const std::string& display_name = "",
                                         const std::string& developer = "",
                                         std::vector<std::string> actions = {}) {
  modelcatalog::v1::Model model;
  model.set_id(id);
  model.set_object("model");
  model.set_display_name(display_name.empty() ? id : display_name);
  if (!developer.empty()) model.mutable_developer()->set_name(developer);
  if (!actions.empty()) {
    for (const std::string& action : actions) model.mutable_fine_tuning()->add_actions(action);
  }
  return model;
}

inline std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<modelcatalog::v1::Model>& models) {
  std::vector<std::string> ids;
  for (const auto& m : models) ids.push_back(m.id());
  return ids;
}

}  // namespace modelcatalog::testing

#endif  // MODEL_CATALOG_TESTS_CATALOG_TEST_MODELS_H_
