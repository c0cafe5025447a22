#include "archive/tar_reader.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "common/error.hpp"

namespace berth::archive {

namespace {

struct ArchiveCloser {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

[[noreturn]] void reject(const std::string& detail) {
  throw Error{ErrorCode::invalid, "The template archive is invalid.", detail};
}

// Drops "./" and empty components; refuses absolute paths and any "..".
std::string normalize(const std::string& raw) {
  if (!raw.empty() && raw.front() == '/') reject("entry \"" + raw + "\" has an absolute path");
  std::string out;
  std::size_t start = 0;
  while (start <= raw.size()) {
    auto end = raw.find('/', start);
    if (end == std::string::npos) end = raw.size();
    auto part = raw.substr(start, end - start);
    if (part == "..") reject("entry \"" + raw + "\" escapes the archive with \"..\"");
    if (!part.empty() && part != ".") {
      if (!out.empty()) out += '/';
      out += part;
    }
    start = end + 1;
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> read_tar(std::string_view bytes, const TarLimits& limits) {
  std::unique_ptr<struct archive, ArchiveCloser> a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
    reject(archive_error_string(a.get()) ? archive_error_string(a.get()) : "not a tar archive");
  std::map<std::string, std::string> files;
  std::size_t total = 0;
  std::size_t entries = 0;
  archive_entry* entry = nullptr;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
      reject(archive_error_string(a.get()) ? archive_error_string(a.get()) : "corrupt archive");
    if (++entries > limits.max_entries)
      reject("the archive has more than " + std::to_string(limits.max_entries) +
             " entries (files and directories)");
    const char* raw_path = archive_entry_pathname(entry);
    std::string raw = raw_path ? raw_path : "";
    if (raw.size() > limits.max_path_length) reject("an entry's path is too long");
    auto path = normalize(raw);
    auto type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) continue;
    if (type == AE_IFLNK || archive_entry_hardlink(entry))
      reject("entry \"" + raw + "\" is a link; links are not allowed in templates");
    if (type != AE_IFREG) reject("entry \"" + raw + "\" is not a regular file");
    if (path.empty()) reject("an entry has an empty path");
    auto size = archive_entry_size(entry);
    if (size < 0 || total + std::size_t(size) > limits.max_total_bytes)
      reject("the archive unpacks to more than " + std::to_string(limits.max_total_bytes) +
             " bytes");
    std::string contents(std::size_t(size), '\0');
    auto n = archive_read_data(a.get(), contents.data(), contents.size());
    if (n < 0 || std::size_t(n) != contents.size()) reject("entry \"" + raw + "\" is truncated");
    total += contents.size();
    files[path] = std::move(contents);
  }
  return files;
}

}  // namespace berth::archive
