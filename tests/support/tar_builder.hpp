#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace berth::testing {

// One entry of a test archive: a regular file unless `symlink_to` is set.
struct TarEntry {
  std::string path;
  std::string contents;
  std::string symlink_to;
};

// Writes a ustar archive in memory with libarchive.
inline std::string make_tar(const std::vector<TarEntry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_ustar(a);
  archive_write_set_bytes_per_block(a, 512);
  auto write_cb = [](struct archive*, void* data, const void* buffer, size_t length) -> la_ssize_t {
    static_cast<std::string*>(data)->append(static_cast<const char*>(buffer), length);
    return la_ssize_t(length);
  };
  if (archive_write_open(a, &out, nullptr, write_cb, nullptr) != ARCHIVE_OK)
    throw std::runtime_error("archive_write_open failed");
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_perm(entry, 0644);
    if (!e.symlink_to.empty()) {
      archive_entry_set_filetype(entry, AE_IFLNK);
      archive_entry_set_symlink(entry, e.symlink_to.c_str());
      archive_entry_set_size(entry, 0);
    } else {
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_size(entry, la_int64_t(e.contents.size()));
    }
    archive_write_header(a, entry);
    if (e.symlink_to.empty()) archive_write_data(a, e.contents.data(), e.contents.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// Archives every regular file under `dir`, with paths relative to it.
inline std::string tar_directory(const std::filesystem::path& dir) {
  std::vector<TarEntry> entries;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    entries.push_back({std::filesystem::relative(f.path(), dir).string(), s.str(), ""});
  }
  return make_tar(entries);
}

}  // namespace berth::testing
