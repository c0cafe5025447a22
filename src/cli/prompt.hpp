#pragma once

#include <string>

// Interactive input, only ever when stdin is a terminal: scripts get an error naming the flag.
namespace berth::cli {

bool stdin_is_terminal();

// Asks on stderr and reads one line from stdin (echo off when `secret`); an empty answer
// takes `default_value`. Throws Error{invalid} at end of input.
std::string prompt(const std::string& label, const std::string& default_value = {},
                   bool secret = false);

// `value` if set; else a prompt on a terminal; else Error{invalid} naming `flag`.
std::string value_or_prompt(const std::string& value, const std::string& flag,
                            const std::string& label, bool secret = false);

// Returns when `yes` or the user answers yes; otherwise throws (on a non-terminal, asking for
// --yes).
void confirm(const std::string& question, bool yes);

}  // namespace berth::cli
