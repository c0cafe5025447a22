#include "hcl/parser.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "common/utf8.hpp"

namespace berth::hcl {

std::string Position::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const Attribute* Block::attribute(const std::string& attribute_name) const {
  for (const auto& a : attributes)
    if (a.name == attribute_name) return &a;
  return nullptr;
}

void fail_at(const Position& position, const std::string& what) {
  throw Error{ErrorCode::invalid, position.to_string() + ": " + what};
}

namespace {

constexpr int kEof = -1;

bool is_ident_start(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool is_ident_char(int c) {
  return is_ident_start(c) || (c >= '0' && c <= '9') || c == '-';
}
bool is_digit(int c) {
  return c >= '0' && c <= '9';
}
bool is_space(int c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string describe(int c) {
  if (c == kEof) return "end of input";
  if (c == '\n') return "newline";
  if (c < 0x20 || c >= 0x7f) return "character " + std::to_string(c);
  return std::string("'") + static_cast<char>(c) + "'";
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::shared_ptr<Expression> node(ExpressionKind kind, Position position) {
  auto e = std::make_shared<Expression>();
  e->kind = kind;
  e->position = std::move(position);
  return e;
}

// A recursive-descent parser straight over the characters: HCL's lexing depends on context
// (templates, heredocs, significant newlines), so there is no separate token stream.
class Parser {
 public:
  Parser(std::string_view source, const std::string& file, int line_base = 0, int column_base = 0,
         int depth = 0)
      : src_(source),
        file_(file),
        line_base_(line_base),
        column_base_(column_base),
        depth_(depth) {}

  File parse_file() {
    File f;
    f.filename = file_;
    parse_body(f.attributes, f.blocks, nullptr);
    return f;
  }

  // The whole input as a template in heredoc mode.
  ExpressionPtr parse_whole_template() {
    auto t = node(ExpressionKind::template_expr, here());
    std::string end = parse_template_parts(*t, false, t->position);
    if (!end.empty()) fail_at(last_directive_, "unexpected %{ " + end + " }");
    finish(*t);
    return t;
  }

 private:
  // --- characters ---
  int peek(std::size_t off = 0) const {
    return pos_ + off < src_.size() ? static_cast<unsigned char>(src_[pos_ + off]) : kEof;
  }
  bool at_end() const { return pos_ >= src_.size(); }
  void advance(std::size_t n = 1) {
    for (std::size_t i = 0; i < n && pos_ < src_.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(src_[pos_++]);
      if (c == '\n') {
        ++line_;
        column_ = 1;
      } else if ((c & 0xC0) != 0x80) {
        ++column_;
      }
    }
  }
  bool looking_at(std::string_view s) const { return src_.substr(pos_, s.size()) == s; }
  Position here() const { return Position{file_, line_ + line_base_, column_ + column_base_}; }
  [[noreturn]] void fail_here(const std::string& what) const { fail_at(here(), what); }

  void expect(char c, const std::string& context) {
    skip_trivia();
    if (peek() != static_cast<unsigned char>(c))
      fail_here(std::string("expected '") + c + "' " + context + ", found " + describe(peek()));
    advance();
  }

  // Skips spaces and comments, and newlines unless they are significant here.
  void skip_trivia() {
    for (;;) {
      int c = peek();
      if (c == ' ' || c == '\t' || c == '\r' || (c == '\n' && !newlines_)) {
        advance();
      } else if (c == '#' || (c == '/' && peek(1) == '/')) {
        while (!at_end() && peek() != '\n') advance();
      } else if (c == '/' && peek(1) == '*') {
        Position start = here();
        std::size_t end = src_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) fail_at(start, "unterminated comment");
        advance(end + 2 - pos_);
      } else {
        return;
      }
    }
  }
  void skip_trivia_and_newlines() {
    bool saved = newlines_;
    newlines_ = false;
    skip_trivia();
    newlines_ = saved;
  }

  // RAII for nesting depth and newline significance.
  class Nest {
   public:
    Nest(Parser& p, bool newlines, const Position& at) : p_(p), saved_(p.newlines_) {
      if (++p_.depth_ > kMaxNestingDepth)
        fail_at(at, "nesting is deeper than " + std::to_string(kMaxNestingDepth) + " levels");
      p_.newlines_ = newlines;
    }
    ~Nest() {
      --p_.depth_;
      p_.newlines_ = saved_;
    }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

   private:
    Parser& p_;
    bool saved_;
  };

  std::string parse_identifier() {
    std::size_t start = pos_;
    if (!is_ident_start(peek())) return {};
    while (is_ident_char(peek())) advance();
    return std::string(src_.substr(start, pos_ - start));
  }

  void finish(Expression& e) {
    int h = 0;
    for (const auto& o : e.operands)
      if (o) h = std::max(h, o->height);
    for (const auto& [k, v] : e.items) h = std::max({h, k->height, v->height});
    e.height = h + 1;
    if (e.height > kMaxExpressionHeight) fail_at(e.position, "expression is too complex");
  }

  // --- bodies ---
  void parse_body(std::vector<Attribute>& attributes, std::vector<Block>& blocks,
                  const Block* open) {
    std::set<std::string> names;
    for (;;) {
      skip_trivia_and_newlines();
      if (at_end()) {
        if (open) fail_at(open->position, "unterminated block: missing '}'");
        return;
      }
      if (peek() == '}') {
        if (open) return;
        fail_here("unexpected '}'");
      }
      Position position = here();
      std::string name = parse_identifier();
      if (name.empty()) fail_here("expected an attribute or block, found " + describe(peek()));
      skip_trivia();
      if (peek() == '=' && peek(1) != '=') {
        advance();
        if (!names.insert(name).second) fail_at(position, "duplicate attribute \"" + name + "\"");
        attributes.push_back(Attribute{name, parse_expression(), position});
      } else {
        blocks.push_back(parse_block(std::move(name), std::move(position)));
      }
      end_of_item(open != nullptr);
    }
  }

  Block parse_block(std::string type, Position position) {
    Block block;
    block.type = std::move(type);
    block.position = position;
    for (;;) {
      skip_trivia();
      if (peek() == '"') {
        Position at = here();
        auto label = parse_quoted();
        if (label->operands.size() > 1 ||
            (label->operands.size() == 1 && label->operands[0]->kind != ExpressionKind::literal))
          fail_at(at, "block labels must be literal strings");
        block.labels.push_back(label->operands.empty()
                                   ? std::string()
                                   : std::string(label->operands[0]->value.as_string()));
      } else if (is_ident_start(peek())) {
        block.labels.push_back(parse_identifier());
      } else {
        break;
      }
    }
    if (peek() != '{')
      fail_here("expected '=' or a block body after \"" + block.type + "\", found " +
                describe(peek()));
    Nest nest(*this, true, here());
    advance();
    parse_body(block.attributes, block.blocks, &block);
    advance();  // '}'
    return block;
  }

  void end_of_item(bool in_block) {
    skip_trivia();
    int c = peek();
    if (c == '\n') {
      advance();
    } else if (!(c == kEof || (c == '}' && in_block))) {
      fail_here("expected a newline after the attribute or block, found " + describe(c));
    }
  }

  // --- expressions ---
  ExpressionPtr parse_expression() {
    Position position = here();
    Nest nest(*this, newlines_, position);
    ExpressionPtr condition = parse_binary(0);
    skip_trivia();
    if (peek() != '?') return condition;
    advance();
    auto e = node(ExpressionKind::conditional, condition->position);
    e->operands.push_back(condition);
    e->operands.push_back(parse_expression());
    expect(':', "in conditional expression");
    e->operands.push_back(parse_expression());
    finish(*e);
    return e;
  }

  std::string match_operator(int level) {
    int c = peek(), d = peek(1);
    switch (level) {
      case 0:
        return c == '|' && d == '|' ? "||" : "";
      case 1:
        return c == '&' && d == '&' ? "&&" : "";
      case 2:
        if (c == '=' && d == '=') return "==";
        return c == '!' && d == '=' ? "!=" : "";
      case 3:
        if ((c == '<' || c == '>') && d == '=') return std::string(1, static_cast<char>(c)) + "=";
        if (c == '<' && d != '<') return "<";
        return c == '>' ? ">" : "";
      case 4:
        return c == '+' || c == '-' ? std::string(1, static_cast<char>(c)) : "";
      default:
        return c == '*' || c == '/' || c == '%' ? std::string(1, static_cast<char>(c)) : "";
    }
  }

  ExpressionPtr parse_binary(int level) {
    if (level == 6) return parse_unary();
    ExpressionPtr lhs = parse_binary(level + 1);
    for (;;) {
      skip_trivia();
      std::string op = match_operator(level);
      if (op.empty()) return lhs;
      Position position = here();
      advance(op.size());
      auto e = node(ExpressionKind::binary, position);
      e->name = op;
      e->operands.push_back(lhs);
      e->operands.push_back(parse_binary(level + 1));
      finish(*e);
      lhs = e;
    }
  }

  ExpressionPtr parse_unary() {
    skip_trivia();
    int c = peek();
    if (c == '-' || c == '!') {
      Position position = here();
      Nest nest(*this, newlines_, position);
      advance();
      auto e = node(ExpressionKind::unary, position);
      e->name = std::string(1, static_cast<char>(c));
      e->operands.push_back(parse_unary());
      finish(*e);
      return e;
    }
    return parse_postfix(parse_primary());
  }

  ExpressionPtr parse_postfix(ExpressionPtr e) {
    for (;;) {
      skip_trivia();
      Position position = here();
      if (peek() == '.' && peek(1) != '.') {
        advance();
        if (peek() == '*') {
          advance();
          return parse_splat(e, position, true);
        }
        e = parse_attribute_step(e, position);
      } else if (peek() == '[') {
        if (peek(1) == '*') {
          advance(2);
          expect(']', "after '[*'");
          return parse_splat(e, position, false);
        }
        e = parse_index_step(e, position);
      } else {
        return e;
      }
    }
  }

  ExpressionPtr parse_attribute_step(ExpressionPtr source, const Position& position) {
    if (is_digit(peek())) {  // legacy index syntax: list.0
      auto key = parse_number();
      auto e = node(ExpressionKind::index, position);
      e->operands = {std::move(source), key};
      finish(*e);
      return e;
    }
    std::string name = parse_identifier();
    if (name.empty()) fail_here("expected an attribute name after '.', found " + describe(peek()));
    auto e = node(ExpressionKind::get_attr, position);
    e->name = std::move(name);
    e->operands.push_back(std::move(source));
    finish(*e);
    return e;
  }

  ExpressionPtr parse_index_step(ExpressionPtr source, const Position& position) {
    Nest nest(*this, false, position);
    advance();
    auto e = node(ExpressionKind::index, position);
    e->operands.push_back(std::move(source));
    e->operands.push_back(parse_expression());
    skip_trivia();
    if (peek() != ']')
      fail_here("expected ']' to close the index opened at " + position.to_string() + ", found " +
                describe(peek()));
    advance();
    finish(*e);
    return e;
  }

  // After `[*]` every following traversal step applies to each element; after `.*` only
  // attribute steps do.
  ExpressionPtr parse_splat(ExpressionPtr source, const Position& position, bool attributes_only) {
    ExpressionPtr each = node(ExpressionKind::splat_item, position);
    for (;;) {
      Position step = here();
      if (peek() == '.' && peek(1) != '.' && peek(1) != '*') {
        advance();
        each = parse_attribute_step(each, step);
      } else if (peek() == '[' && !attributes_only && peek(1) != '*') {
        each = parse_index_step(each, step);
      } else {
        break;
      }
    }
    auto e = node(ExpressionKind::splat, position);
    e->operands = {std::move(source), std::move(each)};
    finish(*e);
    return e;
  }

  ExpressionPtr parse_primary() {
    skip_trivia();
    Position position = here();
    int c = peek();
    if (is_digit(c)) return parse_number();
    if (c == '"') return parse_quoted();
    if (c == '<' && peek(1) == '<') return parse_heredoc();
    if (c == '(') {
      Nest nest(*this, false, position);
      advance();
      ExpressionPtr inner = parse_expression();
      skip_trivia();
      if (peek() != ')')
        fail_here("expected ')' to close the parenthesis opened at " + position.to_string() +
                  ", found " + describe(peek()));
      advance();
      return inner;
    }
    if (c == '[') return parse_tuple();
    if (c == '{') return parse_object();
    std::string name = parse_identifier();
    if (name.empty()) fail_here("expected an expression, found " + describe(c));
    if (name == "true" || name == "false" || name == "null") {
      auto e = node(ExpressionKind::literal, position);
      if (name != "null") e->value = (name == "true");
      return e;
    }
    while (peek() == ':' && peek(1) == ':' && is_ident_start(peek(2))) {  // provider::ns::fn
      advance(2);
      name += "::" + parse_identifier();
    }
    skip_trivia();
    if (peek() == '(') return parse_call(std::move(name), position);
    auto e = node(ExpressionKind::variable, position);
    e->name = std::move(name);
    return e;
  }

  ExpressionPtr parse_number() {
    Position position = here();
    std::size_t start = pos_;
    bool integral = true;
    while (is_digit(peek())) advance();
    if (peek() == '.' && is_digit(peek(1))) {
      integral = false;
      advance();
      while (is_digit(peek())) advance();
    }
    if (peek() == 'e' || peek() == 'E') {
      std::size_t sign = (peek(1) == '+' || peek(1) == '-') ? 1 : 0;
      if (is_digit(peek(1 + sign))) {
        integral = false;
        advance(1 + sign);
        while (is_digit(peek())) advance();
      }
    }
    std::string_view text = src_.substr(start, pos_ - start);
    auto e = node(ExpressionKind::literal, position);
    std::int64_t i = 0;
    if (integral) {
      auto r = std::from_chars(text.data(), text.data() + text.size(), i);
      if (r.ec == std::errc{}) {
        e->value = i;
        return e;
      }
    }
    double d = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), d);
    if (r.ec != std::errc{}) fail_at(position, "number out of range: " + std::string(text));
    e->value = d;
    return e;
  }

  ExpressionPtr parse_call(std::string name, const Position& position) {
    Nest nest(*this, false, position);
    advance();  // '('
    auto e = node(ExpressionKind::call, position);
    e->name = std::move(name);
    skip_trivia();
    while (peek() != ')') {
      e->operands.push_back(parse_expression());
      skip_trivia();
      if (looking_at("...")) {
        advance(3);
        e->expand_final = true;
        skip_trivia();
        if (peek() == ',') advance();
        skip_trivia();
        if (peek() != ')') fail_here("'...' must follow the last argument");
        break;
      }
      if (peek() == ',') {
        advance();
        skip_trivia();
      } else if (peek() != ')') {
        fail_here("expected ',' or ')' in the call to " + e->name + "() opened at " +
                  position.to_string() + ", found " + describe(peek()));
      }
    }
    advance();
    finish(*e);
    return e;
  }

  bool at_for_keyword() {
    if (!looking_at("for")) return false;
    int c = peek(3);
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }

  ExpressionPtr parse_tuple() {
    Position position = here();
    Nest nest(*this, false, position);
    advance();
    skip_trivia();
    if (at_for_keyword()) return parse_for(position, '[');
    auto e = node(ExpressionKind::tuple, position);
    while (peek() != ']') {
      e->operands.push_back(parse_expression());
      skip_trivia();
      if (peek() == ',') {
        advance();
        skip_trivia();
      } else if (peek() != ']') {
        fail_here("expected ',' or ']' to close the list opened at " + position.to_string() +
                  ", found " + describe(peek()));
      }
    }
    advance();
    finish(*e);
    return e;
  }

  ExpressionPtr parse_object() {
    Position position = here();
    Nest nest(*this, true, position);
    advance();
    skip_trivia_and_newlines();
    if (at_for_keyword()) {
      newlines_ = false;
      return parse_for(position, '{');
    }
    auto e = node(ExpressionKind::object, position);
    for (;;) {
      skip_trivia_and_newlines();
      if (at_end()) fail_at(position, "unterminated object: missing '}'");
      if (peek() == '}') break;
      Position key_position = here();
      ExpressionPtr key;
      if (is_ident_start(peek())) {
        std::size_t saved_pos = pos_;
        int saved_line = line_, saved_column = column_;
        std::string name = parse_identifier();
        skip_trivia();
        if ((peek() == '=' && peek(1) != '=') || peek() == ':') {
          auto k = node(ExpressionKind::literal, key_position);
          k->value = name;
          key = k;
        } else {
          pos_ = saved_pos;
          line_ = saved_line;
          column_ = saved_column;
        }
      }
      if (!key) key = parse_expression();
      skip_trivia();
      if (!((peek() == '=' && peek(1) != '=') || peek() == ':'))
        fail_here("expected '=' or ':' after the object key, found " + describe(peek()));
      advance();
      e->items.emplace_back(key, parse_expression());
      skip_trivia();
      if (peek() == ',' || peek() == '\n') {
        advance();
      } else if (peek() != '}') {
        fail_here("expected ',', a newline or '}' in the object opened at " + position.to_string() +
                  ", found " + describe(peek()));
      }
    }
    advance();
    finish(*e);
    return e;
  }

  ExpressionPtr parse_for(const Position& position, char open) {
    advance(3);
    auto e = node(ExpressionKind::for_expr, position);
    e->name = std::string(1, open);
    skip_trivia();
    std::string first = parse_identifier();
    if (first.empty()) fail_here("expected a variable name after 'for'");
    skip_trivia();
    if (peek() == ',') {
      advance();
      skip_trivia();
      e->key_var = first;
      e->value_var = parse_identifier();
      if (e->value_var.empty()) fail_here("expected a variable name after ','");
    } else {
      e->value_var = first;
    }
    skip_trivia();
    if (parse_identifier() != "in") fail_here("expected 'in' in the for expression");
    e->operands.push_back(parse_expression());
    expect(':', "in the for expression");
    ExpressionPtr key;
    ExpressionPtr value = parse_expression();
    skip_trivia();
    if (open == '{') {
      if (!looking_at("=>")) fail_here("expected '=>' in the object for expression");
      advance(2);
      key = value;
      value = parse_expression();
      skip_trivia();
      if (looking_at("...")) {
        advance(3);
        e->expand_final = true;
        skip_trivia();
      }
    }
    ExpressionPtr condition;
    if (looking_at("if") && !is_ident_char(peek(2))) {
      advance(2);
      condition = parse_expression();
      skip_trivia();
    }
    char close = open == '[' ? ']' : '}';
    if (peek() != static_cast<unsigned char>(close))
      fail_here(std::string("expected '") + close + "' to close the for expression opened at " +
                position.to_string() + ", found " + describe(peek()));
    advance();
    e->operands = {e->operands[0], key, value, condition};
    finish(*e);
    return e;
  }

  // --- templates ---
  std::shared_ptr<Expression> parse_quoted() {
    Position position = here();
    advance();  // '"'
    auto t = node(ExpressionKind::template_expr, position);
    std::string end = parse_template_parts(*t, true, position);
    if (!end.empty()) fail_at(last_directive_, "unexpected %{ " + end + " }");
    advance();  // '"'
    finish(*t);
    return t;
  }

  void read_escape(std::string& out) {
    Position position = here();
    advance();  // '\'
    int c = peek();
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case 'u':
      case 'U': {
        std::size_t digits = c == 'u' ? 4 : 8;
        std::uint32_t cp = 0;
        for (std::size_t i = 1; i <= digits; ++i) {
          int h = peek(i);
          int v = is_digit(h)              ? h - '0'
                  : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                  : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                           : -1;
          if (v < 0) fail_at(position, "invalid unicode escape sequence");
          cp = cp * 16 + static_cast<std::uint32_t>(v);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
          fail_at(position, "invalid unicode code point in escape sequence");
        append_utf8(out, cp);
        advance(digits);
        break;
      }
      default:
        fail_at(position, "invalid escape sequence \\" + (c == kEof ? "" : describe(c)));
    }
    advance();
  }

  // Parses literal text, interpolations and directives into `t` until the end of the template
  // (the closing quote, left unconsumed, or the end of input) or a %{ else / endif / endfor },
  // whose keyword it returns.
  std::string parse_template_parts(Expression& t, bool quoted, const Position& start) {
    std::string literal;
    Position literal_position = here();
    auto flush = [&] {
      if (!literal.empty()) {
        auto l = node(ExpressionKind::literal, literal_position);
        l->name = kTextPart;
        l->value = literal;
        t.operands.push_back(l);
        literal.clear();
      }
    };
    auto strip_after = [&](bool strip) {
      if (strip)
        while (is_space(peek())) advance();
      literal_position = here();
    };
    for (;;) {
      int c = peek();
      if (c == kEof) {
        if (quoted) fail_at(start, "unterminated string");
        flush();
        return {};
      }
      if (quoted && c == '"') {
        flush();
        return {};
      }
      if (quoted && c == '\n') fail_at(start, "unterminated string");
      if (quoted && c == '\\') {
        read_escape(literal);
      } else if ((c == '$' || c == '%') && peek(1) == c && peek(2) == '{') {
        literal += static_cast<char>(c);
        literal += '{';
        advance(3);
      } else if (c == '$' && peek(1) == '{') {
        Position position = here();
        Nest nest(*this, false, position);
        advance(2);
        if (peek() == '~') {
          advance();
          while (!literal.empty() && is_space(static_cast<unsigned char>(literal.back())))
            literal.pop_back();
        }
        flush();
        t.operands.push_back(parse_expression());
        skip_trivia();
        bool strip = peek() == '~';
        if (strip) advance();
        if (peek() != '}')
          fail_here("expected '}' to close the interpolation opened at " + position.to_string() +
                    ", found " + describe(peek()));
        advance();
        strip_after(strip);
      } else if (c == '%' && peek(1) == '{') {
        Position position = here();
        advance(2);
        if (peek() == '~') {
          advance();
          while (!literal.empty() && is_space(static_cast<unsigned char>(literal.back())))
            literal.pop_back();
        }
        flush();
        std::string keyword = parse_directive(t, position, quoted);
        if (!keyword.empty()) return keyword;
        literal_position = here();
      } else {
        if (literal.empty()) literal_position = here();
        literal += static_cast<char>(c);
        advance();
      }
    }
  }

  // Ends a directive's opening tag: optional strip marker, then '}'.
  void close_directive(const Position& position) {
    skip_trivia();
    bool strip = peek() == '~';
    if (strip) advance();
    if (peek() != '}')
      fail_here("expected '}' to close the directive opened at " + position.to_string() +
                ", found " + describe(peek()));
    advance();
    if (strip)
      while (is_space(peek())) advance();
  }

  std::string parse_directive(Expression& t, const Position& position, bool quoted) {
    Nest nest(*this, false, position);
    skip_trivia();
    std::string keyword = parse_identifier();
    if (keyword == "else" || keyword == "endif" || keyword == "endfor") {
      close_directive(position);
      last_directive_ = position;
      return keyword;
    }
    if (keyword == "if") {
      auto d = node(ExpressionKind::template_if, position);
      d->operands.push_back(parse_expression());
      close_directive(position);
      auto then_part = node(ExpressionKind::template_expr, here());
      std::string end = parse_template_parts(*then_part, quoted, position);
      finish(*then_part);
      d->operands.push_back(then_part);
      std::shared_ptr<Expression> else_part;
      if (end == "else") {
        else_part = node(ExpressionKind::template_expr, here());
        end = parse_template_parts(*else_part, quoted, position);
        finish(*else_part);
      }
      if (end != "endif") fail_at(position, "missing %{ endif } for this %{ if }");
      d->operands.push_back(else_part);
      finish(*d);
      t.operands.push_back(d);
      return {};
    }
    if (keyword == "for") {
      auto d = node(ExpressionKind::template_for, position);
      skip_trivia();
      std::string first = parse_identifier();
      skip_trivia();
      if (peek() == ',') {
        advance();
        skip_trivia();
        d->key_var = first;
        d->value_var = parse_identifier();
      } else {
        d->value_var = first;
      }
      skip_trivia();
      if (d->value_var.empty() || parse_identifier() != "in")
        fail_at(position, "expected '%{ for name in collection }'");
      d->operands.push_back(parse_expression());
      close_directive(position);
      auto body = node(ExpressionKind::template_expr, here());
      std::string end = parse_template_parts(*body, quoted, position);
      if (end != "endfor") fail_at(position, "missing %{ endfor } for this %{ for }");
      finish(*body);
      d->operands.push_back(body);
      finish(*d);
      t.operands.push_back(d);
      return {};
    }
    fail_at(position, "unknown template directive \"" + keyword + "\"");
  }

  ExpressionPtr parse_heredoc() {
    Position position = here();
    advance(2);
    bool flush_indent = peek() == '-';
    if (flush_indent) advance();
    std::string marker = parse_identifier();
    if (marker.empty()) fail_here("expected a heredoc marker after '<<'");
    if (peek() == '\r') advance();
    if (peek() != '\n') fail_here("expected a newline after the heredoc marker");
    advance();
    int first_line = line_;

    // Find the closing marker line first, so that an unterminated heredoc is reported at its
    // opening rather than at the end of the file.
    std::size_t content_start = pos_, scan = pos_, content_end = std::string_view::npos,
                marker_end = 0;
    while (scan < src_.size()) {
      std::size_t eol = src_.find('\n', scan);
      if (eol == std::string_view::npos) eol = src_.size();
      std::string_view line = src_.substr(scan, eol - scan);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      std::size_t indent = line.find_first_not_of(" \t");
      if (indent != std::string_view::npos && line.substr(indent) == marker) {
        content_end = scan;
        marker_end = scan + indent + marker.size();
        break;
      }
      scan = eol + 1;
    }
    if (content_end == std::string_view::npos)
      fail_at(position, "unterminated heredoc: missing the closing marker \"" + marker + "\"");

    std::string_view content = src_.substr(content_start, content_end - content_start);
    std::string stripped;
    std::size_t indent = 0;
    if (flush_indent) {
      std::tie(stripped, indent) = strip_indentation(content);
      content = stripped;
    }
    Parser inner(content, file_, first_line - 1 + line_base_,
                 static_cast<int>(indent) + column_base_, depth_ + 1);
    if (depth_ + 1 > kMaxNestingDepth) fail_at(position, "nesting is too deep");
    ExpressionPtr t = inner.parse_whole_template();
    advance(marker_end - pos_);
    auto result = std::const_pointer_cast<Expression>(t);
    result->position = position;
    return result;
  }

  static std::pair<std::string, std::size_t> strip_indentation(std::string_view content) {
    std::size_t min_indent = std::string_view::npos;
    for (std::size_t at = 0; at < content.size();) {
      std::size_t eol = std::min(content.find('\n', at), content.size());
      std::string_view line = content.substr(at, eol - at);
      std::size_t indent = line.find_first_not_of(" \t\r");
      if (indent != std::string_view::npos) min_indent = std::min(min_indent, indent);
      at = eol + 1;
    }
    if (min_indent == std::string_view::npos) min_indent = 0;
    std::string out;
    out.reserve(content.size());
    for (std::size_t at = 0; at < content.size();) {
      std::size_t eol = std::min(content.find('\n', at), content.size());
      std::string_view line = content.substr(at, eol - at);
      std::size_t drop = 0;
      while (drop < min_indent && drop < line.size() && (line[drop] == ' ' || line[drop] == '\t'))
        ++drop;
      out.append(line.substr(drop));
      if (eol < content.size()) out += '\n';
      at = eol + 1;
    }
    return {std::move(out), min_indent};
  }

  std::string_view src_;
  std::string file_;
  int line_base_;
  int column_base_;
  int depth_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  bool newlines_ = true;
  Position last_directive_;
};

}  // namespace

namespace {

// Throws the positioned parse error for the first byte of `source` that is not valid UTF-8.
void require_utf8(std::string_view source, const std::string& filename) {
  auto bad = invalid_utf8_offset(source);
  if (!bad) return;
  // The column counts characters, as the parser's positions do; the prefix is valid UTF-8.
  Position at{filename, 1, 1};
  for (std::size_t i = 0; i < *bad; ++i) {
    auto c = static_cast<unsigned char>(source[i]);
    if (c == '\n') {
      ++at.line;
      at.column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++at.column;
    }
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto byte = static_cast<unsigned char>(source[*bad]);
  fail_at(at, std::string("invalid UTF-8 (byte 0x") + kHex[byte >> 4] + kHex[byte & 0xF] +
                  "): template files must be UTF-8 encoded");
}

}  // namespace

File parse(std::string_view source, const std::string& filename) {
  require_utf8(source, filename);
  return Parser(source, filename).parse_file();
}

ExpressionPtr parse_template(std::string_view source, const std::string& filename) {
  require_utf8(source, filename);
  return Parser(source, filename).parse_whole_template();
}

}  // namespace berth::hcl
