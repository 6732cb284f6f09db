#include "services/hub_emulator/http/http_message.h"

#include <cstdint>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace modelcatalog {
namespace http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

absl::Status Parse(absl::string_view head, HttpRequest* request, uint64_t* length) {
  return ParseRequestHead(head, request, length);
}

TEST(HttpMessageTest, ParsesRequestLineHeadersAndTarget) {
  HttpRequest request;
  uint64_t length = 99;
  ASSERT_TRUE(Parse("POST /api/ai/models/a%2Fb%20c?x=1&y=two%20words&z=p+q&flag HTTP/1.1\r\n"
                    "Host: example\r\n"
                    "Content-Length: 12\r\n"
                    "X-Trace:   spaced value  \r\n",
                    &request, &length)
                  .ok());
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/api/ai/models/a%2Fb%20c?x=1&y=two%20words&z=p+q&flag");
  EXPECT_EQ(request.raw_path, "/api/ai/models/a%2Fb%20c");
  EXPECT_EQ(request.path, "/api/ai/models/a/b c");
  EXPECT_EQ(request.query, "x=1&y=two%20words&z=p+q&flag");
  EXPECT_THAT(request.query_params, ElementsAre(Pair("x", "1"), Pair("y", "two words"),
                                                Pair("z", "p q"), Pair("flag", "")));
  EXPECT_EQ(request.version_minor, 1);
  EXPECT_EQ(length, 12u);
  ASSERT_NE(request.FindHeader("x-trace"), nullptr);
  EXPECT_EQ(*request.FindHeader("x-trace"), "spaced value");
  EXPECT_EQ(*request.FindHeader("HOST"), "example");
  EXPECT_EQ(request.FindHeader("missing"), nullptr);
  ASSERT_NE(request.FindQueryParam("y"), nullptr);
  EXPECT_EQ(*request.FindQueryParam("y"), "two words");
  EXPECT_EQ(request.FindQueryParam("Y"), nullptr);  // parameter names are case-sensitive
}

TEST(HttpMessageTest, AcceptsBareLineFeedsAndNoHeaders) {
  HttpRequest request;
  uint64_t length = 5;
  ASSERT_TRUE(Parse("GET / HTTP/1.0\nHost: h", &request, &length).ok());
  EXPECT_EQ(request.version_minor, 0);
  EXPECT_EQ(length, 0u);
  ASSERT_TRUE(Parse("GET /x HTTP/1.1", &request, &length).ok());
  EXPECT_TRUE(request.headers.empty());
}

TEST(HttpMessageTest, RejectsMalformedHeads) {
  const char* bad[] = {
      "",                                           // nothing
      "GET",                                        // no target
      "GET  / HTTP/1.1",                            // double space
      "GET / HTTP/1.1 extra",                       // four parts
      "G(T / HTTP/1.1",                             // method is not a token
      "GET relative HTTP/1.1",                      // not origin-form
      "GET http://host/ HTTP/1.1",                  // absolute-form (we are no proxy)
      "GET / HTTX/1.1",                             // not HTTP
      "GET /%zz HTTP/1.1",                          // bad escape in the path
      "GET /%4 HTTP/1.1",                           // truncated escape
      "GET /a%00b HTTP/1.1",                        // encoded NUL
      "GET /?q=%g0 HTTP/1.1",                       // bad escape in the query
      "GET / HTTP/1.1\r\nNo colon here",            // header without ':'
      "GET / HTTP/1.1\r\nBad Name: v",              // space in a name
      "GET / HTTP/1.1\r\nName : v",                 // space before the colon
      "GET / HTTP/1.1\r\nA: b\r\n folded",          // obsolete line folding
      "GET / HTTP/1.1\r\nA: b\x01",                 // control character
      "GET / HTTP/1.1\r\nContent-Length: -1",       // not digits
      "GET / HTTP/1.1\r\nContent-Length: 1x",       // not digits
      "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999",  // too large
      "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2",  // conflicting
  };
  for (const char* head : bad) {
    HttpRequest request;
    uint64_t length = 0;
    const absl::Status status = Parse(head, &request, &length);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << "head: " << head << " -> " << status;
    EXPECT_EQ(HttpStatusForParseError(status), 400) << head;
  }
}

TEST(HttpMessageTest, RepeatedEqualContentLengthIsAccepted) {
  HttpRequest request;
  uint64_t length = 0;
  ASSERT_TRUE(Parse("POST / HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3", &request,
                    &length)
                  .ok());
  EXPECT_EQ(length, 3u);
}

TEST(HttpMessageTest, TransferEncodingIsNotImplemented) {
  HttpRequest request;
  uint64_t length = 0;
  const absl::Status status =
      Parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked", &request, &length);
  EXPECT_TRUE(absl::IsUnimplemented(status)) << status;
  EXPECT_EQ(HttpStatusForParseError(status), 501);
}

TEST(HttpMessageTest, OtherHttpVersionsGet505) {
  HttpRequest request;
  uint64_t length = 0;
  const absl::Status status = Parse("GET / HTTP/2.0", &request, &length);
  EXPECT_EQ(HttpStatusForParseError(status), 505) << status;
}

TEST(HttpMessageTest, KeepAliveFollowsVersionAndConnectionHeader) {
  HttpRequest request;
  uint64_t length = 0;
  ASSERT_TRUE(Parse("GET / HTTP/1.1", &request, &length).ok());
  EXPECT_TRUE(request.KeepAlive());
  ASSERT_TRUE(Parse("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE", &request, &length).ok());
  EXPECT_FALSE(request.KeepAlive());
  ASSERT_TRUE(Parse("GET / HTTP/1.0", &request, &length).ok());
  EXPECT_FALSE(request.KeepAlive());
  ASSERT_TRUE(Parse("GET / HTTP/1.0\r\nConnection: keep-alive", &request, &length).ok());
  EXPECT_TRUE(request.KeepAlive());
}

TEST(HttpMessageTest, PercentDecodeAndEncodeRoundTrip) {
  EXPECT_EQ(*PercentDecode("a%20b%2Fc%C3%A9"), "a b/cé");
  EXPECT_EQ(*PercentDecode("a+b"), "a+b");
  EXPECT_EQ(*PercentDecode("a+b", /*plus_as_space=*/true), "a b");
  EXPECT_FALSE(PercentDecode("%").ok());
  EXPECT_FALSE(PercentDecode("%a").ok());
  EXPECT_FALSE(PercentDecode("%xy").ok());
  const std::string raw = "org/model v2+é?&=#%";
  const std::string encoded = PercentEncode(raw);
  EXPECT_EQ(encoded.find_first_of("/ +?&=#"), std::string::npos) << encoded;
  EXPECT_EQ(*PercentDecode(encoded), raw);
  EXPECT_EQ(PercentEncode("Az09-._~"), "Az09-._~");
}

TEST(HttpMessageTest, ParseQuerySkipsEmptyPieces) {
  std::vector<std::pair<std::string, std::string>> params;
  ASSERT_TRUE(ParseQuery("a=1&&b=&=c&d=x=y", &params).ok());
  EXPECT_THAT(params, ElementsAre(Pair("a", "1"), Pair("b", ""), Pair("", "c"), Pair("d", "x=y")));
}

TEST(HttpMessageTest, ResponseHeadIsFramedByTheServer) {
  HttpResponse response = HttpResponse::Json(404, "{}");
  response.headers.emplace_back("Content-Length", "999");  // ignored: the server frames
  response.headers.emplace_back("Connection", "upgrade");  // ignored
  response.SetHeader("X-Custom", "1");
  response.SetHeader("x-custom", "2");  // replaces, any case
  const std::string head = SerializeResponseHead(response, 2, /*keep_alive=*/false);
  EXPECT_EQ(head,
            "HTTP/1.1 404 Not Found\r\n"
            "Content-Type: application/json\r\n"
            "x-custom: 2\r\n"
            "Content-Length: 2\r\n"
            "Connection: close\r\n\r\n");
  EXPECT_THAT(SerializeResponseHead(HttpResponse(), 0, true), HasSubstr("Connection: keep-alive"));
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ReasonPhrase(299), "Unknown");
}

}  // namespace
}  // namespace http
}  // namespace modelcatalog
