#include "web/dashboard.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "common/crypto.hpp"
#include "common/error.hpp"

namespace berth::web {

namespace fs = std::filesystem;

namespace {

// xterm.js injects a <style> element, hence style-src 'unsafe-inline'; scripts stay 'self' only.
constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'; object-src 'none'";
constexpr const char* kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kAssetsDir = "assets/";      // in the directory
constexpr std::string_view kAssetsPrefix = "/assets/";  // in request paths

// ---- Loading -----------------------------------------------------------------------------

// File contents by path relative to the dashboard directory, '/'-separated.
using Tree = std::map<std::string, std::string, std::less<>>;

// What load() may still read.
struct Budget {
  std::uintmax_t bytes = Dashboard::kMaxTotalBytes;
  std::size_t files = Dashboard::kMaxFiles;
};

// Closes a file descriptor at scope end.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void refuse(ErrorCode code, const std::string& why, const fs::path& path) {
  throw Error{code, "Cannot serve the dashboard: " + why, path.string()};
}

[[noreturn]] void refuse_errno(const fs::path& path) {
  refuse(ErrorCode::unavailable,
         std::string("a file cannot be read (") + std::strerror(errno) + ").", path);
}

// O_NOFOLLOW: a file swapped for a link after the walk saw it is still refused; O_NONBLOCK: a
// FIFO swapped in cannot hang the start-up (fstat then refuses it).
std::string read_regular_file(const fs::path& path, Budget& budget) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (fd.get() < 0) refuse_errno(path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) refuse_errno(path);
  if (!S_ISREG(st.st_mode)) refuse(ErrorCode::invalid, "only regular files are served.", path);
  auto size = static_cast<std::uintmax_t>(st.st_size);
  if (size > budget.bytes)
    refuse(ErrorCode::too_large,
           "the directory holds more than " +
               std::to_string(Dashboard::kMaxTotalBytes / (1024 * 1024)) + " MiB.",
           path);
  std::string bytes(size, '\0');
  std::size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) refuse_errno(path);
    if (n == 0) break;  // shrank while we read: keep what is there
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(done);
  budget.bytes -= done;
  return bytes;
}

void read_entry(const fs::path& root, const fs::path& path, fs::file_status status, Budget& budget,
                Tree& tree) {
  if (fs::is_symlink(status))
    refuse(ErrorCode::invalid, "it holds a symbolic link, and links are not followed.", path);
  if (!fs::is_regular_file(status))
    refuse(ErrorCode::invalid, "only regular files are served.", path);
  if (budget.files == 0)
    refuse(ErrorCode::too_large,
           "the directory holds more than " + std::to_string(Dashboard::kMaxFiles) + " files.",
           path);
  --budget.files;
  tree.emplace(path.lexically_relative(root).generic_string(), read_regular_file(path, budget));
}

// Reads every file under `dir` (a directory under `root`); links are refused, not followed.
void read_directory(const fs::path& root, const fs::path& dir, Budget& budget, Tree& tree) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto status = it->symlink_status(ec);
    if (ec) break;
    if (!fs::is_directory(status)) read_entry(root, it->path(), status, budget, tree);
  }
  if (ec)
    refuse(ErrorCode::unavailable, "the directory cannot be read (" + ec.message() + ").", dir);
}

// Only what is served is read: index.html and its variants, and the tree under assets/.
Tree read_dashboard(const fs::path& root) {
  Tree tree;
  Budget budget;
  for (const char* name : {"index.html", "index.html.br", "index.html.gz"}) {
    std::error_code ec;
    auto status = fs::symlink_status(root / name, ec);
    if (fs::exists(status)) read_entry(root, root / name, status, budget, tree);
  }
  std::error_code ec;
  auto assets = fs::symlink_status(root / "assets", ec);
  if (fs::is_symlink(assets))
    refuse(ErrorCode::invalid, "it holds a symbolic link, and links are not followed.",
           root / "assets");
  if (fs::is_directory(assets)) read_directory(root, root / "assets", budget, tree);
  return tree;
}

std::string_view content_type_for(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 17> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".ttf", "font/ttf"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".wasm", "application/wasm"},
      {".txt", "text/plain; charset=utf-8"},
  }};
  for (const auto& [extension, type] : kTypes)
    if (name.ends_with(extension)) return type;
  return "application/octet-stream";
}

Dashboard::Representation representation(std::string bytes) {
  // Strong and per representation: the br, gzip and plain bytes differ, so do their tags.
  std::string etag = "\"";  // appended, not `"\"" + s`: GCC 12 warns falsely on that (-Wrestrict)
  etag.append(to_hex(sha256(bytes)), 0, 32).push_back('"');
  return {std::move(bytes), std::move(etag)};
}

std::optional<Dashboard::Representation> take_variant(Tree& tree, const std::string& name) {
  auto it = tree.find(name);
  if (it == tree.end()) return std::nullopt;
  return representation(std::move(it->second));
}

Dashboard::File make_file(const std::string& name, Tree& tree) {
  Dashboard::File file;
  file.content_type = std::string(content_type_for(name));
  file.immutable = name.starts_with(kAssetsDir);
  file.identity = representation(std::move(tree.at(name)));
  file.br = take_variant(tree, name + ".br");
  file.gzip = take_variant(tree, name + ".gz");
  return file;
}

// True for `<file>.br` and `<file>.gz` when `<file>` is there too: a variant, not a file.
bool is_variant(const Tree& tree, std::string_view name) {
  if (!name.ends_with(".br") && !name.ends_with(".gz")) return false;
  return tree.contains(name.substr(0, name.size() - 3));
}

// ---- Serving -----------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Calls `fn` with each trimmed element of a `separator`-separated header list.
template <typename Fn>
void for_each_element(std::string_view list, char separator, Fn&& fn) {
  while (!list.empty()) {
    auto end = list.find(separator);
    fn(trim(list.substr(0, end)));
    list = end == std::string_view::npos ? std::string_view{} : list.substr(end + 1);
  }
}

// The weight among an element's parameters (`q=0.5`): 1 when absent, nullopt when malformed.
std::optional<double> weight(std::string_view parameters) {
  std::optional<double> q = 1.0;
  for_each_element(parameters, ';', [&](std::string_view p) {
    if (p.size() < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=') return;
    double value = -1;
    auto [end, ec] = std::from_chars(p.data() + 2, p.data() + p.size(), value);
    bool valid = ec == std::errc{} && end == p.data() + p.size() && value >= 0 && value <= 1;
    q = valid ? std::optional<double>(value) : std::nullopt;
  });
  return q;
}

// The weight Accept-Encoding gives `coding`: by name, else by `*`; 0 when it names neither
// (malformed elements count as absent).
double weight_of(std::string_view accept_encoding, std::string_view coding) {
  std::optional<double> by_name;
  std::optional<double> by_star;
  for_each_element(accept_encoding, ',', [&](std::string_view element) {
    auto semicolon = element.find(';');
    auto name = trim(element.substr(0, semicolon));
    auto q = weight(semicolon == std::string_view::npos ? std::string_view{}
                                                        : element.substr(semicolon + 1));
    if (!q) return;
    if (iequals(name, coding) && !by_name) by_name = q;
    if (name == "*" && !by_star) by_star = q;
  });
  return by_name.value_or(by_star.value_or(0.0));
}

// The representation to send and its Content-Encoding ("" for none).
struct Choice {
  const Dashboard::Representation* representation;
  std::string_view encoding;
  double q;
};

// The client's most wanted encoding we have; on a tie br beats gzip beats identity, and
// identity is what is left when nothing else is acceptable (no header: identity).
Choice choose(const Dashboard::File& file, std::optional<std::string_view> accept_encoding) {
  Choice best{&file.identity, "", 0.0};
  if (!accept_encoding) return best;
  auto consider = [&](const Dashboard::Representation* r, std::string_view encoding, double q) {
    if (r && q > best.q) best = {r, encoding, q};
  };
  auto gzip = std::max(weight_of(*accept_encoding, "gzip"), weight_of(*accept_encoding, "x-gzip"));
  consider(file.br ? &*file.br : nullptr, "br", weight_of(*accept_encoding, "br"));
  consider(file.gzip ? &*file.gzip : nullptr, "gzip", gzip);
  consider(&file.identity, "", weight_of(*accept_encoding, "identity"));
  return best;
}

// If-None-Match uses the weak comparison: W/ is ignored; `*` matches any representation.
bool none_match_hits(std::optional<std::string_view> if_none_match, std::string_view etag) {
  bool hit = false;
  if (if_none_match)
    for_each_element(*if_none_match, ',', [&](std::string_view tag) {
      if (tag.starts_with("W/")) tag.remove_prefix(2);
      hit = hit || tag == "*" || tag == etag;
    });
  return hit;
}

void add_security_headers(http::Response& r) {
  r.set_header("Content-Security-Policy", kContentSecurityPolicy);
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("Referrer-Policy", "same-origin");
  r.set_header("X-Frame-Options", "DENY");
}

http::Response plain_text(int status, std::string text) {
  http::Response r;
  r.status = status;
  add_security_headers(r);
  r.set_header("Content-Type", "text/plain; charset=utf-8");
  r.set_header("Cache-Control", "no-cache");
  r.body = std::move(text);
  return r;
}

}  // namespace

std::shared_ptr<const Dashboard> Dashboard::load(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || !fs::exists(fs::symlink_status(dir / "index.html", ec)))
    return nullptr;
  Tree tree = read_dashboard(dir);
  Dashboard dashboard;
  dashboard.index_ = make_file("index.html", tree);
  for (const auto& [name, bytes] : tree)
    if (name.starts_with(kAssetsDir) && !is_variant(tree, name))
      dashboard.assets_.emplace(name.substr(kAssetsDir.size()), make_file(name, tree));
  return std::make_shared<const Dashboard>(std::move(dashboard));
}

const Dashboard::File* Dashboard::find(std::string_view path) const {
  // /assets/ never falls back to index.html: a missing script must fail as one, not as HTML.
  if (path != "/assets" && !path.starts_with(kAssetsPrefix)) return &index_;
  auto it = assets_.find(path.substr(std::min(path.size(), kAssetsPrefix.size())));
  return it == assets_.end() ? nullptr : &it->second;
}

http::Response Dashboard::serve(const http::Request& request) const {
  if (request.method != "HEAD" && request.method != "GET") {
    auto r = plain_text(405, "Method not allowed.\n");
    r.set_header("Allow", "GET, HEAD");
    return r;
  }
  const File* file = find(request.path);
  if (!file) return plain_text(404, "Not found.\n");
  auto chosen = choose(*file, request.header("accept-encoding"));
  http::Response r;
  add_security_headers(r);
  r.set_header("Cache-Control", file->immutable ? kImmutable : "no-cache");
  r.set_header("ETag", chosen.representation->etag);
  if (file->br || file->gzip) r.set_header("Vary", "Accept-Encoding");
  if (none_match_hits(request.header("if-none-match"), chosen.representation->etag)) {
    r.status = 304;
    return r;
  }
  r.set_header("Content-Type", file->content_type);
  if (!chosen.encoding.empty()) r.set_header("Content-Encoding", std::string(chosen.encoding));
  // For HEAD too: the server writes only the headers, with this body's Content-Length.
  r.body = chosen.representation->bytes;
  return r;
}

}  // namespace berth::web
