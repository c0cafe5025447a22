#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "common/json.hpp"

// How listings are printed: aligned tables for people, JSON for scripts.
namespace berth::cli {

enum class OutputFormat { table, json };

// Adds `-o/--output table|json` to `cmd`.
void add_output_option(CLI::App* cmd, OutputFormat& format);

// Columns padded to their widest cell, headers upper-cased, as Coder's CLI prints.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void add_row(std::vector<std::string> cells);
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Indented JSON with a trailing newline.
std::string pretty_json(const json::value& v);

// "8h", "1h30m", "45s"; "-" for zero.
std::string format_duration(std::chrono::milliseconds d);
// RFC 3339 text from the API as "2024-05-01 09:00:00 UTC"; "-" when empty.
std::string format_time(const std::string& rfc3339);
// How long ago an RFC 3339 instant was ("3m ago"); "-" when empty or unparsable.
std::string format_ago(const std::string& rfc3339);

}  // namespace berth::cli
