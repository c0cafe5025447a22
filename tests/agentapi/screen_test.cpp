#include "agentapi/screen.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth::agentapi {
namespace {

struct ScreenCase {
  const char* name;
  std::string input;
  std::string expected;
};

class ScreenCases : public ::testing::TestWithParam<ScreenCase> {};

TEST_P(ScreenCases, RendersText) {
  Screen screen(10, 5);
  screen.feed(GetParam().input);
  EXPECT_EQ(screen.text(), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ScreenCases,
    ::testing::Values(ScreenCase{"plain", "hello", "hello"}, ScreenCase{"crlf", "a\r\nb", "a\nb"},
                      ScreenCase{"bare_lf_keeps_column", "ab\ncd", "ab\n  cd"},
                      ScreenCase{"cr_overwrites", "hello\rj", "jello"},
                      ScreenCase{"clear_line_after_cr", "thinking\r\x1b[Kdone", "done"},
                      ScreenCase{"erase_to_end_of_line", "hello\x1b[3D\x1b[K", "he"},
                      ScreenCase{"erase_whole_line", "hello\x1b[2K", ""},
                      ScreenCase{"erase_to_start_of_line", "hello\x1b[2D\x1b[1K", "    o"},
                      ScreenCase{"backspace", "abc\b\bX", "aXc"},
                      ScreenCase{"tab", "a\tb", "a       b"},
                      ScreenCase{"colors_ignored", "\x1b[1;32mgreen\x1b[0m", "green"},
                      ScreenCase{"cursor_position", "\x1b[2;3Hx", "\n  x"},
                      ScreenCase{"cursor_up_rewrites", "one\r\ntwo\x1b[A\rON", "ONe\ntwo"},
                      ScreenCase{"erase_screen", "old\r\n\x1b[2J\x1b[Hnew", "new"},
                      ScreenCase{"erase_below", "a\r\nb\r\nc\x1b[2;1H\x1b[J", "a"},
                      ScreenCase{"osc_title_skipped", "\x1b]0;title\x07text", "text"},
                      ScreenCase{"osc_st_terminator", "\x1b]8;;http://x\x1b\\link", "link"},
                      ScreenCase{"private_modes_ignored", "\x1b[?25lhi\x1b[?2004h", "hi"},
                      ScreenCase{"wraps_at_width", "0123456789ab", "0123456789\nab"},
                      ScreenCase{"utf8_is_one_cell", "h\xc3\xa9llo\b\bX", "h\xc3\xa9lXo"},
                      ScreenCase{"delete_chars", "hello\x1b[1G\x1b[2P", "llo"},
                      ScreenCase{"scrolls_at_bottom", "1\r\n2\r\n3\r\n4\r\n5\r\n6",
                                 "2\n3\n4\n5\n6"},
                      ScreenCase{"trailing_blank_lines_dropped", "a\r\n\r\n\r\n", "a"},
                      ScreenCase{"leading_blank_lines_kept", "\r\n\r\nz", "\n\nz"},
                      ScreenCase{"charset_designation_skipped", "\x1b(Bok", "ok"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Screen, EscapeSplitAcrossFeedsIsStillRecognized) {
  Screen screen(20, 5);
  screen.feed("abc\x1b[");
  screen.feed("2D");
  screen.feed("X");
  EXPECT_EQ(screen.text(), "aXc");
}

TEST(Screen, GarbageEscapeIsBounded) {
  Screen screen(20, 5);
  screen.feed("\x1b[" + std::string(1000, '1') + "x");
  screen.feed("ok");
  EXPECT_NE(screen.text().find("ok"), std::string::npos);
  EXPECT_LE(screen.text().size(), 20u * 5u + 5u);
}

TEST(Screen, MemoryIsBoundedByRows) {
  Screen screen(80, 3);
  for (int i = 0; i < 10000; ++i) screen.feed("line " + std::to_string(i) + "\r\n");
  EXPECT_EQ(screen.text(), "line 9998\nline 9999");
}

}  // namespace
}  // namespace berth::agentapi
