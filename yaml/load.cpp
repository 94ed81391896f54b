#include "yaml/digest.hpp"
#include "yaml/events.hpp"
#include "yaml/yaml.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

// yaml-cpp has no public way to give a node a mark (only its own parser does) nor to create a node in another
// node's memory, but it befriends every specialisation of YAML::as_if. This one uses that to reach Node's
// private m_pNode, m_pMemory, EnsureNodeExists() and Node(detail::node&, shared_memory_holder): it sets marks
// so that errors can name the line, and creates nodes in one memory so that building a large document does
// not copy node sets (see make_node_like). Those members are not an API: yaml/CMakeLists.txt accepts only the
// yaml-cpp releases this was checked against, the check below repeats that for builds without it, and
// tests/unit/yaml/test_node_access.cpp proves the behaviour on the yaml-cpp actually linked.
#if !defined(MESHLINK_YAML_CPP_VERSION_MAJOR) || !defined(MESHLINK_YAML_CPP_VERSION_MINOR)
#error "yaml/load.cpp needs MESHLINK_YAML_CPP_VERSION_MAJOR/MINOR (yaml/CMakeLists.txt defines them)"
#elif MESHLINK_YAML_CPP_VERSION_MAJOR != 0 || MESHLINK_YAML_CPP_VERSION_MINOR < 7 ||                         \
    MESHLINK_YAML_CPP_VERSION_MINOR > 8
#error "yaml/load.cpp was checked against yaml-cpp 0.7 and 0.8 only: see yaml/CMakeLists.txt"
#endif

namespace meshlink::yaml::detail {
struct NodeAccess;
} // namespace meshlink::yaml::detail

template <>
struct YAML::as_if<meshlink::yaml::detail::NodeAccess, void> {
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

namespace meshlink::yaml {
namespace {

using Access = YAML::as_if<detail::NodeAccess, void>;
using detail::YamlEvent;
using detail::YamlEventKind;

void set_mark(const YAML::Node& node, const detail::YamlMark& mark) {
    YAML::Mark out;
    out.pos = static_cast<int>(mark.index);
    out.line = static_cast<int>(mark.line);
    out.column = static_cast<int>(mark.column);
    Access::set_mark(node, out);
}

// Builds yaml-cpp nodes from parse events (see load).
class NodeBuilder final : public detail::YamlEventSink {
public:
    NodeBuilder(const std::string& name, const YAML::Node& arena) : m_name(name), m_arena(arena) {}

    bool on_event(const YamlEvent& e) override {
        switch (e.kind) {
        case YamlEventKind::scalar: {
            const bool plain = e.plain && e.tag.empty();
            const bool null = plain && resolve_plain_scalar(e.value) == PlainScalarType::null;
            YAML::Node node = null ? Access::create(m_arena, YAML::NodeType::Null)
                                   : Access::create_scalar(m_arena, std::string(e.value));
            if (!null) {
                node.SetTag(plain ? std::string("?")
                                  : (e.tag.empty() ? std::string("!") : std::string(e.tag)));
            }
            set_mark(node, e.mark);
            remember(e.anchor, node);
            return attach(node);
        }
        case YamlEventKind::sequence_start:
        case YamlEventKind::mapping_start: {
            if (m_stack.size() >= k_max_nesting_depth) {
                // Stops the parser too: the rest of the text is never read.
                m_error = util::Error{util::ErrorKind::parse, m_name + ":" + std::to_string(e.mark.line + 1) +
                                                                  ": YAML nested deeper than " +
                                                                  std::to_string(k_max_nesting_depth) +
                                                                  " levels; refused"};
                return false;
            }
            YAML::Node node =
                Access::create(m_arena, e.kind == YamlEventKind::mapping_start ? YAML::NodeType::Map
                                                                               : YAML::NodeType::Sequence);
            set_mark(node, e.mark);
            remember(e.anchor, node);
            m_stack.push_back({node, std::nullopt, {}});
            return true;
        }
        case YamlEventKind::sequence_end:
        case YamlEventKind::mapping_end: {
            YAML::Node node = std::move(m_stack.back().node);
            m_stack.pop_back();
            return attach(node);
        }
        case YamlEventKind::alias: {
            auto it = m_anchors.find(std::string(e.value));
            if (it == m_anchors.end()) {
                m_error = util::Error{util::ErrorKind::parse, m_name + ":" + std::to_string(e.mark.line + 1) +
                                                                  ": invalid YAML: unknown anchor " +
                                                                  std::string(e.value)};
                return false;
            }
            return attach(it->second);
        }
        case YamlEventKind::document_end:
            return true;
        }
        return true;
    }

    // The document, once the events were read to the end (or why it is refused).
    util::Result<YAML::Node> result() {
        if (m_error) {
            return std::unexpected(*m_error);
        }
        return m_have_root ? m_root : YAML::Node(YAML::NodeType::Null);
    }

private:
    // A collection being built: the node and, for mappings, the key waiting for its value.
    struct Frame {
        YAML::Node node;
        std::optional<YAML::Node> pending_key;
        std::vector<std::string_view> keys; // a mapping's keys so far (views of its key nodes' text;
                                            // kubeconfig mappings are small: a linear scan)
    };

    bool refuse(const YAML::Node& node, const std::string& what) {
        m_error = util::Error{util::ErrorKind::parse,
                              m_name + ":" + std::to_string(node.Mark().line + 1) + ": " + what};
        return false;
    }

    // Hands a finished node to its parent (or makes it the document). Refuses the keys go-yaml reads
    // differently from yaml-cpp: duplicates (go-yaml keeps the last, yaml-cpp the first), merge keys
    // (go-yaml merges, yaml-cpp keeps a "<<" key) and non-scalar keys.
    bool attach(const YAML::Node& node) {
        if (m_stack.empty()) {
            m_root = node;
            m_have_root = true;
            return true;
        }
        Frame& top = m_stack.back();
        if (top.node.IsSequence()) {
            top.node.push_back(node);
        } else if (!top.pending_key) {
            if (!node.IsScalar()) {
                return refuse(node, "a mapping key must be a string");
            }
            const std::string& key = node.Scalar(); // lives as long as the node
            if (node.Tag() == "?" && key == "<<") {
                return refuse(node, "YAML merge keys (<<) are not supported");
            }
            if (std::find(top.keys.begin(), top.keys.end(), key) != top.keys.end()) {
                return refuse(node, "duplicate key \"" + key + "\"");
            }
            top.keys.push_back(key);
            top.pending_key = node;
        } else {
            top.node.force_insert(*top.pending_key, node);
            top.pending_key.reset();
        }
        return true;
    }

    void remember(std::string_view anchor, const YAML::Node& node) {
        if (!anchor.empty()) {
            m_anchors[std::string(anchor)] = node;
        }
    }

    const std::string& m_name;
    YAML::Node m_arena;
    std::vector<Frame> m_stack;
    std::unordered_map<std::string, YAML::Node> m_anchors;
    YAML::Node m_root;
    bool m_have_root = false;
    std::optional<util::Error> m_error;
};

} // namespace

util::Result<YAML::Node> load(std::string_view text, const std::string& name, const YAML::Node* memory_of) {
    // Every node of the document lives in one memory.
    const YAML::Node arena = memory_of != nullptr ? *memory_of : YAML::Node(YAML::NodeType::Null);
    if (NodeBuilder fast(name, arena); detail::scan_simple_yaml(text, fast)) {
        return fast.result();
    }
    // Outside the fast scanner's subset, or refused: libyaml decides, and words any error.
    NodeBuilder builder(name, arena);
    if (auto read = detail::read_libyaml_events(text, name, builder); !read) {
        return std::unexpected(read.error());
    }
    return builder.result();
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

namespace {

// Feeds a document's meaning into a digest, as emit does for the tree it writes.
class DigestReader final : public detail::YamlEventSink {
public:
    explicit DigestReader(const std::string& name) : m_name(name) {}

    bool on_event(const YamlEvent& e) override {
        switch (e.kind) {
        case YamlEventKind::scalar:
            if (e.plain && e.tag.empty()) {
                const PlainScalarType type = resolve_plain_scalar(e.value);
                if (type == PlainScalarType::null) {
                    m_meaning.add('N');
                } else {
                    m_meaning.add(detail::type_token(type), e.value);
                }
                return true;
            }
            if (!e.tag.empty()) {
                m_meaning.add('T', e.tag);
            }
            m_meaning.add('s', e.value);
            return true;
        case YamlEventKind::sequence_start:
            m_meaning.add('[');
            return true;
        case YamlEventKind::sequence_end:
            m_meaning.add(']');
            return true;
        case YamlEventKind::mapping_start:
            m_meaning.add('{');
            return true;
        case YamlEventKind::mapping_end:
            m_meaning.add('}');
            return true;
        case YamlEventKind::alias:
            m_error = util::Error{util::ErrorKind::generic, m_name + ": unexpected alias in written YAML"};
            return false;
        case YamlEventKind::document_end:
            return true;
        }
        return true;
    }

    util::Result<> check(std::uint64_t digest) const {
        if (m_error) {
            return std::unexpected(*m_error);
        }
        if (m_meaning.value() != digest) {
            return util::fail(util::ErrorKind::generic,
                              m_name +
                                  ": the YAML text does not read back with the meaning it was written from");
        }
        return {};
    }

private:
    const std::string& m_name;
    detail::Digest m_meaning;
    std::optional<util::Error> m_error;
};

} // namespace

util::Result<> verify_digest(std::string_view text, std::uint64_t digest, const std::string& name) {
    // The fast scanner reads emit's output unless a value needs what only libyaml reads (non-ASCII
    // text, for one); either reads it as libyaml does (see yaml/events.hpp).
    if (DigestReader fast(name); detail::scan_simple_yaml(text, fast)) {
        return fast.check(digest);
    }
    DigestReader reader(name);
    if (auto read = detail::read_libyaml_events(text, name, reader); !read) {
        return std::unexpected(read.error());
    }
    return reader.check(digest);
}

} // namespace meshlink::yaml
