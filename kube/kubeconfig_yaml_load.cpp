#include "kube/kubeconfig_yaml.hpp"
#include "kube/kubeconfig_yaml_digest.hpp"

#include <yaml.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace meshlink::kube::detail {
struct MarkAccess;
} // namespace meshlink::kube::detail

// yaml-cpp has no public way to give a node a mark (only its own parser does), but it befriends every
// specialisation of YAML::as_if. This one sets a node's mark so that errors can name the line.
template <>
struct YAML::as_if<meshlink::kube::detail::MarkAccess, void> {
    static void set_mark(const YAML::Node& node, const YAML::Mark& mark) {
        node.EnsureNodeExists();
        node.m_pNode->set_mark(mark);
    }
    // A new node in `owner`'s memory. yaml-cpp otherwise gives every node its own memory and merges them
    // node by node when they are attached, which dominates the time to build a large document.
    static YAML::Node create(const YAML::Node& owner, YAML::NodeType::value type) {
        owner.EnsureNodeExists();
        YAML::detail::node& node = owner.m_pMemory->create_node();
        node.set_type(type);
        return YAML::Node(node, owner.m_pMemory);
    }
    static YAML::Node create_scalar(const YAML::Node& owner, const std::string& value) {
        owner.EnsureNodeExists();
        YAML::detail::node& node = owner.m_pMemory->create_node();
        node.set_scalar(value);
        return YAML::Node(node, owner.m_pMemory);
    }
};

namespace meshlink::kube {
namespace {

struct ParserDeleter {
    void operator()(yaml_parser_t* parser) const noexcept {
        yaml_parser_delete(parser);
        delete parser;
    }
};
using ParserPtr = std::unique_ptr<yaml_parser_t, ParserDeleter>;

// Owns one event; libyaml allocates its strings.
class Event {
public:
    Event() = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    ~Event() { reset(); }
    yaml_event_t* get() { return &m_event; }
    void reset() {
        if (m_filled) {
            yaml_event_delete(&m_event);
            m_filled = false;
        }
    }
    void filled() { m_filled = true; }
    [[nodiscard]] const yaml_event_t& operator*() const { return m_event; }

private:
    yaml_event_t m_event{};
    bool m_filled = false;
};

YAML::Mark to_mark(const yaml_mark_t& mark) {
    YAML::Mark out;
    out.pos = static_cast<int>(mark.index);
    out.line = static_cast<int>(mark.line);
    out.column = static_cast<int>(mark.column);
    return out;
}

using Access = YAML::as_if<detail::MarkAccess, void>;

void set_mark(const YAML::Node& node, const yaml_mark_t& mark) {
    Access::set_mark(node, to_mark(mark));
}

std::string to_string(const yaml_char_t* text) {
    return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text));
}

// A collection being built: the node and, for mappings, the key waiting for its value.
struct Frame {
    YAML::Node node;
    std::optional<YAML::Node> pending_key;
    std::vector<std::string> keys; // of a mapping so far (kubeconfig mappings are small: a linear scan)
};

} // namespace

Result<YAML::Node> load_yaml(std::string_view text, const std::string& name, const YAML::Node* memory_of) {
    ParserPtr parser(new yaml_parser_t);
    if (yaml_parser_initialize(parser.get()) == 0) {
        delete parser.release();
        return fail(ErrorKind::generic, name + ": cannot initialise the YAML parser");
    }
    yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
    yaml_parser_set_encoding(parser.get(), YAML_UTF8_ENCODING);

    // Every node of the document lives in one memory.
    const YAML::Node arena = memory_of != nullptr ? *memory_of : YAML::Node(YAML::NodeType::Null);
    std::vector<Frame> stack;
    std::unordered_map<std::string, YAML::Node> anchors;
    YAML::Node root;
    bool have_root = false;

    auto error_at = [&name](const YAML::Node& node, const std::string& what) {
        return Error{ErrorKind::parse, name + ":" + std::to_string(node.Mark().line + 1) + ": " + what};
    };
    // Hands a finished node to its parent (or makes it the document). Refuses the keys go-yaml reads
    // differently from yaml-cpp: duplicates (go-yaml keeps the last, yaml-cpp the first), merge keys
    // (go-yaml merges, yaml-cpp keeps a "<<" key) and non-scalar keys.
    auto attach = [&](const YAML::Node& node) -> std::optional<Error> {
        if (stack.empty()) {
            root = node;
            have_root = true;
            return std::nullopt;
        }
        Frame& top = stack.back();
        if (top.node.IsSequence()) {
            top.node.push_back(node);
        } else if (!top.pending_key) {
            if (!node.IsScalar()) {
                return error_at(node, "a mapping key must be a string");
            }
            const std::string& key = node.Scalar();
            if (node.Tag() == "?" && key == "<<") {
                return error_at(node, "YAML merge keys (<<) are not supported");
            }
            if (std::find(top.keys.begin(), top.keys.end(), key) != top.keys.end()) {
                return error_at(node, "duplicate key \"" + key + "\"");
            }
            top.keys.push_back(key);
            top.pending_key = node;
        } else {
            top.node.force_insert(*top.pending_key, node);
            top.pending_key.reset();
        }
        return std::nullopt;
    };
    auto remember = [&](const yaml_char_t* anchor, const YAML::Node& node) {
        if (anchor != nullptr) {
            anchors[to_string(anchor)] = node;
        }
    };

    for (;;) {
        Event event;
        if (yaml_parser_parse(parser.get(), event.get()) == 0) {
            const yaml_mark_t& mark = parser->problem != nullptr && parser->problem_mark.line > 0
                                          ? parser->problem_mark
                                          : parser->context_mark;
            std::string message = name + ":" + std::to_string(mark.line + 1) + ": invalid YAML: ";
            message += parser->problem != nullptr ? parser->problem : "syntax error";
            if (parser->context != nullptr) {
                message += std::string(" ") + parser->context;
            }
            return fail(ErrorKind::parse, message);
        }
        event.filled();
        const yaml_event_t& e = *event;
        switch (e.type) {
        case YAML_SCALAR_EVENT: {
            const std::string value(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
            const std::string tag = to_string(e.data.scalar.tag);
            const bool plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && tag.empty();
            const bool null = plain && resolve_plain_scalar(value) == PlainScalarType::null;
            YAML::Node node =
                null ? Access::create(arena, YAML::NodeType::Null) : Access::create_scalar(arena, value);
            if (!null) {
                node.SetTag(plain ? "?" : (tag.empty() ? "!" : tag));
            }
            set_mark(node, e.start_mark);
            remember(e.data.scalar.anchor, node);
            if (auto bad = attach(node)) {
                return std::unexpected(*bad);
            }
            break;
        }
        case YAML_SEQUENCE_START_EVENT: {
            YAML::Node node = Access::create(arena, YAML::NodeType::Sequence);
            set_mark(node, e.start_mark);
            remember(e.data.sequence_start.anchor, node);
            stack.push_back({node, std::nullopt, {}});
            break;
        }
        case YAML_MAPPING_START_EVENT: {
            YAML::Node node = Access::create(arena, YAML::NodeType::Map);
            set_mark(node, e.start_mark);
            remember(e.data.mapping_start.anchor, node);
            stack.push_back({node, std::nullopt, {}});
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            YAML::Node node = stack.back().node;
            stack.pop_back();
            if (auto bad = attach(node)) {
                return std::unexpected(*bad);
            }
            break;
        }
        case YAML_ALIAS_EVENT: {
            auto it = anchors.find(to_string(e.data.alias.anchor));
            if (it == anchors.end()) {
                return fail(ErrorKind::parse, name + ":" + std::to_string(e.start_mark.line + 1) +
                                                  ": invalid YAML: unknown anchor " +
                                                  to_string(e.data.alias.anchor));
            }
            if (auto bad = attach(it->second)) {
                return std::unexpected(*bad);
            }
            break;
        }
        case YAML_DOCUMENT_END_EVENT:
        case YAML_STREAM_END_EVENT:
            // Like go-yaml, only the first document counts.
            return have_root ? root : YAML::Node(YAML::NodeType::Null);
        default:
            break;
        }
    }
}

YAML::Node make_node_like(const YAML::Node& owner, YAML::NodeType::value type) {
    return Access::create(owner, type);
}

YAML::Node make_string_node_like(const YAML::Node& owner, std::string_view value) {
    YAML::Node node = Access::create_scalar(owner, std::string(value));
    node.SetTag("!");
    return node;
}

YAML::Node clone_like(const YAML::Node& node, const YAML::Node& owner) {
    YAML::Node copy = node.IsScalar()    ? Access::create_scalar(owner, node.Scalar())
                      : node.IsDefined() ? Access::create(owner, node.Type())
                                         : Access::create(owner, YAML::NodeType::Undefined);
    if (node.IsScalar()) {
        copy.SetTag(node.Tag());
    }
    if (!node.Mark().is_null()) {
        Access::set_mark(copy, node.Mark());
    }
    if (node.IsSequence()) {
        for (const auto& item : node) {
            copy.push_back(clone_like(item, owner));
        }
    } else if (node.IsMap()) {
        for (const auto& item : node) {
            copy.force_insert(clone_like(item.first, owner), clone_like(item.second, owner));
        }
    }
    return copy;
}

Result<> verify_yaml_digest(std::string_view text, std::uint64_t digest, const std::string& name) {
    ParserPtr parser(new yaml_parser_t);
    if (yaml_parser_initialize(parser.get()) == 0) {
        delete parser.release();
        return fail(ErrorKind::generic, name + ": cannot initialise the YAML parser");
    }
    yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
    yaml_parser_set_encoding(parser.get(), YAML_UTF8_ENCODING);
    detail::Digest meaning;
    for (;;) {
        Event event;
        if (yaml_parser_parse(parser.get(), event.get()) == 0) {
            return fail(ErrorKind::parse,
                        name + ":" + std::to_string(parser->problem_mark.line + 1) + ": invalid YAML: " +
                            (parser->problem != nullptr ? parser->problem : "syntax error"));
        }
        event.filled();
        const yaml_event_t& e = *event;
        switch (e.type) {
        case YAML_SCALAR_EVENT: {
            const std::string_view value(reinterpret_cast<const char*>(e.data.scalar.value),
                                         e.data.scalar.length);
            const std::string tag = to_string(e.data.scalar.tag);
            if (e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && tag.empty()) {
                const PlainScalarType type = resolve_plain_scalar(value);
                if (type == PlainScalarType::null) {
                    meaning.add('N');
                } else {
                    meaning.add(detail::type_token(type), value);
                }
                break;
            }
            if (!tag.empty()) {
                meaning.add('T', tag);
            }
            meaning.add('s', value);
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
            meaning.add('[');
            break;
        case YAML_SEQUENCE_END_EVENT:
            meaning.add(']');
            break;
        case YAML_MAPPING_START_EVENT:
            meaning.add('{');
            break;
        case YAML_MAPPING_END_EVENT:
            meaning.add('}');
            break;
        case YAML_ALIAS_EVENT:
            return fail(ErrorKind::generic, name + ": unexpected alias in written YAML");
        case YAML_DOCUMENT_END_EVENT:
        case YAML_STREAM_END_EVENT:
            if (meaning.value() != digest) {
                return fail(ErrorKind::generic,
                            name + ": the YAML text does not read back with the meaning it was "
                                   "written from");
            }
            return {};
        default:
            break;
        }
    }
}

} // namespace meshlink::kube
