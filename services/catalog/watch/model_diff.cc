#include "services/catalog/watch/model_diff.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace modelcatalog::catalog {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The model's own messages are compared field by field; well-known types
// (Timestamp, Struct) and lists are values.
bool ComparedFieldByField(const FieldDescriptor* field) {
  return field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_repeated() &&
         field->message_type()->file()->package() == "modelcatalog.v1";
}

bool SameField(const Message& a, const Message& b, const FieldDescriptor* field) {
  const Reflection* ra = a.GetReflection();
  const Reflection* rb = b.GetReflection();
  if (field->is_repeated()) {
    if (ra->FieldSize(a, field) != rb->FieldSize(b, field)) return false;
  } else if (field->has_presence() && ra->HasField(a, field) != rb->HasField(b, field)) {
    return false;
  }
  // The rest of the comparison, for this one field: MessageDifferencer
  // compares all fields, so it is asked to look at this one only.
  google::protobuf::util::MessageDifferencer differencer;
  std::vector<const FieldDescriptor*> only = {field};
  return differencer.CompareWithFields(a, b, only, only);
}

void Collect(const Message& before, const Message& after, const std::string& prefix,
             std::vector<std::string>* paths) {
  const google::protobuf::Descriptor* descriptor = before.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    const std::string path = absl::StrCat(prefix, field->name());
    if (ComparedFieldByField(field)) {
      const Reflection* rb = before.GetReflection();
      const Reflection* ra = after.GetReflection();
      const bool in_before = rb->HasField(before, field);
      const bool in_after = ra->HasField(after, field);
      if (in_before != in_after) {
        paths->push_back(path);  // the whole message came or went
      } else if (in_before) {
        Collect(rb->GetMessage(before, field), ra->GetMessage(after, field),
                absl::StrCat(path, "."), paths);
      }
      continue;
    }
    if (!SameField(before, after, field)) paths->push_back(path);
  }
}

}  // namespace

std::vector<std::string> ChangedFields(const modelcatalog::v1::Model& before,
                                       const modelcatalog::v1::Model& after) {
  std::vector<std::string> paths;
  Collect(before, after, "", &paths);
  return paths;
}

modelcatalog::v1::Model OnlyFields(const modelcatalog::v1::Model& model,
                                   const std::vector<std::string>& paths) {
  google::protobuf::FieldMask mask;
  for (const std::string& path : paths) mask.add_paths(path);
  modelcatalog::v1::Model only;
  google::protobuf::util::FieldMaskUtil::MergeOptions options;
  options.set_replace_repeated_fields(true);
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(model, mask, options, &only);
  return only;
}

}  // namespace modelcatalog::catalog
