#include "hcl/eval.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "hcl/parser.hpp"
#include "hcl/values.hpp"

namespace berth::hcl {

namespace {

std::string interpolate(const json::value& v, const Position& position) {
  if (auto s = as_string(v)) return *s;
  fail_at(position, "cannot interpolate a " + type_name(v) + " value into a string");
}

bool require_bool(const json::value& v, const Position& position, const std::string& what) {
  auto b = as_bool(v);
  if (!b) fail_at(position, what + " must be a bool, got " + type_name(v));
  return *b;
}

json::value require_number(const json::value& v, const Position& position, const std::string& op) {
  auto n = as_number(v);
  if (!n) fail_at(position, "the " + op + " operator needs numbers, got " + type_name(v));
  return *n;
}

json::value number_from_double(double d) {
  return d;
}

json::value arithmetic(const std::string& op, const json::value& a, const json::value& b,
                       const Position& position) {
  if (a.is_int64() && b.is_int64()) {
    std::int64_t x = a.get_int64(), y = b.get_int64(), r = 0;
    bool overflow = false;
    if (op == "+")
      overflow = __builtin_add_overflow(x, y, &r);
    else if (op == "-")
      overflow = __builtin_sub_overflow(x, y, &r);
    else if (op == "*")
      overflow = __builtin_mul_overflow(x, y, &r);
    else if (y == 0)
      fail_at(position, op == "/" ? "division by zero" : "modulo by zero");
    else if (x == std::numeric_limits<std::int64_t>::min() && y == -1)
      overflow = true;
    else if (op == "%")
      r = x % y;
    else if (x % y == 0)
      r = x / y;
    else
      return static_cast<double>(x) / static_cast<double>(y);
    if (!overflow) return r;
  }
  double x = to_double(a), y = to_double(b);
  if (op == "+") return number_from_double(x + y);
  if (op == "-") return number_from_double(x - y);
  if (op == "*") return number_from_double(x * y);
  if (y == 0) fail_at(position, op == "/" ? "division by zero" : "modulo by zero");
  if (op == "/") return number_from_double(x / y);
  return number_from_double(std::fmod(x, y));
}

bool is_text(const Expression& e) {
  return e.kind == ExpressionKind::literal && e.name == kTextPart;
}

// Kinds whose result is built or copied by the node itself rather than assembled from values
// its operands already charged to the budget.
bool builds_value(ExpressionKind kind) {
  switch (kind) {
    case ExpressionKind::tuple:
    case ExpressionKind::object:
    case ExpressionKind::for_expr:
    case ExpressionKind::splat:
    case ExpressionKind::conditional:
      return false;
    default:
      return true;
  }
}

class Evaluator {
 public:
  // scope.functions.budget must be set (evaluate() sees to it).
  explicit Evaluator(EvalScope& scope) : scope_(scope), budget_(*scope.functions.budget) {}

  json::value eval(const Expression& e) {
    budget_.charge(1, 0, e.position);
    json::value v = eval_node(e);
    // Doubles overflow (1e300 * 1e300, pow(10, 400)) where Terraform's numbers do not; an
    // infinity could not be stored as JSON.
    if (v.is_double() && !std::isfinite(v.get_double())) fail_at(e.position, "number out of range");
    if (builds_value(e.kind)) budget_.charge_value(v, e.position);
    return v;
  }

 private:
  json::value eval_node(const Expression& e) {
    switch (e.kind) {
      case ExpressionKind::literal:
        return e.value;
      case ExpressionKind::template_expr:
        return eval_template(e);
      case ExpressionKind::template_if:
      case ExpressionKind::template_for: {
        std::string out;
        append_directive(out, e);
        return make_string(out);
      }
      case ExpressionKind::variable:
        return eval_variable(e);
      case ExpressionKind::get_attr:
        return eval_get_attr(e);
      case ExpressionKind::index:
        return index(eval(*e.operands[0]), eval(*e.operands[1]), e.position);
      case ExpressionKind::splat:
        return eval_splat(e);
      case ExpressionKind::splat_item:
        if (scope_.splat_items.empty()) fail_at(e.position, "splat item outside a splat");
        return *scope_.splat_items.back();
      case ExpressionKind::call:
        return eval_call(e);
      case ExpressionKind::unary:
        return eval_unary(e);
      case ExpressionKind::binary:
        return eval_binary(e);
      case ExpressionKind::conditional:
        // Only the chosen branch is evaluated, so `c ? x[0] : ""` is safe when x is empty.
        return require_bool(eval(*e.operands[0]), e.position, "the condition")
                   ? eval(*e.operands[1])
                   : eval(*e.operands[2]);
      case ExpressionKind::tuple: {
        json::array out;
        for (const auto& o : e.operands) out.push_back(eval(*o));
        return out;
      }
      case ExpressionKind::object:
        return eval_object(e);
      case ExpressionKind::for_expr:
        return eval_for(e);
    }
    fail_at(e.position, "unsupported expression");
  }

  const json::value* binding(const std::string& name) const {
    for (auto it = scope_.bindings.rbegin(); it != scope_.bindings.rend(); ++it)
      if (it->first == name) return &it->second;
    return nullptr;
  }

  // Pushes a binding for the lifetime of the guard.
  struct Bind {
    Bind(EvalScope& scope, std::string name, json::value v)
        : scope_(scope), active_(!name.empty()) {
      if (active_) scope_.bindings.emplace_back(std::move(name), std::move(v));
    }
    ~Bind() {
      if (active_) scope_.bindings.pop_back();
    }
    Bind(const Bind&) = delete;
    Bind& operator=(const Bind&) = delete;
    EvalScope& scope_;
    bool active_;
  };

  json::value eval_template(const Expression& e) {
    if (e.operands.size() == 1 && !is_text(*e.operands[0]) &&
        e.operands[0]->kind != ExpressionKind::template_if &&
        e.operands[0]->kind != ExpressionKind::template_for)
      return eval(*e.operands[0]);  // "${x}" keeps x's type, as in Terraform
    std::string out;
    append_parts(out, e);
    return make_string(out);
  }

  void append_parts(std::string& out, const Expression& t) {
    for (const auto& part : t.operands) {
      if (is_text(*part))
        out += part->value.as_string();
      else if (part->kind == ExpressionKind::template_if ||
               part->kind == ExpressionKind::template_for)
        append_directive(out, *part);
      else
        out += interpolate(eval(*part), part->position);
    }
  }

  void append_directive(std::string& out, const Expression& d) {
    if (d.kind == ExpressionKind::template_if) {
      if (require_bool(eval(*d.operands[0]), d.position, "the %{ if } condition"))
        append_parts(out, *d.operands[1]);
      else if (d.operands[2])
        append_parts(out, *d.operands[2]);
      return;
    }
    bool set = is_set_expression(*d.operands[0], scope_.set_valued);
    for_each_element(eval(*d.operands[0]), set, d.position,
                     [&](json::value key, json::value value) {
                       Bind k(scope_, d.key_var, std::move(key));
                       Bind v(scope_, d.value_var, std::move(value));
                       append_parts(out, *d.operands[1]);
                     });
  }

  template <typename Fn>
  void for_each_element(const json::value& collection, bool set, const Position& position,
                        Fn&& fn) {
    if (collection.is_array()) {
      const auto& list = collection.get_array();
      for (std::size_t i = 0; i < list.size(); ++i)
        fn(set ? list[i] : json::value(static_cast<std::int64_t>(i)), list[i]);
    } else if (collection.is_object()) {
      std::vector<const boost::json::key_value_pair*> entries;
      for (const auto& kv : collection.get_object()) entries.push_back(&kv);
      std::sort(entries.begin(), entries.end(),
                [](auto* a, auto* b) { return a->key() < b->key(); });
      for (const auto* kv : entries) fn(json::value(kv->key()), kv->value());
    } else {
      fail_at(position, "cannot iterate over a " + type_name(collection) + " value");
    }
  }

  json::value eval_variable(const Expression& e) {
    if (const json::value* v = binding(e.name)) return *v;
    if (scope_.in_template_file)
      fail_at(e.position, "unknown variable \"" + e.name + "\" in the template");
    fail_at(e.position, "invalid reference \"" + e.name +
                            "\": expected an attribute after it, like " + e.name + ".name");
  }

  const json::value& lookup(const std::map<std::string, json::value>* map, const std::string& key,
                            const Position& position, const std::string& what) {
    if (map) {
      auto it = map->find(key);
      if (it != map->end()) return it->second;
    }
    fail_at(position, "reference to undeclared " + what + " \"" + key + "\"");
  }

  bool is_root(const Expression& e, const char* name) const {
    return e.kind == ExpressionKind::variable && e.name == name && !binding(e.name);
  }

  json::value eval_get_attr(const Expression& e) {
    const Expression& source = *e.operands[0];
    if (!scope_.in_template_file) {
      if (source.kind == ExpressionKind::get_attr && is_root(*source.operands[0], "data"))
        return lookup(scope_.resources, "data." + source.name + "." + e.name,
                      source.operands[0]->position, "data source");
      if (source.kind == ExpressionKind::variable && !binding(source.name))
        return eval_root_attribute(source.name, e.name, source.position);
    }
    return get_attribute(eval(source), e.name, e.position);
  }

  json::value eval_root_attribute(const std::string& root, const std::string& attr,
                                  const Position& position) {
    if (root == "var") return lookup(scope_.variables, attr, position, "input variable");
    if (root == "local") return lookup(scope_.locals, attr, position, "local value");
    if (root == "count") {
      if (attr != "index") fail_at(position, "unsupported attribute \"count." + attr + "\"");
      if (!scope_.count_index)
        fail_at(position, "count.index is only available in a block that sets count");
      return *scope_.count_index;
    }
    if (root == "path") {
      if (attr == "module" || attr == "root" || attr == "cwd") return ".";
      fail_at(position, "unsupported attribute \"path." + attr + "\"");
    }
    if (root == "terraform" && attr == "workspace") return "default";
    if (root == "each") {
      if (!scope_.each)
        fail_at(position, "each." + attr + " is only available in a block that sets for_each");
      if (attr == "key") return scope_.each->key;
      if (attr == "value") return scope_.each->value;
      fail_at(position, "unsupported attribute \"each." + attr + "\"");
    }
    if (root == "module") {
      if (scope_.resources)
        if (auto it = scope_.resources->find("module." + attr); it != scope_.resources->end())
          return it->second;
      fail_at(position, "reference to undeclared module \"" + attr + "\"");
    }
    if (root == "data")
      fail_at(position, "a data source reference needs a name: data." + attr + ".NAME");
    if (root == "self") fail_at(position, "self references are not supported");
    return lookup(scope_.resources, root + "." + attr, position, "resource");
  }

  static json::value get_attribute(const json::value& v, const std::string& name,
                                   const Position& position) {
    if (v.is_object()) {
      if (const json::value* found = v.get_object().if_contains(name)) return *found;
      fail_at(position, "unsupported attribute \"" + name + "\"");
    }
    if (v.is_null())
      fail_at(position, "attempt to get attribute \"" + name + "\" from a null value");
    if (v.is_array())
      fail_at(position, "cannot access attribute \"" + name +
                            "\" on a list; use an index such as [0] or a splat [*]");
    fail_at(position, "cannot access attribute \"" + name + "\" on a " + type_name(v) + " value");
  }

  static json::value index(const json::value& v, const json::value& key, const Position& position) {
    if (v.is_array()) {
      auto n = as_number(key);
      if (!n) fail_at(position, "a list index must be a number, got " + type_name(key));
      double d = to_double(*n);
      const auto& list = v.get_array();
      if (d != std::floor(d) || d < 0 || d >= static_cast<double>(list.size()))
        fail_at(position, "invalid index " + format_number(*n) + " for a list of " +
                              std::to_string(list.size()) + " elements");
      return list[static_cast<std::size_t>(d)];
    }
    if (v.is_object()) {
      auto k = as_string(key);
      if (!k) fail_at(position, "a map key must be a string, got " + type_name(key));
      if (const json::value* found = v.get_object().if_contains(*k)) return *found;
      fail_at(position, "invalid index: the map has no key \"" + *k + "\"");
    }
    fail_at(position, "cannot index a " + type_name(v) + " value");
  }

  json::value eval_splat(const Expression& e) {
    json::value source = eval(*e.operands[0]);
    if (source.is_null()) return json::array();
    if (!source.is_array()) source = json::array{source};
    json::array out;
    for (const auto& item : source.get_array()) {
      scope_.splat_items.push_back(&item);
      try {
        out.push_back(eval(*e.operands[1]));
      } catch (...) {
        scope_.splat_items.pop_back();
        throw;
      }
      scope_.splat_items.pop_back();
    }
    return out;
  }

  json::value eval_call(const Expression& e) {
    if (e.name == "try") {
      if (e.operands.empty()) fail_at(e.position, "try() needs at least one argument");
      for (const auto& o : e.operands) {
        try {
          return eval(*o);
        } catch (const Error&) {
          if (budget_.exhausted()) throw;  // a fallback must not restart a runaway evaluation
        }
      }
      fail_at(e.position, "try(): no argument evaluated without an error");
    }
    if (e.name == "can") {
      if (e.operands.size() != 1) fail_at(e.position, "can() needs exactly one argument");
      try {
        eval(*e.operands[0]);
        return true;
      } catch (const Error&) {
        if (budget_.exhausted()) throw;
        return false;
      }
    }
    if (e.name != "templatefile" && !is_builtin_function(e.name))
      fail_at(e.position, "unknown function \"" + e.name + "\"");
    std::vector<json::value> args;
    for (const auto& o : e.operands) args.push_back(eval(*o));
    if (e.expand_final) {
      json::value last = std::move(args.back());
      args.pop_back();
      if (!last.is_array())
        fail_at(e.operands.back()->position, "the argument before '...' must be a list");
      for (auto& item : last.get_array()) args.push_back(std::move(item));
    }
    if (e.name == "templatefile") return templatefile(args, e.position);
    return call_function(e.name, std::move(args), e.position, scope_.functions);
  }

  json::value templatefile(std::vector<json::value>& args, const Position& position) {
    if (args.size() != 2 || !args[0].is_string() || !args[1].is_object())
      fail_at(position, "templatefile() needs a path and an object of variables");
    if (scope_.in_template_file)
      fail_at(position, "templatefile() cannot be called from inside a template file");
    std::string path(args[0].get_string());
    std::string content = read_module_file(path, position, scope_.functions);
    ExpressionPtr t = parse_template(content, path);
    EvalScope inner;
    inner.functions = scope_.functions;
    inner.in_template_file = true;
    for (const auto& [k, v] : args[1].get_object()) inner.bindings.emplace_back(k, v);
    json::value result = Evaluator(inner).eval(*t);
    return make_string(interpolate(result, position));
  }

  json::value eval_unary(const Expression& e) {
    json::value v = eval(*e.operands[0]);
    if (e.name == "!") return !require_bool(v, e.position, "the operand of !");
    json::value n = require_number(v, e.position, "-");
    if (n.is_int64() && n.get_int64() != std::numeric_limits<std::int64_t>::min())
      return -n.get_int64();
    return -to_double(n);
  }

  json::value eval_binary(const Expression& e) {
    const std::string& op = e.name;
    if (op == "&&" || op == "||") {
      bool lhs = require_bool(eval(*e.operands[0]), e.position, "the operands of " + op);
      if (op == "&&" ? !lhs : lhs) return lhs;
      return require_bool(eval(*e.operands[1]), e.position, "the operands of " + op);
    }
    json::value a = eval(*e.operands[0]), b = eval(*e.operands[1]);
    if (op == "==") return values_equal(a, b);
    if (op == "!=") return !values_equal(a, b);
    json::value x = require_number(a, e.position, op), y = require_number(b, e.position, op);
    if (op == "<") return to_double(x) < to_double(y);
    if (op == "<=") return to_double(x) <= to_double(y);
    if (op == ">") return to_double(x) > to_double(y);
    if (op == ">=") return to_double(x) >= to_double(y);
    return arithmetic(op, x, y, e.position);
  }

  json::value eval_object(const Expression& e) {
    json::object out;
    for (const auto& [k, v] : e.items) {
      json::value key = eval(*k);
      if (key.is_null()) fail_at(k->position, "an object key must not be null");
      std::string name = interpolate(key, k->position);
      if (out.contains(name)) fail_at(k->position, "duplicate object key \"" + name + "\"");
      out[name] = eval(*v);
    }
    return out;
  }

  json::value eval_for(const Expression& e) {
    const auto& key_expr = e.operands[1];
    const auto& value_expr = e.operands[2];
    const auto& condition = e.operands[3];
    bool is_object = e.name == "{";
    json::array list;
    json::object object;
    bool set = is_set_expression(*e.operands[0], scope_.set_valued);
    for_each_element(
        eval(*e.operands[0]), set, e.position, [&](json::value key, json::value value) {
          Bind k(scope_, e.key_var, std::move(key));
          Bind v(scope_, e.value_var, std::move(value));
          if (condition &&
              !require_bool(eval(*condition), condition->position, "the for condition"))
            return;
          if (!is_object) {
            list.push_back(eval(*value_expr));
            return;
          }
          std::string name = interpolate(eval(*key_expr), key_expr->position);
          json::value item = eval(*value_expr);
          if (e.expand_final) {
            json::value& group = object[name];
            if (!group.is_array()) group = json::array();
            group.get_array().push_back(std::move(item));
          } else {
            if (object.contains(name))
              fail_at(key_expr->position,
                      "duplicate key \"" + name +
                          "\" in the for expression; add '...' to group values");
            object[name] = std::move(item);
          }
        });
    if (is_object) return object;
    return list;
  }

  EvalScope& scope_;
  EvalBudget& budget_;
};

}  // namespace

bool is_set_expression(const Expression& e, const std::set<std::string>* set_valued) {
  switch (e.kind) {
    case ExpressionKind::call:
      return e.name == "toset" || e.name == "setunion" || e.name == "setintersection" ||
             e.name == "setsubtract";
    case ExpressionKind::get_attr: {
      const Expression& root = *e.operands[0];
      return set_valued && root.kind == ExpressionKind::variable &&
             (root.name == "var" || root.name == "local") &&
             set_valued->contains(root.name + "." + e.name);
    }
    case ExpressionKind::conditional:
      return is_set_expression(*e.operands[1], set_valued) ||
             is_set_expression(*e.operands[2], set_valued);
    case ExpressionKind::template_expr:
      return e.operands.size() == 1 && is_set_expression(*e.operands[0], set_valued);
    default:
      return false;
  }
}

json::value evaluate(const Expression& e, EvalScope& scope) {
  if (scope.functions.budget) return Evaluator(scope).eval(e);
  // A caller without a budget still gets a bounded evaluation: this expression alone.
  EvalBudget budget;
  scope.functions.budget = &budget;
  try {
    json::value v = Evaluator(scope).eval(e);
    scope.functions.budget = nullptr;
    return v;
  } catch (...) {
    scope.functions.budget = nullptr;
    throw;
  }
}

}  // namespace berth::hcl
