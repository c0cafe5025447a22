#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth::coderd {

// Coder's NameValid (usernames, workspace and template names): nullopt when valid, else the
// reason ("must be alphanumeric with hyphens", ...).
std::optional<std::string> name_problem(std::string_view name);

// Coder's UserRealNameValid for a person's full name.
std::optional<std::string> real_name_problem(std::string_view name);

// A plausible e-mail address: one `@`, a non-empty local part and a dotless-or-dotted domain,
// no spaces or control characters, at most 254 bytes.
bool email_valid(std::string_view email);

}  // namespace berth::coderd
