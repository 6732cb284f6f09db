#include "tests/support/hub_emulator_process.h"

#include <curl/curl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/base/call_once.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "services/hub_emulator/http/http_message.h"

#ifndef MODEL_CATALOG_BIN_DIR
#error "MODEL_CATALOG_BIN_DIR must name the build's bin directory"
#endif

namespace modelcatalog {
namespace testing {
namespace {

constexpr absl::string_view kListeningMarker = "hub-emulator listening on ";

void InitCurlOnce() {
  static absl::once_flag once;
  absl::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

std::string ModelPath(absl::string_view id) {
  return absl::StrCat("/_control/models/", http::PercentEncode(id));
}

// Writes `key` to a new private temporary file and returns its path.
absl::StatusOr<std::string> WriteKeyFile(absl::string_view key) {
  const char* dir = std::getenv("TMPDIR");
  std::string path =
      absl::StrCat(dir != nullptr && *dir != '\0' ? dir : "/tmp", "/hub-emulator-key-XXXXXX");
  const int fd = ::mkstemp(path.data());
  if (fd < 0) return absl::InternalError(absl::StrCat("mkstemp: ", std::strerror(errno)));
  const ssize_t written = ::write(fd, key.data(), key.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(key.size())) {
    ::unlink(path.c_str());
    return absl::InternalError("cannot write the API key file");
  }
  return path;
}

// {"status":<status>} plus "deployment" when `deployment` >= 0.
std::string StatusBody(absl::string_view status, int deployment) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("status");
  writer.String(status.data(), static_cast<rapidjson::SizeType>(status.size()));
  if (deployment >= 0) {
    writer.Key("deployment");
    writer.Int(deployment);
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string HubEmulatorProcess::DefaultBinaryPath() {
  return absl::StrCat(MODEL_CATALOG_BIN_DIR, "/hub-emulator");
}

absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> HubEmulatorProcess::Start(
    std::vector<std::string> extra_flags) {
  Options options;
  options.flags = std::move(extra_flags);
  return StartWithOptions(std::move(options));
}

absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> HubEmulatorProcess::Start(
    absl::string_view binary_path, std::vector<std::string> extra_flags) {
  Options options;
  options.binary = std::string(binary_path);
  options.flags = std::move(extra_flags);
  return StartWithOptions(std::move(options));
}

absl::StatusOr<std::unique_ptr<HubEmulatorProcess>> HubEmulatorProcess::StartWithOptions(
    Options options) {
  InitCurlOnce();
  std::string key_file;
  ChildProcessOptions child;
  child.argv.push_back(options.binary.empty() ? DefaultBinaryPath() : options.binary);
  child.argv.push_back("--listen=127.0.0.1:0");
  if (!options.api_key.empty()) {
    absl::StatusOr<std::string> path = WriteKeyFile(options.api_key);
    if (!path.ok()) return path.status();
    key_file = *path;
    child.argv.push_back(absl::StrCat("--api_key_file=", key_file));
  }
  for (std::string& flag : options.flags) child.argv.push_back(std::move(flag));
  child.env = std::move(options.env);

  auto fail = [&](absl::Status status) {
    if (!key_file.empty()) ::unlink(key_file.c_str());
    return status;
  };
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Spawn(std::move(child));
  if (!process.ok()) return fail(process.status());
  absl::StatusOr<std::string> line =
      (*process)->WaitForLine(kListeningMarker, options.startup_timeout);
  if (!line.ok()) {
    absl::StatusOr<int> code = (*process)->Terminate(absl::Seconds(1));
    return fail(absl::Status(
        line.status().code(),
        absl::StrCat("hub-emulator did not start (exit code ",
                     code.ok() ? absl::StrCat(*code) : std::string(code.status().message()),
                     "): ", line.status().message())));
  }
  // "hub-emulator listening on http://127.0.0.1:PORT"
  const std::string url =
      line->substr(absl::string_view(*line).find(kListeningMarker) + kListeningMarker.size());
  const size_t colon = url.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(url.substr(colon + 1), &port)) {
    return fail(absl::InternalError(absl::StrCat("cannot parse the listening line: ", *line)));
  }
  return std::unique_ptr<HubEmulatorProcess>(
      new HubEmulatorProcess(*std::move(process), url, port, std::move(key_file)));
}

HubEmulatorProcess::HubEmulatorProcess(std::unique_ptr<ChildProcess> process, std::string base_url,
                                       int port, std::string key_file)
    : process_(std::move(process)),
      base_url_(std::move(base_url)),
      port_(port),
      key_file_(std::move(key_file)) {}

HubEmulatorProcess::~HubEmulatorProcess() {
  process_.reset();  // terminates the process
  if (!key_file_.empty()) ::unlink(key_file_.c_str());
}

absl::StatusOr<int> HubEmulatorProcess::Stop() { return process_->Terminate(); }

absl::StatusOr<ControlResponse> HubEmulatorProcess::Control(absl::string_view method,
                                                            absl::string_view path,
                                                            absl::string_view json_body) {
  InitCurlOnce();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  const std::string url = absl::StrCat(base_url_, path);
  const std::string method_string(method);
  ControlResponse response;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method_string.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  if (!json_body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json_body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json_body.size()));
  }
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat(method, " ", url, " failed: ", curl_easy_strerror(code)));
  }
  return response;
}

absl::StatusOr<ControlResponse> HubEmulatorProcess::ControlOk(absl::string_view method,
                                                              absl::string_view path,
                                                              absl::string_view json_body) {
  absl::StatusOr<ControlResponse> response = Control(method, path, json_body);
  if (!response.ok() || (response->status >= 200 && response->status < 300)) return response;
  const std::string message =
      absl::StrCat(method, " ", path, " returned ", response->status, ": ", response->body);
  if (response->status == 400) return absl::InvalidArgumentError(message);
  if (response->status == 404) return absl::NotFoundError(message);
  return absl::InternalError(message);
}

absl::Status HubEmulatorProcess::SetDeploymentStatus(absl::string_view id,
                                                     absl::string_view status) {
  return ControlOk("PUT", absl::StrCat(ModelPath(id), "/status"), StatusBody(status, -1)).status();
}

absl::Status HubEmulatorProcess::SetDeploymentStatus(absl::string_view id, absl::string_view status,
                                                     int deployment) {
  return ControlOk("PUT", absl::StrCat(ModelPath(id), "/status"), StatusBody(status, deployment))
      .status();
}

absl::Status HubEmulatorProcess::PutModel(absl::string_view id, absl::string_view model_json) {
  return ControlOk("PUT", ModelPath(id), model_json).status();
}

absl::Status HubEmulatorProcess::PatchModel(absl::string_view id,
                                            absl::string_view merge_patch_json) {
  return ControlOk("PATCH", ModelPath(id), merge_patch_json).status();
}

absl::Status HubEmulatorProcess::DeleteModel(absl::string_view id) {
  return ControlOk("DELETE", ModelPath(id)).status();
}

absl::Status HubEmulatorProcess::ReplaceCatalog(absl::string_view list_json) {
  return ControlOk("PUT", "/_control/catalog", list_json).status();
}

absl::Status HubEmulatorProcess::InjectFault(absl::string_view fault_json) {
  return ControlOk("POST", "/_control/faults", fault_json).status();
}

absl::Status HubEmulatorProcess::ClearFaults() {
  return ControlOk("DELETE", "/_control/faults").status();
}

absl::StatusOr<std::string> HubEmulatorProcess::StatsJson() {
  absl::StatusOr<ControlResponse> response = ControlOk("GET", "/_control/stats");
  if (!response.ok()) return response.status();
  return std::move(response->body);
}

absl::StatusOr<HubRequestCounts> HubEmulatorProcess::Stats() {
  absl::StatusOr<std::string> json = StatsJson();
  if (!json.ok()) return json.status();
  rapidjson::Document doc;
  doc.Parse(json->data(), json->size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("requests") ||
      !doc["requests"].IsObject()) {
    return absl::InternalError(absl::StrCat("unexpected stats: ", *json));
  }
  const rapidjson::Value& requests = doc["requests"];
  HubRequestCounts counts;
  const std::pair<const char*, int64_t*> fields[] = {
      {"list", &counts.list},         {"search", &counts.search},
      {"retrieve", &counts.retrieve}, {"retrieve_live", &counts.retrieve_live},
      {"activate", &counts.activate}, {"deactivate", &counts.deactivate}};
  for (const auto& [name, out] : fields) {
    if (!requests.HasMember(name) || !requests[name].IsInt64()) {
      return absl::InternalError(absl::StrCat("stats without \"", name, "\": ", *json));
    }
    *out = requests[name].GetInt64();
  }
  if (!doc.HasMember("hangs_abandoned") || !doc["hangs_abandoned"].IsInt64()) {
    return absl::InternalError(absl::StrCat("stats without \"hangs_abandoned\": ", *json));
  }
  counts.hangs_abandoned = doc["hangs_abandoned"].GetInt64();
  return counts;
}

absl::Status HubEmulatorProcess::Reset() { return ControlOk("POST", "/_control/reset").status(); }

}  // namespace testing
}  // namespace modelcatalog
