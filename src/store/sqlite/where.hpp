#pragma once

// A WHERE clause built from only the conditions a list's filters set, for the SqliteStore
// method files; not part of the store's interface.

#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "common/time.hpp"
#include "common/uuid.hpp"
#include "store/sqlite/statement.hpp"

namespace berth::store::sqlite {

// Conditions joined by AND, with their values in placeholder order (plain `?`), so that the
// planner sees only conditions that apply and can pick an index for them.
class Where {
 public:
  // A value bound to one placeholder; monostate binds NULL.
  using Value = std::variant<std::monostate, std::string, std::int64_t, bool, Uuid, TimePoint>;

  void add(const std::string& condition, std::vector<Value> values = {}) {
    sql_ += sql_.empty() ? " WHERE " : " AND ";
    sql_ += condition;
    for (auto& v : values) values_.push_back(std::move(v));
  }

  // " WHERE a AND b", or empty when nothing was added.
  const std::string& sql() const { return sql_; }
  // The number of placeholders, so that a caller binds its own after them.
  int size() const { return int(values_.size()); }

  // Binds the values to placeholders `first`, `first` + 1, ...
  void bind(Statement& q, int first = 1) const {
    int index = first;
    for (const auto& v : values_) {
      std::visit(
          [&](const auto& value) {
            if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::monostate>)
              q.bind_null(index);
            else
              q.bind(index, value);
          },
          v);
      ++index;
    }
  }

 private:
  std::string sql_;
  std::vector<Value> values_;
};

// A LIKE pattern (with ESCAPE '!') that matches text containing `needle` lower-cased in ASCII,
// as C++ code compares names; for `lower(column) LIKE ? ESCAPE '!'`, which both SQLite and
// PostgreSQL read the same way (unlike SQLite's instr).
inline std::string contains_pattern(const std::string& needle) {
  std::string out = "%";
  for (char c : needle) {
    if (c == '%' || c == '_' || c == '!') out += '!';
    out += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  }
  return out + "%";
}

}  // namespace berth::store::sqlite
