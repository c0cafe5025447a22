#include "hcl/module.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cmath>
#include <queue>
#include <set>

#include "hcl/eval.hpp"
#include "hcl/parser.hpp"
#include "hcl/values.hpp"

namespace berth::hcl {

namespace {

// Arguments Terraform itself interprets; they are never passed to the provider.
const std::set<std::string> kMetaArguments = {"count", "for_each", "depends_on", "provider"};
const std::set<std::string> kMetaBlocks = {"lifecycle", "provisioner", "connection"};
// Top-level blocks that configure Terraform rather than describe resources.
const std::set<std::string> kIgnoredBlocks = {"terraform", "provider", "check",
                                              "moved",     "import",   "removed"};

// Stored values (locals, outputs, planned resources) stay below these, so that chains of locals
// cannot build values deep enough to exhaust the stack or large enough to exhaust memory.
constexpr int kMaxValueDepth = 256;
constexpr std::size_t kMaxValueBytes = 32 << 20;

// Adds v's size to `bytes`; false once the depth or size limit is passed.
bool within_limits(const json::value& v, int depth, std::size_t& bytes) {
  if (depth > kMaxValueDepth) return false;
  bytes += 16;
  if (v.is_string()) bytes += v.get_string().size();
  if (v.is_array())
    for (const auto& e : v.get_array())
      if (!within_limits(e, depth + 1, bytes)) return false;
  if (v.is_object())
    for (const auto& [k, e] : v.get_object()) {
      bytes += k.size();
      if (!within_limits(e, depth + 1, bytes)) return false;
    }
  return bytes <= kMaxValueBytes;
}

void check_limits(const json::value& v, const Position& position, const std::string& what) {
  std::size_t bytes = 0;
  if (!within_limits(v, 0, bytes))
    fail_at(position, "the value of " + what + " is too large or too deeply nested");
}

enum class NodeKind { variable, local, data, managed, output };

// One declaration in the dependency graph.
struct Node {
  NodeKind kind;
  std::string key;  // var.x, local.x, data.T.N, T.N, output.x
  const Block* block = nullptr;
  const Attribute* local = nullptr;
  Position position;
  std::set<std::string> references;
};

// Collects the declarations `e` refers to, ignoring names bound by for expressions.
void collect_references(const Expression& e, std::vector<std::string>& bound,
                        std::set<std::string>& out) {
  auto is_root = [&](const Expression& x, const char* name) {
    return x.kind == ExpressionKind::variable && x.name == name &&
           std::find(bound.begin(), bound.end(), x.name) == bound.end();
  };
  if (e.kind == ExpressionKind::get_attr) {
    const Expression& source = *e.operands[0];
    if (source.kind == ExpressionKind::variable &&
        std::find(bound.begin(), bound.end(), source.name) == bound.end()) {
      if (source.name == "var" || source.name == "local")
        out.insert(source.name + "." + e.name);
      else if (source.name != "data")
        out.insert(source.name + "." + e.name);
    } else if (source.kind == ExpressionKind::get_attr && is_root(*source.operands[0], "data")) {
      out.insert("data." + source.name + "." + e.name);
    }
  }
  bool binds = e.kind == ExpressionKind::for_expr || e.kind == ExpressionKind::template_for;
  for (std::size_t i = 0; i < e.operands.size(); ++i) {
    if (!e.operands[i]) continue;
    bool inside = binds && i > 0;
    if (inside) {
      bound.push_back(e.key_var);
      bound.push_back(e.value_var);
    }
    collect_references(*e.operands[i], bound, out);
    if (inside) bound.resize(bound.size() - 2);
  }
  for (const auto& [k, v] : e.items) {
    collect_references(*k, bound, out);
    collect_references(*v, bound, out);
  }
}

void collect_block_references(const Block& block, std::set<std::string>& out) {
  std::vector<std::string> bound;
  for (const auto& a : block.attributes) collect_references(*a.expression, bound, out);
  for (const auto& b : block.blocks) collect_block_references(b, out);
}

class ModuleEvaluator {
 public:
  ModuleEvaluator(const std::vector<File>& files, Provider& provider, const ModuleOptions& options)
      : files_(files), provider_(provider), options_(options) {}

  ModuleResult run() {
    declare();
    record_dependencies();
    for (std::size_t i : order()) evaluate_node(nodes_[i]);
    result_.variables = variables_;
    return std::move(result_);
  }

 private:
  void add(Node node) {
    if (!index_.emplace(node.key, nodes_.size()).second)
      fail_at(node.position, "duplicate declaration of " + node.key);
    nodes_.push_back(std::move(node));
  }

  static void require_labels(const Block& b, std::size_t n, const char* shape) {
    if (b.labels.size() != n) fail_at(b.position, "a " + b.type + " block needs the form " + shape);
  }

  void declare() {
    for (const auto& file : files_) {
      if (!file.attributes.empty())
        fail_at(file.attributes[0].position,
                "unexpected attribute \"" + file.attributes[0].name + "\" at the top level");
      for (const auto& b : file.blocks) declare_block(b);
    }
  }

  void declare_block(const Block& b) {
    if (kIgnoredBlocks.contains(b.type)) return;
    if (b.type == "variable") {
      require_labels(b, 1, "variable \"name\" { ... }");
      add(Node{NodeKind::variable, "var." + b.labels[0], &b, nullptr, b.position, {}});
    } else if (b.type == "locals") {
      for (const auto& a : b.attributes) {
        Node n{NodeKind::local, "local." + a.name, &b, &a, a.position, {}};
        std::vector<std::string> bound;
        collect_references(*a.expression, bound, n.references);
        add(std::move(n));
      }
      if (!b.blocks.empty()) fail_at(b.blocks[0].position, "blocks are not allowed in locals");
    } else if (b.type == "output") {
      require_labels(b, 1, "output \"name\" { value = ... }");
      declare_with_references(NodeKind::output, "output." + b.labels[0], b);
    } else if (b.type == "data") {
      require_labels(b, 2, "data \"type\" \"name\" { ... }");
      declare_with_references(NodeKind::data, "data." + b.labels[0] + "." + b.labels[1], b);
    } else if (b.type == "resource") {
      require_labels(b, 2, "resource \"type\" \"name\" { ... }");
      declare_with_references(NodeKind::managed, b.labels[0] + "." + b.labels[1], b);
    } else if (b.type == "module") {
      fail_at(b.position, "module blocks are not supported");
    } else {
      fail_at(b.position, "unsupported block type \"" + b.type + "\"");
    }
  }

  void declare_with_references(NodeKind kind, std::string key, const Block& b) {
    Node n{kind, std::move(key), &b, nullptr, b.position, {}};
    collect_block_references(b, n.references);
    n.references.erase(n.key);  // self-reference is reported as a cycle below
    if (std::set<std::string> self; true) {
      collect_block_references(b, self);
      if (self.contains(n.key)) n.references.insert(n.key);
    }
    add(std::move(n));
  }

  // Keeps the references that name declarations (not count.index, path.module, each.key).
  void record_dependencies() {
    for (const auto& n : nodes_) {
      auto& deps = result_.dependencies[n.key];
      for (const auto& ref : n.references)
        if (ref != n.key && index_.contains(ref)) deps.push_back(ref);
    }
  }

  // Kahn's algorithm, preferring declaration order so that evaluation is deterministic.
  std::vector<std::size_t> order() {
    std::vector<std::vector<std::size_t>> dependents(nodes_.size());
    std::vector<std::size_t> pending(nodes_.size(), 0);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      for (const auto& ref : nodes_[i].references) {
        auto it = index_.find(ref);
        if (it == index_.end()) continue;  // undeclared: reported when evaluated
        dependents[it->second].push_back(i);
        ++pending[i];
      }
    }
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (pending[i] == 0) ready.push(i);
    std::vector<std::size_t> out;
    while (!ready.empty()) {
      std::size_t i = ready.top();
      ready.pop();
      out.push_back(i);
      for (std::size_t d : dependents[i])
        if (--pending[d] == 0) ready.push(d);
    }
    if (out.size() != nodes_.size()) report_cycle(pending);
    return out;
  }

  [[noreturn]] void report_cycle(const std::vector<std::size_t>& pending) {
    std::size_t start = 0;
    while (pending[start] == 0) ++start;
    // Walk unresolved dependencies until a node repeats; that loop is a cycle.
    std::vector<std::size_t> path;
    std::vector<int> seen(nodes_.size(), -1);
    std::size_t at = start;
    while (seen[at] < 0) {
      seen[at] = static_cast<int>(path.size());
      path.push_back(at);
      for (const auto& ref : nodes_[at].references) {
        auto it = index_.find(ref);
        if (it != index_.end() && pending[it->second] > 0) {
          at = it->second;
          break;
        }
      }
    }
    std::string chain;
    for (std::size_t k = static_cast<std::size_t>(seen[at]); k < path.size(); ++k)
      chain += nodes_[path[k]].key + " -> ";
    chain += nodes_[at].key;
    fail_at(nodes_[at].position, "dependency cycle: " + chain);
  }

  EvalScope scope() const {
    EvalScope s;
    s.variables = &variables_;
    s.locals = &locals_;
    s.resources = &resources_;
    s.functions = FunctionEnvironment{options_.module_dir, options_.max_file_bytes};
    return s;
  }

  json::value eval(const Expression& e) {
    EvalScope s = scope();
    return evaluate(e, s);
  }

  void evaluate_node(const Node& n) {
    switch (n.kind) {
      case NodeKind::variable:
        return evaluate_variable(*n.block);
      case NodeKind::local: {
        json::value v = eval(*n.local->expression);
        check_limits(v, n.position, n.key);
        locals_[n.local->name] = std::move(v);
        return;
      }
      case NodeKind::output: {
        const Attribute* value = n.block->attribute("value");
        if (!value) fail_at(n.position, "output \"" + n.block->labels[0] + "\" needs a value");
        json::value v = eval(*value->expression);
        check_limits(v, n.position, n.key);
        result_.outputs[n.block->labels[0]] = std::move(v);
        return;
      }
      case NodeKind::data:
        return evaluate_resource("data", *n.block, n.key);
      case NodeKind::managed:
        return evaluate_resource("managed", *n.block, n.key);
    }
  }

  void evaluate_variable(const Block& b) {
    const std::string& name = b.labels[0];
    json::value value;
    if (auto it = options_.variable_values.find(name); it != options_.variable_values.end()) {
      value = it->second;
    } else if (const Attribute* d = b.attribute("default")) {
      EvalScope s;  // defaults may not refer to anything
      s.functions = FunctionEnvironment{options_.module_dir, options_.max_file_bytes};
      value = evaluate(*d->expression, s);
    } else {
      fail_at(b.position, "variable \"" + name + "\" is required");
    }
    if (const Attribute* type = b.attribute("type"); type && !value.is_null())
      value = convert(value, *type->expression, name);
    check_limits(value, b.position, "var." + name);
    variables_[name] = value;
    for (const auto& v : b.blocks) {
      if (v.type != "validation") continue;
      const Attribute* condition = v.attribute("condition");
      if (!condition) fail_at(v.position, "a validation block needs a condition");
      json::value ok = eval(*condition->expression);
      if (!ok.is_bool()) fail_at(condition->position, "a validation condition must be a bool");
      if (!ok.get_bool()) {
        std::string message = "the value is invalid";
        if (const Attribute* m = v.attribute("error_message"))
          if (auto s = as_string(eval(*m->expression))) message = *s;
        fail_at(v.position, "invalid value for variable \"" + name + "\": " + message);
      }
    }
  }

  // Applies a variable's type constraint, converting strings (how Coder passes values) to
  // numbers, bools, and JSON-encoded lists and maps.
  json::value convert(const json::value& v, const Expression& type, const std::string& name) {
    auto bad = [&](const std::string& expected) -> json::value {
      fail_at(type.position, "invalid value for variable \"" + name + "\": " + expected +
                                 " is required, got " + type_name(v));
    };
    if (type.kind == ExpressionKind::variable) {
      if (type.name == "string") {
        auto s = as_string(v);
        return s ? json::value(*s) : bad("a string");
      }
      if (type.name == "number") {
        auto n = as_number(v);
        return n ? *n : bad("a number");
      }
      if (type.name == "bool") {
        auto b = as_bool(v);
        return b ? json::value(*b) : bad("a bool");
      }
      return v;  // any
    }
    if (type.kind != ExpressionKind::call || type.operands.empty()) return v;
    json::value value = v;
    if (value.is_string()) {
      boost::system::error_code ec;
      json::value decoded = boost::json::parse(value.get_string(), ec);
      if (!ec) value = normalize_number(decoded);
    }
    const Expression& element = *type.operands[0];
    if (type.name == "list" || type.name == "set") {
      if (!value.is_array()) return bad("a list");
      json::array out;
      for (const auto& e : value.get_array()) out.push_back(convert(e, element, name));
      return out;
    }
    if (type.name == "map") {
      if (!value.is_object()) return bad("a map");
      json::object out;
      for (const auto& [k, e] : value.get_object()) out[k] = convert(e, element, name);
      return out;
    }
    if (type.name == "object" && !value.is_object()) return bad("an object");
    if (type.name == "tuple" && !value.is_array()) return bad("a tuple");
    return value;
  }

  void evaluate_resource(const std::string& mode, const Block& b, const std::string& key) {
    const std::string& type = b.labels[0];
    const std::string& name = b.labels[1];
    if (const Attribute* each = b.attribute("for_each"))
      fail_at(each->position, "for_each is not supported; use count");
    if (!provider_.supports(mode, type))
      fail_at(b.position,
              std::string(mode == "data" ? "unknown data source" : "unknown resource type") +
                  " \"" + type + "\"");
    std::optional<std::int64_t> count;
    if (const Attribute* c = b.attribute("count")) count = evaluate_count(*c);
    json::array instances;
    for (std::int64_t i = 0; i < count.value_or(1); ++i) {
      EvalScope s = scope();
      if (count) s.count_index = i;
      json::value config = evaluate_body(b, s, true);
      std::optional<std::int64_t> index;
      if (count) index = i;
      json::value planned = provider_.plan(mode, type, name, index, std::move(config), b.position);
      if (!planned.is_object())
        fail_at(b.position, "the provider returned no attributes for " + key);
      check_limits(planned, b.position, key);
      instances.push_back(planned);
      result_.resources.push_back(ResourceInstance{mode, type, name, index, std::move(planned),
                                                   b.position, result_.dependencies[key]});
    }
    if (count)
      resources_[key] = std::move(instances);
    else
      resources_[key] = std::move(instances[0]);
  }

  std::int64_t evaluate_count(const Attribute& c) {
    json::value v = eval(*c.expression);
    auto n = as_number(v);
    if (!n) fail_at(c.position, "count must be a whole number, got " + type_name(v));
    double d = to_double(*n);
    if (d != std::floor(d) || d < 0) fail_at(c.position, "count must be a whole number, 0 or more");
    if (d > static_cast<double>(kMaxCount))
      fail_at(c.position, "count must be at most " + std::to_string(kMaxCount));
    return static_cast<std::int64_t>(d);
  }

  // Attributes and nested blocks as the provider sees them: blocks become arrays of objects
  // under their type; null attributes are left out, as Terraform treats them as unset.
  json::value evaluate_body(const Block& b, EvalScope& s, bool top_level) {
    json::object config;
    for (const auto& a : b.attributes) {
      if (top_level && kMetaArguments.contains(a.name)) continue;
      json::value v = evaluate(*a.expression, s);
      if (!v.is_null()) config[a.name] = std::move(v);
    }
    for (const auto& nested : b.blocks) {
      if (top_level && kMetaBlocks.contains(nested.type)) continue;
      if (nested.type == "dynamic") {
        evaluate_dynamic(nested, s, config);
        continue;
      }
      json::value& list = config[nested.type];
      if (!list.is_array()) list = json::array();
      list.get_array().push_back(evaluate_body(nested, s, false));
    }
    return config;
  }

  // dynamic "name" { for_each = ...; iterator = it; content { ... } }
  void evaluate_dynamic(const Block& d, EvalScope& s, json::object& config) {
    if (d.labels.size() != 1) fail_at(d.position, "a dynamic block needs one label");
    const Attribute* each = d.attribute("for_each");
    if (!each) fail_at(d.position, "a dynamic block needs for_each");
    std::string iterator = d.labels[0];
    if (const Attribute* it = d.attribute("iterator")) {
      if (it->expression->kind != ExpressionKind::variable)
        fail_at(it->position, "iterator must be a name");
      iterator = it->expression->name;
    }
    const Block* content = nullptr;
    for (const auto& nested : d.blocks)
      if (nested.type == "content") content = &nested;
    if (!content) fail_at(d.position, "a dynamic block needs a content block");
    json::value collection = evaluate(*each->expression, s);
    json::value& list = config[d.labels[0]];
    if (!list.is_array()) list = json::array();
    auto emit = [&](json::value key, json::value value) {
      s.bindings.emplace_back(iterator,
                              json::object{{"key", std::move(key)}, {"value", std::move(value)}});
      try {
        list.get_array().push_back(evaluate_body(*content, s, false));
      } catch (...) {
        s.bindings.pop_back();
        throw;
      }
      s.bindings.pop_back();
    };
    if (collection.is_array()) {
      for (std::size_t i = 0; i < collection.get_array().size(); ++i)
        emit(static_cast<std::int64_t>(i), collection.get_array()[i]);
    } else if (collection.is_object()) {
      std::vector<std::string> keys;
      for (const auto& kv : collection.get_object()) keys.emplace_back(kv.key());
      std::sort(keys.begin(), keys.end());
      for (const auto& k : keys) emit(json::value(k), collection.get_object().at(k));
    } else if (!collection.is_null()) {
      fail_at(each->position, "for_each must be a list or map, got " + type_name(collection));
    }
  }

  const std::vector<File>& files_;
  Provider& provider_;
  const ModuleOptions& options_;
  std::vector<Node> nodes_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, json::value> variables_;
  std::map<std::string, json::value> locals_;
  std::map<std::string, json::value> resources_;
  ModuleResult result_;
};

}  // namespace

std::string ResourceInstance::label() const {
  return (mode == "data" ? "data." : "") + type + "." + name;
}

std::string ResourceInstance::address() const {
  return index ? label() + "[" + std::to_string(*index) + "]" : label();
}

ModuleResult evaluate_module(const std::vector<File>& files, Provider& provider,
                             const ModuleOptions& options) {
  return ModuleEvaluator(files, provider, options).run();
}

std::vector<File> parse_module(const std::map<std::string, std::string>& tf_files) {
  std::vector<File> files;
  for (const auto& [name, contents] : tf_files) files.push_back(parse(contents, name));
  return files;
}

}  // namespace berth::hcl
