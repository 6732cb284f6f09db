// The JSON view's custom methods on one model: {id}:validate and {id}:estimate,
// answered by CatalogServiceImpl as over gRPC and written as the proto's JSON
// mapping with the proto's field names (snake_case, as the hub writes).
#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "services/catalog/http/json_view.h"

namespace modelcatalog::catalog {
namespace {

HttpReply MessageReply(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string body;
  const auto status = google::protobuf::util::MessageToJsonString(message, &body, options);
  if (!status.ok()) return HubError(500, "the answer could not be written as JSON");
  return HttpReply::Json(200, std::move(body));
}

// A whole number of 0 or more from the query; absent is 0. Negative numbers
// pass through for EstimateCost to refuse by name, like gRPC's.
absl::Status ReadInteger(const HttpRequest& request, absl::string_view name, int64_t* out) {
  const std::string* text = request.FindQuery(name);
  if (text == nullptr || text->empty()) return absl::OkStatus();
  if (!absl::SimpleAtoi(*text, out)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be a whole number, not \"", *text, "\""));
  }
  return absl::OkStatus();
}

absl::Status ReadNumber(const HttpRequest& request, absl::string_view name, double* out) {
  const std::string* text = request.FindQuery(name);
  if (text == nullptr || text->empty()) return absl::OkStatus();
  if (!absl::SimpleAtod(*text, out) || !std::isfinite(*out)) {
    return absl::InvalidArgumentError(absl::StrCat(name, " must be a number, not \"", *text, "\""));
  }
  return absl::OkStatus();
}

absl::Status ReadFlag(const HttpRequest& request, absl::string_view name, bool* out) {
  const std::string* text = request.FindQuery(name);
  if (text == nullptr) return absl::OkStatus();
  const std::string value = absl::AsciiStrToLower(*text);
  if (value.empty() || value == "true" || value == "1") {
    *out = true;
  } else if (value == "false" || value == "0") {
    *out = false;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be true or false, not \"", *text, "\""));
  }
  return absl::OkStatus();
}

absl::Status ReadUsageQuery(const HttpRequest& request, v1::Usage* usage) {
  int64_t input_tokens = 0, output_tokens = 0, images = 0;
  double seconds = 0, video_output_seconds = 0;
  bool high_res = false, with_audio = false;
  for (const absl::Status& s :
       {ReadInteger(request, "input_tokens", &input_tokens),
        ReadInteger(request, "output_tokens", &output_tokens),
        ReadNumber(request, "seconds", &seconds), ReadInteger(request, "images", &images),
        ReadNumber(request, "video_output_seconds", &video_output_seconds),
        ReadFlag(request, "high_res", &high_res), ReadFlag(request, "with_audio", &with_audio)}) {
    if (!s.ok()) return s;
  }
  usage->set_input_tokens(input_tokens);
  usage->set_output_tokens(output_tokens);
  usage->set_seconds(seconds);
  usage->set_images(images);
  usage->set_video_output_seconds(video_output_seconds);
  usage->set_high_res(high_res);
  usage->set_with_audio(with_audio);
  return absl::OkStatus();
}

}  // namespace

HttpReply JsonView::Validate(const HttpRequest& request, absl::string_view id) const {
  v1::ValidateRequestRequest validate;
  validate.set_model_id(std::string(id));
  validate.set_parameters_json(request.body.empty() ? "{}" : request.body);
  v1::ValidateRequestResponse response;
  const absl::Status status = catalog_->ValidateRequest(validate, &response);
  if (!status.ok()) return HubError(HttpStatusFor(status), status.message());
  return MessageReply(response);
}

HttpReply JsonView::Estimate(const HttpRequest& request, absl::string_view id) const {
  v1::EstimateCostRequest estimate;
  estimate.add_model_ids(std::string(id));
  absl::Status status = ReadUsageQuery(request, estimate.mutable_usage());
  v1::EstimateCostResponse response;
  if (status.ok()) status = catalog_->EstimateCost(estimate, &response);
  if (!status.ok()) return HubError(HttpStatusFor(status), status.message());
  return MessageReply(response.estimates(0));
}

}  // namespace modelcatalog::catalog
