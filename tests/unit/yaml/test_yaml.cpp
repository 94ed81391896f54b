// The fast YAML scanner against libyaml (yaml/events.hpp): whatever the scanner accepts,
// libyaml must read as exactly the same events, marks included; the rest is left to libyaml.

#include "util/base64.hpp"
#include "yaml/events.hpp"
#include "yaml/yaml.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace yaml = meshlink::yaml;
namespace detail = meshlink::yaml::detail;
using detail::YamlEvent;
using detail::YamlEventKind;

namespace {

// An event with its text copied, and the mark only where the readers promise one.
struct Recorded {
    YamlEventKind kind;
    std::string value;
    std::string tag;
    std::string anchor;
    bool plain;
    detail::YamlMark mark;
    bool operator==(const Recorded&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Recorded& e) {
    return out << static_cast<int>(e.kind) << " '" << e.value << "' tag=" << e.tag << " anchor=" << e.anchor
               << " plain=" << e.plain << " @" << e.mark.index << ":" << e.mark.line << ":" << e.mark.column;
}

class Recorder final : public detail::YamlEventSink {
public:
    std::vector<Recorded> events;
    bool on_event(const YamlEvent& e) override {
        const bool marked = e.kind == YamlEventKind::scalar || e.kind == YamlEventKind::sequence_start ||
                            e.kind == YamlEventKind::mapping_start;
        events.push_back({e.kind, std::string(e.value), std::string(e.tag), std::string(e.anchor), e.plain,
                          marked ? e.mark : detail::YamlMark{}});
        return true;
    }
};

// Reads `text` both ways. Returns whether the scanner accepted it; when it did, libyaml must have read the
// same events without an error.
bool same_as_libyaml(const std::string& text, const std::string& what) {
    Recorder fast;
    const bool accepted = detail::scan_simple_yaml(text, fast);
    Recorder slow;
    const auto read = detail::read_libyaml_events(text, what, slow);
    if (accepted) {
        BOOST_TEST_CONTEXT(what) {
            BOOST_CHECK_MESSAGE(read.has_value(), "libyaml refuses what the scanner accepted: "
                                                      << (read ? "" : read.error().message));
            BOOST_TEST(fast.events == slow.events, boost::test_tools::per_element());
        }
    }
    return accepted;
}

// A fixture's text, its certificate placeholders (@@CA_DATA@@ ...) filled with base64 as the tests that
// generate certificates do.
std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    std::string text = out.str();
    for (std::size_t at = text.find("@@"); at != std::string::npos; at = text.find("@@", at)) {
        const std::size_t end = text.find("@@", at + 2);
        if (end == std::string::npos) {
            break;
        }
        text.replace(at, end + 2 - at,
                     meshlink::util::base64_encode(std::string(300, 'c') + text.substr(at, end - at)));
    }
    return text;
}

std::vector<fs::path> fixture_files() {
    std::vector<fs::path> files;
    for (const auto& entry :
         fs::recursive_directory_iterator(fs::path(MESHLINK_SOURCE_DIR) / "tests/fixtures/kubeconfig")) {
        const auto extension = entry.path().extension();
        if (entry.is_regular_file() && extension != ".py" && extension != ".md") {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

// A kubeconfig like the bench's large ones, in kubectl's layout.
std::string many_contexts(int count) {
    std::string data;
    for (int i = 0; i < 40; ++i) {
        data += "TUlJQmdqQ0NBU21nQXdJQkFnSVVENGZTb3NVSHZWa2tGdmN1dGM";
    }
    std::string text = "apiVersion: v1\nclusters:\n";
    for (int i = 0; i < count; ++i) {
        text += "- cluster:\n    certificate-authority-data: " + data + "=\n    server: https://10.0." +
                std::to_string(i) + ".10:6443\n  name: c" + std::to_string(i) + "\n";
    }
    text += "contexts:\n";
    for (int i = 0; i < count; ++i) {
        text += "- context:\n    cluster: c" + std::to_string(i) + "\n    namespace: \"007\"\n    user: u" +
                std::to_string(i) + "\n  name: x" + std::to_string(i) + "\n";
    }
    text += "current-context: x0\nkind: Config\npreferences: {}\nusers:\n";
    for (int i = 0; i < count; ++i) {
        text += "- name: u" + std::to_string(i) +
                "\n  user:\n    token: 'it''s'\n    exec:\n      args:\n      - " +
                "--region\n      - eu-west-1 # comment\n      command: aws\n      env: []\n";
    }
    return text;
}

} // namespace

BOOST_TEST_DONT_PRINT_LOG_VALUE(meshlink::yaml::PlainScalarType)

BOOST_AUTO_TEST_SUITE(yaml_reading)

BOOST_AUTO_TEST_CASE(scanner_reads_every_fixture_like_libyaml) {
    int accepted = 0;
    for (const auto& file : fixture_files()) {
        const std::string text = read_text(file);
        accepted += same_as_libyaml(text, file.string()) ? 1 : 0;
        // What meshlink writes must be in the scanner's subset too, or verification falls back to libyaml.
        if (auto root = yaml::load(text, file.string()); root && root->IsMap()) {
            BOOST_TEST(same_as_libyaml(yaml::emit(*root), "emitted " + file.string()));
        }
    }
    // Not vacuous: kubectl-written files are what the scanner is for.
    BOOST_TEST(accepted >= 10);
    BOOST_TEST(same_as_libyaml(
        read_text(fs::path(MESHLINK_SOURCE_DIR) / "tests/fixtures/kubeconfig/kubeadm-cluster01.yaml"),
        "kubeadm-cluster01"));
    BOOST_TEST(same_as_libyaml(many_contexts(50), "many contexts"));
}

BOOST_AUTO_TEST_CASE(scanner_agrees_with_libyaml_on_unusual_and_malformed_text) {
    struct Case {
        std::string text;
        int expect; // 1: the scanner must accept it, 0: must leave it to libyaml, -1: either
    };
    const std::string huge(3 << 20, 'A');
    const std::vector<Case> cases{
        {"a: 1\nb:\n  c: \"x\\ty\\u00e9\\x41\\\\\\\"\\/\"\n  d: 'q''s'\n", 1},
        {"# head\na: b # tail\n\n   # indented comment\nc: d#e\n", 1},
        {"a:\n- x\n- y: 1\n  z:\n  - w\nb: {}\nc: []\n", 1},
        {"a:\n  - x\n  -   y: 1\n      z: 2\n", 1},
        {"a: \n  \nb:   \n", 1},
        {"a: http://h:1/p?q=[1]&r={2}, s\n", 1},
        {"a: - x\n", 0},
        {"a: b: c\n", 0},
        {"a: b\n  c\n", 0}, // a plain scalar continued on the next line
        {"- a\n- b\n", 0},  // not a mapping
        {"a:\n- a\n  b\n", 0},
        {"a:\n\tb: c\n", 0},           // tab
        {"a: b\r\nc: d\r\n", 0},       // CR
        {"a: &x 1\nb: *x\n", 0},       // anchor and alias
        {"a: {b: c}\nd: [e, f]\n", 0}, // flow style
        {"a: 1\na: 2\n", 1},           // duplicate keys: same events, the loader refuses them
        {"<<: {}\n", 1},               // same events; the loader refuses the merge key
        {"a: \xff\xfe\n", 0},          // not UTF-8
        {"a: caf\xc3\xa9\n", 0},       // non-ASCII is left to libyaml
        {"a: |\n  x\n", 0},            // block scalar
        {"a: !!str 1\n", 0},           // tag
        {"---\na: 1\n", 0},
        {"a: 1\n...\n", 0},
        {"a: 1\n---\nb: 2\n", 0},
        {"%YAML 1.1\n---\na: 1\n", 0},
        {"? a\n: b\n", 0},
        {"a: \"b\n  c\"\n", 0}, // a quoted scalar over two lines
        {"a: \"b\" c\n", 0},
        {"a: \"b\"#c\n", 0},
        {"a: \"\\q\"\n", 0},     // unknown escape
        {"a: \"\\ud800\"\n", 0}, // surrogate
        {"a:\n-\n- b\n", 0},     // empty entry
        {"a:\n- - b\n", 0},
        {"  a: 1\n", 0},
        {"a: 1\n  b: 2\n", 0},
        {"a:\n    b: 1\n  c: 2\n", 0},
        {std::string(1100, 'k') + ": v\n", 0},
        {"a: " + huge + "\n", 1},
        {"\"a\": b\n", 0},
        {"", 0},
        {"a: 1", 1}, // no final line break
        {"a: 'x'   # c\n", 1},
    };
    for (const auto& c : cases) {
        const bool accepted = same_as_libyaml(c.text, c.text.substr(0, 60));
        if (c.expect >= 0) {
            BOOST_CHECK_MESSAGE(accepted == (c.expect == 1),
                                "scanner accepted=" << accepted << " for: " << c.text.substr(0, 60));
        }
    }
}

BOOST_AUTO_TEST_CASE(scanner_agrees_with_libyaml_on_mutated_kubeconfigs) {
    // Single-character edits of real kubeconfigs, where YAML's structure is decided: whatever the scanner
    // still accepts, libyaml reads the same way.
    std::mt19937 random(20240601); // fixed: a failure reproduces
    const std::string alphabet = " :-#\"'\n{}[]&*!|>?,a0\\";
    int accepted = 0;
    for (const auto& file : fixture_files()) {
        const std::string text = read_text(file);
        if (text.empty()) {
            continue;
        }
        for (int round = 0; round < 150; ++round) {
            std::string mutated = text;
            const std::size_t at = random() % mutated.size();
            const char c = alphabet[random() % alphabet.size()];
            switch (random() % 3) {
            case 0:
                mutated[at] = c;
                break;
            case 1:
                mutated.insert(at, 1, c);
                break;
            default:
                mutated.erase(at, 1);
                break;
            }
            accepted +=
                same_as_libyaml(mutated, file.filename().string() + " edit " + std::to_string(round)) ? 1 : 0;
        }
    }
    BOOST_TEST(accepted > 100); // many edits keep the text in the subset
}

BOOST_AUTO_TEST_CASE(loading_gives_libyaml_errors_and_nodes) {
    // Refusals found while the fast path reads (duplicate keys) come out as libyaml's path words them.
    auto duplicate = yaml::load("a: 1\nb:\n  c: 1\n  c: 2\n", "f.yaml");
    BOOST_REQUIRE(!duplicate);
    BOOST_TEST(duplicate.error().message == "f.yaml:4: duplicate key \"c\"");
    auto merge = yaml::load("a: 1\n<<: x\n", "f.yaml");
    BOOST_REQUIRE(!merge);
    BOOST_TEST(merge.error().message == "f.yaml:2: YAML merge keys (<<) are not supported");
    // Types and marks as the loader documents them.
    auto root = yaml::load("a: \"123\"\nb: 123\nc:\nd: ~\n", "f.yaml");
    BOOST_REQUIRE(root);
    BOOST_TEST(yaml::is_string((*root)["a"]));
    BOOST_TEST(!yaml::is_string((*root)["b"]));
    BOOST_TEST(yaml::is_null((*root)["c"]));
    BOOST_TEST(yaml::is_null((*root)["d"]));
    BOOST_TEST((*root)["b"].Mark().line == 1);
}

BOOST_AUTO_TEST_CASE(written_yaml_is_verified_against_its_digest) {
    auto root = yaml::load(
        read_text(fs::path(MESHLINK_SOURCE_DIR) / "tests/fixtures/kubeconfig/gke-exec.yaml"), "gke");
    BOOST_REQUIRE(root);
    std::uint64_t digest = 0;
    const std::string text = yaml::emit(*root, digest);
    BOOST_TEST(yaml::verify_digest(text, digest, "t").has_value());
    // A changed value, a changed type and a changed structure are all caught.
    std::string changed = text;
    changed[changed.find("name: ") + 6] ^= 1;
    BOOST_TEST(!yaml::verify_digest(changed, digest, "t").has_value());
    std::string retyped = text;
    retyped.replace(retyped.find("apiVersion: v1"), 14, "apiVersion: 1");
    BOOST_TEST(!yaml::verify_digest(retyped, digest, "t").has_value());
    BOOST_TEST(!yaml::verify_digest(text + "extra: x\n", digest, "t").has_value());
    // Text outside the scanner's subset is verified by libyaml.
    auto accented = yaml::load("a: caf\xc3\xa9\n", "u");
    BOOST_REQUIRE(accented);
    const std::string accented_text = yaml::emit(*accented, digest);
    BOOST_TEST(yaml::verify_digest(accented_text, digest, "u").has_value());
    BOOST_TEST(!yaml::verify_digest(accented_text, digest + 1, "u").has_value());
}

BOOST_AUTO_TEST_CASE(strings_stay_strings_through_emit) {
    const std::string text = R"(a: "123"
b: 123
c: "true"
d: 'yes'
e: ""
f: "0x1F"
g: plain text
h: "1.5"
i: null
j: ~
k: "null"
l: [1, "2", "on"]
m: {}
n: "multi\nline"
o: "#not a comment"
p: "- dash"
q: 2024-01-01
)";
    const YAML::Node original = YAML::Load(text);
    const std::string emitted = yaml::emit(original);
    const YAML::Node again = YAML::Load(emitted);
    BOOST_TEST(yaml::equal(original, again), emitted);
    BOOST_TEST(yaml::is_string(again["a"]));
    BOOST_TEST(!yaml::is_string(again["b"]));
    BOOST_TEST(yaml::is_string(again["c"]));
    BOOST_TEST(yaml::is_string(again["d"]));
    BOOST_TEST(yaml::is_string(again["e"]));
    BOOST_TEST(again["e"].Scalar().empty());
    BOOST_TEST(yaml::is_null(again["i"]));
    BOOST_TEST(yaml::is_string(again["k"]));
    BOOST_TEST(yaml::is_string(again["l"][1]));
    BOOST_TEST(!yaml::is_string(again["l"][0]));
    BOOST_TEST(again["n"].Scalar() == "multi\nline");
    BOOST_TEST(again["o"].Scalar() == "#not a comment");
    // Key order is kept.
    std::string order;
    for (const auto& item : again) {
        order += item.first.Scalar();
    }
    BOOST_TEST(order == "abcdefghijklmnopq");
    // Values built in code are strings whatever they look like.
    YAML::Node built(YAML::NodeType::Map);
    built["n"] = yaml::make_string_node("6443");
    BOOST_TEST(yaml::is_string(YAML::Load(yaml::emit(built))["n"]));
}

BOOST_AUTO_TEST_CASE(yaml_equal_compares_meaning) {
    BOOST_TEST(yaml::equal(YAML::Load("{a: 1, b: x}"), YAML::Load("b: x\na: 1\n")));
    BOOST_TEST(!yaml::equal(YAML::Load("a: 1"), YAML::Load("a: \"1\"")));
    BOOST_TEST(yaml::equal(YAML::Load("a: x"), YAML::Load("a: \"x\"")));
    BOOST_TEST(!yaml::equal(YAML::Load("a: [1, 2]"), YAML::Load("a: [2, 1]")));
    BOOST_TEST(yaml::equal(YAML::Load("a: ~"), YAML::Load("a:")));
}

BOOST_AUTO_TEST_CASE(plain_scalars_resolve_like_go_yaml) {
    BOOST_TEST(yaml::resolve_plain_scalar("443") == yaml::PlainScalarType::integer);
    BOOST_TEST(yaml::resolve_plain_scalar("0x1f") == yaml::PlainScalarType::integer);
    BOOST_TEST(yaml::resolve_plain_scalar("1e3") == yaml::PlainScalarType::floating);
    BOOST_TEST(yaml::resolve_plain_scalar(".5") == yaml::PlainScalarType::floating);
    BOOST_TEST(yaml::resolve_plain_scalar("on") == yaml::PlainScalarType::boolean);
    BOOST_TEST(yaml::resolve_plain_scalar("~") == yaml::PlainScalarType::null);
    BOOST_TEST(yaml::resolve_plain_scalar("1.2.3.4") == yaml::PlainScalarType::string);
    BOOST_TEST(yaml::resolve_plain_scalar("10:20") == yaml::PlainScalarType::string);
    BOOST_TEST(yaml::resolve_plain_scalar("https://x") == yaml::PlainScalarType::string);
}

BOOST_AUTO_TEST_SUITE_END()
