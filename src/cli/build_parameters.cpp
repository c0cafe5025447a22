#include "cli/build_parameters.hpp"

#include <cstdio>
#include <fstream>

#include "cli/api.hpp"
#include "cli/prompt.hpp"
#include "common/error.hpp"

namespace berth::cli {

namespace {

using Values = std::map<std::string, std::string>;

std::string trim(std::string s) {
  auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  auto end = s.find_last_not_of(" \t\r");
  s = s.substr(begin, end - begin + 1);
  // YAML scalars may be quoted; the value is what is inside.
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    s = s.substr(1, s.size() - 2);
  return s;
}

// name=value pairs; Coder's wording for a pair without `=`.
void add_pairs(const std::vector<std::string>& pairs, const char* flag, Values& values) {
  for (const auto& p : pairs) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error{ErrorCode::invalid, std::string("Invalid ") + flag + " \"" + p + "\".",
                  "format key=value expected, but got " + p};
    values[p.substr(0, eq)] = p.substr(eq + 1);
  }
}

bool flag_of(const json::object& p, const char* key) {
  const auto* v = p.if_contains(key);
  return v && v->is_bool() && v->as_bool();
}

std::string ask(const json::object& p, const std::string& flag, const std::string& suggested) {
  auto label = str(p, "display_name").empty() ? str(p, "name") : str(p, "display_name");
  if (!stdin_is_terminal())
    throw Error{ErrorCode::invalid, "A value for parameter \"" + str(p, "name") + "\" is needed.",
                "stdin is not a terminal; pass " + flag + " " + str(p, "name") + "=…"};
  if (auto description = str(p, "description"); !description.empty())
    std::fprintf(stderr, "%s: %s\n", label.c_str(), description.c_str());
  if (const auto* options = p.if_contains("options"); options && options->is_array())
    for (const auto& opt : options->as_array())
      std::fprintf(stderr, "  - %s (%s)\n", str(opt.as_object(), "value").c_str(),
                   str(opt.as_object(), "name").c_str());
  return prompt(label, suggested);
}

}  // namespace

void add_parameter_flags(CLI::App* command, ParameterFlags& f) {
  command
      ->add_option("--parameter", f.parameters, "Rich parameter value in the format \"name=value\"")
      ->envname("CODER_RICH_PARAMETER");
  command
      ->add_option("--rich-parameter-file", f.parameter_file,
                   "File of `name: value` lines with values for the template's rich parameters")
      ->envname("CODER_RICH_PARAMETER_FILE");
  command
      ->add_option("--parameter-default", f.defaults,
                   "Rich parameter default value in the format \"name=value\" (offered when "
                   "asking)")
      ->envname("CODER_RICH_PARAMETER_DEFAULT");
  command
      ->add_option("--build-option,--ephemeral-parameter", f.build_options,
                   "Ephemeral (one-build) parameter value in the format \"name=value\"")
      ->envname("CODER_BUILD_OPTION");
  command
      ->add_flag("--build-options,--prompt-ephemeral-parameters", f.prompt_build_options,
                 "Ask for the values of the template's ephemeral parameters")
      ->envname("CODER_PROMPT_EPHEMERAL_PARAMETERS");
  command->add_flag("--always-prompt", f.always_prompt,
                    "Ask for every parameter, instead of keeping the last build's values");
}

void read_parameter_file(const std::string& path, Values& values) {
  std::ifstream in(path);
  if (!in) throw Error{ErrorCode::invalid, "Cannot read the parameter file " + path + "."};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    auto text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    auto colon = text.find(':');
    if (colon == std::string::npos)
      throw Error{ErrorCode::invalid,
                  path + ":" + std::to_string(number) + ": expected \"name: value\"."};
    values[trim(text.substr(0, colon))] = trim(text.substr(colon + 1));
  }
}

json::array start_parameter_values(sdk::Client& client, const std::string& version_id,
                                   const std::string& last_build_id, const ParameterFlags& f) {
  Values given, ephemeral, defaults, last;
  if (!f.parameter_file.empty()) read_parameter_file(f.parameter_file, given);
  add_pairs(f.parameters, "--parameter", given);  // flags win over the file, as in Coder
  add_pairs(f.build_options, "--build-option", ephemeral);
  add_pairs(f.defaults, "--parameter-default", defaults);
  if (!last_build_id.empty()) {
    auto previous = get_json(client, "/api/v2/workspacebuilds/" + last_build_id + "/parameters");
    for (const auto& v : previous.as_array())
      last[str(v.as_object(), "name")] = str(v.as_object(), "value");
  }
  auto definitions =
      get_json(client, "/api/v2/templateversions/" + version_id + "/rich-parameters");
  json::array out;
  std::vector<std::string> missing;
  for (const auto& item : definitions.as_array()) {
    const auto& p = item.as_object();
    auto name = str(p, "name");
    auto push = [&](const std::string& value) {
      out.push_back(json::object{{"name", name}, {"value", value}});
    };
    auto suggested = [&] {
      if (auto it = last.find(name); it != last.end()) return it->second;
      if (auto it = defaults.find(name); it != defaults.end()) return it->second;
      return str(p, "default_value");
    };
    if (auto it = ephemeral.find(name); it != ephemeral.end()) {
      if (!flag_of(p, "ephemeral"))
        throw Error{ErrorCode::invalid, "Parameter \"" + name + "\" is not ephemeral.",
                    "Pass it with --parameter, not --build-option."};
      push(it->second);
      ephemeral.erase(it);
      continue;
    }
    if (auto it = given.find(name); it != given.end()) {
      push(it->second);
      given.erase(it);
      continue;
    }
    if (flag_of(p, "ephemeral")) {
      if (f.prompt_build_options) push(ask(p, "--build-option", suggested()));
      continue;
    }
    if (f.always_prompt) {
      push(ask(p, "--parameter", suggested()));
      continue;
    }
    // New to this version and required: nothing to keep from the last build.
    if (!last.contains(name) && flag_of(p, "required")) {
      if (stdin_is_terminal())
        push(ask(p, "--parameter", suggested()));
      else
        missing.push_back(name);
    }
  }
  if (!given.empty() || !ephemeral.empty()) {
    auto name = !given.empty() ? given.begin()->first : ephemeral.begin()->first;
    throw Error{ErrorCode::invalid, "Parameter \"" + name + "\" is not defined by the template."};
  }
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    throw Error{ErrorCode::invalid, "Missing values for required parameters: " + names + ".",
                "Pass them with --parameter name=value or --rich-parameter-file."};
  }
  return out;
}

}  // namespace berth::cli
