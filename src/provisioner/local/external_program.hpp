#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "hcl/ast.hpp"

namespace berth::provisioner::local {

// What a program run to completion produced.
struct ProgramOutput {
  int exit_code = 0;
  std::string out;
  std::string err;
};

// Runs `argv` in `dir` with `input` on stdin and waits for it, capturing stdout and stderr up to
// `max_output` bytes each. A program still running after `timeout` is killed (its whole process
// group) and reported as Error{unavailable}; one that cannot be started is Error{invalid}.
ProgramOutput run_program(const std::vector<std::string>& argv, const std::string& dir,
                          const std::string& input, std::chrono::milliseconds timeout,
                          std::size_t max_output = 1 << 20);

// The hashicorp/external provider's `external` data source: runs `program` with `query` as a
// JSON object on stdin and reads `result`, a JSON object of strings, from its stdout. Errors
// are positioned at the block and carry the program's stderr, as Terraform reports them.
json::value plan_external(json::object config, const std::string& default_dir,
                          const hcl::Position& position);

}  // namespace berth::provisioner::local
