// A minimal libcurl client for the HTTP server and hub emulator tests: one
// request per call, everything about the answer recorded.
#ifndef MODEL_CATALOG_TESTS_SUPPORT_CURL_FETCH_H_
#define MODEL_CATALOG_TESTS_SUPPORT_CURL_FETCH_H_

#include <curl/curl.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace modelcatalog {
namespace testing {

struct FetchResult {
  CURLcode code = CURLE_OK;  // CURLE_PARTIAL_FILE for a truncated body, ...
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  absl::Duration elapsed;

  // The last header named `name` (any case), or "".
  std::string Header(absl::string_view name) const {
    std::string value;
    for (const auto& [key, v] : headers) {
      if (absl::EqualsIgnoreCase(key, name)) value = v;
    }
    return value;
  }
};

struct FetchOptions {
  std::string method = "GET";
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  long timeout_ms = 5000;
  // https: the CA bundle the server's certificate must chain to, and a client
  // certificate and key to present (mutual TLS); empty: none.
  std::string ca_file;
  std::string client_cert;
  std::string client_key;
};

inline size_t FetchAppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

inline size_t FetchAppendHeader(char* data, size_t size, size_t count, void* out) {
  absl::string_view line(data, size * count);
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    static_cast<std::vector<std::pair<std::string, std::string>>*>(out)->emplace_back(
        std::string(line.substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return size * count;
}

inline FetchResult Fetch(const std::string& url, const FetchOptions& options = FetchOptions()) {
  FetchResult result;
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  for (const std::string& h : options.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, options.method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &FetchAppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &FetchAppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.headers);
  if (!options.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
  if (!options.client_cert.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, options.client_cert.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, options.client_key.c_str());
  }
  if (options.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!options.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, options.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(options.body.size()));
  }
  const absl::Time start = absl::Now();
  result.code = curl_easy_perform(curl);
  result.elapsed = absl::Now() - start;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return result;
}

}  // namespace testing
}  // namespace modelcatalog

#endif  // MODEL_CATALOG_TESTS_SUPPORT_CURL_FETCH_H_
