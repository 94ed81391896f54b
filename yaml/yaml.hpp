#pragma once
// YAML read and written the way Kubernetes tools do, over yaml-cpp nodes: kubeconfigs, manifests, Helm
// values.
//
// kubectl reads YAML with go-yaml v2 (YAML 1.1 scalar resolution) and then decodes JSON into typed structs
// (sigs.k8s.io/yaml), so a scalar's *type* matters: `"123"` is a string, `123` a number. yaml-cpp keeps the
// value but not the type: its emitter writes a quoted scalar back unquoted. These helpers track what kubectl
// would read and write scalars so that a string stays a string.

#include "util/error.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meshlink::yaml {

// How deep load() lets collections nest. Kubeconfigs, Kubernetes objects and Helm values nest a few dozen
// levels at most; a document nested deeper is refused as soon as the parser reaches this depth, before any
// recursive walk of the nodes could run out of stack and before libyaml spends seconds on it (80,000 flow
// levels took ~30 s). go-yaml, which kubectl reads with, stops at 10,000.
inline constexpr std::size_t k_max_nesting_depth = 1000;

// Parses the first YAML document of `text` with libyaml (the C parser go-yaml was ported from; yaml-cpp's
// own scanner is ~20x slower on kubeconfigs full of base64), building yaml-cpp nodes that carry their
// marks. Text in the block layout kubectl writes is read by a faster scanner that yields the same events
// (yaml/events.hpp); libyaml reads everything else and words every error. Scalars follow
// yaml-cpp's tag convention: "?" plain, "!" quoted or block, else the explicit tag; plain null-like scalars
// become Null nodes. Errors read "<name>:<line>: invalid YAML: <problem>", or name a duplicate key, a merge
// key (<<) or a non-scalar key: go-yaml reads those differently; or nesting deeper than
// k_max_nesting_depth ("<name>:<line>: YAML nested deeper than 1000 levels"). With `memory_of`, the nodes are
// built in that node's memory (see make_node_like).
util::Result<YAML::Node> load(std::string_view text, const std::string& name,
                              const YAML::Node* memory_of = nullptr);

// How go-yaml v2 would resolve a plain (unquoted) scalar.
enum class PlainScalarType { string, null, boolean, integer, floating };
PlainScalarType resolve_plain_scalar(std::string_view value);

// True when kubectl reads `node` as a string: any quoted or explicitly tagged scalar, or a plain one that
// resolves to no other type. Null, sequences and mappings are not strings.
bool is_string(const YAML::Node& node);

// The value of `key`, if `map` is a mapping that has it. (Cheaper than get() for a missing key: a new
// yaml-cpp node allocates its own memory.)
std::optional<YAML::Node> find(const YAML::Node& map, std::string_view key);

// The value of `key`, or an undefined node. (yaml-cpp's const operator[] returns an "invalid" node for a
// missing key, on which most calls throw; the non-const one inserts an invisible entry.)
YAML::Node get(const YAML::Node& map, std::string_view key);

// True when kubectl reads `node` as null (absent value, `~`, `null`).
bool is_null(const YAML::Node& node);

// A scalar node kubectl will read as the string `value`, whatever it looks like ("123", "true", "").
YAML::Node make_string_node(std::string_view value);

// A new node in the same yaml-cpp memory as `owner`. yaml-cpp merges the node sets of two memories when a
// node of one is attached to a node of the other; building a large document from nodes of one memory keeps
// every attach O(1) instead of copying a whole document's node set each time.
YAML::Node make_node_like(const YAML::Node& owner, YAML::NodeType::value type);
// make_string_node in `owner`'s memory.
YAML::Node make_string_node_like(const YAML::Node& owner, std::string_view value);
// A deep copy of `node` in `owner`'s memory, tags and marks included.
YAML::Node clone_like(const YAML::Node& node, const YAML::Node& owner);

// Writes a kubeconfig (or any part of one) as block YAML, keeping key order and scalar types: strings that
// a YAML 1.1 reader would take for another type are double-quoted, plain scalars stay plain, empty
// mappings/sequences are `{}`/`[]`. Aliases are expanded.
std::string emit(const YAML::Node& node);
// The same, also returning a digest of what the tree means, for verify_digest.
std::string emit(const YAML::Node& node, std::uint64_t& digest);

// Checks that `text` (from emit) reads back with the meaning whose digest emit computed: same
// structure and key order, scalars with the same value and type. Streams libyaml events, builds no nodes.
util::Result<> verify_digest(std::string_view text, std::uint64_t digest, const std::string& name);

// Deep equality of meaning: same scalar values and types, same sequences in order, same mapping keys with
// equal values in any order.
bool equal(const YAML::Node& a, const YAML::Node& b);

// The JSON kubectl makes of `node` (sigs.k8s.io/yaml over go-yaml v2): quoted and tagged scalars are
// strings, plain ones take their YAML 1.1 type (y/yes/on are true; 0x1f, 0o17, 017 and 1_000 are integers).
// A number JSON cannot hold (too large, .inf, .nan) stays its text. Null and absent nodes are null.
nlohmann::json to_json(const YAML::Node& node);

// to_json for text that must mean the same to every reader (manifests that kustomize, kubectl and Helm all
// read): refuses plain scalars that YAML 1.1 and 1.2 read as different types or values (booleans other than
// true/false, integers with a leading zero, a prefix or '_', numbers from_chars does not read whole) and
// explicit tags, with "<where>.<key>[<index>]: ..." naming the scalar. `where` names the document.
util::Result<nlohmann::json> to_portable_json(const YAML::Node& node, const std::string& where);

} // namespace meshlink::yaml
