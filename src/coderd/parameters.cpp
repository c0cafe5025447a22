#include "coderd/parameters.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <optional>

#include "common/error.hpp"
#include "common/regex.hpp"

namespace berth::coderd {

namespace {

std::string str(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

bool flag(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

// `-?[0-9]+(\.[0-9]+)?`, matched by hand: std::regex matches recursively and overflowed the
// stack on a value of some 50,000 digits. A number beyond a double's range is not a number.
std::optional<double> number(const std::string& s) {
  std::size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  auto digits = [&] {
    auto start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (!digits()) return std::nullopt;
  if (i < s.size() && s[i] == '.' && (++i, !digits())) return std::nullopt;
  if (i != s.size()) return std::nullopt;
  double d = std::strtod(s.c_str(), nullptr);
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<std::string> find(const std::vector<store::BuildParameterRow>& rows,
                                const std::string& name) {
  for (const auto& r : rows)
    if (r.name == name) return r.value;
  return std::nullopt;
}

std::optional<std::string> options_problem(const json::object& d, const std::string& value) {
  auto* options = d.if_contains("options");
  if (!options || !options->is_array() || options->get_array().empty()) return std::nullopt;
  std::vector<std::string> allowed;
  for (const auto& o : options->get_array())
    if (o.is_object()) allowed.push_back(str(o.get_object(), "value"));
  auto listed = [&](const std::string& v) {
    return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
  };
  std::vector<std::string> values = {value};
  if (str(d, "type") == "list(string)") {
    values.clear();
    auto parsed = json::parse_body(value);
    for (const auto& v : parsed.as_array()) values.emplace_back(v.as_string());
  }
  for (const auto& v : values)
    if (!listed(v)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : " ") + a;
      return fmt::format("parameter value must match one of options: [{}]", list);
    }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parameter_value_problem(const json::object& d, const std::string& value,
                                                   const std::optional<std::string>& previous) {
  auto type = str(d, "type");
  if (type == "number" && !number(value)) return fmt::format("\"{}\" is not a number", value);
  if (type == "bool" && value != "true" && value != "false")
    return fmt::format("\"{}\" is not a boolean (true or false)", value);
  if (type == "list(string)") {
    try {
      auto parsed = json::parse_body(value);
      if (!parsed.is_array()) return "value must be a JSON array of strings";
      for (const auto& v : parsed.as_array())
        if (!v.is_string()) return "value must be a JSON array of strings";
    } catch (const Error&) {
      return "value must be a JSON array of strings";
    }
  }
  try {
    if (auto problem = options_problem(d, value)) return problem;
  } catch (const std::exception&) {
    return "value must be a JSON array of strings";
  }
  auto error = str(d, "validation_error");
  if (auto regex = str(d, "validation_regex"); !regex.empty()) {
    std::optional<Regex> compiled;
    try {
      compiled.emplace(regex);
    } catch (const Error&) {
      return fmt::format("the template's validation regex \"{}\" is invalid", regex);
    }
    if (!compiled->search(value))
      return error.empty() ? fmt::format("value \"{}\" does not match \"{}\"", value, regex)
                           : error;
  }
  if (type == "number") {
    double n = *number(value);
    auto* min = d.if_contains("validation_min");
    auto* max = d.if_contains("validation_max");
    if (min && min->is_number() && n < min->to_number<double>())
      return error.empty() ? fmt::format("value {} is less than the minimum {}", value,
                                         min->to_number<double>())
                           : error;
    if (max && max->is_number() && n > max->to_number<double>())
      return error.empty() ? fmt::format("value {} is more than the maximum {}", value,
                                         max->to_number<double>())
                           : error;
    auto monotonic = str(d, "validation_monotonic");
    if (previous && number(*previous) && !monotonic.empty()) {
      double before = *number(*previous);
      if (monotonic == "increasing" && n < before)
        return fmt::format("parameter value '{}' must be equal or greater than previous value: {}",
                           value, *previous);
      if (monotonic == "decreasing" && n > before)
        return fmt::format("parameter value '{}' must be equal or lower than previous value: {}",
                           value, *previous);
    }
  }
  return std::nullopt;
}

std::vector<store::BuildParameterRow> resolve_parameters(
    const json::array& definitions, const std::vector<store::BuildParameterRow>& previous,
    const std::vector<store::BuildParameterRow>& requested,
    const std::vector<store::BuildParameterRow>& preset, bool first_build) {
  std::vector<store::BuildParameterRow> out;
  for (const auto& item : definitions) {
    const auto& d = item.as_object();
    auto name = str(d, "name");
    auto display = str(d, "display_name").empty() ? name : str(d, "display_name");
    auto fail = [&](const std::string& reason) -> Error {
      return Error{ErrorCode::invalid,
                   fmt::format("Unable to validate parameter \"{}\"", name),
                   reason,
                   {{name, reason}}};
    };
    auto prev = find(previous, name);
    auto given = find(preset, name);
    if (!given) given = find(requested, name);
    bool required = flag(d, "required");
    if (!first_build && !flag(d, "mutable") && given && prev && *given != *prev)
      throw fail(
          fmt::format("Parameter \"{}\" is not mutable, so it can't be updated after "
                      "creating a workspace.",
                      name));
    std::string value;
    if (given)
      value = *given;
    else if (prev && !flag(d, "ephemeral"))
      value = *prev;
    else if (required)
      throw fail(fmt::format("Parameter \"{}\" is required but not provided", name));
    else
      value = str(d, "default_value");
    if (value.empty() && required) throw fail("parameter value is required");
    if (value.empty() && !required) value = str(d, "default_value");
    if (!value.empty())
      if (auto problem = parameter_value_problem(d, value, first_build ? std::nullopt : prev))
        throw fail(fmt::format("can't validate build parameter \"{}\": {}", display, *problem));
    out.push_back({name, value});
  }
  return out;
}

}  // namespace berth::coderd
