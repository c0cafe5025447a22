#include "hcl/module.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <memory>
#include <queue>
#include <set>

#include "hcl/budget.hpp"
#include "hcl/eval.hpp"
#include "hcl/meta_arguments.hpp"
#include "hcl/module_source.hpp"
#include "hcl/parser.hpp"
#include "hcl/values.hpp"

namespace berth::hcl {

namespace {

// Arguments Terraform itself interprets; they are never passed to the provider.
const std::set<std::string> kMetaArguments = {"count", "for_each", "depends_on", "provider"};
const std::set<std::string> kMetaBlocks = {"lifecycle", "provisioner", "connection"};
// A module block's arguments that are not the child's input variables.
const std::set<std::string> kModuleArguments = {"source",   "version",    "count",
                                                "for_each", "depends_on", "providers"};
// Top-level blocks that configure Terraform rather than describe resources.
const std::set<std::string> kIgnoredBlocks = {"terraform", "check", "moved", "import", "removed"};

// Stored values (locals, outputs, planned resources) stay below these, so that chains of locals
// cannot build values deep enough to exhaust the stack or large enough to exhaust memory.
constexpr int kMaxValueDepth = 256;
constexpr std::size_t kMaxValueBytes = 32 << 20;
// What one module instance costs the budget beyond its expressions: its own graph, scopes and
// copies of options, so that modules with count calling modules with count cannot run for
// minutes on empty bodies.
constexpr std::size_t kValuesPerModuleInstance = 100;
// What a nested block's object costs the budget before its attributes do: an empty block costs
// no evaluation, yet nested dynamic blocks can multiply them.
constexpr std::size_t kBytesPerBlock = 32;

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

enum class NodeKind { variable, local, data, managed, output, provider, module };

// One declaration in the dependency graph.
struct Node {
  NodeKind kind;
  std::string key;  // var.x, local.x, data.T.N, T.N, output.x, provider.P, module.M
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

std::set<std::string> references_of(const Expression& e) {
  std::vector<std::string> bound;
  std::set<std::string> out;
  collect_references(e, bound, out);
  return out;
}

void collect_block_references(const Block& block, std::set<std::string>& out) {
  std::vector<std::string> bound;
  for (const auto& a : block.attributes) {
    // ignore_changes names the block's own attributes; they refer to no declaration.
    if (block.type == "lifecycle" && a.name == "ignore_changes") continue;
    collect_references(*a.expression, bound, out);
  }
  for (const auto& b : block.blocks) collect_block_references(b, out);
}

// Adds `more` to a dependency list, keeping it sorted and free of duplicates.
void add_dependencies(std::vector<std::string>& list, const std::vector<std::string>& more) {
  list.insert(list.end(), more.begin(), more.end());
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
}

// What a module evaluation shares with the modules it calls.
struct SharedState {
  EvalBudget budget;
  // Parsed .tf files by module directory, so that a module called per instance (or from many
  // instances of its caller) is read and parsed once.
  std::map<std::string, std::unique_ptr<const std::vector<File>>> files;
};

// Where a module sits among the modules being evaluated.
struct Frame {
  ModuleLocation location;
  // The directories of this module and of its callers, root first: a call to one of them is a
  // cycle.
  std::vector<std::string> stack;
  bool root = true;
};

class ModuleEvaluator {
 public:
  ModuleEvaluator(const std::vector<File>& files, Provider& provider, const ModuleOptions& options,
                  SharedState& shared, Frame frame)
      : files_(files),
        provider_(provider),
        options_(options),
        shared_(shared),
        frame_(std::move(frame)) {}

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
      for (const auto& a : b.attributes)
        add(Node{NodeKind::local, "local." + a.name, &b, &a, a.position,
                 references_of(*a.expression)});
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
      require_labels(b, 1, "module \"name\" { source = ... }");
      declare_with_references(NodeKind::module, "module." + b.labels[0], b);
    } else if (b.type == "provider") {
      declare_provider(b);
    } else {
      fail_at(b.position, "unsupported block type \"" + b.type + "\"");
    }
  }

  // Only the root module's provider blocks configure providers: one provider of each type
  // serves the whole template, as a called module inherits its caller's in Terraform.
  void declare_provider(const Block& b) {
    if (!frame_.root) return;
    require_labels(b, 1, "provider \"name\" { ... }");
    std::string key = "provider." + b.labels[0];
    if (const Attribute* alias = b.attribute("alias"))
      key += "." + static_string(*alias, "a provider alias");
    declare_with_references(NodeKind::provider, std::move(key), b);
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
    for (const auto& n : nodes_) result_.dependencies[n.key] = declared(n.references, n.key);
  }

  std::vector<std::string> declared(const std::set<std::string>& references,
                                    const std::string& self = "") const {
    std::vector<std::string> out;
    for (const auto& ref : references)
      if (ref != self && index_.contains(ref)) out.push_back(ref);
    return out;
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

  FunctionEnvironment functions() const {
    return FunctionEnvironment{options_.module_dir, options_.max_file_bytes, &shared_.budget};
  }

  EvalScope scope() const {
    EvalScope s;
    s.variables = &variables_;
    s.locals = &locals_;
    s.resources = &resources_;
    s.set_valued = &set_valued_;
    s.functions = functions();
    return s;
  }

  EvalScope instance_scope(const Instance& instance) const {
    EvalScope s = scope();
    bind_instance(s, instance);
    return s;
  }

  json::value eval(const Expression& e) {
    EvalScope s = scope();
    return evaluate(e, s);
  }

  // Arguments Terraform reads before evaluating anything (module sources, provider aliases).
  std::string static_string(const Attribute& a, const std::string& what) const {
    json::value v;
    if (references_of(*a.expression).empty()) {
      EvalScope s;
      s.functions = functions();
      v = evaluate(*a.expression, s);
    }
    if (!v.is_string()) fail_at(a.position, what + " must be a literal string");
    return std::string(v.get_string());
  }

  void evaluate_node(const Node& n) {
    switch (n.kind) {
      case NodeKind::variable:
        return evaluate_variable(*n.block);
      case NodeKind::local: {
        json::value v = eval(*n.local->expression);
        check_limits(v, n.position, n.key);
        locals_[n.local->name] = std::move(v);
        if (is_set_expression(*n.local->expression, &set_valued_)) set_valued_.insert(n.key);
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
      case NodeKind::provider:
        return evaluate_provider(n);
      case NodeKind::module:
        return evaluate_module_call(*n.block, n.key);
    }
  }

  void evaluate_variable(const Block& b) {
    const std::string& name = b.labels[0];
    json::value value;
    if (auto it = options_.variable_values.find(name); it != options_.variable_values.end()) {
      value = it->second;
    } else if (const Attribute* d = b.attribute("default")) {
      EvalScope s;  // defaults may not refer to anything
      s.functions = functions();
      value = evaluate(*d->expression, s);
    } else {
      fail_at(b.position, "variable \"" + name + "\" is required");
    }
    if (const Attribute* type = b.attribute("type"); type && !value.is_null())
      value = convert(value, *type->expression, name);
    if (const Attribute* type = b.attribute("type");
        type && type->expression->kind == ExpressionKind::call && type->expression->name == "set")
      set_valued_.insert("var." + name);
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
      if (!ec && !has_non_finite_number(decoded)) value = normalize_number(decoded);
    }
    const Expression& element = *type.operands[0];
    if (type.name == "list" || type.name == "set") {
      if (!value.is_array()) return bad("a list");
      json::array out;
      for (const auto& e : value.get_array()) out.push_back(convert(e, element, name));
      return type.name == "set" ? to_set(out) : out;
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

  void evaluate_provider(const Node& n) {
    EvalScope s = scope();
    json::value config = evaluate_body(*n.block, s, false);
    config.as_object().erase("alias");
    config.as_object().erase("version");
    check_limits(config, n.position, n.key);
    result_.providers[n.key.substr(std::string("provider.").size())] = std::move(config);
  }

  void evaluate_resource(const std::string& mode, const Block& b, const std::string& key) {
    const std::string& type = b.labels[0];
    const std::string& name = b.labels[1];
    if (!provider_.supports(mode, type))
      fail_at(b.position,
              std::string(mode == "data" ? "unknown data source" : "unknown resource type") +
                  " \"" + type + "\"");
    EvalScope outer = scope();
    Lifecycle lifecycle = read_lifecycle(b, outer);
    Expansion expansion = expand_block(b, outer);
    InstanceValues values(expansion.repetition);
    for (const Instance& instance : expansion.instances) {
      EvalScope s = instance_scope(instance);
      check_preconditions(lifecycle, s);
      json::value config = evaluate_body(b, s, true);
      json::value planned =
          provider_.plan(mode, type, name, instance.index, std::move(config), b.position);
      if (!planned.is_object())
        fail_at(b.position, "the provider returned no attributes for " + key);
      check_limits(planned, b.position, key);
      shared_.budget.charge_value(planned, b.position);
      values.add(instance, planned);
      ResourceInstance r;
      r.mode = mode;
      r.type = type;
      r.name = name;
      r.index = instance.index;
      r.key = instance.key;
      r.attributes = std::move(planned);
      r.position = b.position;
      r.depends_on = result_.dependencies[key];
      r.prevent_destroy = lifecycle.prevent_destroy;
      r.ignore_all_changes = lifecycle.ignore_all_changes;
      r.ignore_changes = lifecycle.ignore_changes;
      result_.resources.push_back(std::move(r));
    }
    resources_[key] = values.take();
  }

  // A module call is one node of this module's graph: it evaluates the child's files once per
  // instance, with the call's arguments as the child's variables, and exposes the child's
  // outputs as module.NAME.
  void evaluate_module_call(const Block& b, const std::string& key) {
    const std::string& name = b.labels[0];
    if (!b.blocks.empty())
      fail_at(b.blocks[0].position, "module \"" + name + "\": unexpected block \"" +
                                        b.blocks[0].type + "\"; its arguments are attributes");
    const Attribute* source = b.attribute("source");
    if (!source) fail_at(b.position, "module \"" + name + "\" needs a source");
    ModuleLocation location =
        resolve_module_source(name, static_string(*source, "a module source"), frame_.location,
                              options_.registry_module_dir, source->position);
    check_nesting(name, location, source->position);
    const std::vector<File>& files = module_files(name, location, source->position);
    check_inputs(b, files);
    EvalScope outer = scope();
    Expansion expansion = expand_block(b, outer);
    InstanceValues values(expansion.repetition);
    for (const Instance& instance : expansion.instances) {
      shared_.budget.charge(kValuesPerModuleInstance, 0, b.position);
      ModuleResult child = evaluate_child(b, instance, location, files);
      json::object outputs;
      for (auto& [output, v] : child.outputs) outputs[output] = std::move(v);
      adopt(child, key + instance_suffix(instance), key);
      values.add(instance, std::move(outputs));
    }
    record_module_edges(b, key);
    json::value v = values.take();
    check_limits(v, b.position, key);
    resources_[key] = std::move(v);
  }

  void check_nesting(const std::string& name, const ModuleLocation& location,
                     const Position& position) const {
    if (frame_.stack.size() > kMaxModuleDepth)
      fail_at(position, "module \"" + name + "\": modules nest more than " +
                            std::to_string(kMaxModuleDepth) + " deep");
    if (std::find(frame_.stack.begin(), frame_.stack.end(), location.dir.string()) !=
        frame_.stack.end())
      fail_at(position, "module \"" + name + "\": module cycle: " +
                            (location.display.empty() ? "the root module" : location.display) +
                            " is already being evaluated by a caller of this module");
  }

  const std::vector<File>& module_files(const std::string& name, const ModuleLocation& location,
                                        const Position& position) {
    auto& cached = shared_.files[location.dir.string()];
    if (!cached) {
      auto files = load_module_files(name, location, options_.max_file_bytes, position);
      shared_.budget.charge(files.size(), 0, position);
      cached = std::make_unique<const std::vector<File>>(std::move(files));
    }
    return *cached;
  }

  // Terraform rejects arguments the module declares no variable for, and required variables
  // the call leaves out; both are reported at the call rather than inside the module.
  static void check_inputs(const Block& call, const std::vector<File>& files) {
    const std::string& name = call.labels[0];
    std::map<std::string, const Block*> variables;
    for (const auto& f : files)
      for (const auto& b : f.blocks)
        if (b.type == "variable" && b.labels.size() == 1) variables[b.labels[0]] = &b;
    for (const auto& a : call.attributes)
      if (!kModuleArguments.contains(a.name) && !variables.contains(a.name))
        fail_at(a.position, "module \"" + name + "\" has no variable \"" + a.name +
                                "\"; an argument of a module block must be one of its inputs");
    for (const auto& [variable, block] : variables)
      if (!block->attribute("default") && !call.attribute(variable))
        fail_at(call.position,
                "module \"" + name + "\": the input \"" + variable + "\" is required");
  }

  ModuleResult evaluate_child(const Block& call, const Instance& instance,
                              const ModuleLocation& location, const std::vector<File>& files) {
    EvalScope s = instance_scope(instance);
    ModuleOptions options = options_;
    options.variable_values.clear();
    for (const auto& a : call.attributes)
      if (!kModuleArguments.contains(a.name))
        options.variable_values[a.name] = evaluate(*a.expression, s);
    options.module_dir = location.dir.string();
    options.root_dir = location.package.string();
    Frame frame{location, frame_.stack, false};
    frame.stack.push_back(location.dir.string());
    return ModuleEvaluator(files, provider_, options, shared_, std::move(frame)).run();
  }

  // Takes a called module's resources and graph into this module's result, under its path:
  // "module.NAME[0]" for addresses, "module.NAME" for graph labels.
  void adopt(ModuleResult& child, const std::string& address, const std::string& label) {
    for (auto& r : child.resources) {
      r.module = r.module.empty() ? address : address + "." + r.module;
      for (auto& d : r.depends_on) d = label + "." + d;
      result_.resources.push_back(std::move(r));
    }
    for (const auto& [node, deps] : child.dependencies) {
      std::vector<std::string> prefixed;
      for (const auto& d : deps) prefixed.push_back(label + "." + d);
      add_dependencies(result_.dependencies[label + "." + node], prefixed);
    }
    std::vector<std::string> outputs;
    for (const auto& [output, v] : child.outputs) outputs.push_back(label + ".output." + output);
    add_dependencies(result_.dependencies[label], outputs);
  }

  // Terraform's graph: each input variable of the module depends on what its argument refers
  // to here.
  void record_module_edges(const Block& call, const std::string& label) {
    for (const auto& a : call.attributes)
      if (!kModuleArguments.contains(a.name))
        add_dependencies(result_.dependencies[label + ".var." + a.name],
                         declared(references_of(*a.expression)));
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
      shared_.budget.charge(1, kBytesPerBlock, nested.position);
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
    bool set = is_set_expression(*each->expression, s.set_valued);
    json::value& list = config[d.labels[0]];
    if (!list.is_array()) list = json::array();
    auto emit = [&](json::value key, json::value value) {
      // Counted even when the content is empty, so that nested dynamic blocks cannot
      // multiply into billions of objects without evaluating anything.
      shared_.budget.charge(1, kBytesPerBlock, content->position);
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
        emit(set ? collection.get_array()[i] : json::value(static_cast<std::int64_t>(i)),
             collection.get_array()[i]);
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
  SharedState& shared_;
  Frame frame_;
  std::vector<Node> nodes_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, json::value> variables_;
  std::map<std::string, json::value> locals_;
  std::map<std::string, json::value> resources_;
  std::set<std::string> set_valued_;  // var.x and local.y that hold sets
  ModuleResult result_;
};

// "module.a[0].module.b[\"x\"]" → "module.a.module.b": instance keys are skipped, including
// quoted ones that contain brackets.
std::string without_instance_keys(const std::string& path) {
  std::string out;
  bool in_key = false, in_string = false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (in_string) {
      if (c == '\\') ++i;
      if (c == '"') in_string = false;
    } else if (in_key) {
      if (c == '"') in_string = true;
      if (c == ']') in_key = false;
    } else if (c == '[') {
      in_key = true;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string ResourceInstance::label() const {
  std::string base = (mode == "data" ? "data." : "") + type + "." + name;
  return module.empty() ? base : without_instance_keys(module) + "." + base;
}

std::string ResourceInstance::address() const {
  std::string base = (mode == "data" ? "data." : "") + type + "." + name;
  if (index)
    base += "[" + std::to_string(*index) + "]";
  else if (key)
    base += "[" + quote_key(*key) + "]";
  return module.empty() ? base : module + "." + base;
}

ModuleOptions::ModuleOptions(std::map<std::string, json::value> variable_values,
                             std::string module_dir, std::size_t max_file_bytes)
    : variable_values(std::move(variable_values)),
      module_dir(std::move(module_dir)),
      max_file_bytes(max_file_bytes) {}

ModuleResult evaluate_module(const std::vector<File>& files, Provider& provider,
                             const ModuleOptions& options) {
  SharedState shared;
  Frame root{root_module_location(options.module_dir, options.root_dir), {}, true};
  root.stack.push_back(root.location.dir.string());
  return ModuleEvaluator(files, provider, options, shared, std::move(root)).run();
}

std::vector<File> parse_module(const std::map<std::string, std::string>& tf_files) {
  std::vector<File> files;
  for (const auto& [name, contents] : tf_files) files.push_back(parse(contents, name));
  return files;
}

}  // namespace berth::hcl
