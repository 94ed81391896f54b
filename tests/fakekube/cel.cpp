// The CEL subset of cel.hpp: a hand-written lexer and recursive-descent parser following the grammar of the
// CEL language definition (precedence: ?: below ||, below &&, below relations and `in`, below + -, below * /
// %, below unary ! -, below member access), and a tree-walking evaluator whose values are JSON.
#include "tests/fakekube/cel.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <variant>

namespace meshlink::fakekube::cel {

// ---- Syntax tree
// -------------------------------------------------------------------------------------------

enum class Op {
    literal,
    ident,
    select, // operand.field
    has,    // has(operand.field)
    index,  // operand[arg]
    call,   // function(args) or target.method(args)
    list,   // [args]
    map,    // {key: value, ...}: args alternate key, value
    logic_and,
    logic_or,
    logic_not,
    negate,
    conditional, // args: condition, then, else
    binary,      // name: == != < <= > >= + - * / % in
    comprehension,
};

struct Node {
    Op op = Op::literal;
    json value;                              // literal
    std::string name;                        // ident, field, function, binary operator, macro
    std::vector<std::shared_ptr<Node>> args; // operands
    std::shared_ptr<Node> target;            // receiver of a method call, operand of select/has/index
    std::string variable;                    // comprehension's iteration variable
    int depth = 1;                           // of the tree below and including this node
};

using NodePtr = std::shared_ptr<Node>;

namespace {

// ---- Lexer
// ---------------------------------------------------------------------------------------------------

enum class Tok { end, integer, floating, string, ident, punct };

struct Token {
    Tok kind = Tok::end;
    std::string text; // identifier, punctuation, or the decoded string
    json number;
    size_t at = 0;
};

void append_utf8(std::string& out, uint32_t code) {
    if (code < 0x80) {
        out += static_cast<char>(code);
    } else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (code >> 18));
        out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    }
}

class Lexer {
public:
    explicit Lexer(std::string_view text) : m_text(text) {}

    util::Result<std::vector<Token>> run() {
        std::vector<Token> out;
        while (true) {
            skip_space();
            Token token;
            token.at = m_pos;
            if (m_pos >= m_text.size()) {
                out.push_back(token);
                return out;
            }
            const char c = m_text[m_pos];
            if (std::isdigit(static_cast<unsigned char>(c)) ||
                (c == '.' && m_pos + 1 < m_text.size() &&
                 std::isdigit(static_cast<unsigned char>(m_text[m_pos + 1])))) {
                auto number = lex_number(token);
                if (!number) {
                    return std::unexpected(number.error());
                }
            } else if ((c == 'r' || c == 'R') && m_pos + 1 < m_text.size() &&
                       (m_text[m_pos + 1] == '\'' || m_text[m_pos + 1] == '"')) {
                ++m_pos;
                auto text = lex_string(true);
                if (!text) {
                    return std::unexpected(text.error());
                }
                token.kind = Tok::string;
                token.text = std::move(*text);
            } else if ((c == 'b' || c == 'B') && m_pos + 1 < m_text.size() &&
                       (m_text[m_pos + 1] == '\'' || m_text[m_pos + 1] == '"')) {
                return error("bytes literals are not supported by fakekube's CEL");
            } else if (c == '\'' || c == '"') {
                auto text = lex_string(false);
                if (!text) {
                    return std::unexpected(text.error());
                }
                token.kind = Tok::string;
                token.text = std::move(*text);
            } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
                size_t end = m_pos;
                while (end < m_text.size() &&
                       (std::isalnum(static_cast<unsigned char>(m_text[end])) || m_text[end] == '_')) {
                    ++end;
                }
                token.kind = Tok::ident;
                token.text = std::string(m_text.substr(m_pos, end - m_pos));
                m_pos = end;
            } else {
                static const std::vector<std::string> k_punct = {
                    "&&", "||", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}",
                    ".",  ",",  ":",  "?",  "!",  "<",  ">", "+", "-", "*", "/", "%"};
                bool found = false;
                for (const auto& punct : k_punct) {
                    if (m_text.substr(m_pos, punct.size()) == punct) {
                        token.kind = Tok::punct;
                        token.text = punct;
                        m_pos += punct.size();
                        found = true;
                        break;
                    }
                }
                if (!found) {
                    return error(std::string("unexpected character '") + c + "'");
                }
            }
            out.push_back(std::move(token));
        }
    }

private:
    std::string_view m_text;
    size_t m_pos = 0;

    std::unexpected<util::Error> error(const std::string& what) const {
        return util::fail(util::ErrorKind::parse,
                          "Syntax error: " + what + " at offset " + std::to_string(m_pos));
    }

    void skip_space() {
        while (m_pos < m_text.size()) {
            if (std::isspace(static_cast<unsigned char>(m_text[m_pos]))) {
                ++m_pos;
            } else if (m_text.substr(m_pos, 2) == "//") {
                while (m_pos < m_text.size() && m_text[m_pos] != '\n') {
                    ++m_pos;
                }
            } else {
                return;
            }
        }
    }

    util::Result<> lex_number(Token& token) {
        size_t end = m_pos;
        if (m_text.substr(m_pos, 2) == "0x" || m_text.substr(m_pos, 2) == "0X") {
            end += 2;
            while (end < m_text.size() && std::isxdigit(static_cast<unsigned char>(m_text[end]))) {
                ++end;
            }
            const std::string digits(m_text.substr(m_pos + 2, end - m_pos - 2));
            if (digits.empty()) {
                return error("malformed hexadecimal literal");
            }
            if (end < m_text.size() && (m_text[end] == 'u' || m_text[end] == 'U')) {
                return error("unsigned literals are not supported by fakekube's CEL");
            }
            errno = 0;
            const unsigned long long value = std::strtoull(digits.c_str(), nullptr, 16);
            if (errno != 0 || value > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max())) {
                return error("integer literal out of range");
            }
            token.kind = Tok::integer;
            token.number = static_cast<int64_t>(value);
            m_pos = end;
            return {};
        }
        bool floating = false;
        while (end < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[end]))) {
            ++end;
        }
        if (end + 1 < m_text.size() && m_text[end] == '.' &&
            std::isdigit(static_cast<unsigned char>(m_text[end + 1]))) {
            floating = true;
            ++end;
            while (end < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[end]))) {
                ++end;
            }
        }
        if (end < m_text.size() && (m_text[end] == 'e' || m_text[end] == 'E')) {
            size_t exponent = end + 1;
            if (exponent < m_text.size() && (m_text[exponent] == '+' || m_text[exponent] == '-')) {
                ++exponent;
            }
            if (exponent < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[exponent]))) {
                floating = true;
                end = exponent;
                while (end < m_text.size() && std::isdigit(static_cast<unsigned char>(m_text[end]))) {
                    ++end;
                }
            }
        }
        const std::string digits(m_text.substr(m_pos, end - m_pos));
        if (!floating && end < m_text.size() && (m_text[end] == 'u' || m_text[end] == 'U')) {
            return error("unsigned literals are not supported by fakekube's CEL");
        }
        if (floating) {
            token.kind = Tok::floating;
            token.number = std::strtod(digits.c_str(), nullptr);
        } else {
            errno = 0;
            const long long value = std::strtoll(digits.c_str(), nullptr, 10);
            if (errno != 0) {
                return error("integer literal out of range");
            }
            token.kind = Tok::integer;
            token.number = static_cast<int64_t>(value);
        }
        m_pos = end;
        return {};
    }

    util::Result<std::string> lex_string(bool raw) {
        const char quote = m_text[m_pos];
        if (m_text.substr(m_pos, 3) == std::string(3, quote)) {
            return error("triple-quoted strings are not supported by fakekube's CEL");
        }
        ++m_pos;
        std::string out;
        while (true) {
            if (m_pos >= m_text.size() || m_text[m_pos] == '\n') {
                return error("unterminated string literal");
            }
            const char c = m_text[m_pos++];
            if (c == quote) {
                return out;
            }
            if (c != '\\' || raw) {
                out += c;
                continue;
            }
            if (m_pos >= m_text.size()) {
                return error("unterminated string literal");
            }
            const char e = m_text[m_pos++];
            switch (e) {
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'a':
                out += '\a';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'v':
                out += '\v';
                break;
            case '\\':
                out += '\\';
                break;
            case '\'':
                out += '\'';
                break;
            case '"':
                out += '"';
                break;
            case '`':
                out += '`';
                break;
            case '?':
                out += '?';
                break;
            case 'x':
            case 'u':
            case 'U': {
                const size_t length = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
                if (m_pos + length > m_text.size()) {
                    return error("malformed escape sequence");
                }
                const std::string hex(m_text.substr(m_pos, length));
                if (!std::all_of(hex.begin(), hex.end(),
                                 [](char h) { return std::isxdigit(static_cast<unsigned char>(h)); })) {
                    return error("malformed escape sequence");
                }
                append_utf8(out, static_cast<uint32_t>(std::strtoul(hex.c_str(), nullptr, 16)));
                m_pos += length;
                break;
            }
            default:
                if (e >= '0' && e <= '3' && m_pos + 1 < m_text.size()) {
                    const std::string octal{e, m_text[m_pos], m_text[m_pos + 1]};
                    if (std::all_of(octal.begin(), octal.end(),
                                    [](char o) { return o >= '0' && o <= '7'; })) {
                        append_utf8(out, static_cast<uint32_t>(std::strtoul(octal.c_str(), nullptr, 8)));
                        m_pos += 2;
                        break;
                    }
                }
                return error(std::string("invalid escape sequence \\") + e);
            }
        }
    }
};

// ---- Parser
// ----------------------------------------------------------------------------------------------------

// Functions (global) and methods (receiver.name) with their argument counts.
const std::map<std::string, size_t> k_functions = {{"size", 1}};
const std::map<std::string, size_t> k_methods = {
    {"size", 0}, {"startsWith", 1}, {"endsWith", 1}, {"contains", 1}};
const std::set<std::string> k_macros = {"all", "exists", "exists_one", "map", "filter"};

class Parser {
public:
    Parser(std::vector<Token> tokens, const std::vector<std::string>& names)
        : m_tokens(std::move(tokens)), m_scopes{std::set<std::string>(names.begin(), names.end())} {}

    util::Result<NodePtr> parse() {
        auto root = expr();
        if (!root) {
            return root;
        }
        if (peek().kind != Tok::end) {
            return error("unexpected '" + peek().text + "'");
        }
        return root;
    }

private:
    std::vector<Token> m_tokens;
    size_t m_pos = 0;
    std::vector<std::set<std::string>> m_scopes; // declared identifiers, innermost last
    int m_depth = 0;

    static constexpr int k_max_depth = 250; // cel-go's default parser recursion limit

    const Token& peek() const { return m_tokens[m_pos]; }
    bool is(std::string_view punct) const { return peek().kind == Tok::punct && peek().text == punct; }
    bool accept(std::string_view punct) {
        if (is(punct)) {
            ++m_pos;
            return true;
        }
        return false;
    }
    std::unexpected<util::Error> error(const std::string& what) const {
        return util::fail(util::ErrorKind::parse,
                          "Syntax error: " + what + " at offset " + std::to_string(peek().at));
    }
    util::Result<> expect(std::string_view punct) {
        if (!accept(punct)) {
            return error("expected '" + std::string(punct) + "'" +
                         (peek().kind == Tok::end ? std::string(" at end of expression")
                                                  : ", found '" + peek().text + "'"));
        }
        return {};
    }
    bool declared(const std::string& name) const {
        return std::any_of(m_scopes.begin(), m_scopes.end(),
                           [&](const auto& scope) { return scope.contains(name); });
    }

    static NodePtr make(Op op, std::string name = {}, std::vector<NodePtr> args = {},
                        NodePtr target = nullptr) {
        auto node = std::make_shared<Node>();
        node->op = op;
        node->name = std::move(name);
        node->args = std::move(args);
        node->target = std::move(target);
        for (const auto& arg : node->args) {
            node->depth = std::max(node->depth, arg->depth + 1);
        }
        if (node->target) {
            node->depth = std::max(node->depth, node->target->depth + 1);
        }
        return node;
    }

    // Evaluation and destruction recurse over the tree: a deeper one is refused (fakekube's limit; cel-go
    // limits parser recursion and expression length instead).
    static constexpr int k_max_tree_depth = 500;
    util::Result<NodePtr> bounded(NodePtr node) const {
        if (node->depth > k_max_tree_depth) {
            return error("expression nested more than " + std::to_string(k_max_tree_depth) + " levels deep");
        }
        return node;
    }

    util::Result<NodePtr> expr() {
        if (++m_depth > k_max_depth) {
            return error("expression nested too deeply");
        }
        auto condition = logical(true);
        if (!condition) {
            return condition;
        }
        NodePtr out = *condition;
        if (accept("?")) {
            auto then = logical(true);
            if (!then) {
                return then;
            }
            if (auto colon = expect(":"); !colon) {
                return std::unexpected(colon.error());
            }
            auto otherwise = expr();
            if (!otherwise) {
                return otherwise;
            }
            auto next = bounded(make(Op::conditional, "", {out, *then, *otherwise}));
            if (!next) {
                return next;
            }
            out = *next;
        }
        --m_depth;
        return out;
    }

    // || when `is_or`, else &&.
    util::Result<NodePtr> logical(bool is_or) {
        auto left = is_or ? logical(false) : relation();
        if (!left) {
            return left;
        }
        NodePtr out = *left;
        while (accept(is_or ? "||" : "&&")) {
            auto right = is_or ? logical(false) : relation();
            if (!right) {
                return right;
            }
            auto next = bounded(make(is_or ? Op::logic_or : Op::logic_and, "", {out, *right}));
            if (!next) {
                return next;
            }
            out = *next;
        }
        return out;
    }

    util::Result<NodePtr> relation() {
        auto left = addition();
        if (!left) {
            return left;
        }
        NodePtr out = *left;
        while (true) {
            std::string op;
            for (const char* candidate : {"==", "!=", "<=", ">=", "<", ">"}) {
                if (is(candidate)) {
                    op = candidate;
                }
            }
            if (op.empty() && peek().kind == Tok::ident && peek().text == "in") {
                op = "in";
            }
            if (op.empty()) {
                return out;
            }
            ++m_pos;
            auto right = addition();
            if (!right) {
                return right;
            }
            auto next = bounded(make(Op::binary, op, {out, *right}));
            if (!next) {
                return next;
            }
            out = *next;
        }
    }

    util::Result<NodePtr> addition() {
        auto left = multiplication();
        if (!left) {
            return left;
        }
        NodePtr out = *left;
        while (is("+") || is("-")) {
            const std::string op = m_tokens[m_pos++].text;
            auto right = multiplication();
            if (!right) {
                return right;
            }
            auto next = bounded(make(Op::binary, op, {out, *right}));
            if (!next) {
                return next;
            }
            out = *next;
        }
        return out;
    }

    util::Result<NodePtr> multiplication() {
        auto left = unary();
        if (!left) {
            return left;
        }
        NodePtr out = *left;
        while (is("*") || is("/") || is("%")) {
            const std::string op = m_tokens[m_pos++].text;
            auto right = unary();
            if (!right) {
                return right;
            }
            auto next = bounded(make(Op::binary, op, {out, *right}));
            if (!next) {
                return next;
            }
            out = *next;
        }
        return out;
    }

    // Prefix operators are collected in a loop, not by recursion, so a long run of them cannot exhaust the
    // stack.
    util::Result<NodePtr> unary() {
        std::vector<std::string> prefixes;
        while (is("!") || is("-")) {
            if (is("-") &&
                (m_tokens[m_pos + 1].kind == Tok::integer || m_tokens[m_pos + 1].kind == Tok::floating)) {
                break;
            }
            prefixes.push_back(m_tokens[m_pos++].text);
        }
        NodePtr out;
        if (is("-")) {
            // A negative literal, so that the most negative int is representable.
            ++m_pos;
            out = make(Op::literal);
            out->value = peek().kind == Tok::integer ? json(-peek().number.get<int64_t>())
                                                     : json(-peek().number.get<double>());
            ++m_pos;
        } else {
            auto operand = primary();
            if (!operand) {
                return operand;
            }
            out = *operand;
        }
        auto operand = member(out);
        if (!operand) {
            return operand;
        }
        out = *operand;
        if (prefixes.size() > static_cast<size_t>(k_max_tree_depth)) {
            return error("more than " + std::to_string(k_max_tree_depth) + " prefix operators in a row");
        }
        for (auto it = prefixes.rbegin(); it != prefixes.rend(); ++it) {
            out = make(*it == "!" ? Op::logic_not : Op::negate, "", {out});
        }
        return bounded(out);
    }

    util::Result<std::vector<NodePtr>> arguments(std::string_view close) {
        std::vector<NodePtr> args;
        if (accept(close)) {
            return args;
        }
        while (true) {
            auto arg = expr();
            if (!arg) {
                return std::unexpected(arg.error());
            }
            args.push_back(*arg);
            if (accept(close)) {
                return args;
            }
            if (auto comma = expect(","); !comma) {
                return std::unexpected(comma.error());
            }
            if (accept(close)) { // trailing comma
                return args;
            }
        }
    }

    util::Result<NodePtr> member(NodePtr out) {
        while (true) {
            if (accept(".")) {
                if (peek().kind != Tok::ident) {
                    return error("expected a field or method name after '.'");
                }
                const std::string name = m_tokens[m_pos++].text;
                if (accept("(")) {
                    if (k_macros.contains(name)) {
                        auto macro = comprehension(out, name);
                        if (!macro) {
                            return macro;
                        }
                        out = *macro;
                        continue;
                    }
                    auto args = arguments(")");
                    if (!args) {
                        return std::unexpected(args.error());
                    }
                    auto method = k_methods.find(name);
                    if (method == k_methods.end() || method->second != args->size()) {
                        return util::fail(util::ErrorKind::parse,
                                          "undeclared reference to '" + name + "' (in container '') with " +
                                              std::to_string(args->size()) +
                                              " argument(s): not a method fakekube's CEL supports");
                    }
                    out = make(Op::call, name, std::move(*args), out);
                } else {
                    out = make(Op::select, name, {}, out);
                }
            } else if (accept("[")) {
                auto index = expr();
                if (!index) {
                    return index;
                }
                if (auto close = expect("]"); !close) {
                    return std::unexpected(close.error());
                }
                out = make(Op::index, "", {*index}, out);
            } else {
                return out;
            }
            if (out->depth > k_max_tree_depth) {
                return bounded(out);
            }
        }
    }

    util::Result<NodePtr> comprehension(NodePtr range, const std::string& macro) {
        if (peek().kind != Tok::ident || m_tokens[m_pos + 1].kind != Tok::punct ||
            m_tokens[m_pos + 1].text != ",") {
            return error("argument 1 of " + macro + "() must be a simple identifier");
        }
        const std::string variable = m_tokens[m_pos].text;
        m_pos += 2;
        m_scopes.push_back({variable});
        auto args = arguments(")");
        m_scopes.pop_back();
        if (!args) {
            return std::unexpected(args.error());
        }
        const bool ok = macro == "map" ? (args->size() == 1 || args->size() == 2) : args->size() == 1;
        if (!ok) {
            return util::fail(util::ErrorKind::parse,
                              "wrong number of arguments to the " + macro + "() macro");
        }
        auto node = make(Op::comprehension, macro, std::move(*args), std::move(range));
        node->variable = variable;
        return node;
    }

    util::Result<NodePtr> primary() {
        const Token& token = peek();
        switch (token.kind) {
        case Tok::end:
            return error("unexpected end of expression");
        case Tok::integer:
        case Tok::floating: {
            auto node = make(Op::literal);
            node->value = token.number;
            ++m_pos;
            return node;
        }
        case Tok::string: {
            auto node = make(Op::literal);
            node->value = token.text;
            ++m_pos;
            return node;
        }
        case Tok::ident:
            return identifier();
        case Tok::punct:
            break;
        }
        if (accept("(")) {
            auto inner = expr();
            if (!inner) {
                return inner;
            }
            if (auto close = expect(")"); !close) {
                return std::unexpected(close.error());
            }
            return inner;
        }
        if (accept("[")) {
            auto items = arguments("]");
            if (!items) {
                return std::unexpected(items.error());
            }
            return make(Op::list, "", std::move(*items));
        }
        if (accept("{")) {
            std::vector<NodePtr> entries;
            while (!accept("}")) {
                auto key = expr();
                if (!key) {
                    return key;
                }
                if (auto colon = expect(":"); !colon) {
                    return std::unexpected(colon.error());
                }
                auto value = expr();
                if (!value) {
                    return value;
                }
                entries.push_back(*key);
                entries.push_back(*value);
                if (!accept(",")) {
                    if (auto close = expect("}"); !close) {
                        return std::unexpected(close.error());
                    }
                    break;
                }
            }
            return make(Op::map, "", std::move(entries));
        }
        if (is(".")) {
            return error("qualified identifiers (leading '.') are not supported by fakekube's CEL");
        }
        return error("unexpected '" + token.text + "'");
    }

    util::Result<NodePtr> identifier() {
        const std::string name = m_tokens[m_pos++].text;
        if (name == "true" || name == "false") {
            auto node = make(Op::literal);
            node->value = name == "true";
            return node;
        }
        if (name == "null") {
            auto node = make(Op::literal);
            node->value = nullptr;
            return node;
        }
        static const std::set<std::string> k_reserved = {
            "in",     "as",  "break", "const",   "continue",  "else",   "for", "function", "if",
            "import", "let", "loop",  "package", "namespace", "return", "var", "void",     "while"};
        if (k_reserved.contains(name)) {
            return util::fail(util::ErrorKind::parse, "Syntax error: reserved identifier '" + name + "'");
        }
        if (accept("(")) {
            if (name == "has") {
                auto args = arguments(")");
                if (!args) {
                    return std::unexpected(args.error());
                }
                if (args->size() != 1 || (*args)[0]->op != Op::select) {
                    return util::fail(util::ErrorKind::parse, "invalid argument to has() macro");
                }
                return make(Op::has, (*args)[0]->name, {}, (*args)[0]->target);
            }
            auto args = arguments(")");
            if (!args) {
                return std::unexpected(args.error());
            }
            auto function = k_functions.find(name);
            if (function == k_functions.end() || function->second != args->size()) {
                return util::fail(util::ErrorKind::parse,
                                  "undeclared reference to '" + name + "' (in container '') with " +
                                      std::to_string(args->size()) +
                                      " argument(s): not a function fakekube's CEL supports");
            }
            return make(Op::call, name, std::move(*args));
        }
        if (!declared(name)) {
            return util::fail(util::ErrorKind::parse,
                              "undeclared reference to '" + name + "' (in container '')");
        }
        return make(Op::ident, name);
    }
};

// ---- Evaluation
// ------------------------------------------------------------------------------------------------

// A value or an evaluation error.
struct Val {
    json value;
    std::optional<std::string> error;

    static Val fail(std::string message) { return Val{nullptr, std::move(message)}; }
    [[nodiscard]] bool failed() const { return error.has_value(); }
};

std::string type_name(const json& value) {
    switch (value.type()) {
    case json::value_t::null:
        return "null_type";
    case json::value_t::boolean:
        return "bool";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
        return "int";
    case json::value_t::number_float:
        return "double";
    case json::value_t::string:
        return "string";
    case json::value_t::array:
        return "list";
    case json::value_t::object:
        return "map";
    default:
        return "unknown";
    }
}

bool is_int(const json& value) {
    return value.is_number_integer();
}
bool is_number(const json& value) {
    return value.is_number();
}

Val no_overload(const std::string& op, const std::vector<const json*>& operands) {
    std::string types;
    for (const json* operand : operands) {
        types += (types.empty() ? "" : ", ") + type_name(*operand);
    }
    return Val::fail("no such overload: " + op + "(" + types + ")");
}

size_t code_points(const std::string& text) {
    return static_cast<size_t>(std::count_if(
        text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

struct Scope {
    const Activation& activation;
    std::vector<std::pair<std::string, const json*>> locals; // comprehension variables, innermost last

    const json* find(const std::string& name) const {
        for (auto it = locals.rbegin(); it != locals.rend(); ++it) {
            if (it->first == name) {
                return it->second;
            }
        }
        auto it = activation.values.find(name);
        return it == activation.values.end() ? nullptr : &it->second;
    }
    bool is_local(const std::string& name) const {
        return std::any_of(locals.begin(), locals.end(),
                           [&](const auto& local) { return local.first == name; });
    }
};

Val eval(const Node& node, Scope& scope);

Val overflow() {
    return Val::fail("integer overflow");
}

Val compare(const std::string& op, const json& left, const json& right) {
    int order = 0;
    if (is_number(left) && is_number(right)) {
        if (is_int(left) && is_int(right)) {
            const auto a = left.get<int64_t>();
            const auto b = right.get<int64_t>();
            order = a < b ? -1 : (a > b ? 1 : 0);
        } else {
            const double a = left.get<double>();
            const double b = right.get<double>();
            if (std::isnan(a) || std::isnan(b)) {
                return Val{false, std::nullopt};
            }
            order = a < b ? -1 : (a > b ? 1 : 0);
        }
    } else if (left.is_string() && right.is_string()) {
        const int c = left.get_ref<const std::string&>().compare(right.get_ref<const std::string&>());
        order = c < 0 ? -1 : (c > 0 ? 1 : 0);
    } else if (left.is_boolean() && right.is_boolean()) {
        order = static_cast<int>(left.get<bool>()) - static_cast<int>(right.get<bool>());
    } else {
        return no_overload("_" + op + "_", {&left, &right});
    }
    const bool result = op == "<" ? order < 0 : op == "<=" ? order <= 0 : op == ">" ? order > 0 : order >= 0;
    return Val{result, std::nullopt};
}

Val arithmetic(const std::string& op, const json& left, const json& right) {
    if (is_int(left) && is_int(right)) {
        const auto a = left.get<int64_t>();
        const auto b = right.get<int64_t>();
        int64_t result = 0;
        if (op == "+" || op == "-" || op == "*") {
            const bool overflowed = op == "+"   ? __builtin_add_overflow(a, b, &result)
                                    : op == "-" ? __builtin_sub_overflow(a, b, &result)
                                                : __builtin_mul_overflow(a, b, &result);
            return overflowed ? overflow() : Val{result, std::nullopt};
        }
        if (b == 0) {
            return Val::fail(op == "/" ? "division by zero" : "modulus by zero");
        }
        if (a == std::numeric_limits<int64_t>::min() && b == -1) {
            return overflow();
        }
        return Val{op == "/" ? a / b : a % b, std::nullopt};
    }
    if (left.is_number_float() && right.is_number_float() && op != "%") {
        const double a = left.get<double>();
        const double b = right.get<double>();
        const double result = op == "+" ? a + b : op == "-" ? a - b : op == "*" ? a * b : a / b;
        return Val{result, std::nullopt};
    }
    if (op == "+" && left.is_string() && right.is_string()) {
        return Val{left.get<std::string>() + right.get<std::string>(), std::nullopt};
    }
    if (op == "+" && left.is_array() && right.is_array()) {
        json out = left;
        out.insert(out.end(), right.begin(), right.end());
        return Val{std::move(out), std::nullopt};
    }
    static const std::map<std::string, std::string> k_names = {
        {"+", "_+_"}, {"-", "_-_"}, {"*", "_*_"}, {"/", "_/_"}, {"%", "_%_"}};
    return no_overload(k_names.at(op), {&left, &right});
}

Val select(const json& operand, const std::string& field) {
    if (!operand.is_object()) {
        return Val::fail("no such key: " + field + " (selecting a field of a " + type_name(operand) + ")");
    }
    auto it = operand.find(field);
    if (it == operand.end()) {
        return Val::fail("no such key: " + field);
    }
    return Val{*it, std::nullopt};
}

Val binary(const Node& node, Scope& scope) {
    Val left = eval(*node.args[0], scope);
    if (left.failed()) {
        return left;
    }
    Val right = eval(*node.args[1], scope);
    if (right.failed()) {
        return right;
    }
    const std::string& op = node.name;
    if (op == "==") {
        return Val{left.value == right.value, std::nullopt};
    }
    if (op == "!=") {
        return Val{left.value != right.value, std::nullopt};
    }
    if (op == "<" || op == "<=" || op == ">" || op == ">=") {
        return compare(op, left.value, right.value);
    }
    if (op == "in") {
        if (right.value.is_array()) {
            return Val{std::find(right.value.begin(), right.value.end(), left.value) != right.value.end(),
                       std::nullopt};
        }
        if (right.value.is_object()) {
            if (!left.value.is_string()) {
                return Val{false, std::nullopt}; // maps here only have string keys
            }
            return Val{right.value.contains(left.value.get<std::string>()), std::nullopt};
        }
        return no_overload("@in", {&left.value, &right.value});
    }
    return arithmetic(op, left.value, right.value);
}

// && and ||: a decisive operand (false for &&, true for ||) wins over an error or a non-bool on the other
// side.
Val logic(const Node& node, Scope& scope, bool is_or) {
    const bool decisive = is_or;
    Val left = eval(*node.args[0], scope);
    if (!left.failed() && left.value.is_boolean() && left.value.get<bool>() == decisive) {
        return Val{decisive, std::nullopt};
    }
    Val right = eval(*node.args[1], scope);
    if (!right.failed() && right.value.is_boolean() && right.value.get<bool>() == decisive) {
        return Val{decisive, std::nullopt};
    }
    for (const Val* side : {&left, &right}) {
        if (side->failed()) {
            return *side;
        }
    }
    if (!left.value.is_boolean() || !right.value.is_boolean()) {
        return no_overload(is_or ? "_||_" : "_&&_", {&left.value, &right.value});
    }
    return Val{!decisive, std::nullopt};
}

Val call(const Node& node, Scope& scope) {
    std::vector<Val> args;
    if (node.target) {
        args.push_back(eval(*node.target, scope));
    }
    for (const auto& arg : node.args) {
        args.push_back(eval(*arg, scope));
    }
    for (const auto& arg : args) {
        if (arg.failed()) {
            return arg;
        }
    }
    const json& receiver = args[0].value;
    if (node.name == "size") {
        if (receiver.is_string()) {
            return Val{static_cast<int64_t>(code_points(receiver.get<std::string>())), std::nullopt};
        }
        if (receiver.is_array() || receiver.is_object()) {
            return Val{static_cast<int64_t>(receiver.size()), std::nullopt};
        }
        return no_overload("size", {&receiver});
    }
    const json& argument = args[1].value;
    if (!receiver.is_string() || !argument.is_string()) {
        return no_overload(node.name, {&receiver, &argument});
    }
    const std::string& text = receiver.get_ref<const std::string&>();
    const std::string& part = argument.get_ref<const std::string&>();
    if (node.name == "startsWith") {
        return Val{text.starts_with(part), std::nullopt};
    }
    if (node.name == "endsWith") {
        return Val{text.ends_with(part), std::nullopt};
    }
    return Val{text.find(part) != std::string::npos, std::nullopt}; // contains
}

Val comprehension(const Node& node, Scope& scope) {
    Val range = eval(*node.target, scope);
    if (range.failed()) {
        return range;
    }
    std::vector<json> items;
    if (range.value.is_array()) {
        items.assign(range.value.begin(), range.value.end());
    } else if (range.value.is_object()) {
        for (const auto& [key, value] : range.value.items()) {
            items.emplace_back(key);
        }
    } else {
        return Val::fail("expression of type '" + type_name(range.value) +
                         "' cannot be range of a comprehension " + "(must be list, map, or dynamic)");
    }
    const std::string& macro = node.name;
    std::optional<Val> first_error;
    int64_t matches = 0;
    json mapped = json::array();
    for (const json& item : items) {
        scope.locals.emplace_back(node.variable, &item);
        Val predicate = eval(*node.args[0], scope);
        std::optional<Val> transformed;
        if (macro == "map" && node.args.size() == 2 && !predicate.failed() && predicate.value.is_boolean() &&
            predicate.value.get<bool>()) {
            transformed = eval(*node.args[1], scope);
        }
        scope.locals.pop_back();
        if (macro == "map" && node.args.size() == 1) {
            if (predicate.failed()) {
                return predicate;
            }
            mapped.push_back(std::move(predicate.value));
            continue;
        }
        if (predicate.failed() || !predicate.value.is_boolean()) {
            Val failure = predicate.failed() ? predicate : no_overload(macro, {&predicate.value});
            if (macro == "all" || macro == "exists") {
                // Errors lose to a decisive element, as for && and ||.
                if (!first_error) {
                    first_error = failure;
                }
                continue;
            }
            return failure;
        }
        const bool holds = predicate.value.get<bool>();
        if (macro == "all" && !holds) {
            return Val{false, std::nullopt};
        }
        if (macro == "exists" && holds) {
            return Val{true, std::nullopt};
        }
        if (macro == "exists_one" && holds) {
            ++matches;
        }
        if (macro == "filter" && holds) {
            mapped.push_back(item);
        }
        if (macro == "map" && holds) {
            if (transformed->failed()) {
                return *transformed;
            }
            mapped.push_back(std::move(transformed->value));
        }
    }
    if (first_error) {
        return *first_error;
    }
    if (macro == "all") {
        return Val{true, std::nullopt};
    }
    if (macro == "exists") {
        return Val{false, std::nullopt};
    }
    if (macro == "exists_one") {
        return Val{matches == 1, std::nullopt};
    }
    return Val{std::move(mapped), std::nullopt};
}

Val eval(const Node& node, Scope& scope) {
    switch (node.op) {
    case Op::literal:
        return Val{node.value, std::nullopt};
    case Op::ident: {
        const json* value = scope.find(node.name);
        if (value == nullptr) {
            return Val::fail("no such attribute: " + node.name);
        }
        return Val{*value, std::nullopt};
    }
    case Op::select:
    case Op::has: {
        // A field of a top-level binding that failed to evaluate (a policy variable) is that error.
        if (node.target->op == Op::ident && !scope.is_local(node.target->name)) {
            auto errors = scope.activation.field_errors.find(node.target->name);
            if (errors != scope.activation.field_errors.end()) {
                if (auto error = errors->second.find(node.name); error != errors->second.end()) {
                    return Val::fail(error->second);
                }
            }
        }
        Val operand = eval(*node.target, scope);
        if (operand.failed()) {
            return operand;
        }
        if (node.op == Op::has) {
            if (!operand.value.is_object()) {
                return Val::fail("invalid type for field selection: has() on a " + type_name(operand.value));
            }
            return Val{operand.value.contains(node.name), std::nullopt};
        }
        return select(operand.value, node.name);
    }
    case Op::index: {
        Val operand = eval(*node.target, scope);
        if (operand.failed()) {
            return operand;
        }
        Val index = eval(*node.args[0], scope);
        if (index.failed()) {
            return index;
        }
        if (operand.value.is_array()) {
            if (!is_int(index.value)) {
                return no_overload("_[_]", {&operand.value, &index.value});
            }
            const auto position = index.value.get<int64_t>();
            if (position < 0 || position >= static_cast<int64_t>(operand.value.size())) {
                return Val::fail("index out of bounds: " + std::to_string(position));
            }
            return Val{operand.value[static_cast<size_t>(position)], std::nullopt};
        }
        if (operand.value.is_object()) {
            if (!index.value.is_string()) {
                return Val::fail("no such key: " + index.value.dump());
            }
            return select(operand.value, index.value.get<std::string>());
        }
        return no_overload("_[_]", {&operand.value, &index.value});
    }
    case Op::call:
        return call(node, scope);
    case Op::list: {
        json out = json::array();
        for (const auto& item : node.args) {
            Val value = eval(*item, scope);
            if (value.failed()) {
                return value;
            }
            out.push_back(std::move(value.value));
        }
        return Val{std::move(out), std::nullopt};
    }
    case Op::map: {
        json out = json::object();
        for (size_t i = 0; i + 1 < node.args.size(); i += 2) {
            Val key = eval(*node.args[i], scope);
            if (key.failed()) {
                return key;
            }
            if (!key.value.is_string()) {
                return Val::fail("unsupported map key type: " + type_name(key.value) +
                                 " (fakekube's CEL maps have string keys)");
            }
            Val value = eval(*node.args[i + 1], scope);
            if (value.failed()) {
                return value;
            }
            const std::string name = key.value.get<std::string>();
            if (out.contains(name)) {
                return Val::fail("Failed with repeated key: " + name);
            }
            out[name] = std::move(value.value);
        }
        return Val{std::move(out), std::nullopt};
    }
    case Op::logic_and:
        return logic(node, scope, false);
    case Op::logic_or:
        return logic(node, scope, true);
    case Op::logic_not: {
        Val operand = eval(*node.args[0], scope);
        if (operand.failed()) {
            return operand;
        }
        if (!operand.value.is_boolean()) {
            return no_overload("!_", {&operand.value});
        }
        return Val{!operand.value.get<bool>(), std::nullopt};
    }
    case Op::negate: {
        Val operand = eval(*node.args[0], scope);
        if (operand.failed()) {
            return operand;
        }
        if (is_int(operand.value)) {
            const auto value = operand.value.get<int64_t>();
            if (value == std::numeric_limits<int64_t>::min()) {
                return overflow();
            }
            return Val{-value, std::nullopt};
        }
        if (operand.value.is_number_float()) {
            return Val{-operand.value.get<double>(), std::nullopt};
        }
        return no_overload("-_", {&operand.value});
    }
    case Op::conditional: {
        Val condition = eval(*node.args[0], scope);
        if (condition.failed()) {
            return condition;
        }
        if (!condition.value.is_boolean()) {
            return no_overload("_?_:_", {&condition.value});
        }
        return eval(*node.args[condition.value.get<bool>() ? 1 : 2], scope);
    }
    case Op::binary:
        return binary(node, scope);
    case Op::comprehension:
        return comprehension(node, scope);
    }
    return Val::fail("internal error: unknown expression node");
}

} // namespace

util::Result<Program> Program::compile(std::string_view source, const std::vector<std::string>& names) {
    auto tokens = Lexer(source).run();
    if (!tokens) {
        return std::unexpected(tokens.error());
    }
    auto root = Parser(std::move(*tokens), names).parse();
    if (!root) {
        return std::unexpected(root.error());
    }
    Program program;
    program.m_source = std::string(source);
    program.m_root = std::move(*root);
    return program;
}

util::Result<json> Program::evaluate(const Activation& activation) const {
    Scope scope{activation, {}};
    Val result = eval(*m_root, scope);
    if (result.failed()) {
        return util::fail(util::ErrorKind::invalid, *result.error);
    }
    return std::move(result.value);
}

} // namespace meshlink::fakekube::cel
