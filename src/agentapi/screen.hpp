#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace berth::agentapi {

// A small terminal emulator: enough of a VT100 for line-oriented CLIs (text, CR, LF, BS, tabs,
// cursor moves, erase line and screen); colours and other escapes are consumed and ignored.
// Memory is bounded by cols x rows; lines that scroll off the top are dropped.
class Screen {
 public:
  Screen(std::size_t cols, std::size_t rows);

  // Interprets program output; escape sequences may be split across calls.
  void feed(std::string_view bytes);
  // The visible text: lines right-trimmed, trailing blank lines dropped, joined by '\n'.
  std::string text() const;

  std::size_t cursor_row() const { return row_; }
  std::size_t cursor_col() const { return col_; }

 private:
  enum class State { ground, escape, csi, osc, osc_escape, skip_one };

  void feed_byte(unsigned char b);
  void ground(unsigned char b);
  void escape(unsigned char b);
  void csi(unsigned char b);
  void control(unsigned char b);
  void print(char32_t c);
  void line_feed();
  void run_csi(char final_byte);
  void erase_in_line(int mode);
  void erase_in_display(int mode);
  void delete_chars(std::size_t n);
  void insert_chars(std::size_t n);
  void erase_chars(std::size_t n);
  int param(std::size_t index, int fallback) const;
  std::u32string& line(std::size_t row);

  std::size_t cols_;
  std::size_t rows_;
  std::deque<std::u32string> lines_;  // only rows touched so far; at most rows_
  std::size_t row_ = 0;
  std::size_t col_ = 0;
  bool wrap_pending_ = false;  // the last column was written; the next glyph wraps first
  std::size_t saved_row_ = 0;
  std::size_t saved_col_ = 0;
  State state_ = State::ground;
  std::string csi_;  // parameter and intermediate bytes of the sequence being read
  char32_t utf8_code_ = 0;
  int utf8_left_ = 0;
};

}  // namespace berth::agentapi
