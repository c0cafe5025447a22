#include "agentapi/screen.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace berth::agentapi {

namespace {

constexpr std::size_t kMaxCsiBytes = 64;  // longer sequences are garbage; drop them
constexpr std::size_t kTabStop = 8;
constexpr char32_t kReplacement = 0xFFFD;

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

}  // namespace

Screen::Screen(std::size_t cols, std::size_t rows)
    : cols_(std::max<std::size_t>(cols, 1)), rows_(std::max<std::size_t>(rows, 1)) {}

void Screen::feed(std::string_view bytes) {
  for (char c : bytes) feed_byte(static_cast<unsigned char>(c));
}

std::string Screen::text() const {
  std::string out;
  std::size_t pending_newlines = 0;  // blank lines are only written when text follows them
  for (const auto& l : lines_) {
    auto end = l.find_last_not_of(U' ');
    if (end == std::u32string::npos) {
      ++pending_newlines;
      continue;
    }
    if (!out.empty() || pending_newlines > 0)
      out.append(pending_newlines + (out.empty() ? 0 : 1), '\n');
    pending_newlines = 0;
    for (std::size_t i = 0; i <= end; ++i) append_utf8(out, l[i]);
  }
  return out;
}

void Screen::feed_byte(unsigned char b) {
  switch (state_) {
    case State::ground:
      return ground(b);
    case State::escape:
      return escape(b);
    case State::csi:
      return csi(b);
    case State::osc:
      // An OSC (window title, hyperlink) ends with BEL or ESC '\'.
      if (b == 0x07) state_ = State::ground;
      if (b == 0x1B) state_ = State::osc_escape;
      return;
    case State::osc_escape:
      state_ = b == '\\' ? State::ground : State::osc;
      return;
    case State::skip_one:
      state_ = State::ground;
      return;
  }
}

void Screen::ground(unsigned char b) {
  if (utf8_left_ > 0) {
    if ((b & 0xC0) == 0x80) {
      utf8_code_ = (utf8_code_ << 6) | (b & 0x3F);
      if (--utf8_left_ == 0) print(utf8_code_);
      return;
    }
    utf8_left_ = 0;
    print(kReplacement);  // a truncated sequence; the byte is read afresh below
  }
  if (b < 0x20 || b == 0x7F) return control(b);
  if (b < 0x80) return print(b);
  if ((b & 0xE0) == 0xC0) {
    utf8_code_ = b & 0x1F;
    utf8_left_ = 1;
  } else if ((b & 0xF0) == 0xE0) {
    utf8_code_ = b & 0x0F;
    utf8_left_ = 2;
  } else if ((b & 0xF8) == 0xF0) {
    utf8_code_ = b & 0x07;
    utf8_left_ = 3;
  } else {
    print(kReplacement);
  }
}

void Screen::control(unsigned char b) {
  switch (b) {
    case '\r':
      col_ = 0;
      wrap_pending_ = false;
      break;
    case '\n':
    case '\v':
    case '\f':
      line_feed();
      break;
    case '\b':
      if (col_ > 0) --col_;
      wrap_pending_ = false;
      break;
    case '\t':
      col_ = std::min(cols_ - 1, (col_ / kTabStop + 1) * kTabStop);
      break;
    case 0x1B:
      state_ = State::escape;
      break;
    default:
      break;  // BEL, SO, SI, NUL and DEL change nothing visible
  }
}

void Screen::escape(unsigned char b) {
  state_ = State::ground;
  switch (b) {
    case '[':
      csi_.clear();
      state_ = State::csi;
      break;
    case ']':
    case 'P':  // DCS and OSC strings are skipped up to their terminator
    case '_':
    case '^':
      state_ = State::osc;
      break;
    case '(':
    case ')':
    case '*':
    case '+':
    case '#':
      state_ = State::skip_one;  // charset designations carry one more byte
      break;
    case '7':
      saved_row_ = row_;
      saved_col_ = col_;
      break;
    case '8':
      row_ = saved_row_;
      col_ = saved_col_;
      wrap_pending_ = false;
      break;
    case 'D':
      line_feed();
      break;
    case 'E':
      col_ = 0;
      line_feed();
      break;
    case 'M':
      if (row_ > 0) --row_;
      break;
    case 'c':
      lines_.clear();
      row_ = col_ = 0;
      wrap_pending_ = false;
      break;
    default:
      break;
  }
}

void Screen::csi(unsigned char b) {
  if (b >= 0x40 && b <= 0x7E) {
    state_ = State::ground;
    run_csi(static_cast<char>(b));
    return;
  }
  if (b == 0x1B) {  // an aborted sequence followed by a new escape
    state_ = State::escape;
    return;
  }
  if (b < 0x20) return control(b);  // C0 controls act even inside a sequence
  if (csi_.size() >= kMaxCsiBytes) {
    state_ = State::ground;
    return;
  }
  csi_.push_back(static_cast<char>(b));
}

int Screen::param(std::size_t index, int fallback) const {
  std::size_t start = 0;
  for (std::size_t i = 0; i < index; ++i) {
    start = csi_.find(';', start);
    if (start == std::string::npos) return fallback;
    ++start;
  }
  auto end = csi_.find(';', start);
  if (end == std::string::npos) end = csi_.size();
  int value = 0;
  auto [ptr, ec] = std::from_chars(csi_.data() + start, csi_.data() + end, value);
  if (ec != std::errc{} || ptr == csi_.data() + start) return fallback;
  return value;
}

void Screen::run_csi(char final_byte) {
  if (!csi_.empty() && (csi_[0] == '?' || csi_[0] == '>' || csi_[0] == '=' || csi_[0] == '<'))
    return;  // private modes (cursor visibility, bracketed paste, ...) do not change text
  auto count = static_cast<std::size_t>(std::max(param(0, 1), 1));
  wrap_pending_ = false;
  switch (final_byte) {
    case 'A':
      row_ -= std::min(row_, count);
      break;
    case 'B':
    case 'e':
      row_ = std::min(rows_ - 1, row_ + count);
      break;
    case 'C':
    case 'a':
      col_ = std::min(cols_ - 1, col_ + count);
      break;
    case 'D':
      col_ -= std::min(col_, count);
      break;
    case 'E':
      row_ = std::min(rows_ - 1, row_ + count);
      col_ = 0;
      break;
    case 'F':
      row_ -= std::min(row_, count);
      col_ = 0;
      break;
    case 'G':
    case '`':
      col_ = std::min(cols_, count) - 1;
      break;
    case 'd':
      row_ = std::min(rows_, count) - 1;
      break;
    case 'H':
    case 'f':
      row_ = std::min<std::size_t>(rows_, std::max(param(0, 1), 1)) - 1;
      col_ = std::min<std::size_t>(cols_, std::max(param(1, 1), 1)) - 1;
      break;
    case 'K':
      erase_in_line(param(0, 0));
      break;
    case 'J':
      erase_in_display(param(0, 0));
      break;
    case 'P':
      delete_chars(count);
      break;
    case '@':
      insert_chars(count);
      break;
    case 'X':
      erase_chars(count);
      break;
    default:
      break;  // SGR ('m'), scrolling regions and the rest leave the text alone
  }
}

std::u32string& Screen::line(std::size_t row) {
  while (lines_.size() <= row) lines_.emplace_back();
  return lines_[row];
}

void Screen::print(char32_t c) {
  if (wrap_pending_) {
    wrap_pending_ = false;
    col_ = 0;
    line_feed();
  }
  auto& l = line(row_);
  if (l.size() <= col_) l.resize(col_ + 1, U' ');
  l[col_] = c;
  if (col_ + 1 >= cols_)
    wrap_pending_ = true;
  else
    ++col_;
}

void Screen::line_feed() {
  wrap_pending_ = false;
  if (row_ + 1 < rows_) {
    ++row_;
    return;
  }
  // At the bottom: the top line scrolls away, which is what bounds memory.
  if (!lines_.empty()) lines_.pop_front();
  line(row_);
}

void Screen::erase_in_line(int mode) {
  auto& l = line(row_);
  if (mode == 0) {
    if (l.size() > col_) l.resize(col_);
  } else if (mode == 1) {
    std::fill(l.begin(), l.begin() + std::min(l.size(), col_ + 1), U' ');
  } else {
    l.clear();
  }
}

void Screen::erase_in_display(int mode) {
  if (mode == 0) {
    erase_in_line(0);
    if (lines_.size() > row_ + 1) lines_.resize(row_ + 1);
  } else if (mode == 1) {
    for (std::size_t r = 0; r < row_ && r < lines_.size(); ++r) lines_[r].clear();
    erase_in_line(1);
  } else {
    lines_.clear();
  }
}

void Screen::delete_chars(std::size_t n) {
  auto& l = line(row_);
  if (col_ >= l.size()) return;
  l.erase(col_, std::min(n, l.size() - col_));
}

void Screen::insert_chars(std::size_t n) {
  auto& l = line(row_);
  if (col_ >= l.size()) return;
  l.insert(col_, std::min(n, cols_ - col_), U' ');
  if (l.size() > cols_) l.resize(cols_);
}

void Screen::erase_chars(std::size_t n) {
  auto& l = line(row_);
  for (std::size_t i = col_; i < l.size() && i < col_ + n; ++i) l[i] = U' ';
}

}  // namespace berth::agentapi
