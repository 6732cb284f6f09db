// The HTTP server library over real sockets: well-formed traffic through
// libcurl, protocol edge cases through raw sockets.
#include "services/hub_emulator/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/curl_fetch.h"

namespace modelcatalog {
namespace http {
namespace {

using ::modelcatalog::testing::Fetch;
using ::modelcatalog::testing::FetchOptions;
using ::modelcatalog::testing::FetchResult;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// A raw TCP connection to the server, for what curl would not send.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() { ::close(fd_); }

  bool connected() const { return connected_; }

  bool Send(absl::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response: head and a Content-Length body (none if !has_body,
  // as for HEAD). `complete` is false if the peer closed before the body ended.
  struct Response {
    int status = 0;
    std::string head;
    std::string body;
    bool complete = false;
  };
  Response ReadResponse(absl::Duration timeout = absl::Seconds(5), bool has_body = true) {
    Response response;
    const absl::Time deadline = absl::Now() + timeout;
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(deadline)) return response;
    }
    response.head = buffer_.substr(0, head_end + 4);
    buffer_.erase(0, head_end + 4);
    if (!absl::SimpleAtoi(response.head.substr(9, 3), &response.status)) response.status = -1;
    size_t length = 0;
    const size_t cl = response.head.find("Content-Length: ");
    if (cl != std::string::npos && has_body) {
      if (!absl::SimpleAtoi(
              response.head.substr(cl + 16, response.head.find('\r', cl) - cl - 16), &length)) {
        ADD_FAILURE() << "bad Content-Length in " << response.head;
      }
    }
    while (buffer_.size() < length) {
      if (!ReadMore(deadline)) break;
    }
    response.complete = buffer_.size() >= length;
    response.body = buffer_.substr(0, std::min(length, buffer_.size()));
    buffer_.erase(0, response.body.size());
    return response;
  }

  // Whether the server closes the connection (EOF) within `timeout`, with no
  // further bytes.
  bool ClosedWithin(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    const size_t before = buffer_.size();
    while (ReadMore(deadline)) {
    }
    return eof_ && buffer_.size() == before;
  }

 private:
  bool ReadMore(absl::Time deadline) {
    pollfd p = {fd_, POLLIN, 0};
    const int ms = static_cast<int>(
        std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now())));
    if (::poll(&p, 1, ms) <= 0) return false;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buffer_;
};

// Records the requests the server hands to the handler.
class Recorder {
 public:
  void Add(const HttpRequest& request) {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
  }
  std::vector<HttpRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  std::vector<HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
};

class HttpServerTest : public ::testing::Test {
 protected:
  // Starts a server whose handler echoes the request and obeys `respond`.
  void StartServer(std::function<HttpResponse(const HttpRequest&)> respond = nullptr,
                   HttpServerOptions options = HttpServerOptions()) {
    respond_ = std::move(respond);
    server_ = std::make_unique<HttpServer>(
        [this](const HttpRequest& request) {
          recorder_.Add(request);
          if (respond_) return respond_(request);
          return HttpResponse::Text(200, absl::StrCat("echo ", request.method, " ", request.path,
                                                      " body=", request.body));
        },
        options);
    absl::StatusOr<int> port = server_->Start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }
  std::string Url(absl::string_view target) {
    return absl::StrCat("http://127.0.0.1:", port_, target);
  }

  Recorder recorder_;
  std::function<HttpResponse(const HttpRequest&)> respond_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpServerTest, StartBindsAFreePortAndServes) {
  StartServer();
  EXPECT_GT(port_, 0);
  EXPECT_EQ(server_->port(), port_);
  FetchOptions post;
  post.method = "POST";
  post.body = "hello";
  post.headers = {"X-Mixed-Case: yes"};
  const FetchResult result = Fetch(Url("/some/path"), post);
  ASSERT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, "echo POST /some/path body=hello");
  EXPECT_EQ(result.Header("content-length"), "31");
  const std::vector<HttpRequest> seen = recorder_.requests();
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_NE(seen[0].FindHeader("x-mixed-case"), nullptr);
  EXPECT_EQ(*seen[0].FindHeader("X-MIXED-CASE"), "yes");
  EXPECT_THAT(seen[0].peer, HasSubstr("127.0.0.1:"));
}

TEST_F(HttpServerTest, StartTwiceFailsAndBusyPortIsReported) {
  StartServer();
  EXPECT_TRUE(absl::IsFailedPrecondition(server_->Start("127.0.0.1", 0).status()));
  HttpServer other([](const HttpRequest&) { return HttpResponse(); });
  const absl::StatusOr<int> busy = other.Start("127.0.0.1", port_);
  EXPECT_TRUE(absl::IsUnavailable(busy.status())) << busy.status();
  EXPECT_FALSE(other.Start("no-such-host.invalid", 0).ok());
}

TEST_F(HttpServerTest, DecodesPathAndQueryParameters) {
  StartServer();
  const FetchResult result = Fetch(Url("/models/org%2Fmodel%20v2?a=1&b=x%20y&c=p+q&c=second"));
  ASSERT_EQ(result.code, CURLE_OK);
  const std::vector<HttpRequest> seen = recorder_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/models/org/model v2");
  EXPECT_EQ(seen[0].raw_path, "/models/org%2Fmodel%20v2");
  EXPECT_THAT(seen[0].query_params,
              ElementsAre(Pair("a", "1"), Pair("b", "x y"), Pair("c", "p q"), Pair("c", "second")));
  EXPECT_EQ(*seen[0].FindQueryParam("c"), "p q");  // the first of repeated parameters
}

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  StartServer();
  RawConnection connection(port_);
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.Send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n"));
  const RawConnection::Response first = connection.ReadResponse();
  EXPECT_EQ(first.status, 200);
  EXPECT_THAT(first.head, HasSubstr("Connection: keep-alive"));
  EXPECT_EQ(first.body, "echo GET /first body=");
  ASSERT_TRUE(connection.Send("POST /second HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"));
  const RawConnection::Response second = connection.ReadResponse();
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "echo POST /second body=abc");
  const std::vector<HttpRequest> seen = recorder_.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].peer, seen[1].peer);  // same client port: same connection
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  RawConnection connection(port_);
  ASSERT_TRUE(connection.Send(
      "POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nxyGET /b HTTP/1.1\r\n\r\n"
      "GET /c HTTP/1.1\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(connection.ReadResponse().body, "echo POST /a body=xy");
  EXPECT_EQ(connection.ReadResponse().body, "echo GET /b body=");
  const RawConnection::Response last = connection.ReadResponse();
  EXPECT_EQ(last.body, "echo GET /c body=");
  EXPECT_THAT(last.head, HasSubstr("Connection: close"));
  EXPECT_TRUE(connection.ClosedWithin(absl::Seconds(2)));
}

TEST_F(HttpServerTest, HandlerCanCloseTheConnection) {
  StartServer([](const HttpRequest& request) {
    HttpResponse response = HttpResponse::Text(200, "bye");
    if (request.path == "/flag") response.close_connection = true;
    if (request.path == "/header") response.SetHeader("Connection", "close");
    return response;
  });
  for (const char* path : {"/flag", "/header"}) {
    RawConnection connection(port_);
    ASSERT_TRUE(connection.Send(absl::StrCat("GET ", path, " HTTP/1.1\r\n\r\n")));
    const RawConnection::Response response = connection.ReadResponse();
    EXPECT_EQ(response.body, "bye");
    EXPECT_THAT(response.head, HasSubstr("Connection: close")) << path;
    EXPECT_TRUE(connection.ClosedWithin(absl::Seconds(2))) << path;
  }
}

TEST_F(HttpServerTest, Http10ClosesUnlessAskedToKeepAlive) {
  StartServer();
  RawConnection connection(port_);
  ASSERT_TRUE(connection.Send("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_THAT(connection.ReadResponse().head, HasSubstr("Connection: close"));
  EXPECT_TRUE(connection.ClosedWithin(absl::Seconds(2)));
}

TEST_F(HttpServerTest, MalformedRequestGets400AndClose) {
  StartServer();
  for (const char* request : {"NOT A REQUEST AT ALL\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                              "GET /%zz HTTP/1.1\r\n\r\n"}) {
    RawConnection connection(port_);
    ASSERT_TRUE(connection.Send(request));
    const RawConnection::Response response = connection.ReadResponse();
    EXPECT_EQ(response.status, 400) << request;
    EXPECT_THAT(response.head, HasSubstr("Connection: close"));
    EXPECT_TRUE(connection.ClosedWithin(absl::Seconds(2))) << request;
  }
  EXPECT_TRUE(recorder_.requests().empty());  // the handler never saw them
}

TEST_F(HttpServerTest, OversizedHeadGets431) {
  HttpServerOptions options;
  options.max_header_bytes = 4096;
  StartServer(nullptr, options);
  RawConnection connection(port_);
  ASSERT_TRUE(connection.Send(absl::StrCat("GET / HTTP/1.1\r\nX-Big: ", std::string(8192, 'a'),
                                           "\r\n\r\n")));
  EXPECT_EQ(connection.ReadResponse().status, 431);
  // Also when the head never ends.
  RawConnection endless(port_);
  ASSERT_TRUE(endless.Send(absl::StrCat("GET / HTTP/1.1\r\nX-Big: ", std::string(8192, 'a'))));
  EXPECT_EQ(endless.ReadResponse().status, 431);
  // The default limit is 64 KiB.
  HttpServer defaults([](const HttpRequest&) { return HttpResponse(); });
  const absl::StatusOr<int> port = defaults.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  RawConnection big(*port);
  ASSERT_TRUE(big.Send(absl::StrCat("GET / HTTP/1.1\r\nX-Big: ", std::string(70 * 1024, 'a'),
                                    "\r\n\r\n")));
  EXPECT_EQ(big.ReadResponse().status, 431);
}

TEST_F(HttpServerTest, BodyOverTheLimitGets413) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(nullptr, options);
  FetchOptions at_limit;
  at_limit.method = "PUT";
  at_limit.body = std::string(1024, 'b');
  const FetchResult ok = Fetch(Url("/upload"), at_limit);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "echo PUT /upload body=" + at_limit.body);

  RawConnection connection(port_);
  ASSERT_TRUE(connection.Send(absl::StrCat("PUT /upload HTTP/1.1\r\nContent-Length: 1025\r\n\r\n",
                                           std::string(1025, 'b'))));
  const RawConnection::Response response = connection.ReadResponse();
  EXPECT_EQ(response.status, 413);
  EXPECT_THAT(response.body, HasSubstr("1024"));
  EXPECT_EQ(recorder_.requests().size(), 1u);  // only the first reached the handler
}

TEST_F(HttpServerTest, ChunkedRequestBodyIsRefusedWith501) {
  StartServer();
  RawConnection connection(port_);
  ASSERT_TRUE(connection.Send(
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
  EXPECT_EQ(connection.ReadResponse().status, 501);
  EXPECT_TRUE(recorder_.requests().empty());
}

TEST_F(HttpServerTest, ExpectContinueIsAnsweredAtOnce) {
  StartServer();
  FetchOptions upload;
  upload.method = "POST";
  upload.body = std::string(200 * 1024, 'u');
  upload.headers = {"Expect: 100-continue"};
  const FetchResult result = Fetch(Url("/up"), upload);
  ASSERT_EQ(result.code, CURLE_OK);
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body.size(), std::string("echo POST /up body=").size() + upload.body.size());
  ASSERT_EQ(recorder_.requests().size(), 1u);
  EXPECT_NE(recorder_.requests()[0].FindHeader("Expect"), nullptr);

  // The interim answer comes before any byte of the body is sent: a client
  // that waits for it (as curl does, for a second) is not left waiting.
  RawConnection connection(port_);
  ASSERT_TRUE(connection.Send(
      "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  const RawConnection::Response interim = connection.ReadResponse(absl::Seconds(5), false);
  EXPECT_EQ(interim.status, 100) << interim.head;
  ASSERT_TRUE(connection.Send("body"));
  const RawConnection::Response final_response = connection.ReadResponse();
  EXPECT_EQ(final_response.status, 200);
  EXPECT_EQ(final_response.body, "echo POST /up body=body");
}

TEST_F(HttpServerTest, DelayPostponesTheResponse) {
  StartServer([](const HttpRequest&) {
    HttpResponse response = HttpResponse::Text(200, "late");
    response.delay = absl::Milliseconds(200);
    return response;
  });
  const FetchResult result = Fetch(Url("/"));
  EXPECT_EQ(result.body, "late");
  EXPECT_GE(result.elapsed, absl::Milliseconds(200));
}

TEST_F(HttpServerTest, TruncateAnnouncesFullLengthSendsPartAndCloses) {
  StartServer([](const HttpRequest&) {
    HttpResponse response = HttpResponse::Json(200, "{\"abcdefgh\":1}");
    response.truncate_at = 5;
    return response;
  });
  RawConnection connection(port_);
  ASSERT_TRUE(connection.Send("GET / HTTP/1.1\r\n\r\n"));
  const RawConnection::Response response = connection.ReadResponse(absl::Seconds(2));
  EXPECT_EQ(response.status, 200);
  EXPECT_THAT(response.head, HasSubstr("Content-Length: 14"));
  EXPECT_EQ(response.body, "{\"abc");
  EXPECT_FALSE(response.complete);

  const FetchResult result = Fetch(Url("/"));
  EXPECT_EQ(result.code, CURLE_PARTIAL_FILE);
  EXPECT_EQ(result.body, "{\"abc");
}

TEST_F(HttpServerTest, HangSendsNothingUntilTheClientGivesUp) {
  StartServer([](const HttpRequest& request) {
    HttpResponse response = HttpResponse::Text(200, "fine");
    response.hang = request.path == "/hang";
    return response;
  });
  FetchOptions impatient;
  impatient.timeout_ms = 200;
  const FetchResult hung = Fetch(Url("/hang"), impatient);
  EXPECT_EQ(hung.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(hung.status, 0);  // not even a status line
  // The server is still fine for everyone else.
  EXPECT_EQ(Fetch(Url("/ok")).body, "fine");
}

TEST_F(HttpServerTest, HangIsBoundedByMaxHang) {
  HttpServerOptions options;
  options.max_hang = absl::Milliseconds(100);
  StartServer(
      [](const HttpRequest&) {
        HttpResponse response;
        response.hang = true;
        return response;
      },
      options);
  RawConnection connection(port_);
  ASSERT_TRUE(connection.Send("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(connection.ClosedWithin(absl::Seconds(3)));
}

TEST_F(HttpServerTest, StopWithHangingAndDelayedResponsesReturnsPromptly) {
  absl::Notification hanging;
  absl::Notification delayed;
  StartServer([&](const HttpRequest& request) {
    HttpResponse response;
    if (request.path == "/hang") {
      response.hang = true;
      hanging.Notify();
    } else {
      response.delay = absl::Minutes(10);
      delayed.Notify();
    }
    return response;
  });
  RawConnection hang_connection(port_);
  RawConnection delay_connection(port_);
  RawConnection idle_connection(port_);
  ASSERT_TRUE(hang_connection.Send("GET /hang HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(delay_connection.Send("GET /delay HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(hanging.WaitForNotificationWithTimeout(absl::Seconds(5)));
  ASSERT_TRUE(delayed.WaitForNotificationWithTimeout(absl::Seconds(5)));

  // Stop does not wait for the handlers: were it to, it would wait ten
  // minutes for one and for ever for the other.
  server_->Stop();
  EXPECT_TRUE(hang_connection.ClosedWithin(absl::Seconds(1)));
  EXPECT_TRUE(delay_connection.ClosedWithin(absl::Seconds(1)));
  EXPECT_TRUE(idle_connection.ClosedWithin(absl::Seconds(1)));
  server_->Stop();  // idempotent
  // Nothing listens any more.
  EXPECT_EQ(Fetch(Url("/")).code, CURLE_COULDNT_CONNECT);
}

TEST_F(HttpServerTest, IdleConnectionsAreClosed) {
  HttpServerOptions options;
  options.idle_timeout = absl::Milliseconds(100);
  StartServer(nullptr, options);
  RawConnection idle(port_);
  EXPECT_TRUE(idle.ClosedWithin(absl::Seconds(3)));
  // A client that stalls mid-request is told so.
  RawConnection stalled(port_);
  ASSERT_TRUE(stalled.Send("GET / HTTP/1.1\r\n"));
  EXPECT_EQ(stalled.ReadResponse(absl::Seconds(3)).status, 408);
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitGet503) {
  HttpServerOptions options;
  options.max_connections = 1;
  StartServer(nullptr, options);
  {
    RawConnection first(port_);
    ASSERT_TRUE(first.Send("GET /one HTTP/1.1\r\n\r\n"));
    ASSERT_EQ(first.ReadResponse().status, 200);  // the first is being served
    RawConnection second(port_);
    EXPECT_EQ(second.ReadResponse().status, 503);
    EXPECT_TRUE(second.ClosedWithin(absl::Seconds(2)));
  }
  // Once the first client leaves, its slot is freed as soon as its thread ends.
  FetchResult later;
  for (int attempt = 0; attempt < 100; ++attempt) {
    later = Fetch(Url("/later"));
    if (later.status == 200) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(later.status, 200);
}

TEST_F(HttpServerTest, HeadRequestGetsHeadersOnly) {
  StartServer();
  RawConnection connection(port_);
  ASSERT_TRUE(connection.Send("HEAD /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n"));
  const std::string head = connection.ReadResponse(absl::Seconds(5), /*has_body=*/false).head;
  EXPECT_THAT(head, HasSubstr("Content-Length: 18"));  // "echo HEAD /x body="
  // Were a body sent after the HEAD answer, it would be read as the next response.
  RawConnection::Response next = connection.ReadResponse();
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "echo GET /y body=");
}

}  // namespace
}  // namespace http
}  // namespace modelcatalog
