#include "benchmarks/load/hub_control.h"

#include <curl/curl.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "benchmarks/load/results.h"

namespace modelcatalog::bench {
namespace {

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

}  // namespace

HubControl::HubControl(std::string base_url) : base_url_(std::move(base_url)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

HttpResult HubControl::SetStatus(const std::string& id, const std::string& status) const {
  return Request("PUT", absl::StrCat("/_control/models/", id, "/status"),
                 absl::StrCat("{\"status\":", JsonString(status), "}"), 10000);
}

HttpResult HubControl::Patch(const std::string& id, const std::string& merge_patch) const {
  return Request("PATCH", absl::StrCat("/_control/models/", id), merge_patch, 10000);
}

HttpResult HubControl::ListCatalog() const { return Request("GET", "/api/ai/models", "", 120000); }

HttpResult HubControl::Request(const std::string& method, const std::string& path,
                               const std::string& body, long timeout_ms) const {
  HttpResult result;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    result.body = "curl_easy_init failed";
    return result;
  }
  const std::string url = base_url_ + path;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  } else {
    result.body = curl_easy_strerror(code);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return result;
}

}  // namespace modelcatalog::bench
