// fakekube's CEL evaluator against results the CEL language definition prescribes (and cel-go, the evaluator
// kube-apiserver embeds, returns): one table of expressions, their bindings and expected outcomes. Where the
// real compiler refuses an ill-typed expression at compile time, fakekube (no type checker) answers an
// evaluation error: both are errors. Expressions outside fakekube's subset (e.g. `matches`) must fail to
// compile rather than evaluate to anything.
#include "tests/fakekube/cel.hpp"

#include <boost/test/unit_test.hpp>

namespace cel = meshlink::fakekube::cel;
using meshlink::fakekube::cel::json;

namespace {

enum class Outcome { value, eval_error, compile_error };

struct Case {
    const char* expression;
    Outcome outcome;
    json expected; // the value, for Outcome::value
};

cel::Activation bindings() {
    cel::Activation activation;
    activation.values["object"] = json::parse(R"({
        "metadata": {"name": "node-a", "labels": {"meshlink.io/ready": "true", "zone": "a"},
                     "finalizers": ["x", "y"]},
        "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}], "unschedulable": false},
        "count": 3, "ratio": 0.5})");
    activation.values["oldObject"] = nullptr;
    activation.values["request"] = json::parse(R"({
        "operation": "UPDATE",
        "userInfo": {"username": "system:serviceaccount:ns:sa",
                     "extra": {"authentication.kubernetes.io/node-name": ["node-a"]}}})");
    activation.values["variables"] = json::parse(R"({"key": "authentication.kubernetes.io/node-name"})");
    activation.field_errors["variables"]["broken"] = "no such key: missing";
    return activation;
}

const std::vector<std::string> k_names = {"object", "oldObject", "request", "variables"};

const std::vector<Case> k_cases = {
    // Literals.
    {"1", Outcome::value, 1},
    {"-7", Outcome::value, -7},
    {"0x10", Outcome::value, 16},
    {"1.5", Outcome::value, 1.5},
    {"'single'", Outcome::value, "single"},
    {"\"double\"", Outcome::value, "double"},
    {"'it\\'s\\n'", Outcome::value, "it's\n"},
    {"r'raw\\n'", Outcome::value, "raw\\n"},
    {"'\\u00e9'", Outcome::value, "\xc3\xa9"},
    {"true", Outcome::value, true},
    {"false", Outcome::value, false},
    {"null", Outcome::value, nullptr},
    {"[1, 'a', [true]]", Outcome::value, json::parse(R"([1, "a", [true]])")},
    {"{'a': 1, 'b': [2]}", Outcome::value, json::parse(R"({"a": 1, "b": [2]})")},
    {"{'a': 1, 'a': 2}", Outcome::eval_error, nullptr},
    {"[]", Outcome::value, json::array()},
    // Selection, index, has().
    {"object.metadata.name", Outcome::value, "node-a"},
    {"object.metadata.labels['zone']", Outcome::value, "a"},
    {"object.metadata['labels'].zone", Outcome::value, "a"},
    {"object.metadata.finalizers[1]", Outcome::value, "y"},
    {"object.metadata.finalizers[2]", Outcome::eval_error, nullptr},
    {"object.metadata.finalizers['x']", Outcome::eval_error, nullptr},
    {"object.metadata.annotations", Outcome::eval_error, nullptr},
    {"object.metadata.labels['absent']", Outcome::eval_error, nullptr},
    {"has(object.metadata.labels)", Outcome::value, true},
    {"has(object.metadata.annotations)", Outcome::value, false},
    {"has(object.metadata.annotations.x)", Outcome::eval_error, nullptr},
    {"has(oldObject.metadata)", Outcome::eval_error, nullptr},
    {"oldObject.metadata", Outcome::eval_error, nullptr},
    {"oldObject == null", Outcome::value, true},
    {"has(object)", Outcome::compile_error, nullptr},
    {"request.userInfo.extra[variables.key][0]", Outcome::value, "node-a"},
    {"variables.key", Outcome::value, "authentication.kubernetes.io/node-name"},
    {"variables.broken == 1", Outcome::eval_error, nullptr},
    // in.
    {"'zone' in object.metadata.labels", Outcome::value, true},
    {"'a' in object.metadata.labels", Outcome::value, false},
    {"2 in [1, 2, 3]", Outcome::value, true},
    {"[2] in [[1], [2]]", Outcome::value, true},
    {"4 in [1, 2, 3]", Outcome::value, false},
    {"1 in 'abc'", Outcome::eval_error, nullptr},
    // Logic and CEL's commutative error semantics.
    {"!true", Outcome::value, false},
    {"!!true", Outcome::value, true},
    {"!1", Outcome::eval_error, nullptr},
    {"true && true", Outcome::value, true},
    {"true && false", Outcome::value, false},
    {"false || true", Outcome::value, true},
    {"false || false", Outcome::value, false},
    {"false && object.missing", Outcome::value, false},
    {"object.missing && false", Outcome::value, false},
    {"true && object.missing", Outcome::eval_error, nullptr},
    {"object.missing && true", Outcome::eval_error, nullptr},
    {"true || object.missing", Outcome::value, true},
    {"object.missing || true", Outcome::value, true},
    {"false || object.missing", Outcome::eval_error, nullptr},
    {"1 && true", Outcome::eval_error, nullptr},
    {"true ? 'yes' : object.missing", Outcome::value, "yes"},
    {"false ? object.missing : 'no'", Outcome::value, "no"},
    {"1 ? 'yes' : 'no'", Outcome::eval_error, nullptr},
    {"true ? 1 : false ? 2 : 3", Outcome::value, 1},
    {"false ? 1 : false ? 2 : 3", Outcome::value, 3},
    // Equality and ordering.
    {"[1, [2, 'x']] == [1, [2, 'x']]", Outcome::value, true},
    {"[1, 2] == [2, 1]", Outcome::value, false},
    {"{'a': [1], 'b': 'c'} == {'b': 'c', 'a': [1]}", Outcome::value, true},
    {"{'a': 1} != {'a': 2}", Outcome::value, true},
    {"object.spec == {'taints': [{'key': 'k', 'effect': 'NoSchedule'}], 'unschedulable': false}",
     Outcome::value, true},
    {"object.count == 'a'", Outcome::value, false}, // dyn operands of different types: not equal
    {"null == null", Outcome::value, true},
    {"1 < 2", Outcome::value, true},
    {"2 <= 2", Outcome::value, true},
    {"3 > 4", Outcome::value, false},
    {"'b' >= 'a'", Outcome::value, true},
    {"'abc' < 'abd'", Outcome::value, true},
    {"1 < 'a'", Outcome::eval_error, nullptr},
    {"[1] < [2]", Outcome::eval_error, nullptr},
    // Arithmetic.
    {"1 + 2 * 3", Outcome::value, 7},
    {"(1 + 2) * 3", Outcome::value, 9},
    {"7 / 2", Outcome::value, 3},
    {"7 % 3", Outcome::value, 1},
    {"-7 / 2", Outcome::value, -3},
    {"1 / 0", Outcome::eval_error, nullptr},
    {"1 % 0", Outcome::eval_error, nullptr},
    {"9223372036854775807 + 1", Outcome::eval_error, nullptr},
    {"'ab' + 'cd'", Outcome::value, "abcd"},
    {"[1] + [2, 3]", Outcome::value, json::parse("[1, 2, 3]")},
    {"1 + 'a'", Outcome::eval_error, nullptr},
    {"1 + 1.5", Outcome::eval_error, nullptr},
    {"object.count - 1", Outcome::value, 2},
    {"object.ratio * 2.0", Outcome::value, 1.0},
    // size() and string methods.
    {"size('h\xc3\xa9')", Outcome::value, 2},
    {"'abc'.size()", Outcome::value, 3},
    {"size(object.metadata.labels)", Outcome::value, 2},
    {"object.metadata.finalizers.size()", Outcome::value, 2},
    {"size(1)", Outcome::eval_error, nullptr},
    {"'meshlink.io/x'.startsWith('meshlink.io/')", Outcome::value, true},
    {"'x/meshlink.io/'.startsWith('meshlink.io/')", Outcome::value, false},
    {"'report.json'.endsWith('.json')", Outcome::value, true},
    {"'abc'.contains('bc')", Outcome::value, true},
    {"'abc'.contains('x')", Outcome::value, false},
    {"'abc'.startsWith(1)", Outcome::eval_error, nullptr},
    {"object.count.startsWith('a')", Outcome::eval_error, nullptr},
    // Macros over lists and map keys.
    {"[1, 2, 3].all(x, x > 0)", Outcome::value, true},
    {"[1, 2, 3].all(x, x > 1)", Outcome::value, false},
    {"[].all(x, x > 1)", Outcome::value, true},
    {"[1, 2, 3].exists(x, x == 2)", Outcome::value, true},
    {"[1, 2, 3].exists(x, x == 5)", Outcome::value, false},
    {"[1, 2, 3].exists_one(x, x > 1)", Outcome::value, false},
    {"[1, 2, 3].exists_one(x, x > 2)", Outcome::value, true},
    {"[1, 2, 3].map(x, x * 2)", Outcome::value, json::parse("[2, 4, 6]")},
    {"[1, 2, 3].map(x, x > 1, x * 10)", Outcome::value, json::parse("[20, 30]")},
    {"[1, 2, 3].filter(x, x != 2)", Outcome::value, json::parse("[1, 3]")},
    {"object.metadata.labels.all(k, k.startsWith('meshlink.io/') || k == 'zone')", Outcome::value, true},
    {"object.metadata.labels.exists(k, k == 'zone')", Outcome::value, true},
    {"object.metadata.labels.map(k, k)", Outcome::value, json::parse(R"(["meshlink.io/ready", "zone"])")},
    {"object.metadata.labels.filter(k, object.metadata.labels[k] == 'a')", Outcome::value,
     json::parse(R"(["zone"])")},
    {"[[1, 2], [3]].all(l, l.all(x, x > 0))", Outcome::value, true},
    // all/exists: a decisive element wins over an error, as for && and ||; else the error stands.
    {"[0, 1].all(x, 1 / x > 5)", Outcome::value, false},
    {"[0, 1].all(x, 1 / x > 0)", Outcome::eval_error, nullptr},
    {"[0, 1].exists(x, 1 / x == 1)", Outcome::value, true},
    {"[0, 2].exists(x, 1 / x == 1)", Outcome::eval_error, nullptr},
    {"[0, 1].exists_one(x, 1 / x == 1)", Outcome::eval_error, nullptr},
    {"[0].map(x, 1 / x)", Outcome::eval_error, nullptr},
    {"[1, 2].all(x, x)", Outcome::eval_error, nullptr},
    {"1.all(x, true)", Outcome::eval_error, nullptr},
    {"[1].all(x, y)", Outcome::compile_error, nullptr},
    {"[1].all(1, true)", Outcome::compile_error, nullptr},
    {"[1].all(x)", Outcome::compile_error, nullptr},
    // Unsupported or malformed: compile errors, never a silent result.
    {"matches('a', 'b')", Outcome::compile_error, nullptr},
    {"'a'.matches('a')", Outcome::compile_error, nullptr},
    {"'abc'.lowerAscii()", Outcome::compile_error, nullptr},
    {"unknown", Outcome::compile_error, nullptr},
    {"object.", Outcome::compile_error, nullptr},
    {"1 +", Outcome::compile_error, nullptr},
    {"(1", Outcome::compile_error, nullptr},
    {"'unterminated", Outcome::compile_error, nullptr},
    {"b'bytes'", Outcome::compile_error, nullptr},
    {"1u", Outcome::compile_error, nullptr},
    {"1 = 1", Outcome::compile_error, nullptr},
    {"size(1, 2)", Outcome::compile_error, nullptr},
    {"", Outcome::compile_error, nullptr},
};

} // namespace

BOOST_AUTO_TEST_SUITE(cel_evaluator)

BOOST_AUTO_TEST_CASE(expressions_evaluate_as_the_cel_specification_says) {
    const cel::Activation activation = bindings();
    for (const auto& test : k_cases) {
        BOOST_TEST_CONTEXT(test.expression) {
            auto program = cel::Program::compile(test.expression, k_names);
            if (test.outcome == Outcome::compile_error) {
                BOOST_TEST(!program.has_value());
                continue;
            }
            BOOST_TEST_REQUIRE(program.has_value(), (program ? "" : program.error().message));
            auto result = program->evaluate(activation);
            if (test.outcome == Outcome::eval_error) {
                BOOST_TEST(!result.has_value(), (result ? result->dump() : ""));
                continue;
            }
            BOOST_TEST_REQUIRE(result.has_value(), (result ? "" : result.error().message));
            BOOST_TEST(result->dump() == test.expected.dump());
            BOOST_TEST(result->type_name() == std::string(test.expected.type_name()));
        }
    }
}

BOOST_AUTO_TEST_CASE(errors_name_what_failed) {
    const cel::Activation activation = bindings();
    auto missing = cel::Program::compile("object.metadata.annotations['x']", k_names);
    BOOST_TEST_REQUIRE(missing.has_value());
    auto result = missing->evaluate(activation);
    BOOST_TEST_REQUIRE(!result.has_value());
    BOOST_TEST(result.error().message == "no such key: annotations");

    auto unknown = cel::Program::compile("nope.x", k_names);
    BOOST_TEST_REQUIRE(!unknown.has_value());
    BOOST_TEST(unknown.error().message.find("undeclared reference to 'nope'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused_not_a_crash) {
    const std::string deep = std::string(100000, '(') + "1" + std::string(100000, ')');
    BOOST_TEST(!cel::Program::compile(deep, k_names).has_value());
    const std::string negations = std::string(100000, '!') + "true";
    BOOST_TEST(!cel::Program::compile(negations, k_names).has_value());
    std::string sum = "1";
    for (int i = 0; i < 100000; ++i) {
        sum += " + 1";
    }
    BOOST_TEST(!cel::Program::compile(sum, k_names).has_value());
    std::string chain = "object";
    for (int i = 0; i < 100000; ++i) {
        chain += ".f";
    }
    BOOST_TEST(!cel::Program::compile(chain, k_names).has_value());
    BOOST_TEST(cel::Program::compile("!!!!!!!!true && 1 + 1 + 1 + 1 == 4", k_names).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
