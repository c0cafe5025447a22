#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "store/rows.hpp"

namespace berth::coderd {

// Resolves the rich parameter values of a build (Coder's classic flow): request values (or a
// preset's) over the previous build's, immutability and required checks, ephemeral values not
// carried over, defaults, then validation against the version's parameter definitions.
// Throws Error{invalid, "Unable to validate parameter \"<name>\""} with the reason as detail.
std::vector<store::BuildParameterRow> resolve_parameters(
    const json::array& definitions, const std::vector<store::BuildParameterRow>& previous,
    const std::vector<store::BuildParameterRow>& requested,
    const std::vector<store::BuildParameterRow>& preset, bool first_build);

// Checks one value against one definition (codersdk.TemplateVersionParameter); returns the
// reason it is invalid, if it is.
std::optional<std::string> parameter_value_problem(const json::object& definition,
                                                   const std::string& value,
                                                   const std::optional<std::string>& previous);

}  // namespace berth::coderd
