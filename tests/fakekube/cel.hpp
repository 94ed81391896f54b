#pragma once
// A CEL (Common Expression Language) evaluator for the expressions Kubernetes admission policies use, over
// JSON values (the unstructured objects kube-apiserver hands to CEL). The supported subset, documented in
// tests/fakekube/README.md "Admission": literals (int, double, string with '' "" and r'' quotes, bool, null,
// lists, maps with string keys), identifiers, field selection, index, `has()`, `in`, `!`, unary `-`, `&&` and
// `||` with CEL's commutative error semantics (false && error == false, true || error == true), `==`/`!=`
// (deep, heterogeneous equality), `<` `<=` `>` `>=` on numbers, strings and bools, `+` on ints, doubles,
// strings and lists, `-` `*` `/` `%` on numbers, `?:`, size() as function and method, the string methods
// startsWith, endsWith and contains, and the macros all, exists, exists_one, map (2 and 3 arguments) and
// filter over lists and map keys.
//
// Anything else is refused, never guessed: an unknown function, method or identifier is a compile error,
// a wrong operand type an evaluation error ("no such overload"). No static type checking is done: a type
// error the real compiler would report shows up as an evaluation error instead.

#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace meshlink::fakekube::cel {

using json = nlohmann::json;

struct Node;

// What an expression is evaluated against: the top-level identifiers, and per identifier the fields whose
// evaluation failed (admission policy `variables` are evaluated once; one that fails is an error only where
// an expression selects it).
struct Activation {
    std::map<std::string, json> values;
    std::map<std::string, std::map<std::string, std::string>> field_errors;
};

class Program {
public:
    // Parses `source`. `names` are the identifiers it may refer to (e.g. object, oldObject, request,
    // variables). A kind `parse` error says what is wrong and where.
    static util::Result<Program> compile(std::string_view source, const std::vector<std::string>& names);

    // Evaluates; an evaluation error (no such key, no such overload, division by zero, ...) is a kind
    // `invalid` error with CEL's message.
    [[nodiscard]] util::Result<json> evaluate(const Activation& activation) const;

    [[nodiscard]] const std::string& source() const { return m_source; }

private:
    std::string m_source;
    std::shared_ptr<const Node> m_root;
};

} // namespace meshlink::fakekube::cel
