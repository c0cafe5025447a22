#include "web/dashboard.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "support/temp_dir.hpp"

namespace berth::web {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const std::string kIndex = "<!doctype html><title>Berth</title>";
const std::string kScript = "console.log('berth');";
const std::string kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'; object-src 'none'";

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// A dashboard as web/build.sh lays it out; the "compressed" copies are marked plain text, so
// that a test sees which one it got (the server sends them as they are).
void write_dashboard(const fs::path& dir) {
  write_file(dir / "index.html", kIndex);
  write_file(dir / "index.html.br", "br:" + kIndex);
  write_file(dir / "index.html.gz", "gz:" + kIndex);
  write_file(dir / "assets/app-abc123.js", kScript);
  write_file(dir / "assets/app-abc123.js.br", "br:" + kScript);
  write_file(dir / "assets/app-abc123.js.gz", "gz:" + kScript);
  write_file(dir / "assets/app-abc123.css", "body{}");
  write_file(dir / "assets/logo-abc123.svg", "<svg/>");
  write_file(dir / "assets/font-abc123.woff2", "wOF2");
  write_file(dir / "assets/icons/close-abc123.png", "\x89PNG");
  write_file(dir / "notes.txt", "not served: outside assets/");
}

http::Request get(std::string path, std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::Request r;
  r.method = "GET";
  r.target = path;
  r.path = std::move(path);
  r.headers = std::move(headers);
  return r;
}

std::string header(const http::Response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "<none>";
}

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_dashboard(dir_.path());
    dashboard_ = Dashboard::load(dir_.path());
    ASSERT_NE(dashboard_, nullptr);
  }

  http::Response serve(std::string path,
                       std::vector<std::pair<std::string, std::string>> headers = {}) const {
    return dashboard_->serve(get(std::move(path), std::move(headers)));
  }
  // Which copy of the script an Accept-Encoding gets: "br", "gzip" or "identity".
  std::string script_encoding(const std::string& accept_encoding) const {
    auto r = serve("/assets/app-abc123.js", {{"accept-encoding", accept_encoding}});
    auto encoding = header(r, "Content-Encoding");
    if (encoding == "<none>" && r.body == kScript) return "identity";
    if (encoding == "br" && r.body == "br:" + kScript) return "br";
    if (encoding == "gzip" && r.body == "gz:" + kScript) return "gzip";
    return "mismatch: " + encoding + " " + r.body;
  }

  TempDir dir_;
  std::shared_ptr<const Dashboard> dashboard_;
};

TEST_F(DashboardTest, ServesTheIndexForEveryPageOfTheApp) {
  for (std::string path :
       {"/", "/login", "/workspaces", "/@alice/dev", "/@alice/dev.main/terminal", "/notes.txt"}) {
    auto r = serve(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, kIndex) << path;
    EXPECT_EQ(header(r, "Content-Type"), "text/html; charset=utf-8") << path;
    EXPECT_EQ(header(r, "Cache-Control"), "no-cache") << path;
  }
}

TEST_F(DashboardTest, ServesAssetsWithTheirTypeAndImmutableCaching) {
  struct Case {
    std::string path;
    std::string type;
  };
  for (const auto& c : std::vector<Case>{
           {"/assets/app-abc123.js", "text/javascript; charset=utf-8"},
           {"/assets/app-abc123.css", "text/css; charset=utf-8"},
           {"/assets/logo-abc123.svg", "image/svg+xml"},
           {"/assets/font-abc123.woff2", "font/woff2"},
           {"/assets/icons/close-abc123.png", "image/png"},
       }) {
    auto r = serve(c.path);
    EXPECT_EQ(r.status, 200) << c.path;
    EXPECT_EQ(header(r, "Content-Type"), c.type) << c.path;
    EXPECT_EQ(header(r, "Cache-Control"), "public, max-age=31536000, immutable") << c.path;
  }
  EXPECT_EQ(serve("/assets/app-abc123.js").body, kScript);
}

TEST_F(DashboardTest, AnswersAMissingAssetWithAPlain404NotTheIndex) {
  for (std::string path : {"/assets/app-old999.js", "/assets/", "/assets", "/assets/../index.html",
                           "/assets/app-abc123.js.br"}) {
    auto r = serve(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(header(r, "Content-Type"), "text/plain; charset=utf-8") << path;
    EXPECT_EQ(r.body.find("<!doctype"), std::string::npos) << path;
    EXPECT_EQ(header(r, "Content-Security-Policy"), kCsp) << path;
  }
}

TEST_F(DashboardTest, PrefersBrThenGzipThenIdentityAndHonoursQZero) {
  struct Case {
    std::string accept_encoding;
    std::string expected;
  };
  for (const auto& c : std::vector<Case>{
           {"gzip, deflate, br, zstd", "br"},
           {"gzip, deflate", "gzip"},
           {"deflate", "identity"},
           {"", "identity"},
           {"br;q=0, gzip", "gzip"},
           {"br;q=0.000, gzip;q=0.5", "gzip"},
           {"br;q=0, gzip;q=0", "identity"},
           {"*", "br"},
           {"*;q=0, gzip", "gzip"},
           {"*;q=0", "identity"},
           {"gzip;q=1, br;q=0.5", "gzip"},
           {"identity, gzip;q=0.5", "identity"},
           {"x-gzip", "gzip"},
           {"BR", "br"},
           {" gzip ; q=0.8 ,br ; q=0.9", "br"},
           {"br;q=nonsense, gzip", "gzip"},
           {"br;q=2, gzip", "gzip"},
       }) {
    EXPECT_EQ(script_encoding(c.accept_encoding), c.expected) << c.accept_encoding;
  }
  auto none = serve("/assets/app-abc123.js");
  EXPECT_EQ(none.body, kScript);
  EXPECT_EQ(header(none, "Content-Encoding"), "<none>");
  EXPECT_EQ(header(none, "Vary"), "Accept-Encoding");
  auto index = serve("/workspaces", {{"accept-encoding", "gzip, br"}});
  EXPECT_EQ(index.body, "br:" + kIndex);
  EXPECT_EQ(header(index, "Content-Encoding"), "br");
  EXPECT_EQ(header(index, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(header(serve("/assets/logo-abc123.svg"), "Vary"), "<none>");  // only one copy
}

TEST_F(DashboardTest, GivesEachRepresentationItsOwnETagAndAnswersIfNoneMatchWith304) {
  auto plain = serve("/assets/app-abc123.js");
  auto br = serve("/assets/app-abc123.js", {{"accept-encoding", "br"}});
  auto gzip = serve("/assets/app-abc123.js", {{"accept-encoding", "gzip"}});
  auto etag = header(br, "ETag");
  ASSERT_EQ(etag.size(), 34u);
  EXPECT_EQ(etag.front(), '"');
  EXPECT_NE(etag, header(plain, "ETag"));
  EXPECT_NE(etag, header(gzip, "ETag"));
  EXPECT_NE(header(plain, "ETag"), header(gzip, "ETag"));

  for (const std::string& if_none_match :
       std::vector<std::string>{etag, "W/" + etag, "\"other\", " + etag, "*"}) {
    auto r = serve("/assets/app-abc123.js",
                   {{"accept-encoding", "br"}, {"if-none-match", if_none_match}});
    EXPECT_EQ(r.status, 304) << if_none_match;
    EXPECT_EQ(r.body, "") << if_none_match;
    EXPECT_EQ(header(r, "ETag"), etag) << if_none_match;
    EXPECT_EQ(header(r, "Vary"), "Accept-Encoding");
    EXPECT_EQ(header(r, "Content-Security-Policy"), kCsp);
  }
  // The br tag does not match the plain copy, nor a changed file.
  EXPECT_EQ(serve("/assets/app-abc123.js", {{"if-none-match", etag}}).status, 200);
  EXPECT_EQ(serve("/", {{"if-none-match", "\"0123\""}}).status, 200);
  auto index = serve("/");
  EXPECT_EQ(serve("/login", {{"if-none-match", header(index, "ETag")}}).status, 304);
}

TEST_F(DashboardTest, PutsTheSecurityHeadersOnEveryResponse) {
  auto index = serve("/");
  std::vector<http::Response> responses{index, serve("/assets/app-abc123.js"),
                                        serve("/assets/missing.js"),
                                        serve("/", {{"if-none-match", header(index, "ETag")}})};
  for (const auto& r : responses) {
    EXPECT_EQ(header(r, "Content-Security-Policy"), kCsp) << r.status;
    EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff") << r.status;
    EXPECT_EQ(header(r, "Referrer-Policy"), "same-origin") << r.status;
    EXPECT_EQ(header(r, "X-Frame-Options"), "DENY") << r.status;
  }
}

TEST_F(DashboardTest, AnswersHeadLikeGetWithoutABody) {
  auto request = get("/assets/app-abc123.js", {{"accept-encoding", "gzip"}});
  request.method = "HEAD";
  auto r = dashboard_->serve(request);
  EXPECT_EQ(r.status, 200);
  // The same body as GET: the server writes only the headers, with its Content-Length.
  EXPECT_EQ(r.body, serve("/assets/app-abc123.js", {{"accept-encoding", "gzip"}}).body);
  EXPECT_EQ(header(r, "Content-Encoding"), "gzip");
  EXPECT_EQ(header(r, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(header(r, "ETag"),
            header(serve("/assets/app-abc123.js", {{"accept-encoding", "gzip"}}), "ETag"));
  request.method = "POST";
  auto post = dashboard_->serve(request);
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(header(post, "Allow"), "GET, HEAD");
}

TEST(DashboardLoad, ReturnsNullWithoutTheDirectoryOrItsIndex) {
  TempDir dir;
  EXPECT_EQ(Dashboard::load(dir.path() / "missing"), nullptr);
  EXPECT_EQ(Dashboard::load(dir.path()), nullptr);  // empty
  write_file(dir.path() / "assets/app-abc123.js", kScript);
  EXPECT_EQ(Dashboard::load(dir.path()), nullptr);  // assets but no index.html
  write_file(dir.path() / "index.html", kIndex);
  auto dashboard = Dashboard::load(dir.path());
  ASSERT_NE(dashboard, nullptr);
  auto r = dashboard->serve(get("/", {{"accept-encoding", "br, gzip"}}));
  EXPECT_EQ(r.body, kIndex);  // no precompressed copies: identity, and no Vary
  EXPECT_EQ(header(r, "Content-Encoding"), "<none>");
  EXPECT_EQ(header(r, "Vary"), "<none>");
}

ErrorCode load_error(const fs::path& dir) {
  try {
    Dashboard::load(dir);
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "load() accepted " << dir;
  return ErrorCode::internal;
}

TEST(DashboardLoad, RefusesSymbolicLinks) {
  TempDir dir;
  write_dashboard(dir.path());
  write_file(dir.path() / "secret", "outside");
  fs::create_symlink(dir.path() / "secret", dir.path() / "assets/leak-abc123.js");
  EXPECT_EQ(load_error(dir.path()), ErrorCode::invalid);

  TempDir linked_index;
  write_file(linked_index.path() / "real.html", kIndex);
  fs::create_symlink(linked_index.path() / "real.html", linked_index.path() / "index.html");
  EXPECT_EQ(load_error(linked_index.path()), ErrorCode::invalid);

  TempDir linked_assets;
  write_file(linked_assets.path() / "index.html", kIndex);
  fs::create_symlink("/etc", linked_assets.path() / "assets");
  EXPECT_EQ(load_error(linked_assets.path()), ErrorCode::invalid);
}

TEST(DashboardLoad, RefusesADirectoryOverTheSizeBound) {
  TempDir dir;
  write_dashboard(dir.path());
  auto big = dir.path() / "assets/huge-abc123.js";
  write_file(big, "");
  fs::resize_file(big, Dashboard::kMaxTotalBytes + 1);  // sparse: costs no disk
  EXPECT_EQ(load_error(dir.path()), ErrorCode::too_large);
}

}  // namespace
}  // namespace berth::web
