#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace berth {

// A regular expression in Go's syntax (what Terraform and Coder use), matched by RE2 in time
// linear in the subject and without recursion: a template's or a user's pattern cannot hang or
// crash the server, whatever the subject.
class Regex {
 public:
  // The groups of one match: [0] is the whole match; a group that did not take part is nullopt.
  using Match = std::vector<std::optional<std::string>>;

  // Throws Error{invalid} naming the pattern and what is wrong with it.
  explicit Regex(const std::string& pattern);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // Whether any part of `subject` matches.
  bool search(std::string_view subject) const;
  // The first match, if any.
  std::optional<Match> find(std::string_view subject) const;
  // Every non-overlapping match, left to right (at most `limit`).
  std::vector<Match> find_all(std::string_view subject, std::size_t limit) const;
  // Every match replaced by `replacement`, in which $1, ${1}, $name and ${name} stand for groups
  // and $$ for a dollar sign, as Go's Regexp.ReplaceAllString expands them.
  std::string replace_all(std::string_view subject, std::string_view replacement) const;
  // The number of capturing groups.
  int groups() const;

 private:
  std::unique_ptr<re2::RE2> re_;
  std::string expand(std::string_view replacement,
                     const std::vector<std::string_view>& groups) const;
};

}  // namespace berth
