#include "cli/output.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "common/time.hpp"

namespace berth::cli {

void add_output_option(CLI::App* cmd, OutputFormat& format) {
  std::map<std::string, OutputFormat> formats{{"table", OutputFormat::table},
                                              {"json", OutputFormat::json}};
  cmd->add_option("-o,--output", format, "Output format: table or json")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case))
      ->default_str("table");
}

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {
  for (auto& h : headers_)
    std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::toupper(c); });
}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::render() const {
  std::vector<std::size_t> widths;
  for (const auto& h : headers_) widths.push_back(h.size());
  for (const auto& row : rows_)
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(widths[i] - cells[i].size() + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(headers_);
  for (const auto& row : rows_) out += line(row);
  return out;
}

namespace {

void write_pretty(std::string& out, const json::value& v, int indent) {
  auto pad = [&](int n) { out += '\n' + std::string(std::size_t(n) * 2, ' '); };
  if (v.is_object() && !v.as_object().empty()) {
    out += '{';
    bool first = true;
    for (const auto& [key, item] : v.as_object()) {
      if (!first) out += ',';
      first = false;
      pad(indent + 1);
      out += json::serialize(json::value(key)) + ": ";
      write_pretty(out, item, indent + 1);
    }
    pad(indent);
    out += '}';
  } else if (v.is_array() && !v.as_array().empty()) {
    out += '[';
    bool first = true;
    for (const auto& item : v.as_array()) {
      if (!first) out += ',';
      first = false;
      pad(indent + 1);
      write_pretty(out, item, indent + 1);
    }
    pad(indent);
    out += ']';
  } else {
    out += json::serialize(v);
  }
}

}  // namespace

std::string pretty_json(const json::value& v) {
  std::string out;
  write_pretty(out, v, 0);
  return out + "\n";
}

std::string format_duration(std::chrono::milliseconds d) {
  using namespace std::chrono;
  if (d <= milliseconds::zero()) return "-";
  auto h = duration_cast<hours>(d);
  auto m = duration_cast<minutes>(d - h);
  auto s = duration_cast<seconds>(d - h - m);
  std::string out;
  if (h.count()) out += std::to_string(h.count()) + "h";
  if (m.count()) out += std::to_string(m.count()) + "m";
  if (s.count() || out.empty()) out += std::to_string(s.count()) + "s";
  return out;
}

std::string format_time(const std::string& rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  if (!t) return "-";
  auto text = format_rfc3339(std::chrono::floor<std::chrono::seconds>(*t));
  std::replace(text.begin(), text.end(), 'T', ' ');
  if (!text.empty() && text.back() == 'Z') text.replace(text.size() - 1, 1, " UTC");
  return text;
}

std::string format_ago(const std::string& rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  if (!t) return "-";
  auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
  auto ago = std::chrono::duration_cast<std::chrono::milliseconds>(now - *t);
  if (ago < std::chrono::seconds(1)) return "just now";
  return format_duration(ago) + " ago";
}

}  // namespace berth::cli
