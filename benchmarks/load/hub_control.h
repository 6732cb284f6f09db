// The few HTTP requests the benchmark makes to the hub emulator: its control
// API (change a deployment status, edit a model) and the catalog list, whose
// size the memory target is measured against. One libcurl request per call.
#ifndef MODEL_CATALOG_BENCHMARKS_LOAD_HUB_CONTROL_H_
#define MODEL_CATALOG_BENCHMARKS_LOAD_HUB_CONTROL_H_

#include <string>

namespace modelcatalog::bench {

struct HttpResult {
  long status = 0;   // 0: no answer
  std::string body;  // or the transport error
};

class HubControl {
 public:
  // `base_url`: the emulator's root, e.g. http://127.0.0.1:40123.
  explicit HubControl(std::string base_url);

  // PUT /_control/models/{id}/status {"status": status}.
  HttpResult SetStatus(const std::string& id, const std::string& status) const;
  // PATCH /_control/models/{id} with a JSON merge patch.
  HttpResult Patch(const std::string& id, const std::string& merge_patch) const;
  // GET /api/ai/models: the whole catalog as the server fetches it.
  HttpResult ListCatalog() const;

  const std::string& base_url() const { return base_url_; }

 private:
  HttpResult Request(const std::string& method, const std::string& path,
                     const std::string& body, long timeout_ms) const;
  std::string base_url_;
};

}  // namespace modelcatalog::bench

#endif  // MODEL_CATALOG_BENCHMARKS_LOAD_HUB_CONTROL_H_
