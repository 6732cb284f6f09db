// catalogctl: query a catalog-server from the command line.
//
//   catalogctl list [--filter=EXPR] [--order_by=FIELDS] [--developer_name=NAME]
//                   [--action=ACTION] [--view=basic|full] [--page_size=N] [--all]
//   catalogctl search QUERY [--filter=EXPR] [--view=basic|full] [--page_size=N] [--all]
//   catalogctl get ID [--live] [--view=basic|full]
//   catalogctl get ID ID...       (one BatchGetModels call)
//   catalogctl status
//   catalogctl watch [ID...] [--resume_token=TOKEN]
//   catalogctl watch-models [--filter=EXPR] [--view=basic|full] [--resume_token=TOKEN]
//   catalogctl activate ID
//   catalogctl deactivate ID
//
// Output is a table for people, or the response messages as JSON (--output=json or
// --json, with the proto's field names, which are the hub's) for scripts. Exit status: 0 on
// success, 1 when the server returns an error, 2 on a usage error.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "google/protobuf/util/type_resolver_util.h"
#include "grpcpp/grpcpp.h"
#include "modelcatalog/v1/catalog_service.grpc.pb.h"
#include "services/common/env_flags.h"
#include "services/common/utf8.h"

ABSL_FLAG(std::string, server, "localhost:50051", "The catalog-server's address (host:port).");
ABSL_FLAG(std::string, output, "table",
          "table (for people) or json (the response messages, for scripts), on every command.");
ABSL_FLAG(bool, json, false, "The same as --output=json.");
ABSL_FLAG(std::string, token, "",
          "Bearer token for a server with caller auth (env CATALOGCTL_TOKEN keeps it out of ps).");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA bundle: talk TLS, trusting these CAs.");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate, for a server that requires one.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "Deadline of each call.");
ABSL_FLAG(std::string, filter, "",
          "list, search, cost, watch-models: only models the expression matches, e.g. "
          "'capabilities.input:image AND pricing.cost_per_image < 0.03' (see the README).");
ABSL_FLAG(std::string, order_by, "",
          "list: the order, e.g. 'pricing.input_cost_per_token' or 'created desc, id'.");
ABSL_FLAG(std::string, view, "",
          "list, search, get, watch-models: basic (no description, no request_schema) or full; "
          "default: basic for list and search, full for get and watch-models.");
ABSL_FLAG(std::string, developer_name, "", "list: only models of this developer.");
ABSL_FLAG(std::string, action, "", "list: only models with this fine-tuning action.");
ABSL_FLAG(int32_t, page_size, 0, "list, search: models per page (0: the server's default).");
ABSL_FLAG(std::string, page_token, "", "list, search: continue from this page token.");
ABSL_FLAG(bool, all, false, "list, search: follow next_page_token to the last page.");
ABSL_FLAG(bool, live, false, "get: ask the hub for the live deployment status.");
ABSL_FLAG(std::string, resume_token, "",
          "watch, watch-models: continue after the event with this token.");
ABSL_FLAG(int64_t, input_tokens, 0, "cost: input tokens of the call.");
ABSL_FLAG(int64_t, output_tokens, 0, "cost: output tokens of the call.");
ABSL_FLAG(double, seconds, 0, "cost: seconds of compute (time-priced models).");
ABSL_FLAG(int64_t, images, 0, "cost: images generated (per_image models).");
ABSL_FLAG(double, video_output_seconds, 0, "cost: seconds of video generated.");
ABSL_FLAG(bool, high_res, false, "cost: the video is high resolution.");
ABSL_FLAG(bool, with_audio, false, "cost: the video has audio.");

namespace modelcatalog {
namespace {

using ::modelcatalog::v1::Model;

constexpr char kUsage[] = R"(Queries a catalog-server.

Usage:
  catalogctl [flags] list [--filter=EXPR] [--order_by=FIELDS] [--developer_name=NAME]
                          [--action=ACTION] [--view=basic|full] [--page_size=N] [--all]
  catalogctl [flags] search QUERY [--filter=EXPR] [--view=basic|full] [--page_size=N] [--all]
  catalogctl [flags] get ID [--live] [--view=basic|full]
  catalogctl [flags] get ID ID...   (several: one BatchGetModels call)
  catalogctl [flags] status
  catalogctl [flags] watch [ID...] [--resume_token=TOKEN]   (Ctrl-C stops)
  catalogctl [flags] watch-models [--filter=EXPR] [--view=basic|full] [--resume_token=TOKEN]
                          (each change field by field: ID PATH OLD → NEW; Ctrl-C stops)
  catalogctl [flags] activate ID
  catalogctl [flags] deactivate ID
  catalogctl [flags] cost ID... --input_tokens=N --output_tokens=N   (or --seconds, --images,
                          --video_output_seconds [--high_res|--with_audio])
  catalogctl [flags] cost --filter=EXPR [usage flags] [--page_size=N] [--all]   (cheapest first)
  catalogctl [flags] validate ID 'JSON'   (exits 1 when the parameters are not valid)

Flags: --server=HOST:PORT (default localhost:50051, env CATALOGCTL_SERVER),
       --output=table|json (--json: the same as --output=json), --timeout=10s,
       --token=TOKEN (env CATALOGCTL_TOKEN), --tls_ca=PEM [--tls_cert=PEM --tls_key=PEM],
       --version)";

// `message` in the proto's JSON mapping, its maps (a Struct's keys) in key
// order. MessageToJsonString prints a map in the order of the message's binary
// form, which is the map's hash order: the same Struct would print its keys
// differently on each side of a change's "→" and from one run to the next.
// So the message is serialized deterministically (maps sorted) and the binary
// converted. False when it cannot be printed.
bool JsonText(const google::protobuf::Message& message,
              const google::protobuf::util::JsonPrintOptions& options, std::string* out) {
  static constexpr char kUrlPrefix[] = "type.googleapis.com";
  static google::protobuf::util::TypeResolver* const resolver =
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          kUrlPrefix, google::protobuf::DescriptorPool::generated_pool());
  std::string binary;
  {
    google::protobuf::io::StringOutputStream stream(&binary);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!message.SerializeToCodedStream(&coded)) return false;
  }
  out->clear();
  return google::protobuf::util::BinaryToJsonString(
             resolver, absl::StrCat(kUrlPrefix, "/", message.GetDescriptor()->full_name()), binary,
             out, options)
      .ok();
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = true;
  std::string out;
  (void)JsonText(message, options, &out);
  return out;
}

std::string Money(double value) {
  // Enough digits for per-token prices (3e-06) without trailing noise.
  return absl::StrFormat("$%g", value);
}

std::string PricingSummary(const Model& model) {
  if (!model.has_pricing()) return "-";
  const auto& p = model.pricing();
  std::vector<std::string> parts;
  if (p.has_input_cost_per_token())
    parts.push_back(Money(p.input_cost_per_token() * 1e6) + "/M in");
  if (p.has_output_cost_per_token())
    parts.push_back(Money(p.output_cost_per_token() * 1e6) + "/M out");
  if (p.has_cost_per_second()) parts.push_back(Money(p.cost_per_second()) + "/s");
  if (p.has_cost_per_image()) parts.push_back(Money(p.cost_per_image()) + "/image");
  if (p.has_cost_per_second_high_res())
    parts.push_back(Money(p.cost_per_second_high_res()) + "/s hi-res");
  if (p.has_cost_per_second_with_audio())
    parts.push_back(Money(p.cost_per_second_with_audio()) + "/s audio");
  if (parts.empty()) return p.method_raw().empty() ? "-" : p.method_raw();
  return absl::StrJoin(parts, ", ");
}

std::string DeploymentSummary(const Model& model) {
  if (model.deployments().empty()) return "-";
  std::vector<std::string> statuses;
  for (const auto& d : model.deployments()) {
    statuses.push_back(d.status_raw().empty() ? "?" : d.status_raw());
  }
  return absl::StrJoin(statuses, ",");
}

// Columns of a cell: names in Chinese or Japanese take two per character.
size_t Width(const std::string& s) { return DisplayWidth(s); }

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], Width(row[i]));
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - Width(row[i]) + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

std::vector<std::string> ModelRow(const Model& m) {
  return {m.id(),
          m.display_name(),
          m.model_type_raw().empty() ? "-" : m.model_type_raw(),
          m.has_developer() ? m.developer().name() : "-",
          m.endpoint().empty() ? "-" : m.endpoint(),
          PricingSummary(m),
          DeploymentSummary(m)};
}

// `total_size`: how many models match, when the models are one page of them.
void PrintModels(const std::vector<Model>& models, const std::string& next_page_token,
                 int32_t total_size = 0) {
  std::vector<std::vector<std::string>> rows = {
      {"ID", "NAME", "TYPE", "DEVELOPER", "ENDPOINT", "PRICING", "DEPLOYMENTS"}};
  for (const Model& m : models) rows.push_back(ModelRow(m));
  PrintTable(rows);
  if (!next_page_token.empty()) {
    std::cout << "\nmore: " << models.size() << " of " << total_size
              << " shown; --page_token=" << next_page_token << " (or --all)\n";
  }
}

// --output (or --json): whether to print JSON rather than a table.
bool JsonOutput() {
  const std::string output = absl::GetFlag(FLAGS_output);
  if (output != "table" && output != "json") {
    ExitWithUsageError(absl::StrCat("--output must be table or json, not \"", output, "\""));
  }
  return output == "json" || absl::GetFlag(FLAGS_json);
}

// --view: UNSPECIFIED (the method's default) when not given.
modelcatalog::v1::ModelView ViewFlag() {
  const std::string view = absl::GetFlag(FLAGS_view);
  if (view.empty()) return modelcatalog::v1::MODEL_VIEW_UNSPECIFIED;
  if (view == "basic") return modelcatalog::v1::MODEL_VIEW_BASIC;
  if (view == "full") return modelcatalog::v1::MODEL_VIEW_FULL;
  ExitWithUsageError(absl::StrCat("--view must be basic or full, not \"", view, "\""));
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::ToString(t);
}

// "1.234s", "56.7ms": as absl formats durations.
std::string DurationText(const google::protobuf::Duration& d) {
  return absl::FormatDuration(absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos()));
}

void PrintModelDetail(const Model& m) {
  std::vector<std::vector<std::string>> rows = {
      {"id", m.id()},
      {"display_name", m.display_name()},
      {"model_type", m.model_type_raw()},
      {"owned_by", m.owned_by()},
      {"developer", m.has_developer() ? m.developer().name() : "-"},
      {"endpoint", m.endpoint()},
      {"description", m.has_description() ? m.description() : "-"},
      {"summary", m.has_summary() ? m.summary() : "-"},
      {"capabilities", m.has_capabilities()
                           ? absl::StrCat(absl::StrJoin(m.capabilities().input(), ","), " -> ",
                                          absl::StrJoin(m.capabilities().output(), ","))
                           : "-"},
      {"pricing", absl::StrCat(m.pricing().method_raw(), " ", PricingSummary(m))},
      {"fine_tuning", m.has_fine_tuning() ? absl::StrJoin(m.fine_tuning().actions(), ",") : "-"},
      {"deployments", DeploymentSummary(m)},
      {"source_model", m.has_source_model() ? m.source_model() : "-"},
      {"created", m.has_created() ? TimeText(m.created()) : "-"},
      {"released_at", m.has_released_at() ? TimeText(m.released_at()) : "-"},
      {"request_schema", m.has_request_schema() ? "yes (see --json)" : "-"},
  };
  PrintTable(rows);
}

std::string WatchLine(const modelcatalog::v1::WatchDeploymentsResponse& e) {
  std::string type = modelcatalog::v1::WatchEventType_Name(e.type());
  type = type.substr(std::string("WATCH_EVENT_TYPE_").size());
  std::string line = absl::StrCat(e.has_observe_time() ? TimeText(e.observe_time()) : "-", "  ",
                                  type, "  rev=", e.revision());
  if (!e.model_id().empty()) absl::StrAppend(&line, "  ", e.model_id());
  if (!e.previous_status_raw().empty() || !e.status_raw().empty()) {
    absl::StrAppend(&line, "  ",
                    e.previous_status_raw().empty() ? "" : e.previous_status_raw() + " -> ",
                    e.status_raw().empty() ? "(none)" : e.status_raw());
  }
  if (e.resync()) absl::StrAppend(&line, "  (resync)");
  return line;
}

// The value at `path` (field names joined by dots, as WatchModels' changed_fields) of
// `message` as compact JSON, as the proto's JSON mapping writes it: numbers bare, strings
// and enum names quoted, lists and messages whole. "(unset)" when the field, or a message on
// its path, is absent.
std::string FieldValueText(const google::protobuf::Message& message, const std::string& path) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Message* parent = &message;
  const std::vector<std::string> names = absl::StrSplit(path, '.');
  for (size_t i = 0; i < names.size(); ++i) {
    const FieldDescriptor* field = parent->GetDescriptor()->FindFieldByName(names[i]);
    if (field == nullptr) return absl::StrCat("(no field ", path, ")");
    const google::protobuf::Reflection* reflection = parent->GetReflection();
    const bool present =
        field->is_repeated() || !field->has_presence() || reflection->HasField(*parent, field);
    if (!present) return "(unset)";
    if (i + 1 < names.size()) {
      if (field->is_repeated() || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
        return absl::StrCat("(no field ", path, ")");
      }
      parent = &reflection->GetMessage(*parent, field);
      continue;
    }
    if (!field->is_repeated() && !field->has_presence() &&
        field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      // The JSON mapping leaves out a scalar at its default, which may be what it changed
      // from or to: written here as the mapping writes the value.
      google::protobuf::Value value;
      switch (field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING:
          value.set_string_value(reflection->GetString(*parent, field));
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          value.set_string_value(reflection->GetEnum(*parent, field)->name());
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          value.set_bool_value(reflection->GetBool(*parent, field));
          break;
        case FieldDescriptor::CPPTYPE_INT64:  // as text, as the mapping writes 64-bit integers
          value.set_string_value(absl::StrCat(reflection->GetInt64(*parent, field)));
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          value.set_string_value(absl::StrCat(reflection->GetUInt64(*parent, field)));
          break;
        case FieldDescriptor::CPPTYPE_INT32:
          value.set_number_value(reflection->GetInt32(*parent, field));
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          value.set_number_value(reflection->GetUInt32(*parent, field));
          break;
        case FieldDescriptor::CPPTYPE_FLOAT:
          value.set_number_value(reflection->GetFloat(*parent, field));
          break;
        default:
          value.set_number_value(reflection->GetDouble(*parent, field));
          break;
      }
      std::string text;
      (void)JsonText(value, {}, &text);
      return text;
    }
    if (field->is_repeated() && reflection->FieldSize(*parent, field) == 0) return "[]";
    // The parent holding this one field, in the JSON mapping ({"name":VALUE}): VALUE is the
    // mapping's text for any type of field, its messages' fields in the proto's order.
    std::unique_ptr<google::protobuf::Message> only(parent->New());
    only->CopyFrom(*parent);
    std::vector<const FieldDescriptor*> set;
    only->GetReflection()->ListFields(*only, &set);
    for (const FieldDescriptor* other : set) {
      if (other != field) only->GetReflection()->ClearField(only.get(), other);
    }
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    std::string json;
    const std::string prefix = absl::StrCat("{\"", field->name(), "\":");
    if (!JsonText(*only, options, &json) || !absl::StartsWith(json, prefix) ||
        !absl::EndsWith(json, "}")) {
      return "(unprintable)";
    }
    return json.substr(prefix.size(), json.size() - prefix.size() - 1);
  }
  return "(unset)";
}

// The lines of one WatchModels event for people: a CHANGED event one line per changed field
// ("flux-2-dev pricing.cost_per_image 0.025 → 0.02"); ADDED and REMOVED one line each; the
// initial state counted on its marker's line (INITIAL events add to *initial_models).
std::vector<std::string> ModelWatchLines(const modelcatalog::v1::WatchModelsResponse& e,
                                         int* initial_models) {
  using modelcatalog::v1::WatchEventType;
  switch (e.type()) {
    case WatchEventType::WATCH_EVENT_TYPE_INITIAL:
      ++*initial_models;
      return {};
    case WatchEventType::WATCH_EVENT_TYPE_INITIAL_STATE_COMPLETE: {
      std::string line = absl::StrCat("initial state: ", *initial_models,
                                      *initial_models == 1 ? " model" : " models");
      if (e.resync()) absl::StrAppend(&line, " (resync: replaces everything before)");
      *initial_models = 0;
      return {absl::StrCat(line, "; watching for changes")};
    }
    case WatchEventType::WATCH_EVENT_TYPE_ADDED:
      return {absl::StrCat(e.model_id(), " added")};
    case WatchEventType::WATCH_EVENT_TYPE_REMOVED:
      return {absl::StrCat(e.model_id(), " removed")};
    case WatchEventType::WATCH_EVENT_TYPE_CHANGED: {
      if (e.changed_fields().paths().empty()) {
        // Resumed with versions this server never held: what changed is not known here.
        return {absl::StrCat(e.model_id(), " changed (now version ", e.model_version(), ")")};
      }
      std::vector<std::string> lines;
      for (const std::string& path : e.changed_fields().paths()) {
        lines.push_back(absl::StrCat(e.model_id(), " ", path, " ",
                                     FieldValueText(e.previous(), path), " → ",
                                     FieldValueText(e.model(), path)));
      }
      return lines;
    }
    default:  // PROGRESS: nothing changed
      return {};
  }
}

// "error: NOT_FOUND: Model not found: x": the code by its name, as grpcurl and
// the gRPC docs spell it.
int Fail(const grpc::Status& status) {
  std::cerr << "error: "
            << absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())) << ": "
            << status.error_message() << "\n";
  return 1;
}

// Adds the bearer token, when there is one.
void Authorize(grpc::ClientContext* context) {
  const std::string token = absl::GetFlag(FLAGS_token);
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
}

std::unique_ptr<grpc::ClientContext> NewContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
  Authorize(context.get());
  return context;
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream file(path);
  if (!file) ExitWithUsageError(absl::StrCat("cannot read ", path));
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::shared_ptr<grpc::ChannelCredentials> Credentials() {
  if (absl::GetFlag(FLAGS_tls_ca).empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFileOrDie(absl::GetFlag(FLAGS_tls_ca));
  if (!absl::GetFlag(FLAGS_tls_cert).empty()) {
    ssl.pem_cert_chain = ReadFileOrDie(absl::GetFlag(FLAGS_tls_cert));
    ssl.pem_private_key = ReadFileOrDie(absl::GetFlag(FLAGS_tls_key));
  }
  return grpc::SslCredentials(ssl);
}

int Run(int argc, char** argv) {
  {
    // --help lists the program's flags: by default abseil shows only those of
    // a source file named after the program, and this one's are elsewhere.
    absl::FlagsUsageConfig usage;
    usage.contains_help_flags = [](absl::string_view file) {
      return !absl::StrContains(file, "absl/");
    };
    // --version (abseil's own flag) prints this and exits.
    usage.version_string = [] { return std::string("catalogctl " MODEL_CATALOG_VERSION "\n"); };
    absl::SetFlagsUsageConfig(usage);
  }
  absl::SetProgramUsageMessage(kUsage);
  ApplyEnvironmentToFlags("CATALOGCTL_",
                          {"server", "token", "tls_ca", "tls_cert", "tls_key", "output"});
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) ExitWithUsageError(kUsage);
  const std::string command = args[1];
  auto stub = modelcatalog::v1::ModelCatalogService::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_server), Credentials()));
  const bool json = JsonOutput();

  if (command == "list" || command == "search") {
    if (command == "search" && args.size() != 3)
      ExitWithUsageError("usage: catalogctl search QUERY");
    if (command == "list" && args.size() != 2) ExitWithUsageError("usage: catalogctl list [flags]");
    std::vector<Model> models;
    std::string token = absl::GetFlag(FLAGS_page_token);
    int32_t total_size = 0;
    do {
      grpc::Status status;
      std::string next;
      auto context = NewContext();
      if (command == "list") {
        modelcatalog::v1::ListModelsRequest request;
        request.set_developer_name(absl::GetFlag(FLAGS_developer_name));
        request.set_action(absl::GetFlag(FLAGS_action));
        request.set_filter(absl::GetFlag(FLAGS_filter));
        request.set_order_by(absl::GetFlag(FLAGS_order_by));
        request.set_view(ViewFlag());
        request.set_page_size(absl::GetFlag(FLAGS_page_size));
        request.set_page_token(token);
        modelcatalog::v1::ListModelsResponse response;
        status = stub->ListModels(context.get(), request, &response);
        if (status.ok() && json) std::cout << ToJson(response) << "\n";
        models.insert(models.end(), response.models().begin(), response.models().end());
        next = response.next_page_token();
        total_size = response.total_size();
      } else {
        modelcatalog::v1::SearchModelsRequest request;
        request.set_query(args[2]);
        request.set_filter(absl::GetFlag(FLAGS_filter));
        request.set_view(ViewFlag());
        request.set_page_size(absl::GetFlag(FLAGS_page_size));
        request.set_page_token(token);
        modelcatalog::v1::SearchModelsResponse response;
        status = stub->SearchModels(context.get(), request, &response);
        if (status.ok() && json) std::cout << ToJson(response) << "\n";
        models.insert(models.end(), response.models().begin(), response.models().end());
        next = response.next_page_token();
        total_size = response.total_size();
      }
      if (!status.ok()) return Fail(status);
      token = next;
    } while (absl::GetFlag(FLAGS_all) && !token.empty());
    if (!json) PrintModels(models, token, total_size);
    return 0;
  }
  if (command == "get" && args.size() > 3) {
    if (absl::GetFlag(FLAGS_live)) {
      ExitWithUsageError("--live reads one model: catalogctl get ID --live");
    }
    modelcatalog::v1::BatchGetModelsRequest request;
    for (size_t i = 2; i < args.size(); ++i) request.add_ids(args[i]);
    request.set_view(ViewFlag());
    modelcatalog::v1::BatchGetModelsResponse response;
    grpc::Status status = stub->BatchGetModels(NewContext().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (json) {
      std::cout << ToJson(response) << "\n";
    } else {
      PrintModels({response.models().begin(), response.models().end()}, "");
    }
    return 0;
  }
  if (command == "get") {
    if (args.size() != 3) ExitWithUsageError("usage: catalogctl get ID... [--live]");
    modelcatalog::v1::GetModelRequest request;
    request.set_id(args[2]);
    request.set_live(absl::GetFlag(FLAGS_live));
    request.set_view(ViewFlag());
    modelcatalog::v1::GetModelResponse response;
    grpc::Status status = stub->GetModel(NewContext().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (json) {
      std::cout << ToJson(response) << "\n";
    } else {
      PrintModelDetail(response.model());
    }
    return 0;
  }
  if (command == "status") {
    modelcatalog::v1::GetSyncStatusResponse response;
    grpc::Status status = stub->GetSyncStatus(NewContext().get(), {}, &response);
    if (!status.ok()) return Fail(status);
    if (json) {
      std::cout << ToJson(response) << "\n";
    } else {
      PrintTable(
          {{"source", response.source()},
           {"revision", absl::StrCat(response.revision())},
           {"models", absl::StrCat(response.model_count())},
           {"last_success",
            response.has_last_success_time() ? TimeText(response.last_success_time()) : "never"},
           {"last_attempt",
            response.has_last_attempt_time() ? TimeText(response.last_attempt_time()) : "never"},
           {"last_error", response.last_error().empty() ? "-" : response.last_error()},
           {"last_sync",
            response.has_last_sync_apply_duration()
                ? absl::StrCat("fetch ", DurationText(response.last_sync_fetch_duration()),
                               ", apply ", DurationText(response.last_sync_apply_duration()))
                : "-"},
           {"consecutive_failures", absl::StrCat(response.consecutive_failures())}});
    }
    return 0;
  }
  if (command == "activate" || command == "deactivate") {
    if (args.size() != 3) ExitWithUsageError(absl::StrCat("usage: catalogctl ", command, " ID"));
    modelcatalog::v1::Model model;
    grpc::Status status;
    if (command == "activate") {
      modelcatalog::v1::ActivateModelRequest request;
      request.set_id(args[2]);
      modelcatalog::v1::ActivateModelResponse response;
      status = stub->ActivateModel(NewContext().get(), request, &response);
      model = response.model();
    } else {
      modelcatalog::v1::DeactivateModelRequest request;
      request.set_id(args[2]);
      modelcatalog::v1::DeactivateModelResponse response;
      status = stub->DeactivateModel(NewContext().get(), request, &response);
      model = response.model();
    }
    if (!status.ok()) return Fail(status);
    if (json) {
      std::cout << ToJson(model) << "\n";
    } else {
      std::cout << model.id() << ": " << DeploymentSummary(model) << "\n";
    }
    return 0;
  }
  if (command == "cost") {
    modelcatalog::v1::EstimateCostRequest request;
    for (size_t i = 2; i < args.size(); ++i) request.add_model_ids(args[i]);
    request.set_filter(absl::GetFlag(FLAGS_filter));
    if (request.model_ids().empty() == request.filter().empty()) {
      ExitWithUsageError("usage: catalogctl cost ID... [usage flags] | cost --filter=EXPR");
    }
    modelcatalog::v1::Usage* usage = request.mutable_usage();
    usage->set_input_tokens(absl::GetFlag(FLAGS_input_tokens));
    usage->set_output_tokens(absl::GetFlag(FLAGS_output_tokens));
    usage->set_seconds(absl::GetFlag(FLAGS_seconds));
    usage->set_images(absl::GetFlag(FLAGS_images));
    usage->set_video_output_seconds(absl::GetFlag(FLAGS_video_output_seconds));
    usage->set_high_res(absl::GetFlag(FLAGS_high_res));
    usage->set_with_audio(absl::GetFlag(FLAGS_with_audio));
    if (!request.filter().empty()) {
      request.set_page_size(absl::GetFlag(FLAGS_page_size));
      request.set_page_token(absl::GetFlag(FLAGS_page_token));
    }
    std::vector<std::vector<std::string>> rows = {{"MODEL", "TOTAL (USD)", "BREAKDOWN"}};
    while (true) {
      modelcatalog::v1::EstimateCostResponse response;
      grpc::Status status = stub->EstimateCost(NewContext().get(), request, &response);
      if (!status.ok()) return Fail(status);
      if (json) {
        std::cout << ToJson(response) << "\n";
      } else {
        for (const modelcatalog::v1::CostEstimate& e : response.estimates()) {
          std::vector<std::string> lines;
          for (const modelcatalog::v1::CostLine& line : e.lines()) {
            lines.push_back(absl::StrCat(line.usage_field(), " ", line.quantity(), " × ",
                                         line.price_field(), " ", line.unit_price(), " = ",
                                         line.amount()));
          }
          rows.push_back({e.model_id(), e.total(), absl::StrJoin(lines, "; ")});
        }
      }
      if (!absl::GetFlag(FLAGS_all) || response.next_page_token().empty()) {
        if (!json) {
          PrintTable(rows);
          if (!request.filter().empty()) {
            std::cout << response.total_size() << " priced, " << response.unpriced_size()
                      << " matching models could not be priced for this usage"
                      << (response.next_page_token().empty()
                              ? ""
                              : absl::StrCat("; next page: --page_token=",
                                             response.next_page_token()))
                      << "\n";
          }
        }
        return 0;
      }
      request.set_page_token(response.next_page_token());
    }
  }
  if (command == "validate") {
    if (args.size() != 4) ExitWithUsageError("usage: catalogctl validate ID 'JSON'");
    modelcatalog::v1::ValidateRequestRequest request;
    request.set_model_id(args[2]);
    request.set_parameters_json(args[3]);
    modelcatalog::v1::ValidateRequestResponse response;
    grpc::Status status = stub->ValidateRequest(NewContext().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (json) {
      std::cout << ToJson(response) << "\n";
    } else {
      std::cout << (response.valid() ? "valid" : "not valid") << "\n";
      if (!response.schema_error().empty())
        std::cout << "schema: " << response.schema_error() << "\n";
      if (response.violations_size() > 0) {
        std::vector<std::vector<std::string>> rows = {{"POINTER", "KEYWORD", "MESSAGE"}};
        for (const modelcatalog::v1::Violation& v : response.violations()) {
          rows.push_back({v.pointer().empty() ? "(root)" : v.pointer(), v.keyword(), v.message()});
        }
        PrintTable(rows);
      }
      for (const std::string& note : response.notes()) std::cout << "note: " << note << "\n";
    }
    return response.valid() ? 0 : 1;
  }
  if (command == "watch") {
    modelcatalog::v1::WatchDeploymentsRequest request;
    for (size_t i = 2; i < args.size(); ++i) request.add_model_ids(args[i]);
    request.set_resume_token(absl::GetFlag(FLAGS_resume_token));
    grpc::ClientContext context;  // no deadline: a watch runs until stopped
    Authorize(&context);
    auto reader = stub->WatchDeployments(&context, request);
    modelcatalog::v1::WatchDeploymentsResponse event;
    while (reader->Read(&event)) {
      if (json) {
        google::protobuf::util::JsonPrintOptions options;
        options.preserve_proto_field_names = true;
        std::string line;
        (void)JsonText(event, options, &line);
        std::cout << line << std::endl;  // one event per line, flushed
      } else {
        std::cout << WatchLine(event) << std::endl;
      }
    }
    grpc::Status status = reader->Finish();
    return status.ok() ? 0 : Fail(status);
  }
  if (command == "watch-models") {
    if (args.size() != 2) {
      ExitWithUsageError(
          "usage: catalogctl watch-models [--filter=EXPR] [--view=basic|full] "
          "[--resume_token=TOKEN]");
    }
    modelcatalog::v1::WatchModelsRequest request;
    request.set_filter(absl::GetFlag(FLAGS_filter));
    request.set_view(ViewFlag());
    request.set_resume_token(absl::GetFlag(FLAGS_resume_token));
    grpc::ClientContext context;  // no deadline: a watch runs until stopped
    Authorize(&context);
    auto reader = stub->WatchModels(&context, request);
    modelcatalog::v1::WatchModelsResponse event;
    int initial_models = 0;
    while (reader->Read(&event)) {
      if (json) {
        google::protobuf::util::JsonPrintOptions options;
        options.preserve_proto_field_names = true;
        std::string line;
        (void)JsonText(event, options, &line);
        std::cout << line << std::endl;  // one event per line, flushed
        continue;
      }
      for (const std::string& line : ModelWatchLines(event, &initial_models)) {
        std::cout << line << "\n";
      }
      std::cout.flush();  // each event as it comes, also into a pipe
    }
    grpc::Status status = reader->Finish();
    return status.ok() ? 0 : Fail(status);
  }
  ExitWithUsageError(absl::StrCat("unknown command: ", command, "\n\n", kUsage));
}

}  // namespace
}  // namespace modelcatalog

int main(int argc, char** argv) { return modelcatalog::Run(argc, argv); }
