#include "probe/kernel_rollout.hpp"

#include "probe/defaults.hpp"
#include "util/json_text.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace meshlink::probe {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

util::Error invalid(std::string message) {
    return util::Error{util::ErrorKind::invalid, std::move(message), 0};
}

// Readers of cluster data: each returns the value or an error naming the field.
class Reader {
public:
    Reader(const json& document, std::string what) : m_doc(document), m_what(std::move(what)) {}

    util::Result<std::string> string(const char* key, bool required, std::size_t limit = 256) const {
        const auto it = m_doc.find(key);
        if (it == m_doc.end() || it->is_null()) {
            if (required) {
                return std::unexpected(invalid(fmt::format("{}: \"{}\" is missing", m_what, key)));
            }
            return std::string();
        }
        if (!it->is_string()) {
            return std::unexpected(invalid(fmt::format("{}: \"{}\" is not a string", m_what, key)));
        }
        const auto& text = it->get_ref<const std::string&>();
        if (text.size() > limit) {
            return std::unexpected(
                invalid(fmt::format("{}: \"{}\" is longer than {} bytes", m_what, key, limit)));
        }
        for (unsigned char c : text) {
            if (c < 0x20 && c != '\n' && c != '\t') {
                return std::unexpected(
                    invalid(fmt::format("{}: \"{}\" holds a control character", m_what, key)));
            }
        }
        return text;
    }

    // A message: cut (not refused) at the limit, control characters replaced, so a long reason stays
    // readable.
    std::string message(const char* key) const {
        const auto it = m_doc.find(key);
        if (it == m_doc.end() || !it->is_string()) {
            return {};
        }
        std::string text = it->get<std::string>().substr(0, defaults::k_rollout_max_message);
        for (char& c : text) {
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                c = ' ';
            }
        }
        return text;
    }

    util::Result<std::string> time(const char* key, bool required) const {
        auto text = string(key, required, 64);
        if (!text) {
            return text;
        }
        if (!text->empty() && !util::parse_rfc3339(*text)) {
            return std::unexpected(
                invalid(fmt::format("{}: \"{}\" is not an RFC 3339 time: \"{}\"", m_what, key, *text)));
        }
        return text;
    }

    util::Result<long long> integer(const char* key, long long low, long long high,
                                    long long fallback) const {
        const auto it = m_doc.find(key);
        if (it == m_doc.end() || it->is_null()) {
            return fallback;
        }
        if (!it->is_number_integer()) {
            return std::unexpected(invalid(fmt::format("{}: \"{}\" is not an integer", m_what, key)));
        }
        const long long value = it->get<long long>();
        if (value < low || value > high) {
            return std::unexpected(
                invalid(fmt::format("{}: \"{}\" is {}, want {}..{}", m_what, key, value, low, high)));
        }
        return value;
    }

    util::Result<std::optional<bool>> boolean(const char* key) const {
        const auto it = m_doc.find(key);
        if (it == m_doc.end() || it->is_null()) {
            return std::optional<bool>();
        }
        if (!it->is_boolean()) {
            return std::unexpected(invalid(fmt::format("{}: \"{}\" is not a boolean", m_what, key)));
        }
        return std::optional<bool>(it->get<bool>());
    }

    [[nodiscard]] const std::string& what() const { return m_what; }

private:
    const json& m_doc;
    std::string m_what;
};

util::Result<json> parse_object(std::string_view text, const std::string& what, std::size_t limit) {
    if (text.size() > limit) {
        return std::unexpected(invalid(fmt::format("{}: larger than {} bytes", what, limit)));
    }
    auto document = util::parse_json(text, defaults::k_max_rollout_document_depth);
    if (!document || !document->is_object()) {
        return std::unexpected(
            util::Error{util::ErrorKind::parse,
                        what + ": " + (document ? "not a JSON object" : document.error().message), 0});
    }
    return std::move(*document);
}

util::Result<int> schema_of(const json& document, const std::string& what) {
    const auto it = document.find("schemaVersion");
    if (it == document.end() || !it->is_number_integer()) {
        return std::unexpected(invalid(what + ": schemaVersion is missing"));
    }
    if (it->get<long long>() != k_rollout_schema_version) {
        return std::unexpected(invalid(fmt::format("{}: schemaVersion {} is not one this version reads ({})",
                                                   what, it->dump(), k_rollout_schema_version)));
    }
    return k_rollout_schema_version;
}

ordered_json optional_string(const std::optional<std::string>& value) {
    return value ? ordered_json(*value) : ordered_json(nullptr);
}

ordered_json empty_as_null(const std::string& value) {
    return value.empty() ? ordered_json(nullptr) : ordered_json(value);
}

} // namespace

std::string_view to_string(RolloutPhase phase) {
    return phase == RolloutPhase::aborted ? "aborted" : "running";
}

std::string_view to_string(NodeState state) {
    switch (state) {
    case NodeState::waiting:
        return "waiting";
    case NodeState::locked:
        return "locked";
    case NodeState::staging:
        return "staging";
    case NodeState::draining:
        return "draining";
    case NodeState::rebooting:
        return "rebooting";
    case NodeState::verifying:
        return "verifying";
    case NodeState::done:
        return "done";
    case NodeState::failed:
        return "failed";
    case NodeState::skipped:
        return "skipped";
    case NodeState::aborted:
        return "aborted";
    }
    return "waiting";
}

std::optional<NodeState> node_state_from(std::string_view text) {
    for (auto state : {NodeState::waiting, NodeState::locked, NodeState::staging, NodeState::draining,
                       NodeState::rebooting, NodeState::verifying, NodeState::done, NodeState::failed,
                       NodeState::skipped, NodeState::aborted}) {
        if (to_string(state) == text) {
            return state;
        }
    }
    return std::nullopt;
}

bool in_progress(NodeState state) {
    switch (state) {
    case NodeState::locked:
    case NodeState::staging:
    case NodeState::draining:
    case NodeState::rebooting:
    case NodeState::verifying:
        return true;
    default:
        return false;
    }
}

bool valid_node_name(std::string_view name) {
    if (name.empty() || name.size() > 253) {
        return false;
    }
    std::size_t label = 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (c == '.') {
            if (label == 0 || name[i - 1] == '-') {
                return false;
            }
            label = 0;
            continue;
        }
        if (c == '-') {
            if (label == 0) {
                return false;
            }
        } else if (!is_lower_alnum(c)) {
            return false;
        }
        ++label;
    }
    return label > 0 && name.back() != '-';
}

bool valid_rollout_id(std::string_view id) {
    return id.size() == 12 &&
           std::all_of(id.begin(), id.end(), [](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); });
}

bool valid_kernel_version(std::string_view version) {
    // VERSION[-RELEASE]: VERSION is dotted numbers ("7.1.9"), RELEASE rpm's release characters.
    if (version.empty() || version.size() > 64) {
        return false;
    }
    const auto dash = version.find('-');
    const std::string_view upstream = version.substr(0, dash);
    if (upstream.empty() || !is_digit(upstream.front()) || !is_digit(upstream.back()) ||
        !std::all_of(upstream.begin(), upstream.end(), [](char c) { return is_digit(c) || c == '.'; }) ||
        upstream.find("..") != std::string_view::npos) {
        return false;
    }
    if (dash == std::string_view::npos) {
        return true;
    }
    const std::string_view release = version.substr(dash + 1);
    return !release.empty() && std::all_of(release.begin(), release.end(), [](char c) {
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '_';
    });
}

bool valid_fingerprint(std::string_view fingerprint) {
    return fingerprint.size() == 40 && std::all_of(fingerprint.begin(), fingerprint.end(), is_hex);
}

bool RolloutPlan::includes(std::string_view node) const {
    return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

ordered_json to_json(const RolloutPlan& plan) {
    ordered_json resumes = ordered_json::object();
    for (const auto& [node, request] : plan.resumes) {
        resumes[node] = {{"attempt", request.attempt}, {"skip", request.skip}, {"at", request.at}};
    }
    return {{"schemaVersion", k_rollout_schema_version},
            {"id", plan.id},
            {"createdAt", plan.created_at},
            {"createdBy", plan.created_by},
            {"ciliumVersion", plan.cilium},
            {"flavor", plan.flavor},
            {"version", optional_string(plan.version)},
            {"nodes", plan.nodes},
            {"selection", plan.selection},
            {"maxUnavailable", plan.max_unavailable},
            {"drainTimeoutSeconds", plan.drain_timeout.count()},
            {"healthTimeoutSeconds", plan.health_timeout.count()},
            {"deleteEmptyDirData", plan.delete_emptydir_data},
            {"repository",
             {{"url", optional_string(plan.repo_url)},
              {"key", optional_string(plan.repo_key)},
              {"keyFingerprint", optional_string(plan.repo_key_fingerprint)}}},
            {"phase", to_string(plan.phase)},
            {"abortedAt", empty_as_null(plan.aborted_at)},
            {"resumes", resumes}};
}

util::Result<RolloutPlan> plan_from_json(const json& document) {
    const std::string what = "kernel plan";
    if (!document.is_object()) {
        return std::unexpected(invalid(what + ": not a JSON object"));
    }
    if (auto schema = schema_of(document, what); !schema) {
        return std::unexpected(schema.error());
    }
    const Reader read(document, what);
    RolloutPlan plan;
    auto id = read.string("id", true, 12);
    if (!id) {
        return std::unexpected(id.error());
    }
    if (!valid_rollout_id(*id)) {
        return std::unexpected(invalid(fmt::format("{}: id \"{}\" is not 12 hex digits", what, *id)));
    }
    plan.id = *id;
    auto created = read.time("createdAt", true);
    auto by = read.string("createdBy", false, 128);
    auto cilium = read.string("ciliumVersion", true, 16);
    auto flavor = read.string("flavor", true, 8);
    auto version = read.string("version", false, 64);
    auto selection = read.string("selection", false, 512);
    auto aborted_at = read.time("abortedAt", false);
    auto phase = read.string("phase", true, 16);
    for (const auto* result : {&created, &by, &cilium, &flavor, &version, &selection, &aborted_at, &phase}) {
        if (!*result) {
            return std::unexpected(result->error());
        }
    }
    plan.created_at = *created;
    plan.created_by = *by;
    plan.cilium = *cilium;
    const auto dot = plan.cilium.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == plan.cilium.size() ||
        !std::all_of(plan.cilium.begin(), plan.cilium.end(),
                     [](char c) { return is_digit(c) || c == '.'; })) {
        return std::unexpected(
            invalid(fmt::format("{}: ciliumVersion \"{}\" is not X.Y", what, plan.cilium)));
    }
    if (*flavor != "ml" && *flavor != "lt") {
        return std::unexpected(invalid(fmt::format("{}: flavor \"{}\" is not ml or lt", what, *flavor)));
    }
    plan.flavor = *flavor;
    if (!version->empty()) {
        if (!valid_kernel_version(*version)) {
            return std::unexpected(
                invalid(fmt::format("{}: version \"{}\" is not a kernel version", what, *version)));
        }
        plan.version = *version;
    }
    plan.selection = *selection;
    if (*phase == "running") {
        plan.phase = RolloutPhase::running;
    } else if (*phase == "aborted") {
        plan.phase = RolloutPhase::aborted;
    } else {
        return std::unexpected(
            invalid(fmt::format("{}: phase \"{}\" is not running or aborted", what, *phase)));
    }
    plan.aborted_at = *aborted_at;

    const auto nodes = document.find("nodes");
    if (nodes == document.end() || !nodes->is_array()) {
        return std::unexpected(invalid(what + ": nodes is not a list"));
    }
    if (nodes->size() > defaults::k_rollout_max_nodes) {
        return std::unexpected(
            invalid(fmt::format("{}: more than {} nodes", what, defaults::k_rollout_max_nodes)));
    }
    std::set<std::string> seen;
    for (const auto& node : *nodes) {
        if (!node.is_string() || !valid_node_name(node.get_ref<const std::string&>())) {
            return std::unexpected(invalid(fmt::format("{}: {} is not a node name", what, node.dump())));
        }
        if (!seen.insert(node.get<std::string>()).second) {
            return std::unexpected(invalid(fmt::format("{}: node {} is listed twice", what, node.dump())));
        }
        plan.nodes.push_back(node.get<std::string>());
    }

    const long long max_timeout = defaults::k_rollout_max_timeout.count();
    auto max_unavailable =
        read.integer("maxUnavailable", 1, static_cast<long long>(defaults::k_rollout_max_nodes),
                     defaults::k_rollout_max_unavailable);
    auto drain =
        read.integer("drainTimeoutSeconds", 1, max_timeout, defaults::k_rollout_drain_timeout.count());
    auto health =
        read.integer("healthTimeoutSeconds", 1, max_timeout, defaults::k_rollout_health_timeout.count());
    auto emptydir = read.boolean("deleteEmptyDirData");
    for (const auto* result : {&max_unavailable, &drain, &health}) {
        if (!*result) {
            return std::unexpected(result->error());
        }
    }
    if (!emptydir) {
        return std::unexpected(emptydir.error());
    }
    plan.max_unavailable = static_cast<int>(*max_unavailable);
    plan.drain_timeout = std::chrono::seconds(*drain);
    plan.health_timeout = std::chrono::seconds(*health);
    plan.delete_emptydir_data = emptydir->value_or(false);

    if (const auto repo = document.find("repository"); repo != document.end() && !repo->is_null()) {
        if (!repo->is_object()) {
            return std::unexpected(invalid(what + ": repository is not an object"));
        }
        const Reader repo_read(*repo, what + ": repository");
        auto url = repo_read.string("url", false, 2048);
        auto key = repo_read.string("key", false, defaults::k_rollout_max_key_bytes);
        auto fingerprint = repo_read.string("keyFingerprint", false, 64);
        for (const auto* result : {&url, &key, &fingerprint}) {
            if (!*result) {
                return std::unexpected(result->error());
            }
        }
        if (!url->empty()) {
            // The agent hands it to dnf's --repofrompath "id,url": no comma or blank may split it.
            const bool scheme =
                url->starts_with("http://") || url->starts_with("https://") || url->starts_with("file:///");
            if (!scheme || url->find_first_of(", \t\n") != std::string::npos) {
                return std::unexpected(invalid(
                    fmt::format("{}: repository url \"{}\" is not an http(s) or file URL", what, *url)));
            }
            plan.repo_url = *url;
        }
        if (key->empty() != fingerprint->empty()) {
            return std::unexpected(invalid(what + ": repository key and keyFingerprint come together"));
        }
        if (!key->empty()) {
            if (!key->starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
                return std::unexpected(invalid(what + ": repository key is not an armored public key"));
            }
            if (!valid_fingerprint(*fingerprint)) {
                return std::unexpected(invalid(fmt::format(
                    "{}: repository keyFingerprint \"{}\" is not 40 hex digits", what, *fingerprint)));
            }
            plan.repo_key = *key;
            plan.repo_key_fingerprint = *fingerprint;
        }
    }

    if (const auto resumes = document.find("resumes"); resumes != document.end() && !resumes->is_null()) {
        if (!resumes->is_object()) {
            return std::unexpected(invalid(what + ": resumes is not an object"));
        }
        for (const auto& [node, entry] : resumes->items()) {
            if (!plan.includes(node) || !entry.is_object()) {
                return std::unexpected(invalid(fmt::format(
                    "{}: resumes names \"{}\", which is not a planned node", what, node.substr(0, 253))));
            }
            const Reader entry_read(entry, what + ": resume of " + node);
            auto attempt = entry_read.integer("attempt", 2, 1000, 2);
            auto skip = entry_read.boolean("skip");
            auto at = entry_read.time("at", false);
            if (!attempt || !skip || !at) {
                return std::unexpected(!attempt ? attempt.error() : !skip ? skip.error() : at.error());
            }
            plan.resumes[node] = ResumeRequest{static_cast<int>(*attempt), skip->value_or(false), *at};
        }
    }
    return plan;
}

util::Result<RolloutPlan> plan_from_text(std::string_view text) {
    const std::string what = fmt::format("ConfigMap {}/{} key {}", defaults::k_rollout_namespace,
                                         defaults::k_rollout_plan_configmap, defaults::k_rollout_plan_key);
    auto document = parse_object(text, what, 1024 * 1024);
    if (!document) {
        return std::unexpected(document.error());
    }
    auto plan = plan_from_json(*document);
    if (!plan) {
        return std::unexpected(plan.error().with_context(what));
    }
    return plan;
}

bool NodeProgress::same_as(const NodeProgress& other) const {
    NodeProgress a = *this;
    NodeProgress b = other;
    a.updated_at.clear();
    b.updated_at.clear();
    return to_json(a) == to_json(b);
}

ordered_json to_json(const NodeProgress& progress) {
    ordered_json error = nullptr;
    if (progress.error) {
        error = {
            {"step", progress.error->step}, {"message", progress.error->message}, {"at", progress.error->at}};
    }
    return {{"schemaVersion", k_rollout_schema_version},
            {"rollout", progress.rollout},
            {"state", to_string(progress.state)},
            {"attempt", progress.attempt},
            {"message", progress.message},
            {"from", empty_as_null(progress.from)},
            {"to", empty_as_null(progress.to)},
            {"el", progress.el ? ordered_json(*progress.el) : ordered_json(nullptr)},
            {"cordonedBefore",
             progress.cordoned_before ? ordered_json(*progress.cordoned_before) : ordered_json(nullptr)},
            {"bootId", empty_as_null(progress.boot_id)},
            {"rebootRequestedAt", empty_as_null(progress.reboot_requested_at)},
            {"rebootMethod", empty_as_null(progress.reboot_method)},
            {"startedAt", empty_as_null(progress.started_at)},
            {"stepStartedAt", empty_as_null(progress.step_started_at)},
            {"updatedAt", empty_as_null(progress.updated_at)},
            {"error", error}};
}

util::Result<NodeProgress> progress_from_json(const json& document) {
    const std::string what = fmt::format("annotation {}", defaults::k_rollout_progress_annotation);
    if (!document.is_object()) {
        return std::unexpected(invalid(what + ": not a JSON object"));
    }
    if (auto schema = schema_of(document, what); !schema) {
        return std::unexpected(schema.error());
    }
    const Reader read(document, what);
    NodeProgress progress;
    auto rollout = read.string("rollout", true, 12);
    if (!rollout) {
        return std::unexpected(rollout.error());
    }
    if (!valid_rollout_id(*rollout)) {
        return std::unexpected(
            invalid(fmt::format("{}: rollout \"{}\" is not 12 hex digits", what, *rollout)));
    }
    progress.rollout = *rollout;
    auto state_text = read.string("state", true, 16);
    if (!state_text) {
        return std::unexpected(state_text.error());
    }
    const auto state = node_state_from(*state_text);
    if (!state) {
        return std::unexpected(invalid(fmt::format("{}: unknown state \"{}\"", what, *state_text)));
    }
    progress.state = *state;
    auto attempt = read.integer("attempt", 1, 1000, 1);
    auto el = read.integer("el", 7, 99, 0);
    auto cordoned = read.boolean("cordonedBefore");
    if (!attempt || !el || !cordoned) {
        return std::unexpected(!attempt ? attempt.error() : !el ? el.error() : cordoned.error());
    }
    progress.attempt = static_cast<int>(*attempt);
    if (*el != 0) {
        progress.el = static_cast<int>(*el);
    }
    progress.cordoned_before = *cordoned;
    progress.message = read.message("message");
    auto from = read.string("from", false, 128);
    auto to = read.string("to", false, 128);
    auto boot_id = read.string("bootId", false, 64);
    auto method = read.string("rebootMethod", false, 16);
    auto requested = read.time("rebootRequestedAt", false);
    auto started = read.time("startedAt", false);
    auto step_started = read.time("stepStartedAt", false);
    auto updated = read.time("updatedAt", false);
    for (const auto* result :
         {&from, &to, &boot_id, &method, &requested, &started, &step_started, &updated}) {
        if (!*result) {
            return std::unexpected(result->error());
        }
    }
    progress.from = *from;
    progress.to = *to;
    progress.boot_id = *boot_id;
    progress.reboot_method = *method;
    progress.reboot_requested_at = *requested;
    progress.started_at = *started;
    progress.step_started_at = *step_started;
    progress.updated_at = *updated;
    if (const auto error = document.find("error"); error != document.end() && !error->is_null()) {
        if (!error->is_object()) {
            return std::unexpected(invalid(what + ": error is not an object"));
        }
        const Reader error_read(*error, what + ": error");
        auto step = error_read.string("step", false, 16);
        auto at = error_read.time("at", false);
        if (!step || !at) {
            return std::unexpected(!step ? step.error() : at.error());
        }
        progress.error = NodeFailure{*step, error_read.message("message"), *at};
    }
    return progress;
}

util::Result<NodeProgress> progress_from_text(std::string_view text) {
    const std::string what = fmt::format("annotation {}", defaults::k_rollout_progress_annotation);
    auto document = parse_object(text, what, 64 * 1024);
    if (!document) {
        return std::unexpected(document.error());
    }
    return progress_from_json(*document);
}

std::vector<std::string> parse_holders(std::string_view holder_identity, std::string* problem) {
    std::vector<std::string> holders;
    std::size_t start = 0;
    while (start <= holder_identity.size() && !holder_identity.empty()) {
        auto comma = holder_identity.find(',', start);
        if (comma == std::string_view::npos) {
            comma = holder_identity.size();
        }
        const std::string name(holder_identity.substr(start, comma - start));
        if (valid_node_name(name)) {
            if (std::find(holders.begin(), holders.end(), name) == holders.end()) {
                holders.push_back(name);
            }
        } else if (problem != nullptr && problem->empty()) {
            *problem =
                fmt::format("holderIdentity names \"{}\", which is not a node name", name.substr(0, 253));
        }
        start = comma + 1;
    }
    std::sort(holders.begin(), holders.end());
    return holders;
}

std::string format_holders(std::vector<std::string> holders) {
    std::sort(holders.begin(), holders.end());
    holders.erase(std::unique(holders.begin(), holders.end()), holders.end());
    std::string text;
    for (const auto& holder : holders) {
        text += (text.empty() ? "" : ",") + holder;
    }
    return text;
}

json to_json(const VersionPins& pins) {
    json document = json::object();
    for (const auto& [el, version] : pins) {
        document[std::to_string(el)] = version;
    }
    return document;
}

util::Result<VersionPins> pins_from_text(std::string_view text) {
    const std::string what = fmt::format("annotation {}", defaults::k_rollout_pins_annotation);
    auto document = parse_object(text, what, 4096);
    if (!document) {
        return std::unexpected(document.error());
    }
    VersionPins pins;
    for (const auto& [key, value] : document->items()) {
        if (key.size() > 2 || key.empty() || !std::all_of(key.begin(), key.end(), is_digit) ||
            !value.is_string() || !valid_kernel_version(value.get_ref<const std::string&>()) ||
            value.get_ref<const std::string&>().find('-') == std::string::npos) {
            return std::unexpected(invalid(fmt::format("{}: \"{}\": {} is not an EL release pinned to a "
                                                       "version-release",
                                                       what, key.substr(0, 8), value.dump().substr(0, 80))));
        }
        pins[std::stoi(key)] = value.get<std::string>();
    }
    return pins;
}

json to_json(const Halt& halt) {
    return {{"node", halt.node}, {"reason", halt.reason}, {"at", halt.at}};
}

util::Result<Halt> halt_from_text(std::string_view text) {
    const std::string what = fmt::format("annotation {}", defaults::k_rollout_halt_annotation);
    auto document = parse_object(text, what, 8192);
    if (!document) {
        return std::unexpected(document.error());
    }
    const Reader read(*document, what);
    auto node = read.string("node", true, 253);
    auto at = read.time("at", false);
    if (!node || !at) {
        return std::unexpected(!node ? node.error() : at.error());
    }
    if (!valid_node_name(*node)) {
        return std::unexpected(invalid(fmt::format("{}: \"{}\" is not a node name", what, *node)));
    }
    return Halt{*node, read.message("reason"), *at};
}

} // namespace meshlink::probe
