#include "archive/tar_reader.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "common/error.hpp"
#include "support/ustar.hpp"

namespace berth::archive {
namespace {

using berth::testing::make_ustar;
using berth::testing::UstarEntry;

// Writes `entries` as a gzip-compressed pax archive with libarchive, the way `tar czf` would.
std::string make_tgz(const std::vector<UstarEntry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
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
    archive_entry_set_filetype(entry, e.type == '5' ? AE_IFDIR : AE_IFREG);
    archive_entry_set_size(entry, e.type == '5' ? 0 : la_int64_t(e.contents.size()));
    if (archive_write_header(a, entry) != ARCHIVE_OK)
      throw std::runtime_error(archive_error_string(a));
    if (e.type != '5') archive_write_data(a, e.contents.data(), e.contents.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

UstarEntry file(std::string path, std::string contents) {
  return UstarEntry{std::move(path), std::move(contents), '0', ""};
}
UstarEntry dir(std::string path) {
  return UstarEntry{std::move(path), "", '5', ""};
}

// ---- accepted archives ----

struct ValidCase {
  std::string name;
  std::string bytes;
  std::map<std::string, std::string> want;
};

class ReadTarValid : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ReadTarValid, Unpacks) {
  EXPECT_EQ(read_tar(GetParam().bytes), GetParam().want);
}

std::vector<ValidCase> valid_cases() {
  std::string big(100'000, 'x');
  return {
      {"SingleFile",
       make_ustar({file("main.tf", "resource \"null\" \"a\" {}\n")}),
       {{"main.tf", "resource \"null\" \"a\" {}\n"}}},
      {"EmptyArchive", make_ustar({}), {}},
      {"EmptyFile", make_ustar({file("empty.txt", "")}), {{"empty.txt", ""}}},
      {"DotSlashPrefixes",
       make_ustar({dir("./"), file("./main.tf", "a"), dir("./mod/"), file("./mod/./x.tf", "b")}),
       {{"main.tf", "a"}, {"mod/x.tf", "b"}}},
      {"DoubleSlashesCollapse", make_ustar({file("a//b.tf", "c")}), {{"a/b.tf", "c"}}},
      {"NestedDirectories",
       make_ustar({dir("a/"), dir("a/b/"), dir("a/b/c/"), file("a/b/c/deep.tf", "deep"),
                   file("a/top.tf", "top"), file("README.md", "# hi")}),
       {{"a/b/c/deep.tf", "deep"}, {"a/top.tf", "top"}, {"README.md", "# hi"}}},
      {"MultiBlockContents",
       make_ustar({file("big.bin", big), file("after.tf", "z")}),
       {{"big.bin", big}, {"after.tf", "z"}}},
      {"UstarPrefixField",
       make_ustar({file(std::string(120, 'd') + "/main.tf", "p")}),
       {{std::string(120, 'd') + "/main.tf", "p"}}},
      {"Gzip",
       make_tgz({dir("./"), file("./main.tf", "gz"), dir("./m/"), file("./m/v.tf", "v")}),
       {{"main.tf", "gz"}, {"m/v.tf", "v"}}},
      {"GzipLongPaxPath",
       make_tgz({file(std::string(300, 'p') + ".tf", "long")}),
       {{std::string(300, 'p') + ".tf", "long"}}},
  };
}

INSTANTIATE_TEST_SUITE_P(Archives, ReadTarValid, ::testing::ValuesIn(valid_cases()),
                         [](const auto& info) { return info.param.name; });

// ---- rejected archives ----

struct InvalidCase {
  std::string name;
  std::string bytes;
  std::string detail_contains;  // usually the offending entry's name
  TarLimits limits = {};
};

class ReadTarInvalid : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(ReadTarInvalid, RejectsNamingTheProblem) {
  const auto& c = GetParam();
  try {
    auto files = read_tar(c.bytes, c.limits);
    FAIL() << "accepted an archive with " << files.size() << " file(s)";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid);
    EXPECT_EQ(e.message(), "The template archive is invalid.");
    EXPECT_NE(e.detail().find(c.detail_contains), std::string::npos) << "detail: " << e.detail();
  }
}

std::string truncated_archive() {
  auto whole = make_ustar({file("main.tf", std::string(4000, 'q'))});
  return whole.substr(0, 512 + 1000);  // the header and part of the contents
}

std::string garbage() {
  std::string out;
  std::uint32_t x = 12345;
  for (int i = 0; i < 4096; ++i) {
    x = x * 1103515245u + 12345u;
    out += char(x >> 24);
  }
  return out;
}

std::vector<InvalidCase> invalid_cases() {
  TarLimits few_entries;
  few_entries.max_entries = 2;
  TarLimits small_total;
  small_total.max_total_bytes = 10;
  TarLimits short_paths;
  short_paths.max_path_length = 16;
  return {
      {"AbsolutePath", make_ustar({file("/etc/passwd", "x")}), "\"/etc/passwd\""},
      {"AbsoluteDirectory", make_ustar({dir("/etc/")}), "\"/etc/\""},
      {"DotDot", make_ustar({file("../x", "x")}), "\"../x\""},
      {"DotDotInside", make_ustar({file("a/../../x", "x")}), "\"a/../../x\""},
      {"DotDotThatStaysInside", make_ustar({file("a/../b", "x")}), "\"a/../b\""},
      {"DotDotAfterGoodFile", make_ustar({file("ok.tf", "ok"), file("m/../../evil", "x")}),
       "\"m/../../evil\""},
      {"Symlink", make_ustar({{"link", "", '2', "/etc/passwd"}}), "\"link\""},
      {"Hardlink", make_ustar({file("a", "x"), {"b", "", '1', "a"}}), "\"b\""},
      {"CharDevice", make_ustar({{"tty", "", '3', ""}}), "\"tty\""},
      {"BlockDevice", make_ustar({{"sda", "", '4', ""}}), "\"sda\""},
      {"Fifo", make_ustar({{"pipe", "", '6', ""}}), "\"pipe\""},
      {"TooManyFiles", make_ustar({file("a", "1"), file("b", "2"), file("c", "3")}),
       "more than 2 entries", few_entries},
      {"DirectoriesCountAsEntries", make_ustar({dir("d1/"), dir("d2/"), dir("d3/")}),
       "more than 2 entries", few_entries},
      {"DirectoriesAndFilesCountTogether",
       make_ustar({dir("d/"), file("d/a", "1"), file("b", "2")}), "more than 2 entries",
       few_entries},
      {"ARepeatedPathCountsEachTime", make_ustar({file("a", ""), file("a", ""), file("a", "")}),
       "more than 2 entries", few_entries},
      {"TotalSizeOverLimit", make_ustar({file("a", "123456"), file("b", "123456")}),
       "more than 10 bytes", small_total},
      {"OneFileOverLimit", make_ustar({file("a", std::string(11, 'z'))}), "more than 10 bytes",
       small_total},
      {"PathTooLong", make_ustar({file("0123456789/0123456789.tf", "x")}), "too long", short_paths},
      {"PaxPathOverDefaultLimit",
       make_tgz({file(std::string(600, 'a') + "/" + std::string(600, 'b'), "x")}), "too long"},
      {"Garbage", garbage(), ""},
      {"Empty", "", ""},
      {"Truncated", truncated_archive(), "\"main.tf\" is truncated"},
      {"TruncatedGzip", make_tgz({file("main.tf", garbage())}).substr(0, 200), ""},
  };
}

INSTANTIATE_TEST_SUITE_P(Archives, ReadTarInvalid, ::testing::ValuesIn(invalid_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(ReadTar, LimitsAreInclusive) {
  TarLimits limits;
  limits.max_entries = 2;
  limits.max_total_bytes = 4;
  limits.max_path_length = 3;
  auto files = read_tar(make_ustar({file("abc", "12"), file("d", "34")}), limits);
  EXPECT_EQ(files.size(), 2u);
}

TEST(ReadTar, RefusesHalfAMillionDirectoriesAtTheDefaultLimit) {
  std::vector<UstarEntry> entries;
  for (int i = 0; i < 500000; ++i) {
    std::string path = std::to_string(i);  // (GCC 12 warns falsely on "d" + to_string(i))
    path += '/';
    entries.push_back(dir(std::move(path)));
  }
  try {
    read_tar(make_tgz(entries));
    FAIL() << "accepted 500,000 directories";
  } catch (const Error& e) {
    EXPECT_NE(e.detail().find("more than 1000 entries"), std::string::npos) << e.detail();
  }
  entries.resize(999);
  entries.push_back(file("main.tf", "locals {}\n"));
  EXPECT_EQ(read_tar(make_tgz(entries)).size(), 1u);  // 1000 entries: at the limit, accepted
}

}  // namespace
}  // namespace berth::archive
