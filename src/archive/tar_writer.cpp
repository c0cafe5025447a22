#include "archive/tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "common/error.hpp"

namespace berth::archive {

namespace {

namespace fs = std::filesystem;

struct ArchiveWriteDeleter {
  void operator()(::archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// Directories that hold local tool state, never template source.
bool skipped(const fs::path& relative) {
  for (const auto& part : relative)
    if (part == ".git" || part == ".terraform") return true;
  return false;
}

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    auto relative = fs::relative(entry.path(), dir);
    if (entry.is_regular_file() && !skipped(relative)) files.push_back(relative);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error{ErrorCode::invalid, "Cannot read " + path.string() + "."};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

la_ssize_t append(::archive*, void* data, const void* buffer, size_t length) {
  static_cast<std::string*>(data)->append(static_cast<const char*>(buffer), length);
  return la_ssize_t(length);
}

void add_file(::archive* a, const fs::path& relative, const std::string& contents) {
  std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
  archive_entry_set_pathname(entry.get(), relative.generic_string().c_str());
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), 0644);
  archive_entry_set_size(entry.get(), la_int64_t(contents.size()));
  if (archive_write_header(a, entry.get()) != ARCHIVE_OK ||
      archive_write_data(a, contents.data(), contents.size()) != la_ssize_t(contents.size()))
    throw Error{ErrorCode::internal, "Cannot archive " + relative.string() + ".",
                archive_error_string(a) ? archive_error_string(a) : ""};
}

}  // namespace

std::string tar_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error{ErrorCode::invalid, "\"" + dir.string() + "\" is not a directory."};
  std::string out;
  std::unique_ptr<::archive, ArchiveWriteDeleter> a(archive_write_new());
  archive_write_set_format_ustar(a.get());
  archive_write_set_bytes_per_block(a.get(), 512);
  if (archive_write_open(a.get(), &out, nullptr, append, nullptr) != ARCHIVE_OK)
    throw Error{ErrorCode::internal, "Cannot start the template archive."};
  for (const auto& relative : files_under(dir))
    add_file(a.get(), relative, read_all(dir / relative));
  archive_write_close(a.get());
  return out;
}

}  // namespace berth::archive
