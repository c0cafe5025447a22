#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth::coderd {

// Coder's NameValid (usernames, workspace and template names): nullopt when valid, else the
// reason ("must be alphanumeric with hyphens", ...).
std::optional<std::string> name_problem(std::string_view name);

// Template version names: 1-64 of letters, digits, `_`, `-` and `.` (generated names have `_`).
std::optional<std::string> version_name_problem(std::string_view name);

// Coder's UserRealNameValid for a person's full name.
std::optional<std::string> real_name_problem(std::string_view name);

// A plausible e-mail address: one `@`, a non-empty local part and a dotless-or-dotted domain,
// no spaces or control characters, at most 254 bytes.
bool email_valid(std::string_view email);

// A readable random name like Docker's (`brave_hopper42`), for unnamed tokens and versions.
std::string random_name();

}  // namespace berth::coderd
