// Certificates for TLS tests: a scratch directory with CAs made by openssl and
// certificates they sign. Header-only.
#ifndef MODEL_CATALOG_TESTS_SUPPORT_PKI_H_
#define MODEL_CATALOG_TESTS_SUPPORT_PKI_H_

#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace modelcatalog::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// A scratch directory with CAs, and certificates they sign; removed with it.
class Pki {
 public:
  Pki() {
    char pattern[] = "/tmp/security_test.XXXXXX";
    dir_ = ::mkdtemp(pattern);
  }
  ~Pki() { std::system(absl::StrCat("rm -rf ", dir_).c_str()); }

  std::string Path(const std::string& name) const { return absl::StrCat(dir_, "/", name); }

  // A self-signed CA named `name`.
  bool MakeCa(const std::string& name) {
    return Run(absl::StrCat("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                            "-nodes -days 2 -subj /CN=", name, " -keyout ", Path(name + ".key"),
                            " -out ", Path(name + ".pem")));
  }

  // A certificate for localhost / 127.0.0.1 signed by `ca`, as <name>.pem and <name>.key.
  bool MakeCert(const std::string& ca, const std::string& name, bool client) {
    WriteFile(Path(name + ".ext"),
              client ? "extendedKeyUsage=clientAuth\n"
                     : "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    return Run(absl::StrCat("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                            "-subj /CN=", name, " -keyout ", Path(name + ".key"), " -out ",
                            Path(name + ".csr"))) &&
           Run(absl::StrCat("openssl x509 -req -days 2 -in ", Path(name + ".csr"), " -CA ",
                            Path(ca + ".pem"), " -CAkey ", Path(ca + ".key"), " -CAcreateserial -out ",
                            Path(name + ".pem"), " -extfile ", Path(name + ".ext")));
  }

 private:
  static bool Run(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
  }
  std::string dir_;
};

}  // namespace modelcatalog::testing

#endif  // MODEL_CATALOG_TESTS_SUPPORT_PKI_H_
