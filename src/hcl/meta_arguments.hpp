#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "hcl/ast.hpp"
#include "hcl/eval.hpp"

namespace berth::hcl {

// Which meta-argument repeats a resource, data or module block.
enum class Repetition { single, count, for_each };

// One instance of a block: what count.index or each.key/each.value are inside it.
struct Instance {
  std::optional<std::int64_t> index;  // with count
  std::optional<std::string> key;     // with for_each
  json::value value;                  // each.value
};

// A block's instances in Terraform's order: by index, or by key.
struct Expansion {
  Repetition repetition = Repetition::single;
  std::vector<Instance> instances;
};

// Evaluates the block's count or for_each (at most kMaxCount instances) in `scope`.
Expansion expand_block(const Block& block, EvalScope& scope);

// Makes count.index and each.* of `instance` visible in `scope`.
void bind_instance(EvalScope& scope, const Instance& instance);

// How an address names the instance: "", "[0]" or "[\"key\"]".
std::string instance_suffix(const Instance& instance);
std::string quote_key(const std::string& key);

// Gathers the instances' values the way references see the block: the value itself, a list
// by count.index, or a map by each.key.
class InstanceValues {
 public:
  explicit InstanceValues(Repetition repetition) : repetition_(repetition) {}
  void add(const Instance& instance, json::value v);
  json::value take();

 private:
  Repetition repetition_;
  json::value single_;
  json::array list_;
  json::object map_;
};

// What a `lifecycle` block asks of a resource or data source.
struct Lifecycle {
  bool prevent_destroy = false;
  bool ignore_all_changes = false;
  std::vector<std::string> ignore_changes;
  std::vector<const Block*> preconditions;
};

// Reads the block's lifecycle; prevent_destroy is evaluated in `scope`, ignore_changes is
// read by name.
Lifecycle read_lifecycle(const Block& block, EvalScope& scope);

// Evaluates each precondition in the instance's scope; a false one fails with its
// error_message at its condition.
void check_preconditions(const Lifecycle& lifecycle, EvalScope& scope);

}  // namespace berth::hcl
