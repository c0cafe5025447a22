#include "hcl/meta_arguments.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "hcl/module.hpp"
#include "hcl/values.hpp"

namespace berth::hcl {

namespace {

std::int64_t evaluate_count(const Attribute& c, EvalScope& scope) {
  json::value v = evaluate(*c.expression, scope);
  auto n = as_number(v);
  if (!n) fail_at(c.position, "count must be a whole number, got " + type_name(v));
  double d = to_double(*n);
  if (d != std::floor(d) || d < 0) fail_at(c.position, "count must be a whole number, 0 or more");
  if (d > static_cast<double>(kMaxCount))
    fail_at(c.position, "count must be at most " + std::to_string(kMaxCount));
  return static_cast<std::int64_t>(d);
}

void check_for_each_size(std::size_t n, const Attribute& a) {
  if (n > static_cast<std::size_t>(kMaxCount))
    fail_at(a.position, "for_each must have at most " + std::to_string(kMaxCount) +
                            " elements, got " + std::to_string(n));
}

// A map gives each.key = key, each.value = value; a set (or list) of strings gives
// each.key = each.value = the string. Instances are ordered by key, as Terraform's are.
std::vector<Instance> evaluate_for_each(const Attribute& a, EvalScope& scope) {
  json::value v = evaluate(*a.expression, scope);
  std::vector<Instance> out;
  if (v.is_object()) {
    check_for_each_size(v.get_object().size(), a);
    std::vector<std::string> keys;
    for (const auto& kv : v.get_object()) keys.emplace_back(kv.key());
    std::sort(keys.begin(), keys.end());
    for (auto& k : keys) {
      json::value value = v.get_object().at(k);
      out.push_back(Instance{std::nullopt, std::move(k), std::move(value)});
    }
    return out;
  }
  if (v.is_array()) {
    std::set<std::string> keys;
    for (const auto& e : v.get_array()) {
      if (!e.is_string())
        fail_at(a.position, "for_each needs a map, or a set of strings; got a set with a " +
                                type_name(e) + " element");
      keys.emplace(e.get_string());
    }
    check_for_each_size(keys.size(), a);
    for (const auto& k : keys) out.push_back(Instance{std::nullopt, k, json::value(k)});
    return out;
  }
  if (v.is_null()) fail_at(a.position, "for_each must not be null");
  fail_at(a.position, "for_each needs a map, or a set of strings, got " + type_name(v));
}

// The text of a quoted string without interpolations ("tags"), or nullopt.
std::optional<std::string> literal_text(const Expression& e) {
  if (e.kind == ExpressionKind::literal && e.value.is_string())
    return std::string(e.value.get_string());
  if (e.kind != ExpressionKind::template_expr) return std::nullopt;
  std::string text;
  for (const auto& part : e.operands) {
    if (part->kind != ExpressionKind::literal || part->name != kTextPart) return std::nullopt;
    text += part->value.as_string();
  }
  return text;
}

// An ignore_changes entry names an attribute path (`tags`, `labels[0]`, `a.b`, or the
// pre-0.12 string "tags"); it is read, never evaluated.
std::optional<std::string> attribute_path(const Expression& e) {
  switch (e.kind) {
    case ExpressionKind::variable:
      return e.name;
    case ExpressionKind::get_attr: {
      auto base = attribute_path(*e.operands[0]);
      if (!base) return std::nullopt;
      return *base + "." + e.name;
    }
    case ExpressionKind::index: {
      auto base = attribute_path(*e.operands[0]);
      const Expression& k = *e.operands[1];
      if (!base) return std::nullopt;
      std::string key;
      if (auto text = literal_text(k))
        key = quote_key(*text);
      else if (k.kind == ExpressionKind::literal && is_number(k.value))
        key = format_number(k.value);
      else
        return std::nullopt;
      return base->append("[").append(key).append("]");
    }
    case ExpressionKind::template_expr: {
      auto text = literal_text(e);
      if (!text || text->empty()) return std::nullopt;
      return text;
    }
    default:
      return std::nullopt;
  }
}

void read_ignore_changes(const Attribute& a, Lifecycle& out) {
  const Expression& e = *a.expression;
  // `all` is a keyword here, not a reference to a variable named all.
  if (e.kind == ExpressionKind::variable && e.name == "all") {
    out.ignore_all_changes = true;
    return;
  }
  if (e.kind != ExpressionKind::tuple)
    fail_at(a.position, "ignore_changes must be a list of attribute names, or all");
  for (const auto& item : e.operands) {
    auto path = attribute_path(*item);
    if (!path)
      fail_at(item->position, "ignore_changes must list attribute names, such as tags or labels");
    out.ignore_changes.push_back(*path);
  }
}

}  // namespace

Expansion expand_block(const Block& block, EvalScope& scope) {
  const Attribute* count = block.attribute("count");
  const Attribute* each = block.attribute("for_each");
  if (count && each)
    fail_at(each->position, "count and for_each cannot be used together in one block");
  Expansion out;
  if (count) {
    out.repetition = Repetition::count;
    std::int64_t n = evaluate_count(*count, scope);
    for (std::int64_t i = 0; i < n; ++i) out.instances.push_back(Instance{i, std::nullopt, {}});
  } else if (each) {
    out.repetition = Repetition::for_each;
    out.instances = evaluate_for_each(*each, scope);
  } else {
    out.instances.emplace_back();
  }
  return out;
}

void bind_instance(EvalScope& scope, const Instance& instance) {
  scope.count_index = instance.index;
  if (instance.key)
    scope.each = EachBinding{json::value(*instance.key), instance.value};
  else
    scope.each.reset();
}

std::string quote_key(const std::string& key) {
  std::string out(1, '"');
  for (char c : key) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

// Built with append: GCC 12 reports a false -Wrestrict for "[" + std::string temporaries.
std::string instance_suffix(const Instance& instance) {
  std::string out;
  if (instance.index) out.append("[").append(std::to_string(*instance.index)).append("]");
  if (instance.key) out.append("[").append(quote_key(*instance.key)).append("]");
  return out;
}

void InstanceValues::add(const Instance& instance, json::value v) {
  switch (repetition_) {
    case Repetition::single:
      single_ = std::move(v);
      return;
    case Repetition::count:
      list_.push_back(std::move(v));
      return;
    case Repetition::for_each:
      map_[*instance.key] = std::move(v);
      return;
  }
}

json::value InstanceValues::take() {
  switch (repetition_) {
    case Repetition::single:
      return std::move(single_);
    case Repetition::count:
      return std::move(list_);
    case Repetition::for_each:
      return std::move(map_);
  }
  return nullptr;
}

Lifecycle read_lifecycle(const Block& block, EvalScope& scope) {
  Lifecycle out;
  const Block* lifecycle = nullptr;
  for (const auto& nested : block.blocks) {
    if (nested.type != "lifecycle") continue;
    if (lifecycle) fail_at(nested.position, "a block may have only one lifecycle block");
    lifecycle = &nested;
  }
  if (!lifecycle) return out;
  if (const Attribute* p = lifecycle->attribute("prevent_destroy")) {
    json::value v = evaluate(*p->expression, scope);
    auto flag = as_bool(v);
    if (!flag) fail_at(p->position, "prevent_destroy must be a bool, got " + type_name(v));
    out.prevent_destroy = *flag;
  }
  if (const Attribute* i = lifecycle->attribute("ignore_changes")) read_ignore_changes(*i, out);
  // postcondition blocks are skipped: they check the object after it is created (self and
  // computed attributes), values that exist only at apply time, which planning never sees.
  for (const auto& nested : lifecycle->blocks)
    if (nested.type == "precondition") out.preconditions.push_back(&nested);
  return out;
}

void check_preconditions(const Lifecycle& lifecycle, EvalScope& scope) {
  for (const Block* p : lifecycle.preconditions) {
    const Attribute* condition = p->attribute("condition");
    if (!condition) fail_at(p->position, "a precondition block needs a condition");
    json::value v = evaluate(*condition->expression, scope);
    auto ok = as_bool(v);
    if (!ok)
      fail_at(condition->position, "a precondition condition must be a bool, got " + type_name(v));
    if (*ok) continue;
    std::string message = "the condition is false";
    if (const Attribute* m = p->attribute("error_message"))
      if (auto s = as_string(evaluate(*m->expression, scope))) message = *s;
    fail_at(condition->position, "precondition failed: " + message);
  }
}

}  // namespace berth::hcl
