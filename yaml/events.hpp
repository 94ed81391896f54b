#pragma once
// YAML parse events, from libyaml or from a fast scanner for the block YAML that kubeconfig writers produce
// (internal to yaml/*.cpp; see yaml/yaml.hpp load and verify_digest).
//
// libyaml spends ~130 instructions per byte on a kubeconfig, most of them on the long base64 lines. The
// scanner reads a strict subset of YAML (block mappings and sequences, one-line plain and quoted scalars,
// `{}` and `[]`, comments; printable ASCII only) and gives up on anything else, so that callers fall back to
// libyaml: every text it accepts, libyaml reads as the same events (tests/unit/yaml/test_yaml.cpp
// compares the two on the fixtures and on malformed inputs).

#include "util/error.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace meshlink::yaml::detail {

// A position as libyaml reports it: 0-based character index, line and column.
struct YamlMark {
    std::size_t index = 0;
    std::size_t line = 0;
    std::size_t column = 0;
    bool operator==(const YamlMark&) const = default;
};

enum class YamlEventKind {
    scalar,
    sequence_start,
    sequence_end,
    mapping_start,
    mapping_end,
    alias,
    document_end
};

struct YamlEvent {
    YamlEventKind kind = YamlEventKind::document_end;
    std::string_view value;  // scalar: its text; alias: the anchor it refers to
    std::string_view tag;    // scalar, sequence or mapping start: the explicit tag ("" when none)
    std::string_view anchor; // scalar, sequence or mapping start: the anchor it defines ("" when none)
    bool plain = false;      // scalar: written without quotes (plain style)
    YamlMark mark;           // scalar, sequence or mapping start: where the node starts (ends: unspecified)
};

class YamlEventSink {
public:
    virtual ~YamlEventSink() = default;
    // Receives one event; its views are valid during the call only. Returns false to stop reading.
    virtual bool on_event(const YamlEvent& event) = 0;
};

// Reads the first document of `text` with libyaml, ending with a document_end event (also for an empty
// stream), unless `sink` stops first. Errors read "<name>:<line>: invalid YAML: <problem> <context>".
util::Result<> read_libyaml_events(std::string_view text, const std::string& name, YamlEventSink& sink);

// Reads `text` with the fast scanner, ending with a document_end event. Returns false when the text leaves
// the scanner's subset or `sink` stops; `sink` may have seen some events by then, and the caller starts over
// with read_libyaml_events (which also gives errors their authoritative order and wording).
bool scan_simple_yaml(std::string_view text, YamlEventSink& sink);

} // namespace meshlink::yaml::detail
