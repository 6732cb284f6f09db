// The HTTP listener over real sockets: what any method, HEAD and a body
// served from shared bytes get; busy and malformed addresses; stopping with
// connections open.
#include "services/catalog/http/http_listener.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/curl_fetch.h"

namespace modelcatalog::catalog {
namespace {

using ::modelcatalog::testing::Fetch;
using ::modelcatalog::testing::FetchOptions;

HttpListenerOptions Local() {
  HttpListenerOptions options;
  options.listen = "127.0.0.1:0";
  options.flag = "--test_listen";
  return options;
}

// Answers GET with `body` (shared, not copied), anything else with 405.
HttpHandler Serving(std::shared_ptr<const std::string> body) {
  return [body](const HttpRequest& request) {
    if (request.method != "GET" && request.method != "HEAD") {
      HttpReply reply = HttpReply::Text(405, "no\n");
      reply.headers.emplace_back("Allow", "GET, HEAD");
      return reply;
    }
    return HttpReply{200, "application/json", body, {}};
  };
}

TEST(HttpListenerTest, ServesALargeSharedBodyIntactAndHeadWithoutIt) {
  auto body = std::make_shared<const std::string>(std::string(3 << 20, 'x') + "end");
  absl::StatusOr<std::unique_ptr<HttpListener>> listener =
      HttpListener::Start(Local(), Serving(body));
  ASSERT_TRUE(listener.ok()) << listener.status();
  const std::string url = absl::StrCat("http://127.0.0.1:", (*listener)->port(), "/anything");
  auto got = Fetch(url);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, *body);
  FetchOptions head;
  head.method = "HEAD";
  auto headed = Fetch(url, head);
  EXPECT_EQ(headed.status, 200);
  EXPECT_EQ(headed.Header("Content-Length"), absl::StrCat(body->size()));
  EXPECT_TRUE(headed.body.empty());
}

// A method that carries no body is answered at once: the listener never waits
// for a body the handler would not read.
TEST(HttpListenerTest, OtherMethodsAreAnsweredWithoutReadingABody) {
  absl::StatusOr<std::unique_ptr<HttpListener>> listener =
      HttpListener::Start(Local(), Serving(std::make_shared<const std::string>("{}")));
  ASSERT_TRUE(listener.ok()) << listener.status();
  for (const std::string method : {"POST", "PUT", "DELETE", "PATCH"}) {
    FetchOptions options;
    options.method = method;
    options.timeout_ms = 2000;
    auto answered = Fetch(absl::StrCat("http://127.0.0.1:", (*listener)->port(), "/x"), options);
    EXPECT_EQ(answered.status, 405) << method;
    EXPECT_EQ(answered.Header("Allow"), "GET, HEAD") << method;
  }
}

TEST(HttpListenerTest, ABusyPortOrAMalformedAddressIsNamed) {
  absl::StatusOr<std::unique_ptr<HttpListener>> first =
      HttpListener::Start(Local(), Serving(nullptr));
  ASSERT_TRUE(first.ok());
  HttpListenerOptions busy = Local();
  busy.listen = absl::StrCat("127.0.0.1:", (*first)->port());
  absl::StatusOr<std::unique_ptr<HttpListener>> second =
      HttpListener::Start(busy, Serving(nullptr));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(second.status().message(),
            absl::StrCat("--test_listen: cannot listen on ", busy.listen));
  for (const std::string bad : {"nonsense", "127.0.0.1:99999", ":80", "host:port"}) {
    HttpListenerOptions options = Local();
    options.listen = bad;
    absl::StatusOr<std::unique_ptr<HttpListener>> refused =
        HttpListener::Start(options, Serving(nullptr));
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(refused.status().message(),
              absl::StrCat("--test_listen must be host:port, got \"", bad, "\""));
  }
}

TEST(HttpListenerTest, StopReturnsWithAnIdleConnectionOpen) {
  absl::StatusOr<std::unique_ptr<HttpListener>> listener =
      HttpListener::Start(Local(), Serving(std::make_shared<const std::string>("{}")));
  ASSERT_TRUE(listener.ok());
  // A client connects and says nothing: its connection holds a pool thread.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>((*listener)->port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  (*listener)->Stop();  // returns: the test would time out otherwise
  (*listener)->Stop();  // idempotent
  ::close(fd);
}

}  // namespace
}  // namespace modelcatalog::catalog
