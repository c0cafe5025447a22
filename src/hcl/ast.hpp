#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/json.hpp"

namespace berth::hcl {

// Where a construct starts in its source file; columns count UTF-8 code points from 1.
struct Position {
  std::string file;
  int line = 0;
  int column = 0;

  // "file:line:column", the prefix of every parse and evaluation error.
  std::string to_string() const;
};

// The kinds of expression node the parser produces.
enum class ExpressionKind {
  literal,        // value
  template_expr,  // operands: text (literal named kTextPart), interpolations, directives
  template_if,    // operands: condition, then (template_expr), else (template_expr or null)
  template_for,   // key_var, value_var; operands: collection, body (template_expr)
  variable,       // name: a root name such as var, local, data, count, or a for variable
  get_attr,       // operands[0].name
  index,          // operands[0][operands[1]]
  splat,          // operands[0][*] then operands[1], evaluated per element on splat_item
  splat_item,     // the current element inside a splat's per-element expression
  call,           // name(operands...), expand_final for a trailing `...`
  unary,          // name ("-" or "!") operands[0]
  binary,         // operands[0] name operands[1]
  conditional,    // operands[0] ? operands[1] : operands[2]
  tuple,          // [operands...]
  object,         // {items...}
  for_expr,       // name "[" or "{"; operands: collection, key (or null), value, cond (or null)
};

// The `name` of a literal that is a template's text rather than an interpolated value.
inline constexpr const char* kTextPart = "text";

struct Expression;
using ExpressionPtr = std::shared_ptr<const Expression>;

// One node of an expression tree; which fields matter depends on `kind` (see above).
struct Expression {
  ExpressionKind kind = ExpressionKind::literal;
  Position position;
  json::value value;
  std::string name;
  std::vector<ExpressionPtr> operands;
  std::vector<std::pair<ExpressionPtr, ExpressionPtr>> items;
  std::string key_var;
  std::string value_var;
  bool expand_final = false;  // call: f(xs...); for_expr: grouping `...`
  int height = 1;             // longest path to a leaf, bounded by the parser
};

// `name = expression` inside a body.
struct Attribute {
  std::string name;
  std::shared_ptr<const Expression> expression;
  Position position;
};

// `type "label" ... { body }`.
struct Block {
  std::string type;
  std::vector<std::string> labels;
  std::vector<Attribute> attributes;
  std::vector<Block> blocks;
  Position position;

  // The attribute named `name`, or nullptr.
  const Attribute* attribute(const std::string& name) const;
};

// The top-level body of one .tf file.
struct File {
  std::string filename;
  std::vector<Attribute> attributes;
  std::vector<Block> blocks;
};

// Throws Error{invalid} whose message starts with "file:line:column: ".
[[noreturn]] void fail_at(const Position& position, const std::string& what);

}  // namespace berth::hcl
