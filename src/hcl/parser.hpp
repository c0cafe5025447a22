#pragma once

#include <string>
#include <string_view>

#include "hcl/ast.hpp"

namespace berth::hcl {

// Nesting of blocks, brackets and interpolations deeper than this is rejected.
inline constexpr int kMaxNestingDepth = 128;
// Expression trees taller than this (long operator chains) are rejected, so that evaluating
// and destroying them cannot exhaust the stack.
inline constexpr int kMaxExpressionHeight = 1024;

// Parses one HCL2 file; errors throw Error{invalid, "<file>:<line>:<col>: <what>"}. Input that
// is not UTF-8 is refused at the first invalid byte, as Go's hclsyntax does.
File parse(std::string_view source, const std::string& filename);

// Parses a whole file as a template, as templatefile() reads it (heredoc rules: no escapes).
ExpressionPtr parse_template(std::string_view source, const std::string& filename);

}  // namespace berth::hcl
