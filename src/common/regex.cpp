#include "common/regex.hpp"

#include <re2/re2.h>

#include <cctype>

#include "common/error.hpp"

namespace berth {

Regex::Regex(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  re_ = std::make_unique<re2::RE2>(pattern, options);
  if (!re_->ok())
    throw Error{ErrorCode::invalid,
                "invalid regular expression \"" + pattern + "\": " + re_->error()};
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

int Regex::groups() const {
  return re_->NumberOfCapturingGroups();
}

bool Regex::search(std::string_view subject) const {
  return RE2::PartialMatch(re2::StringPiece(subject.data(), subject.size()), *re_);
}

std::optional<Regex::Match> Regex::find(std::string_view subject) const {
  auto all = find_all(subject, 1);
  if (all.empty()) return std::nullopt;
  return all.front();
}

std::vector<Regex::Match> Regex::find_all(std::string_view subject, std::size_t limit) const {
  std::vector<Match> out;
  std::vector<re2::StringPiece> pieces(static_cast<std::size_t>(groups() + 1));
  std::size_t at = 0, last_end = std::string_view::npos;
  while (out.size() < limit && at <= subject.size()) {
    re2::StringPiece text(subject.data(), subject.size());
    if (!re_->Match(text, at, subject.size(), RE2::UNANCHORED, pieces.data(),
                    static_cast<int>(pieces.size())))
      break;
    std::size_t start = static_cast<std::size_t>(pieces[0].data() - subject.data());
    std::size_t end = start + pieces[0].size();
    if (!(pieces[0].empty() && start == last_end)) {
      Match m;
      for (const auto& p : pieces)
        m.push_back(p.data() ? std::optional(std::string(p.data(), p.size())) : std::nullopt);
      out.push_back(std::move(m));
    }
    last_end = end;
    at = end > start ? end : end + 1;
  }
  return out;
}

std::string Regex::expand(std::string_view replacement,
                          const std::vector<std::string_view>& groups) const {
  std::string out;
  for (std::size_t i = 0; i < replacement.size(); ++i) {
    char c = replacement[i];
    if (c != '$' || i + 1 == replacement.size()) {
      out += c;
      continue;
    }
    if (replacement[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string name;
    std::size_t j = i + 1;
    if (replacement[j] == '{') {
      auto close = replacement.find('}', j);
      if (close == std::string_view::npos) {
        out += c;
        continue;
      }
      name = std::string(replacement.substr(j + 1, close - j - 1));
      j = close + 1;
    } else {
      while (j < replacement.size() &&
             (std::isalnum(static_cast<unsigned char>(replacement[j])) || replacement[j] == '_'))
        name += replacement[j++];
    }
    if (name.empty()) {
      out += c;
      continue;
    }
    i = j - 1;
    int index = -1;
    if (name.find_first_not_of("0123456789") == std::string::npos && name.size() < 9) {
      index = std::stoi(name);
    } else {
      const auto& named = re_->NamedCapturingGroups();
      if (auto it = named.find(name); it != named.end()) index = it->second;
    }
    if (index >= 0 && static_cast<std::size_t>(index) < groups.size())
      out.append(groups[static_cast<std::size_t>(index)]);
  }
  return out;
}

std::string Regex::replace_all(std::string_view subject, std::string_view replacement) const {
  std::string out;
  std::vector<re2::StringPiece> pieces(static_cast<std::size_t>(groups() + 1));
  std::size_t at = 0, copied = 0, last_end = std::string_view::npos;
  while (at <= subject.size()) {
    re2::StringPiece text(subject.data(), subject.size());
    if (!re_->Match(text, at, subject.size(), RE2::UNANCHORED, pieces.data(),
                    static_cast<int>(pieces.size())))
      break;
    std::size_t start = static_cast<std::size_t>(pieces[0].data() - subject.data());
    std::size_t end = start + pieces[0].size();
    if (!(pieces[0].empty() && start == last_end)) {
      std::vector<std::string_view> groups;
      for (const auto& p : pieces)
        groups.push_back(p.data() ? std::string_view(p.data(), p.size()) : std::string_view());
      out.append(subject.substr(copied, start - copied));
      out += expand(replacement, groups);
      copied = end;
    }
    last_end = end;
    at = end > start ? end : end + 1;
  }
  out.append(subject.substr(std::min(copied, subject.size())));
  return out;
}

}  // namespace berth
